"""The ``health`` section: how the baseline watches itself."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from stacks.config._base import Model


class HealthSettings(Model):
    """The baseline watches itself: trail heartbeat, canaries, delivery latency, Config and notification health."""

    enabled: bool = Field(default=True, description="health alarms, canaries, queries and the dashboard row")
    severity: Literal["critical", "high", "medium", "low"] = Field(
        default="high", description="notification topic of the health alarms"
    )
    heartbeat_minutes: int = Field(
        default=30, ge=5, le=1440, description="ALARM when the trail log group receives nothing for this long"
    )
    canary: bool = Field(default=True, description="a scheduled ssm:PutParameter in every account and governed region")
    canary_rate_minutes: Literal[5, 10, 15, 20, 30] = Field(default=5, description="how often each canary calls")
    canary_parameter_name: str | None = Field(
        default=None, description="SSM parameter the canaries write; default /<prefix>/baseline/canary"
    )
    expected_canary_sources: int | None = Field(
        default=None,
        ge=1,
        description="account-regions running the canary; default: the config's accounts (of the target OUs) x regions",
    )

    @field_validator("canary_parameter_name")
    @classmethod
    def _parameter(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,14}$", value):
            raise ValueError("is not an SSM parameter path like '/acme/baseline/canary'")
        return value
