"""The ``observability`` section: central event bus, dashboard, cross-account observability, saved queries."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from stacks.config._base import Model, _retention_days

#: Folder of the baseline's saved queries (``InsightsQueries``' default).
QUERY_FOLDER = "Baseline"


class CustomQuery(Model):
    """A saved Logs Insights query of your own."""

    name: str = Field(description="display name (saved under <folder>/Custom/)")
    query: str = Field(description="the Logs Insights query string")
    log_groups: list[str] = Field(default_factory=list, description="log group names preselected with the query")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[^\s/][^\n]{0,254}$", value):
            raise ValueError("is not a query name (1-255 characters on one line, not starting with a space or '/')")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip() or len(value) > 10_000:
            raise ValueError("is not a Logs Insights query (1-10,000 characters)")
        return value


class ObservabilitySettings(Model):
    """CloudWatch observability: central event bus, dashboard, cross-account observability, saved queries."""

    central_bus: bool = Field(default=True, description="central security event bus in the audit account")
    forwarding: bool = Field(default=True, description="forward security events of the other stacks to the bus")
    bus_name: str = Field(default="security-events", description="fixed name of the central bus")
    archive_retention_days: int = Field(default=365, ge=0, le=36500, description="0 keeps archived events forever")
    event_log_retention_days: int = Field(default=365, description="retention of the log group keeping every event")
    dashboard: bool = Field(default=True, description="security dashboard in the audit account")
    dashboard_name: str = Field(default="security-overview")
    oam: bool = Field(default=True, description="OAM sink in the audit account (organization mode)")
    oam_sink_arn: str | None = Field(
        default=None,
        description="ARN of the audit account's sink (a stack output after its first deploy); links need it",
    )
    queries: bool = Field(default=True, description="saved Logs Insights queries on the trail log group")
    custom_queries: list[CustomQuery] = Field(default_factory=list)

    @field_validator("event_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)

    @field_validator("bus_name")
    @classmethod
    def _bus_name(cls, value: str) -> str:
        if value == "default" or not re.match(r"^[A-Za-z0-9._-]{1,256}$", value):
            raise ValueError("is not a custom event bus name (1-256 letters, digits, '.', '_', '-'; not 'default')")
        return value

    @field_validator("dashboard_name")
    @classmethod
    def _dashboard_name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9_-]{1,255}$", value):
            raise ValueError("is not a dashboard name (1-255 letters, digits, '-' or '_')")
        return value

    @field_validator("oam_sink_arn")
    @classmethod
    def _sink_arn(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^arn:[a-z-]+:oam:[a-z0-9-]+:\d{12}:sink/[A-Za-z0-9-]+$", value):
            raise ValueError("is not an OAM sink ARN like 'arn:aws:oam:eu-west-1:333333333333:sink/<id>'")
        return value
