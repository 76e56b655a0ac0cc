"""The ``cloudtrail`` section: the organization trail, its events and its CloudWatch Logs delivery."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from stacks.config._base import (
    IAM_ROLE_NAME,
    IAM_ROLE_NAME_RULE,
    BucketName,
    LambdaFunctionArn,
    Model,
    _retention_days,
)


class DataEvents(Model):
    s3_bucket_names: list[BucketName] = Field(default_factory=list, description="object-level events of these buckets")
    all_s3_buckets: bool = False
    lambda_function_arns: list[LambdaFunctionArn] = Field(default_factory=list)
    all_lambda_functions: bool = False

    @field_validator("s3_bucket_names")
    @classmethod
    def _buckets(cls, value: list[str]) -> list[str]:
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"lists {duplicates!r} more than once")
        return value

    @field_validator("lambda_function_arns")
    @classmethod
    def _functions(cls, value: list[str]) -> list[str]:
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"lists {duplicates!r} more than once")
        return value


class Insights(Model):
    api_call_rate: bool = False
    api_error_rate: bool = False


class CloudTrailSettings(Model):
    trail_name: str = Field(default="organization-trail", description="fixed trail name (policies are built from it)")
    management_events: Literal["all", "write-only", "read-only", "none"] = "all"
    exclude_kms_events: bool = False
    exclude_rds_data_events: bool = False
    data_events: DataEvents = Field(default_factory=DataEvents)
    insights: Insights = Field(default_factory=Insights)
    log_group_retention_days: int = Field(default=365, description="one of the CloudWatch Logs retention periods")
    cloudwatch_logs_role_name: str = "CloudTrail_CloudWatchLogs_Role"

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)

    @field_validator("cloudwatch_logs_role_name")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not IAM_ROLE_NAME.match(value):
            raise ValueError(f"is not a role name: {IAM_ROLE_NAME_RULE}")
        return value
