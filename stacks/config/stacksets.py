"""The ``stacksets`` section: how the workload baseline rolls out in organization mode."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config._base import Model


class StackSetSettings(Model):
    """Organization mode: how the workload baseline rolls out as a service-managed StackSet."""

    target_organizational_units: list[str] = Field(
        default_factory=list,
        description="OU names whose accounts (nested OUs included) get the workload baseline; empty: the whole organization",
    )
    max_concurrent_percentage: int = Field(
        default=25, ge=1, le=100, description="accounts deployed at once, per region"
    )
    failure_tolerance_percentage: int = Field(
        default=10, ge=0, le=100, description="failed accounts tolerated per region"
    )
    region_concurrency: Literal["PARALLEL", "SEQUENTIAL"] = "PARALLEL"
    retain_stacks_on_account_removal: bool = Field(
        default=True, description="keep the baseline (and its audit data) in an account that leaves the target OUs"
    )
