"""CloudWatch Logs retention periods: the only values the service accepts, as days and as enum.

No aws_cdk import at module level: the config check (``python -m stacks.config check``) reads the
allowed days without starting jsii; the enum members are looked up when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_cdk import aws_logs as logs

#: Retention values CloudWatch Logs accepts (PutRetentionPolicy), in days, with the name of their
#: ``aws_logs.RetentionDays`` member.
_MEMBERS = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


class _RetentionDays(Mapping[int, "logs.RetentionDays"]):
    """Days -> ``aws_logs.RetentionDays`` member; keys, ``in`` and ``len`` need no aws_cdk."""

    def __getitem__(self, days: int) -> logs.RetentionDays:
        from aws_cdk import aws_logs as logs

        return logs.RetentionDays[_MEMBERS[days]]

    def __iter__(self) -> Iterator[int]:
        return iter(_MEMBERS)

    def __len__(self) -> int:
        return len(_MEMBERS)

    def __contains__(self, days: object) -> bool:
        return days in _MEMBERS

    def __repr__(self) -> str:
        return f"RETENTION_DAYS({list(_MEMBERS)})"


#: Retention values CloudWatch Logs accepts, in days, each with its ``RetentionDays`` member.
RETENTION_DAYS: Mapping[int, logs.RetentionDays] = _RetentionDays()


def retention_from_days(days: int) -> logs.RetentionDays:
    """The ``RetentionDays`` member for ``days``; ``ValueError`` naming the allowed values otherwise."""
    if days not in _MEMBERS:
        allowed = ", ".join(str(d) for d in _MEMBERS)
        raise ValueError(f"{days!r} is not a CloudWatch Logs retention period; allowed days: {allowed}")
    return RETENTION_DAYS[days]
