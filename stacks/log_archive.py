"""Log-archive account: the central, KMS-encrypted, retained buckets every account writes to."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import LifecycleOptions, LogBucket, policies
from stacks.config import AccountRole, BaselineConfig
from stacks.naming import Names
from stacks.settings import lifecycle_options, object_lock_options


def add_config_bucket(
    scope: Construct, config: BaselineConfig, *, key: kms.Key, access_logs_bucket: s3.IBucket
) -> s3.IBucket | None:
    """The bucket AWS Config of every account and governed region delivers to, and the key statement.

    A bucket of its own, not a prefix of the CloudTrail bucket: AWS Config does not deliver to a
    bucket with Object Lock, which the CloudTrail bucket may have. None when Config is off or an
    adopted recorder (Control Tower's) delivers elsewhere.
    """
    settings = config.aws_config
    if not settings.enabled or settings.existing_recorder_name is not None:
        return None
    names = Names(config)
    account_ids = [account.id for account in config.accounts]
    bucket = LogBucket(
        scope,
        "ConfigBucket",
        bucket_name=names.config_bucket,
        encryption_key=key,
        lifecycle=lifecycle_options(config),
        access_logs_bucket=access_logs_bucket,
    ).bucket
    # Every account of the organization, including those the StackSet reaches after they join.
    organization_id = config.organization.id if config.organization is not None else None
    for statement in policies.config_bucket_statements(
        bucket_arn=bucket.bucket_arn, account_ids=account_ids, organization_id=organization_id
    ):
        bucket.add_to_resource_policy(statement)
    key.add_to_resource_policy(policies.config_key_statement(account_ids=account_ids, organization_id=organization_id))
    cdk.CfnOutput(scope, "ConfigBucketName", value=bucket.bucket_name)
    return bucket


class LogArchiveStack(cdk.Stack):
    """Central log buckets and their key, in the log-archive account."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BaselineConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        assert config.organization is not None, "the log-archive stack exists only in organization mode"
        management = config.account_with_role(AccountRole.MANAGEMENT)
        trail_arn = policies.trail_arn(
            self, trail_name=names.trail_name, account=management.id, region=config.home_region
        )

        self.key = kms.Key(
            self,
            "LogArchiveKey",
            alias=names.log_archive_key_alias,
            description="Encrypts the organization's central audit logs",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for statement in policies.cloudtrail_key_statements(
            trail_arns=[trail_arn],
            trail_account_ids=[management.id],
            # Log readers in the archive; the management account creates the trail (Bucket Key needs Decrypt).
            reader_account_ids=[self.account, management.id],
        ):
            self.key.add_to_resource_policy(statement)

        self.access_logs_bucket = LogBucket(
            self,
            "AccessLogsBucket",
            bucket_name=names.access_logs_bucket,
            server_access_logs=False,
            lifecycle=LifecycleOptions(
                transition_after_days=None, expire_after_days=config.log_archive.access_log_retention_days
            ),
        ).bucket
        self.cloudtrail_bucket = LogBucket(
            self,
            "CloudTrailBucket",
            bucket_name=names.cloudtrail_bucket,
            encryption_key=self.key,
            lifecycle=lifecycle_options(config),
            object_lock=object_lock_options(config),
            access_logs_bucket=self.access_logs_bucket,
        ).bucket
        for statement in policies.cloudtrail_bucket_statements(
            bucket_arn=self.cloudtrail_bucket.bucket_arn,
            trail_arns=[trail_arn],
            account_ids=[management.id],
            organization_id=config.organization.id,
        ):
            self.cloudtrail_bucket.add_to_resource_policy(statement)

        self.config_bucket = add_config_bucket(self, config, key=self.key, access_logs_bucket=self.access_logs_bucket)

        cdk.CfnOutput(self, "CloudTrailBucketName", value=self.cloudtrail_bucket.bucket_name)
        cdk.CfnOutput(self, "LogArchiveKeyArn", value=self.key.key_arn)
