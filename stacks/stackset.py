"""Organization mode: the workload baseline rolled out as one service-managed StackSet.

The StackSet lives in the management account (its administrator). It deploys one template to
every account of the target OUs (the whole organization by default) in every governed region,
and AWS deploys it automatically to accounts that join later: no pipeline step grows with the
number of accounts. Service-managed StackSets never deploy to the management account itself,
which keeps its own per-region stacks.
"""

from __future__ import annotations

import aws_cdk as cdk
import cdk_stacksets as stacksets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import ConfigRecorder, Organization
from stacks.config import AccountRole, BaselineConfig, on_premises_account
from stacks.health import add_account_health
from stacks.landing_zone import adopted_recorder_name
from stacks.naming import Names
from stacks.observability import add_workload_observability
from stacks.on_premises import add_on_premises
from stacks.roles import stack_set_name
from stacks.telemetry import add_agent, add_flow_logs
from stacks.workload import add_config_baseline


class WorkloadBaselineTemplate(stacksets.StackSetStack):
    """The account- and region-agnostic template: AWS Config recorder, rules and alerts, security
    event forwarding to the central bus, the CloudWatch OAM link, the CloudWatch agent and the flow
    logs of the VPCs the config lists."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BaselineConfig) -> None:
        super().__init__(scope, construct_id)
        self.template_options.description = "Monitoring baseline for every account and governed region"
        names = Names(config)
        # One template for every region: what belongs to the home region only is a condition.
        self.home_region = cdk.CfnCondition(
            self, "IsHomeRegion", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, config.home_region)
        )
        self.recorder: ConfigRecorder | None = None
        if config.aws_config.enabled:
            bucket = (
                s3.Bucket.from_bucket_name(self, "ConfigBucket", names.config_bucket)
                if adopted_recorder_name(config) is None
                else None
            )
            # Member accounts are bound by the SCPs, which protect the baseline's rules by this tag.
            self.recorder = add_config_baseline(
                self, config, bucket=bucket, home_region_condition=self.home_region, protection_tag=names.baseline_tag
            )
        forwarding = add_workload_observability(self, config, home_region_condition=self.home_region)
        add_account_health(self, config, forwarding=forwarding)
        self.agent = add_agent(self, config)
        # Flow logs of the VPCs listed per account (home region): each gated to its own account.
        for account in config.accounts:
            if account.role is AccountRole.MANAGEMENT or not config.telemetry.flow_logs.vpc_ids.get(account.name):
                continue
            in_account = cdk.CfnCondition(
                self,
                f"IsAccount-{account.name}",
                expression=cdk.Fn.condition_and(
                    self.home_region, cdk.Fn.condition_equals(cdk.Aws.ACCOUNT_ID, account.id)
                ),
            )
            add_flow_logs(self, config, account_name=account.name, condition=in_account)
        # On-premises servers register with one account, in the home region.
        if config.telemetry.on_premises.enabled and on_premises_account(config).role is not AccountRole.MANAGEMENT:
            target = on_premises_account(config)
            registers_here = cdk.CfnCondition(
                self,
                f"OnPremisesIn-{target.name}",
                expression=cdk.Fn.condition_and(
                    self.home_region, cdk.Fn.condition_equals(cdk.Aws.ACCOUNT_ID, target.id)
                ),
            )
            self.on_premises = add_on_premises(self, config, condition=registers_here)


class WorkloadBaselineStackSet(Construct):
    """The StackSet and its template, in the management stack."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: BaselineConfig, organization: Organization
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.stacksets
        self.template = WorkloadBaselineTemplate(self, "Template", config=config)
        # Default: the whole organization; on Control Tower, its registered OUs (the top-level OUs of the
        # config, every one with an id): an account in the root or an unregistered OU has no Control
        # Tower recorder to evaluate the rules.
        default_targets = (
            [unit.name for unit in config.organization.organizational_units] if config.on_control_tower else []
        )
        targets = [
            organization.organizational_unit_ids[name]
            for name in settings.target_organizational_units or default_targets
        ] or [organization.root_id]
        self.stack_set = stacksets.StackSet(
            self,
            "Resource",
            stack_set_name=stack_set_name(config),
            description="Monitoring baseline for every account of the target OUs and governed region",
            template=stacksets.StackSetTemplate.from_stack_set_stack(self.template),
            target=stacksets.StackSetTarget.from_organizational_units(
                regions=config.regions, organizational_units=targets
            ),
            # On Control Tower, automatic deployment would reach a vended account before Control
            # Tower's recorder does; the Account Factory roll-out (stacks.control_tower) adds it after.
            deployment_type=stacksets.DeploymentType.service_managed(
                auto_deploy_enabled=not config.on_control_tower,
                auto_deploy_retain_stacks=(
                    settings.retain_stacks_on_account_removal if not config.on_control_tower else None
                ),
                delegated_admin=False,
            ),
            operation_preferences=stacksets.OperationPreferences(
                max_concurrent_percentage=settings.max_concurrent_percentage,
                failure_tolerance_percentage=settings.failure_tolerance_percentage,
                region_concurrency_type=stacksets.RegionConcurrencyType(settings.region_concurrency),
            ),
            capabilities=[stacksets.Capability.IAM],
            managed_execution=True,
        )
        # Service-managed StackSets need CloudFormation's trusted access to Organizations first.
        self.stack_set.node.add_dependency(organization.enable_stack_sets_access())
