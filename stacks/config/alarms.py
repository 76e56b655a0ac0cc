"""The ``alarms`` section: built-in detections switched off or tuned, custom detections, anomaly bands."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from constructs_lib.filter_pattern import FilterPatternError
from constructs_lib.filter_pattern import parse as parse_filter_pattern
from stacks.config._base import DETECTION_NAME, Model


class CustomDetection(Model):
    """A detection of your own: a CloudWatch Logs filter pattern on the trail's log group."""

    name: str = Field(description="3-64 letters, digits, spaces or '-'; alarm and metric names derive from it")
    pattern: str = Field(description="CloudWatch Logs filter pattern, parsed when the config is loaded")
    threshold: int = Field(default=1, ge=1, description="matching events within the period that raise the alarm")
    period_minutes: int = Field(default=5, ge=1, le=1440, description="alarm period in minutes")
    severity: Literal["critical", "high", "medium", "low"] = Field(default="high", description="picks the SNS topic")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DETECTION_NAME.match(value):
            raise ValueError("is not a detection name (3-64 letters, digits, spaces or '-', starting with a letter)")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            parse_filter_pattern(value)
        except FilterPatternError as error:
            # One line (a config error is one line per problem): the text up to the position stands
            # in for a caret under it.
            raise ValueError(
                f"is not a valid filter pattern: {error.reason} (position {error.position}, "
                f"after {value[: error.position][-40:]!r})"
            ) from None
        return value

    @property
    def key(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


class AnomalyDetection(Model):
    enabled: bool = Field(default=True, description="anomaly detector and band alarm on the metrics below")
    metrics: list[str] = Field(
        default_factory=lambda: ["unauthorized-api-calls"], description="detection keys to watch for unusual volume"
    )
    band_std_devs: float = Field(
        default=2,
        description="width of the expected band in standard deviations, 0.0001-1000",
        json_schema_extra={"minimum": 0.0001, "maximum": 1000},
    )

    @field_validator("band_std_devs")
    @classmethod
    def _band(cls, value: float) -> float:
        # The alarm's metric math is ANOMALY_DETECTION_BAND(m, <value>): CloudWatch reads Python's
        # exponent notation ('1e+300', '1e-05') as unknown identifiers, so keep to plain decimals.
        if not 0.0001 <= value <= 1000:
            raise ValueError("is not a band width from 0.0001 to 1000 standard deviations")
        return value


class AlarmSettings(Model):
    """Security alarms on the trail's log group: CIS controls, extra detections, your own."""

    enabled: bool = Field(default=True, description="deploy the security alarms next to the trail's log group")
    disabled: list[str] = Field(
        default_factory=list, description="keys of built-in detections to switch off, such as 'vpc-changes'"
    )
    thresholds: dict[str, int] = Field(default_factory=dict, description="alarm threshold per detection key")
    custom: list[CustomDetection] = Field(default_factory=list)
    insufficient_data_notifications: bool = Field(default=False, description="also notify on INSUFFICIENT_DATA")
    composite_alarm: bool = Field(default=True, description="a posture alarm in ALARM while any detection is")
    anomaly_detection: AnomalyDetection = Field(default_factory=AnomalyDetection)
