"""The ``control_tower`` section: a landing zone whose trail, recorders and aggregator are reused."""

from __future__ import annotations

from pydantic import Field, field_validator

from constructs_lib.managed_rules import RECORDER_NAME_PATTERN
from stacks.config._base import IAM_ROLE_NAME, IAM_ROLE_NAME_RULE, LOG_GROUP_NAME, Model, Region

#: What an AWS Control Tower landing zone creates, by the names Control Tower gives them
#: (docs/control-tower.md "With AWS Control Tower").
CONTROL_TOWER_TRAIL_NAME = "aws-controltower-BaselineCloudTrail"
CONTROL_TOWER_TRAIL_LOG_GROUP = "aws-controltower/CloudTrailLogs"
CONTROL_TOWER_RECORDER_NAME = "aws-controltower-BaselineConfigRecorder"
CONTROL_TOWER_AGGREGATOR_NAME = "aws-controltower-GuardrailsComplianceAggregator"
CONTROL_TOWER_EXECUTION_ROLE = "AWSControlTowerExecution"


class ControlTower(Model):
    """An AWS Control Tower landing zone under the baseline: its trail, recorders, Config bucket and
    aggregator are reused, never created again. Defaults are the names Control Tower gives them."""

    enabled: bool = Field(default=True, description="false: ignore the landing zone (standalone mode)")
    home_region: Region | None = Field(
        default=None,
        description="the landing zone's home region (its trail log group lives there); default: home_region",
    )
    log_archive_account: str | None = Field(
        default=None,
        description="name of Control Tower's log archive account; default: the account of role log-archive",
    )
    audit_account: str | None = Field(
        default=None, description="name of Control Tower's audit account; default: the account of role audit"
    )
    trail_name: str = Field(default=CONTROL_TOWER_TRAIL_NAME, description="Control Tower's organization trail")
    trail_log_group: str = Field(
        default=CONTROL_TOWER_TRAIL_LOG_GROUP,
        description="CloudWatch Logs group of Control Tower's trail in the management account (home region)",
    )
    config_recorder_name: str = Field(
        default=CONTROL_TOWER_RECORDER_NAME, description="Control Tower's AWS Config recorder in enrolled accounts"
    )
    config_aggregator: bool = Field(
        default=True,
        description="Control Tower's aggregator exists in the audit account: the baseline creates none; "
        "false: the baseline's organization aggregator (aws_config.aggregator)",
    )
    execution_role_name: str = Field(
        default=CONTROL_TOWER_EXECUTION_ROLE, description="the role Control Tower manages enrolled accounts with"
    )
    account_factory_rollout: bool = Field(
        default=True,
        description="roll the workload baseline out to accounts Account Factory vends or enrolls, "
        "on Control Tower's lifecycle events",
    )

    @field_validator("trail_log_group")
    @classmethod
    def _log_group(cls, value: str) -> str:
        if not LOG_GROUP_NAME.match(value):
            raise ValueError("is not a CloudWatch Logs group name (1-512 letters, digits or '._-/#')")
        return value

    @field_validator("execution_role_name")
    @classmethod
    def _role(cls, value: str) -> str:
        if not IAM_ROLE_NAME.match(value):
            raise ValueError(f"is not an IAM role name: {IAM_ROLE_NAME_RULE}")
        return value

    @field_validator("config_recorder_name")
    @classmethod
    def _recorder_name(cls, value: str) -> str:
        if not RECORDER_NAME_PATTERN.match(value):
            raise ValueError("is not an AWS Config recorder name (1-256 letters, digits, '_', '.' or '-')")
        return value
