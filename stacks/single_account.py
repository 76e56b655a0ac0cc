"""Single-account mode: the whole baseline in one account, no organization needed."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import (
    AuditTrail,
    ConfigAggregator,
    ConfigRecorder,
    LogBucket,
    policies,
)
from constructs_lib.security_alarms import SecurityAlarms
from stacks.config import BaselineConfig
from stacks.health import add_account_health, add_trail_health, alert_topics
from stacks.naming import Names
from stacks.observability import add_trail_queries, add_workload_observability
from stacks.on_premises import add_on_premises
from stacks.settings import (
    lifecycle_options,
    object_lock_options,
    security_alarm_options,
    trail_options,
)
from stacks.telemetry import add_agent, add_flow_logs
from stacks.workload import add_config_baseline


def add_single_account_config(
    scope: Construct, config: BaselineConfig, *, access_logs_bucket: s3.IBucket | None
) -> ConfigRecorder | None:
    """AWS Config of the home region: its bucket and key, recorder, rules and an account aggregator.

    The other governed regions get a ``WorkloadBaselineStack`` each, delivering to this bucket.
    """
    settings = config.aws_config
    if not settings.enabled:
        return None
    names = Names(config)
    account = cdk.Stack.of(scope).account
    bucket: s3.IBucket | None = None
    if settings.existing_recorder_name is None:
        key = kms.Key(
            scope,
            "ConfigKey",
            alias=names.config_key_alias,
            description="Encrypts what AWS Config delivers to the Config bucket",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        key.add_to_resource_policy(policies.config_key_statement(account_ids=[account]))
        bucket = LogBucket(
            scope,
            "ConfigBucket",
            bucket_name=names.config_bucket,
            encryption_key=key,
            lifecycle=lifecycle_options(config),
            access_logs_bucket=access_logs_bucket,
            server_access_logs=access_logs_bucket is not None,
        ).bucket
    recorder = add_config_baseline(scope, config, bucket=bucket)
    if settings.aggregator:
        ConfigAggregator(
            scope,
            "ConfigAggregator",
            aggregator_name=f"{names.prefix}-account",
            account_ids=[account],
            regions=config.regions,
        )
    return recorder


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
        # Metric filter alarms evaluate only in the account that owns the trail's log group.
        self.security_alarms: SecurityAlarms | None = None
        if config.alarms.enabled:
            self.security_alarms = SecurityAlarms(
                self, "SecurityAlarms", log_group=self.trail.log_group, **security_alarm_options(config)
            )
        add_trail_queries(self, config, self.trail.log_group)
        forwarding = add_workload_observability(self, config)
        add_account_health(self, config, forwarding=forwarding)
        self.trail_health = add_trail_health(
            self, config, log_group=self.trail.log_group, topics=alert_topics(self, config, self.security_alarms)
        )
        cdk.CfnOutput(self, "TrailArn", value=self.trail.trail_arn)
        cdk.CfnOutput(self, "TrailBucketName", value=self.trail.bucket.bucket_name)
        cdk.CfnOutput(self, "TrailLogGroupName", value=self.trail.log_group.log_group_name)
        self.config_recorder = add_single_account_config(self, config, access_logs_bucket=self.trail.access_logs_bucket)

        self._add_telemetry(config)

    def _add_telemetry(self, config: BaselineConfig) -> None:
        """Flow logs for the configured existing VPCs and the CloudWatch agent, from ``telemetry``."""
        self.flow_logs = add_flow_logs(self, config, account_name=config.accounts[0].name, bucket=self.trail.bucket)
        self.agent = add_agent(self, config)
        self.on_premises = add_on_premises(self, config)
