"""CloudWatch Logs retention periods: the only values the service accepts, as days and as enum."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

#: Retention values CloudWatch Logs accepts (PutRetentionPolicy), in days.
RETENTION_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention_from_days(days: int) -> logs.RetentionDays:
    """The ``RetentionDays`` member for ``days``; ``ValueError`` naming the allowed values otherwise."""
    try:
        return RETENTION_DAYS[days]
    except KeyError:
        allowed = ", ".join(str(d) for d in RETENTION_DAYS)
        raise ValueError(f"{days!r} is not a CloudWatch Logs retention period; allowed days: {allowed}") from None
