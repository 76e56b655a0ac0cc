"""The ``aws_config`` section: recorder, delivery, curated and custom rules, conformance packs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from constructs_lib.managed_rules import (
    EXECUTION_FREQUENCY_NAMES,
    IDENTIFIER_PATTERN,
    PACK_NAME_PATTERN,
    RECORDER_NAME_PATTERN,
    RESOURCE_TYPE_PATTERN,
    RULE_NAME_PATTERN,
)
from stacks.config._base import Model

#: Snapshot delivery takes the same frequencies as periodic rules (DeliveryFrequency, MaximumExecutionFrequency).
SNAPSHOT_FREQUENCIES = EXECUTION_FREQUENCY_NAMES


def _resource_types(value: list[str]) -> list[str]:
    for resource_type in value:
        if not RESOURCE_TYPE_PATTERN.match(resource_type):
            raise ValueError(f"{resource_type!r} is not a resource type like 'AWS::EC2::Instance'")
    duplicates = sorted({t for t in value if value.count(t) > 1})
    if duplicates:
        raise ValueError(f"lists {duplicates!r} more than once")
    return value


class ConfigFrequencyOverride(Model):
    """Resource types recorded at another frequency than ``aws_config.recording_frequency``."""

    resource_types: list[str] = Field(min_length=1)
    frequency: Literal["CONTINUOUS", "DAILY"]
    description: str | None = None

    @field_validator("resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _resource_types(value)


class ConfigCustomRule(Model):
    """An AWS managed rule of your choice, next to the curated ones."""

    name: str = Field(description="rule name (after the naming prefix), 1-64 letters, digits, '-' or '_'")
    identifier: str = Field(description="managed rule source identifier, like RDS_STORAGE_ENCRYPTED")
    parameters: dict[str, str] = Field(default_factory=dict)
    resource_types: list[str] = Field(default_factory=list, description="scope; empty: all the rule supports")
    maximum_execution_frequency: Literal[EXECUTION_FREQUENCY_NAMES] | None = None  # type: ignore[valid-type]
    home_region_only: bool = Field(default=False, description="evaluate only in the home region (global checks)")

    @field_validator("resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _resource_types(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not RULE_NAME_PATTERN.match(value):
            raise ValueError("is not a rule name (1-64 letters, digits, '-' or '_')")
        return value

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER_PATTERN.match(value):
            raise ValueError("is not a managed rule identifier like 'RDS_STORAGE_ENCRYPTED'")
        return value


class ConfigConformancePack(Model):
    name: str = Field(description="pack name: a letter, then letters, digits or '-'")
    template: str = Field(description="a bundled pack name (logging-and-monitoring) or the path of a template file")
    parameters: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not PACK_NAME_PATTERN.match(value):
            raise ValueError("is not a conformance pack name (a letter, then letters, digits or '-')")
        return value


class AwsConfigSettings(Model):
    """AWS Config in every account and governed region: recorder, delivery, rules, aggregator."""

    enabled: bool = True
    recording_frequency: Literal["CONTINUOUS", "DAILY"] = Field(
        default="CONTINUOUS", description="DAILY: at most one configuration item per resource and day (cheaper)"
    )
    frequency_overrides: list[ConfigFrequencyOverride] = Field(
        default_factory=list, description="at most one (an AWS Config limit)"
    )
    excluded_resource_types: list[str] = Field(default_factory=list, description="record all types but these")
    snapshot_delivery_frequency: Literal[SNAPSHOT_FREQUENCIES] = "TwentyFour_Hours"  # type: ignore[valid-type]
    existing_recorder_name: str | None = Field(
        default=None, description="adopt this recorder (Control Tower's, say): no recorder or channel is created"
    )
    use_service_linked_role: bool = Field(default=False, description="record with AWSServiceRoleForConfig")
    rules: dict[str, bool] = Field(default_factory=dict, description="curated rule name: on/off (default: all on)")
    rule_parameters: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="curated rule name: parameters replacing its defaults"
    )
    custom_rules: list[ConfigCustomRule] = Field(default_factory=list)
    conformance_packs: list[ConfigConformancePack] = Field(default_factory=list)
    alert_severity: Literal["critical", "high", "medium", "low"] = Field(
        default="high", description="notifications list that gets NON_COMPLIANT alerts"
    )
    aggregator: bool = Field(default=True, description="organization aggregator in the audit account")

    @field_validator("excluded_resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _resource_types(value)

    @field_validator("existing_recorder_name")
    @classmethod
    def _recorder_name(cls, value: str | None) -> str | None:
        if value is not None and not RECORDER_NAME_PATTERN.match(value):
            raise ValueError("is not an AWS Config recorder name (1-256 letters, digits, '_', '.' or '-')")
        return value


#: Settings of the recorder itself: they mean nothing where the baseline adopts a recorder
#: (``existing_recorder_name``, or Control Tower's).
RECORDING_SETTINGS = (
    "recording_frequency",
    "frequency_overrides",
    "excluded_resource_types",
    "snapshot_delivery_frequency",
    "use_service_linked_role",
)


def changed_recording_settings(settings: AwsConfigSettings) -> list[str]:
    """The ``RECORDING_SETTINGS`` that differ from their defaults."""
    defaults = AwsConfigSettings()
    return [key for key in RECORDING_SETTINGS if getattr(settings, key) != getattr(defaults, key)]
