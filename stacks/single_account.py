"""Single-account mode: the whole baseline in one account, no organization needed."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib import AuditTrail, CloudWatchAgent, FlowLogResource, VpcFlowLogs
from stacks.config import BaselineConfig
from stacks.settings import agent_options, flow_log_options, lifecycle_options, object_lock_options, trail_options


class SingleAccountStack(cdk.Stack):
    """Trail, log buckets, key, topic and log group, all in the one account of the config."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BaselineConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.trail = AuditTrail(
            self,
            "Trail",
            lifecycle=lifecycle_options(config),
            object_lock=object_lock_options(config),
            **trail_options(config),
        )
        cdk.CfnOutput(self, "TrailArn", value=self.trail.trail_arn)
        cdk.CfnOutput(self, "TrailBucketName", value=self.trail.bucket.bucket_name)
        cdk.CfnOutput(self, "TrailLogGroupName", value=self.trail.log_group.log_group_name)

        self._add_telemetry(config)

    def _add_telemetry(self, config: BaselineConfig) -> None:
        """Flow logs for the configured existing VPCs and the CloudWatch agent, from ``telemetry``."""
        telemetry = config.telemetry
        vpc_ids = telemetry.flow_logs.vpc_ids.get(config.accounts[0].name, [])
        self.flow_logs: dict[str, VpcFlowLogs] = {}
        if vpc_ids:
            options = flow_log_options(config, self.trail.bucket)
            for vpc_id in vpc_ids:
                # The id comes from the VPC id, so adding or removing a VPC never replaces another's flow logs.
                self.flow_logs[vpc_id] = VpcFlowLogs(
                    self, f"FlowLogs-{vpc_id}", resource=FlowLogResource.vpc(vpc_id), **options
                )
        self.agent: CloudWatchAgent | None = None
        if telemetry.cloudwatch_agent.enabled:
            self.agent = CloudWatchAgent(self, "CloudWatchAgent", **agent_options(config))
            cdk.CfnOutput(self, "CloudWatchAgentParameterName", value=self.agent.parameter_name)
            if self.agent.instance_profile is not None:
                cdk.CfnOutput(
                    self, "CloudWatchAgentInstanceProfileName", value=self.agent.instance_profile.instance_profile_name
                )
