"""Management account: the organization, its OUs and SCPs, and the organization trail writing into the
log-archive bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import IMPORTED_WARNING_ID, AuditTrail, Organization
from constructs_lib.security_alarms import SecurityAlarms
from stacks.config import BaselineConfig
from stacks.control_tower import add_account_factory_rollout
from stacks.health import TrailHealth, add_trail_health, alert_topics
from stacks.landing_zone import trail_log_group_name
from stacks.naming import Names
from stacks.observability import add_trail_queries
from stacks.org_settings import organization_options
from stacks.parts import wants_workload_baseline
from stacks.settings import security_alarm_options, trail_options
from stacks.stackset import WorkloadBaselineStackSet

if TYPE_CHECKING:
    # A type only: the Step Functions bindings it imports load in Control Tower mode alone
    # (stacks.control_tower.add_account_factory_rollout imports it when it builds one).
    from constructs_lib.control_tower import AccountFactoryRollout


class ManagementStack(cdk.Stack):
    """The organization with its SCPs, and the organization trail with its security alarms."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BaselineConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        assert config.organization is not None, "the management stack exists only in organization mode"
        #: Control Tower mode: the roll-out of the workload baseline to vended accounts
        self.account_factory_rollout: AccountFactoryRollout | None = None
        if config.organization.pending_creation:
            # organization.create without an id yet: the policies of every other resource need the id,
            # so the first deploy creates the organization alone; its id goes into the config next.
            self.organization = Organization(self, "Organization", **organization_options(config))
            self.trail = None
            self.security_alarms: SecurityAlarms | None = None
            self.trail_health: TrailHealth | None = None
            self.workload_baseline = None
            cdk.CfnOutput(
                self,
                "OrganizationId",
                value=self.organization.organization_id,
                description="Put this into organization.id of the config, then deploy the whole baseline",
            )
            return

        if config.on_control_tower:
            self._build_on_control_tower(config)
            return

        # The log-archive account owns the bucket and key; they are named, not looked up.
        archive_bucket = s3.Bucket.from_bucket_name(self, "LogArchiveBucket", names.cloudtrail_bucket)
        archive_key = kms.Key.from_key_arn(self, "LogArchiveKey", names.log_archive_key_alias_arn(self.partition))
        self.trail = AuditTrail(
            self,
            "OrganizationTrail",
            bucket=archive_bucket,
            log_file_key=archive_key,
            is_organization_trail=True,
            organization_id=config.organization.id,
            **trail_options(config),
        )
        # The trail's bucket and key are imported by name; the log-archive stack gives them
        # policies.cloudtrail_bucket_statements and cloudtrail_key_statements for this trail.
        cdk.Annotations.of(self.trail).acknowledge_warning(
            IMPORTED_WARNING_ID, "the log-archive stack adds the CloudTrail bucket and key statements"
        )
        # The organization, OU tree, SCPs, trusted access and delegated administrators.
        self.organization = Organization(self, "Organization", **organization_options(config))
        # An organization trail needs CloudTrail's trusted access before it can be created.
        self.trail.trail.node.add_dependency(self.organization.trusted_access["cloudtrail.amazonaws.com"])
        cdk.CfnOutput(self, "OrganizationId", value=self.organization.organization_id)
        # Metric filter alarms evaluate only in the account that owns the trail's log group.
        self.security_alarms: SecurityAlarms | None = None
        if config.alarms.enabled:
            self.security_alarms = SecurityAlarms(
                self, "SecurityAlarms", log_group=self.trail.log_group, **security_alarm_options(config)
            )
        add_trail_queries(self, config, self.trail.log_group)
        # The trail watches itself: heartbeat, canaries of every account-region, delivery latency.
        self.trail_health = add_trail_health(
            self, config, log_group=self.trail.log_group, topics=alert_topics(self, config, self.security_alarms)
        )
        # AWS Config, forwarding and OAM links in every other account and governed region, now
        # and as accounts join.
        self.workload_baseline: WorkloadBaselineStackSet | None = None
        if wants_workload_baseline(config):
            self.workload_baseline = WorkloadBaselineStackSet(
                self, "WorkloadBaseline", config=config, organization=self.organization
            )
        cdk.CfnOutput(self, "TrailArn", value=self.trail.trail_arn)
        cdk.CfnOutput(self, "TrailLogGroupName", value=self.trail.log_group.log_group_name)

    def _build_on_control_tower(self, config: BaselineConfig) -> None:
        """Control Tower mode: the SCPs on the registered OUs, and everything that reads Control Tower's
        trail log group (imported by name; it lives in this account and the home region), but no trail,
        no organization and no OU of its own (docs/control-tower.md "With AWS Control Tower")."""
        self.trail = None
        # Only references (organization by id, registered OUs by id) plus the SCPs and trusted access.
        self.organization = Organization(self, "Organization", **organization_options(config))
        cdk.CfnOutput(self, "OrganizationId", value=self.organization.organization_id)
        log_group = logs.LogGroup.from_log_group_name(self, "ControlTowerTrailLogGroup", trail_log_group_name(config))
        self.security_alarms = None
        if config.alarms.enabled:
            self.security_alarms = SecurityAlarms(
                self, "SecurityAlarms", log_group=log_group, **security_alarm_options(config)
            )
        add_trail_queries(self, config, log_group)
        self.trail_health = add_trail_health(
            self, config, log_group=log_group, topics=alert_topics(self, config, self.security_alarms)
        )
        self.workload_baseline = None
        if wants_workload_baseline(config):
            self.workload_baseline = WorkloadBaselineStackSet(
                self, "WorkloadBaseline", config=config, organization=self.organization
            )
            # Accounts Account Factory vends later: on Control Tower's lifecycle events
            # (docs/control-tower.md "Account Factory roll-out"); the StackSet's own automatic deployment is off here.
            self.account_factory_rollout = add_account_factory_rollout(
                self,
                config,
                self.workload_baseline,
                organization=self.organization,
                security_alarms=self.security_alarms,
            )
        cdk.CfnOutput(self, "TrailLogGroupName", value=log_group.log_group_name)
