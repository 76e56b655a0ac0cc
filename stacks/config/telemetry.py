"""The ``telemetry`` section: VPC flow logs, the CloudWatch agent on EC2 and on premises."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from stacks.config._base import Model, _retention_days

VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")


class FlowLogsSettings(Model):
    """VPC flow logs for VPCs the baseline did not create, listed by id."""

    vpc_ids: dict[str, list[str]] = Field(
        default_factory=dict, description="account name -> ids of existing VPCs (vpc-...) that get flow logs"
    )
    destination: Literal["cloudwatch-logs", "s3", "both"] = Field(
        default="cloudwatch-logs", description="s3: the baseline's central log bucket (Parquet, Hive, hourly)"
    )
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    aggregation_interval: Literal[60, 600] = Field(default=600, description="seconds")
    log_group_retention_days: int = Field(default=365, description="one of the CloudWatch Logs retention periods")

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)

    @field_validator("vpc_ids")
    @classmethod
    def _vpc_ids(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for account, ids in value.items():
            bad = [i for i in ids if not VPC_ID.match(i)]
            if bad:
                raise ValueError(f"{account}: {bad!r} are not VPC ids (vpc- followed by 8 or 17 hex digits)")
            if len(set(ids)) != len(ids):
                raise ValueError(f"{account}: a VPC id is listed twice")
        return value


class CloudWatchAgentSettings(Model):
    """The CloudWatch agent on EC2 instances selected by tag, through SSM State Manager."""

    enabled: bool = False
    platform: Literal["linux", "windows"] = "linux"
    tag_key: str = Field(default="CloudWatchAgent", description="instances with this tag get the agent")
    tag_values: list[str] = Field(default_factory=lambda: ["enabled"], description="... and one of these values")
    schedule: str = Field(default="rate(1 day)", description="how often State Manager re-applies the associations")
    log_group_retention_days: int = 365

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)


class OnPremisesSettings(Model):
    """The CloudWatch agent on on-premises (and other clouds') servers through Systems Manager hybrid activations."""

    enabled: bool = False
    account: str | None = Field(
        default=None,
        description="organization mode: name of the account the servers register with (home region); "
        "single-account mode: the one account",
    )
    platforms: list[Literal["linux", "windows"]] = Field(
        default_factory=lambda: ["linux"],
        description="one activation, secret, agent configuration and associations per platform",
    )
    tag_key: str = Field(
        default="CloudWatchAgent",
        description="tag each activation puts on its nodes (value on-premises-<platform>); the associations target it",
    )
    registration_limit: int = Field(default=10, ge=1, le=1000, description="servers per activation")
    expiration_days: int = Field(default=30, ge=1, le=30, description="days an activation accepts registrations")
    default_instance_name: str = Field(default="on-premises", description="managed node name in Systems Manager")
    renewal: str = Field(default="1", description="change it to replace the activations on the next deploy")
    create_activation: bool = Field(
        default=True,
        description="false: only the service role, agent configurations and associations (activate by hand)",
    )
    log_group_retention_days: int = 365

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)


class TelemetrySettings(Model):
    """Network, edge and host telemetry: VPC flow logs, CloudFront access logs, the CloudWatch agent."""

    flow_logs: FlowLogsSettings = Field(default_factory=FlowLogsSettings)
    cloudwatch_agent: CloudWatchAgentSettings = Field(default_factory=CloudWatchAgentSettings)
    example_workload: bool = Field(
        default=False,
        description="add a small example workload stack (VPC, EC2 instance, CloudFront) showing all three",
    )
    on_premises: OnPremisesSettings = Field(default_factory=OnPremisesSettings)
    detailed_monitoring: bool = Field(
        default=False,
        description="1-minute EC2 monitoring (charged per metric) for the EC2 resources this app creates "
        "(the example workload)",
    )
