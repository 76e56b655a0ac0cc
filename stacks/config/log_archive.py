"""The ``log_archive`` section: lifecycle and Object Lock of the central log buckets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from stacks.config._base import MAX_OBJECT_LOCK_DAYS, LifecycleDays, Model, _section_problem


class ObjectLock(Model):
    mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = None
    days: Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_OBJECT_LOCK_DAYS})] | None = (
        Field(default=None, description="retention of each new object version, 1-36500 days")
    )

    @field_validator("days")
    @classmethod
    def _days(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_OBJECT_LOCK_DAYS:
            raise ValueError(
                f"is not a retention from 1 to {MAX_OBJECT_LOCK_DAYS} days (S3 Object Lock allows at most 100 years)"
            )
        return value

    @model_validator(mode="after")
    def _both(self) -> ObjectLock:
        if self.mode is None:
            raise _section_problem("mode", f"missing (days is {self.days!r}); allowed: GOVERNANCE, COMPLIANCE")
        if self.days is None:
            raise _section_problem("days", f"missing (mode is {self.mode!r}); give the retention in days (>= 1)")
        return self


class LogArchiveSettings(Model):
    transition_days: LifecycleDays | None = Field(
        default=90, description="days before log objects move to Glacier; null keeps them in Standard"
    )
    retention_days: LifecycleDays | None = Field(
        default=2557, description="days before log objects expire; null keeps them forever"
    )
    access_log_retention_days: LifecycleDays = Field(default=365, description="S3 server access logs expire after")
    object_lock: ObjectLock | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LogArchiveSettings:
        if (
            self.transition_days is not None
            and self.retention_days is not None
            and self.retention_days <= self.transition_days
        ):
            raise _section_problem(
                "retention_days",
                f"{self.retention_days} is not longer than log_archive.transition_days ({self.transition_days}); "
                "objects would expire before they are archived: make it greater or null",
            )
        lock = self.object_lock
        if (
            lock is not None
            and lock.days is not None
            and self.retention_days is not None
            and lock.days > self.retention_days
        ):
            raise _section_problem(
                "object_lock.days",
                f"{lock.days} exceeds log_archive.retention_days ({self.retention_days}); "
                "objects would be due to expire while still locked",
            )
        return self
