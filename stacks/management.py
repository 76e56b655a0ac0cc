"""Management account: the organization trail, writing into the log-archive bucket."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib import AuditTrail
from stacks.config import BaselineConfig
from stacks.naming import Names
from stacks.observability import add_trail_queries
from stacks.settings import trail_options


class ManagementStack(cdk.Stack):
    """Organization-wide CloudTrail with its log group, topic and role, in the management account."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BaselineConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        names = Names(config)
        assert config.organization is not None, "the management stack exists only in organization mode"

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
        add_trail_queries(self, config, self.trail.log_group)
        cdk.CfnOutput(self, "TrailArn", value=self.trail.trail_arn)
        cdk.CfnOutput(self, "TrailLogGroupName", value=self.trail.log_group.log_group_name)
