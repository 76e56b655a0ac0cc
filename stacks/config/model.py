"""``BaselineConfig``, the whole file: the top-level keys (``naming``, ``notifications``, regions,
``tags``) and one field per section module; its JSON Schema."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from stacks.config._base import _BUCKET_PREFIXES, BUCKET_NAME_RULE, RESERVED_PREFIXES, Email, Model, Region
from stacks.config.alarms import AlarmSettings
from stacks.config.aws_config import AwsConfigSettings
from stacks.config.cloudtrail import CloudTrailSettings
from stacks.config.control_tower import ControlTower
from stacks.config.health import HealthSettings
from stacks.config.log_archive import LogArchiveSettings
from stacks.config.observability import ObservabilitySettings
from stacks.config.organization import Account, AccountRole, Organization
from stacks.config.scp import ServiceControlPolicies
from stacks.config.stacksets import StackSetSettings
from stacks.config.telemetry import TelemetrySettings


class Notifications(Model):
    """Email recipients per alarm severity."""

    critical: list[Email] = Field(default_factory=list)
    high: list[Email] = Field(default_factory=list)
    medium: list[Email] = Field(default_factory=list)
    low: list[Email] = Field(default_factory=list)

    @field_validator("critical", "high", "medium", "low")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        duplicates = sorted({a for a in value if value.count(a) > 1})
        if duplicates:
            raise ValueError(f"lists {duplicates!r} more than once (SNS subscribes an address once)")
        return value


class Naming(Model):
    prefix: str = Field(default="baseline", description="lower-case prefix of every physical name")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9-]{1,19}$", value):
            raise ValueError("is not a name prefix (2-20 lower-case letters, digits or '-', starting with a letter)")
        if value in RESERVED_PREFIXES:
            raise ValueError(
                "is reserved: KMS refuses alias names beginning with 'alias/aws/', and the baseline's are 'alias/<prefix>/...'"
            )
        if f"{value}-".startswith(_BUCKET_PREFIXES):
            raise ValueError(f"would start the baseline's bucket names with a reserved prefix: {BUCKET_NAME_RULE}")
        return value


class BaselineConfig(Model):
    """The whole config file."""

    naming: Naming = Field(default_factory=Naming)
    home_region: Region
    governed_regions: list[Region] = Field(
        default_factory=list, description="regions the baseline covers; default: home"
    )
    organization: Organization | None = Field(default=None, description="absent: single-account mode")
    accounts: list[Account]
    notifications: Notifications = Field(default_factory=Notifications)
    cloudtrail: CloudTrailSettings = Field(default_factory=CloudTrailSettings)
    log_archive: LogArchiveSettings = Field(default_factory=LogArchiveSettings)
    tags: dict[str, str] = Field(default_factory=dict, description="tags on every taggable resource")
    service_control_policies: ServiceControlPolicies | None = Field(
        default=None, description="organization mode: SCPs and where they attach; absent: the defaults"
    )
    alarms: AlarmSettings = Field(default_factory=AlarmSettings, description="security alarms on CloudTrail events")
    aws_config: AwsConfigSettings = Field(default_factory=AwsConfigSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    stacksets: StackSetSettings = Field(default_factory=StackSetSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    control_tower: ControlTower | None = Field(
        default=None, description="an AWS Control Tower landing zone to build on; absent: standalone"
    )

    @property
    def single_account(self) -> bool:
        return self.organization is None

    @property
    def on_control_tower(self) -> bool:
        """The baseline builds on a Control Tower landing zone (``control_tower.enabled``)."""
        return self.control_tower is not None and self.control_tower.enabled

    @property
    def regions(self) -> list[str]:
        """Governed regions, home region first."""
        rest = [r for r in self.governed_regions if r != self.home_region]
        return [self.home_region, *rest]

    def accounts_with_role(self, role: AccountRole) -> list[Account]:
        return [a for a in self.accounts if a.role is role]

    def account_with_role(self, role: AccountRole) -> Account:
        (account,) = self.accounts_with_role(role)
        return account


def on_premises_account(config: BaselineConfig) -> Account:
    """The account on-premises servers register with (``telemetry.on_premises.account``)."""
    if config.single_account:
        return config.accounts[0]
    (account,) = [a for a in config.accounts if a.name == config.telemetry.on_premises.account]
    return account


def json_schema() -> dict[str, Any]:
    schema = BaselineConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Monitoring baseline organization config"
    return schema
