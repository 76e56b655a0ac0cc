"""Per account and governed region: AWS Config recorder, rules and NON_COMPLIANT alerts.

Single-account mode: one stack per governed region beyond the home one. Organization mode: one
stack per governed region for the management account; every other account gets the same content
through the StackSet of the management stack (stacks/stackset.py). Which accounts and regions get
a ``WorkloadBaselineStack`` is the role table's (``stacks.roles``).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_lib import IMPORTED_WARNING_ID, ConfigRecorder, ConfigRules, _nag, policies
from stacks.config import Account, AccountRole, BaselineConfig, on_premises_account
from stacks.health import add_account_health
from stacks.landing_zone import adopted_recorder_name, records_management_account
from stacks.naming import Names
from stacks.observability import add_workload_observability
from stacks.on_premises import add_on_premises
from stacks.parts import forwards_to_central_bus
from stacks.settings import config_recorder_options, config_rules_options
from stacks.telemetry import add_agent, add_flow_logs


def add_config_baseline(
    scope: Construct,
    config: BaselineConfig,
    *,
    bucket: s3.IBucket | None,
    home_region_condition: cdk.CfnCondition | None = None,
    protection_tag: tuple[str, str] | None = None,
) -> ConfigRecorder:
    """Recorder, rules and the NON_COMPLIANT alert topic of ``scope``'s account and region.

    :param home_region_condition: for the region- and account-agnostic StackSet template: what
        belongs to the home region only (global IAM types, account-wide rules) is gated by this
        condition instead of being decided at synth.
    :param protection_tag: tag the rules with it, so the SCPs protect them (member accounts).
    """
    stack = cdk.Stack.of(scope)
    names = Names(config)
    home = home_region_condition is None and stack.region == config.home_region
    options = config_recorder_options(config, home_region=home)
    if "existing_recorder_name" not in options:
        options["bucket"] = bucket
        if home_region_condition is not None:
            options["global_resource_types_condition"] = home_region_condition
    recorder = ConfigRecorder(scope, "ConfigRecorder", **options)
    if bucket is not None and not isinstance(bucket, s3.Bucket):
        # The central Config bucket is imported by name; the stack that owns it adds
        # policies.config_bucket_statements for the whole organization (add_config_bucket).
        cdk.Annotations.of(recorder).acknowledge_warning(
            IMPORTED_WARNING_ID, "the Config bucket's own stack adds policies.config_bucket_statements"
        )

    # The Config bucket's key lives in the bucket's account. Config delivers into another
    # account as config.amazonaws.com (the key policy admits it); into its own account it uses
    # the recorder's role, which then needs the key. Its ARN is not known here (another stack,
    # possibly another region), so the grant names the key by its alias.
    # In the StackSet template the account is unknown at synth; elsewhere the grant is harmless
    # (it names a key in the archive account, whose key policy alone admits this account or not).
    in_archive = stack.account == names.archive_account or cdk.Token.is_unresolved(stack.account)
    if in_archive and isinstance(recorder.role, iam.Role):
        key_arns = f"arn:{cdk.Aws.PARTITION}:kms:{config.home_region}:{names.archive_account}:key/*"
        policy = iam.ManagedPolicy(
            scope,
            "ConfigBucketKeyPolicy",
            description="AWS Config: encrypt delivered objects with the Config bucket's key (by its alias)",
            roles=[recorder.role],
            statements=[
                iam.PolicyStatement(
                    sid="AWSConfigKMSPolicy",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[key_arns],
                    conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": names.config_key_alias}},
                )
            ],
        )
        _nag.acknowledge(
            policy,
            "The Config bucket's key is created in another stack, so its id is unknown here; the statement "
            f"is limited to the one key that carries the alias {names.config_key_alias}.",
            f"AwsSolutions-IAM5[Resource::{_nag.rendered(scope, key_arns)}]",
        )
        if recorder.recorder is not None:
            recorder.recorder.node.add_dependency(policy)

    # NON_COMPLIANT alerts: a topic encrypted with a key EventBridge may use.
    key = recorder.key if isinstance(recorder.key, kms.Key) else None
    if key is None:
        key = kms.Key(
            scope,
            "AlertsKey",
            description="Encrypts the AWS Config compliance alert topic",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
    key.add_to_resource_policy(
        policies.eventbridge_publish_key_statement(sid="AllowEventBridgeToPublishToEncryptedTopic")
    )
    topic = sns.Topic(
        scope,
        "ComplianceAlerts",
        display_name=f"AWS Config NON_COMPLIANT results in {stack.account} {stack.region}",
        master_key=key,
        enforce_ssl=True,
    )
    # With forwarding on, NON_COMPLIANT results reach the central bus, which routes them to the
    # aws_config.alert_severity topic of the audit account: subscribing the recipients here too
    # would send each of them a confirmation per account and region, and every alert twice.
    if not forwards_to_central_bus(config):
        for address in getattr(config.notifications, config.aws_config.alert_severity):
            topic.add_subscription(subscriptions.EmailSubscription(address))

    ConfigRules(
        scope,
        "ConfigRules",
        recorder=recorder,
        notification_topic=topic,
        home_region_condition=home_region_condition,
        protection_tag=protection_tag,
        **config_rules_options(config, home_region=home),
    )
    return recorder


class WorkloadBaselineStack(cdk.Stack):
    """One account in one governed region: AWS Config delivering to the central Config bucket,
    security event forwarding and the OAM link, as the config switches them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: BaselineConfig,
        account: Account,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        self.account_config = account
        # Control Tower mode: no recorder in the management account (Control Tower has none there).
        records = config.aws_config.enabled and (
            account.role is not AccountRole.MANAGEMENT or records_management_account(config)
        )
        bucket = (
            s3.Bucket.from_bucket_name(self, "ConfigBucket", names.config_bucket)
            if records and adopted_recorder_name(config) is None
            else None
        )
        self.recorder: ConfigRecorder | None = None
        if records:
            self.recorder = add_config_baseline(self, config, bucket=bucket)
            cdk.CfnOutput(self, "ConfigRecorderName", value=self.recorder.recorder_name)
        forwarding = add_workload_observability(self, config)
        add_account_health(self, config, forwarding=forwarding, config_recorded=records)
        # The agent in every governed region; flow logs for the listed VPCs, which are in the home region.
        self.agent = add_agent(self, config)
        if self.region == config.home_region:
            self.flow_logs = add_flow_logs(self, config, account_name=account.name)
            if config.telemetry.on_premises.enabled and on_premises_account(config).name == account.name:
                self.on_premises = add_on_premises(self, config)
