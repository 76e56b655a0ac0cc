"""Typed ``metric_*`` methods: the options of ``cloudwatch.MetricOptions`` as keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct
from typing_extensions import Unpack

#: Period of every metric the library returns unless told otherwise (as aws-cdk's own).
DEFAULT_PERIOD = cdk.Duration.minutes(5)


class MetricOptions(TypedDict, total=False):
    """The options of ``cloudwatch.MetricOptions``, each one optional, for ``**options`` of ``metric_*``.

    :param account: account the metric comes from. Default: the deploying account.
    :param color: hex color of the metric on a graph. Default: automatic.
    :param dimensions_map: extra dimensions, merged over the metric's own. Default: the metric's own.
    :param id: unique id of the metric in a math expression. Default: automatic.
    :param label: label on graphs and alarms. Default: the metric name.
    :param period: Default: the metric's documented period (five minutes unless said otherwise).
    :param region: region the metric comes from. Default: the deploying region.
    :param stack_account: account of the stack that uses the metric. Default: the deploying account.
    :param stack_region: region of the stack that uses the metric. Default: the deploying region.
    :param statistic: ``Sum``, ``Average``, ``Maximum``, ``p99`` ... Default: the metric's documented one.
    :param unit: Default: all units.
    :param visible: whether the metric shows on a graph. Default: True.
    """

    account: str
    color: str
    dimensions_map: Mapping[str, str]
    id: str
    label: str
    period: cdk.Duration
    region: str
    stack_account: str
    stack_region: str
    statistic: str
    unit: cloudwatch.Unit
    visible: bool


_ALLOWED = tuple(MetricOptions.__annotations__)


def metric(
    owner: str,
    *,
    namespace: str,
    metric_name: str,
    dimensions_map: Mapping[str, str] | None = None,
    statistic: str = "Sum",
    period: cdk.Duration = DEFAULT_PERIOD,
    options: MetricOptions,
) -> cloudwatch.Metric:
    """``cloudwatch.Metric`` with the documented ``statistic`` and ``period`` unless ``options`` override them.

    ``ValueError`` naming ``owner`` for an option ``MetricOptions`` does not have (a typo would
    otherwise be dropped).
    """
    unknown = sorted(set(options) - set(_ALLOWED))
    if unknown:
        raise ValueError(f"{owner}: {', '.join(unknown)} not metric options; allowed: {', '.join(_ALLOWED)}")
    given = dict(options)
    dimensions = {**(dimensions_map or {}), **(given.pop("dimensions_map", None) or {})}
    settings: dict[str, object] = {"statistic": statistic, "period": period, **given}
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map=dimensions or None,
        **settings,  # type: ignore[arg-type]
    )


def logs_metric(owner: str, metric_name: str, log_group_name: str, options: MetricOptions) -> cloudwatch.Metric:
    """An ``AWS/Logs`` metric of one log group (``IncomingLogEvents``, ``IncomingBytes``): Sum over five minutes."""
    return metric(
        owner,
        namespace="AWS/Logs",
        metric_name=metric_name,
        dimensions_map={"LogGroupName": log_group_name},
        options=options,
    )


__all__ = ["DEFAULT_PERIOD", "MetricOptions", "Unpack", "logs_metric", "metric"]


def any_in_five_minutes(
    scope: Construct,
    construct_id: str,
    *,
    metric: cloudwatch.IMetric,
    description: str,
    alarm_name: str | None = None,
) -> cloudwatch.Alarm:
    """An alarm when ``metric`` (a five-minute period) reaches 1: something failed or waits. No data
    means nothing failed, so missing data is not breaching."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=alarm_name,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
