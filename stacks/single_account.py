"""Single-account mode: the whole baseline in one account, no organization needed."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib import AuditTrail
from stacks.config import BaselineConfig
from stacks.observability import add_trail_queries
from stacks.settings import lifecycle_options, object_lock_options, trail_options


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
        add_trail_queries(self, config, self.trail.log_group)
        cdk.CfnOutput(self, "TrailArn", value=self.trail.trail_arn)
        cdk.CfnOutput(self, "TrailBucketName", value=self.trail.bucket.bucket_name)
        cdk.CfnOutput(self, "TrailLogGroupName", value=self.trail.log_group.log_group_name)
