"""The ``telemetry`` section in the baseline: the CloudWatch agent in every account and governed
region, and flow logs for the existing VPCs the config lists (home region).

Used by the single-account stack, the per-region baseline stacks and the StackSet template; in the
StackSet template, one template for every account, an account's flow logs are gated by a condition
on the account id.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from constructs_lib import CloudWatchAgent, FlowLogResource, InsightsQueries, VpcFlowLogs
from stacks.config import BaselineConfig
from stacks.settings import agent_options, flow_log_options


def gate(construct: IConstruct, condition: cdk.CfnCondition) -> None:
    """Create every CloudFormation resource below ``construct`` only where ``condition`` holds."""
    for child in construct.node.find_all():
        if isinstance(child, cdk.CfnResource):
            child.cfn_options.condition = condition


def add_agent(stack: cdk.Stack, config: BaselineConfig) -> CloudWatchAgent | None:
    """The agent configuration parameter, log groups, role, instance profile and associations."""
    if not config.telemetry.cloudwatch_agent.enabled:
        return None
    agent = CloudWatchAgent(stack, "CloudWatchAgent", **agent_options(config))
    cdk.CfnOutput(stack, "CloudWatchAgentParameterName", value=agent.parameter_name)
    if agent.instance_profile is not None:
        cdk.CfnOutput(stack, "CloudWatchAgentInstanceProfileName", value=agent.instance_profile.instance_profile_name)
    return agent


def add_flow_logs(
    stack: cdk.Stack,
    config: BaselineConfig,
    *,
    account_name: str,
    bucket: s3.IBucket | None = None,
    condition: cdk.CfnCondition | None = None,
) -> dict[str, VpcFlowLogs]:
    """Flow logs for the VPCs ``telemetry.flow_logs.vpc_ids`` lists for ``account_name``.

    :param condition: gate them (the StackSet template: this account in the home region).
    """
    vpc_ids = config.telemetry.flow_logs.vpc_ids.get(account_name, [])
    if not vpc_ids:
        return {}
    options = flow_log_options(config, bucket)
    created: dict[str, VpcFlowLogs] = {}
    for vpc_id in vpc_ids:
        # The id comes from the VPC id, so adding or removing a VPC never replaces another's flow logs.
        created[vpc_id] = VpcFlowLogs(stack, f"FlowLogs-{vpc_id}", resource=FlowLogResource.vpc(vpc_id), **options)
        if condition is not None:
            gate(created[vpc_id], condition)
    log_groups = [flow.log_group for flow in created.values() if flow.log_group is not None]
    if config.observability.queries and log_groups:
        # Saved Logs Insights queries over these flow logs: top talkers, rejected traffic by port.
        queries = InsightsQueries(stack, f"FlowLogQueries-{account_name}", flow_log_groups=log_groups)
        if condition is not None:
            gate(queries, condition)
    return created
