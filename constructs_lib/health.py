"""The baseline watches itself: heartbeat, end-to-end canary, delivery latency, AWS Config and
notification-path health.

Detection alarms treat missing data as "nothing happened", which is right for detections and wrong
for the pipeline behind them: a trail that stopped delivering, a recorder that stopped recording or
a topic that cannot deliver looks exactly like a quiet week. The constructs here make the pipeline
prove it is alive:

- ``LogGroupHeartbeat``: an alarm when a log group receives nothing for a window (missing data
  breaches), on any log group.
- ``ApiCanary``: a scheduled, harmless API call that CloudTrail records (EventBridge Scheduler's
  universal target, no Lambda), in one account and region; roll it out everywhere (StackSet).
- ``CanaryMonitor``: a metric filter counting canary events on the central trail log group and one
  alarm when fewer arrive than the account-regions should send; one alarm, however many accounts.
- ``HealthQueries``: saved Logs Insights queries naming the silent account-regions and measuring
  CloudTrail-to-CloudWatch-Logs delivery latency per account and region (p50, p95, max).
- ``ConfigHealthAlarms``: AWS Config's recording and delivery failure metrics (``AWS/Config``), one
  Metrics Insights alarm per metric.
- ``NotificationHealthAlarms``: failed SNS deliveries, failed rule invocations and messages waiting
  in dead-letter queues.
- ``baseline_health_widgets``: the "Baseline health" dashboard row.

Example::

    from constructs_lib import ApiCanary, CanaryMonitor, HealthQueries, LogGroupHeartbeat

    canary = ApiCanary(stack, "Canary", parameter_name="/acme/baseline/canary")
    LogGroupHeartbeat(stack, "Heartbeat", log_group=trail.log_group, alarm_name="acme-health-trail-heartbeat")
    CanaryMonitor(
        stack,
        "Canaries",
        log_group=trail.log_group,
        parameter_name="/acme/baseline/canary",
        expected_sources=12,  # account-regions that run the canary
        alarm_name="acme-health-canaries",
    )
    HealthQueries(stack, "HealthQueries", log_group=trail.log_group, canary_parameter_name="/acme/baseline/canary")
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib import _log_groups, _names, policies
from constructs_lib._errors import Problems
from constructs_lib._metrics import any_in_five_minutes
from constructs_lib.event_patterns import API_CALL_DETAIL_TYPE, SecurityEventPattern
from constructs_lib.event_routing import _ArnTarget

#: Namespace of the canary count metric.
DEFAULT_HEALTH_NAMESPACE = "BaselineHealth"
#: Metric the canary filter publishes.
CANARY_METRIC_NAME = "CanaryEvents"
#: Metric the forwarding heartbeat filter publishes.
FORWARDING_HEARTBEAT_METRIC_NAME = "ForwardedHeartbeats"
#: First word of every log event ``ForwardingHeartbeatMonitor`` writes (its input transformer).
HEARTBEAT_MESSAGE_PREFIX = "forwarding-heartbeat"
#: Retention of the heartbeat log group: a week holds the last silence for a weekday's look and
#: costs little (each event is a one-line message); the count itself lives in the metric (15 months).
DEFAULT_HEARTBEAT_RETENTION = logs.RetentionDays.ONE_WEEK
#: Default rate of ``ApiCanary`` and ``CanaryMonitor``.
DEFAULT_CANARY_RATE = cdk.Duration.minutes(5)
#: Rates (minutes) a canary may run at: whole divisors of an hour, so that every counting window (5
#: minutes at a rate of 5, an hour otherwise) holds the same number of canaries of each source.
CANARY_RATES_MINUTES = (5, 6, 10, 12, 15, 20, 30, 60)
#: Minute of each rate step the canary runs at: ``cron(2/5 * * * ? *)`` runs at minutes 2, 7, 12 ...
#: UTC. Every account-region calls at the same wall-clock minutes, 2 minutes after the start of a
#: counting window and at least 3 before its end, so an invocation up to 2 minutes late still counts in
#: its own window (a rolling window would cut through the invocations of some account-regions and count
#: one canary too many or too few whenever they jitter across its edge).
CANARY_MINUTE_OFFSET = 2
#: How late a canary event may reach the trail log group without raising the canary alarm. CloudTrail
#: delivers "typically within an average of about 5 minutes" and guarantees no bound (CloudTrail User
#: Guide); 15 minutes is the figure its older documentation gave, kept as the default tolerance.
DEFAULT_MAX_DELIVERY_DELAY = cdk.Duration.minutes(15)
#: Minutes added to the counting arithmetic: CloudWatch evaluates an alarm once a minute, and the
#: metric filter publishes by the minute.
ALARM_EVALUATION_SLACK_MINUTES = 2


def canary_schedule_expression(rate_minutes: int) -> str:
    """The canary's EventBridge Scheduler expression (UTC): minute ``CANARY_MINUTE_OFFSET`` of every
    ``rate_minutes`` step, e.g. ``cron(2/5 * * * ? *)``."""
    if rate_minutes not in CANARY_RATES_MINUTES:
        raise ValueError(f"rate {rate_minutes} minutes: allowed {', '.join(map(str, CANARY_RATES_MINUTES))}")
    minutes = str(CANARY_MINUTE_OFFSET) if rate_minutes == 60 else f"{CANARY_MINUTE_OFFSET}/{rate_minutes}"
    return f"cron({minutes} * * * ? *)"


def canary_window_minutes(rate_minutes: int) -> int:
    """``CanaryMonitor``'s counting window: 5 minutes at a rate of 5, an hour otherwise (CloudWatch's
    wall clock windows allow periods of 1 minute, 5 minutes, 1 hour, 1 day or 1 week)."""
    return 5 if rate_minutes == 5 else 60


@dataclass(frozen=True)
class CountingWindows:
    """How a count of scheduled events (canaries, forwarded heartbeats) is evaluated: wall clock
    windows of ``window_minutes`` holding ``per_source`` events of each source, and how many of them
    must breach so that a delivery delay up to ``tolerated_delay_minutes`` raises no alarm."""

    rate_minutes: int
    #: The counting window (the alarm's period): 5 minutes at a rate of 5, an hour otherwise.
    window_minutes: int
    #: Events of each source in one window.
    per_source: int
    #: From a window's last event to the window's end.
    gap_minutes: int
    #: Windows that must all breach: those a late delivery can keep short, one possibly in progress,
    #: and the oldest, complete one.
    evaluation_periods: int
    #: Delivery delay tolerated: the oldest evaluated window's last event is this old.
    tolerated_delay_minutes: int
    #: From a source's last event to ALARM, at worst.
    worst_case_detection_minutes: int

    @property
    def fits_a_day(self) -> bool:
        """CloudWatch evaluates at most a day of periods."""
        return self.evaluation_periods * self.window_minutes <= 1440


def counting_windows(rate_minutes: int, max_delivery_delay_minutes: int) -> CountingWindows:
    """The windows for events scheduled by ``canary_schedule_expression(rate_minutes)`` that may reach
    CloudWatch up to ``max_delivery_delay_minutes`` late (``CanaryMonitor``, ``ForwardingHeartbeatMonitor``)."""
    window = canary_window_minutes(rate_minutes)
    per_source = window // rate_minutes
    gap = window - CANARY_MINUTE_OFFSET - (per_source - 1) * rate_minutes
    periods = 2 + max(0, -(-(max_delivery_delay_minutes - gap) // window))
    return CountingWindows(
        rate_minutes=rate_minutes,
        window_minutes=window,
        per_source=per_source,
        gap_minutes=gap,
        evaluation_periods=periods,
        tolerated_delay_minutes=(periods - 2) * window + gap,
        worst_case_detection_minutes=periods * window + gap + ALARM_EVALUATION_SLACK_MINUTES,
    )


def _check_count_props(
    problems: Problems,
    *,
    parameter_name: str,
    alarm_name: str | None,
    expected_sources: int,
    metric_namespace: str,
    rate: cdk.Duration,
    delay: cdk.Duration,
) -> tuple[int, int]:
    """The props a count of scheduled events shares (``CanaryMonitor``, ``ForwardingHeartbeatMonitor``);
    returns the rate and the tolerated delivery delay in minutes."""
    _check_parameter_name(problems, parameter_name)
    _check_alarm_name(problems, "alarm_name", alarm_name)
    problems.check(
        isinstance(expected_sources, int) and not isinstance(expected_sources, bool) and expected_sources >= 1,
        f"expected_sources {expected_sources!r} must be a whole number of account-regions >= 1",
    )
    problems.check(
        isinstance(metric_namespace, str)
        and bool(_NAMESPACE.match(metric_namespace))
        and not metric_namespace.startswith("AWS/"),
        f"metric_namespace {metric_namespace!r} is not a custom namespace (not starting with 'AWS/')",
    )
    rate_minutes = _whole_minutes(problems, "rate", rate, 1, 60)
    problems.check(
        not rate_minutes or rate_minutes in CANARY_RATES_MINUTES,
        f"rate {rate_minutes} minutes is not a whole divisor of an hour of at least 5 minutes: "
        f"allowed {', '.join(map(str, CANARY_RATES_MINUTES))}",
    )
    return rate_minutes, _whole_minutes(problems, "max_delivery_delay", delay, 1, 720)


def _counted_events(
    scope: Construct,
    *,
    log_group: logs.ILogGroup,
    alarm_name: str,
    filter_pattern: str,
    metric_namespace: str,
    metric_name: str,
    window_minutes: int,
    threshold: float,
    evaluation_periods: int,
    description: str,
    topic: sns.ITopic | None,
) -> tuple[logs.MetricFilter, cloudwatch.Metric, cloudwatch.Alarm]:
    """A metric filter counting ``filter_pattern`` in ``log_group`` and the wall-clock alarm on the
    count per window (``CanaryMonitor``, ``ForwardingHeartbeatMonitor``)."""
    metric_filter = logs.MetricFilter(
        scope,
        "MetricFilter",
        log_group=log_group,
        filter_name=alarm_name,
        filter_pattern=logs.FilterPattern.literal(filter_pattern),
        metric_namespace=metric_namespace,
        metric_name=metric_name,
        metric_value="1",
    )
    metric = cloudwatch.Metric(
        namespace=metric_namespace,
        metric_name=metric_name,
        statistic="Sum",
        period=cdk.Duration.minutes(window_minutes),
    )
    alarm = _wall_clock_count_alarm(
        scope,
        alarm_name=alarm_name,
        description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
    )
    alarm.node.add_dependency(metric_filter)
    _notify(alarm, topic)
    return metric_filter, metric, alarm


def _wall_clock_count_alarm(
    scope: Construct,
    *,
    alarm_name: str,
    description: str,
    metric: cloudwatch.Metric,
    threshold: float,
    evaluation_periods: int,
) -> cloudwatch.Alarm:
    """``Alarm``: ALARM when every one of ``evaluation_periods`` wall clock windows (UTC) counts fewer
    than ``threshold``; missing data (nothing counted at all) is breaching."""
    alarm = cloudwatch.Alarm(
        scope,
        "Alarm",
        alarm_name=alarm_name,
        alarm_description=description[:1024],
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    # Not yet an L2 option: windows aligned to the clock (UTC), like the canaries' schedule.
    cfn_alarm = alarm.node.default_child
    assert isinstance(cfn_alarm, cloudwatch.CfnAlarm)
    cfn_alarm.add_property_override("EvaluationWindow", {"WallClockWindow": {"Timezone": "UTC"}})
    return alarm


_PARAMETER_NAME = re.compile(r"^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,14}$")
_ALARM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9._/#:-]{1,255}$")
#: CloudWatch metric math: at most 10 metrics in one alarm.
_MAX_ALARM_METRICS = 10

#: Where AWS documents AWS Config's CloudWatch metrics: the AWS Config Developer Guide, "Viewing the
#: AWS Config Dashboard", section "AWS Config Usage and Success Metrics" (source text checked in the
#: guide's public repository awsdocs/aws-config-developer-guide, doc_source/
#: viewing-the-aws-config-dashboard.md, last revision 2023-06-15).
CONFIG_METRICS_DOCUMENTATION = (
    "https://docs.aws.amazon.com/config/latest/developerguide/viewing-the-aws-config-dashboard.html"
)
#: That page, quoted: "If you want to perform additional analyses of these metrics with CloudWatch,
#: choose Metrics in the left navigation pane of the CloudWatch console and then choose AWS/Config."
CONFIG_METRICS_NAMESPACE = "AWS/Config"
#: The page's "AWS Config Success Metrics", in its order and spelling (display names; the metric name
#: is the display name without spaces):
#:
#: - "Change Notifications Delivery Failed displays the number of failed change notification
#:   deliveries to the Amazon SNS topic for your delivery channel."
#: - "Config History Export Failed displays the number of failed configuration history exports to
#:   your Amazon S3 bucket."
#: - "Configuration Recorder Insufficient Permissions Failure displays the number of failed permission
#:   access attempts due to the IAM role policy for the configuration recorder having insufficient
#:   permissions."
#: - "Config Snapshot Export Failed displays the number of failed configuration snapshot exports to
#:   your Amazon S3 bucket."
#:
#: Its usage metric, "Configuration Items Recorded displays the number of configuration items recorded
#: for each resource type or all resource types", is per ``ResourceType``.
CONFIG_DOCUMENTED_SUCCESS_METRICS: tuple[str, ...] = (
    "Change Notifications Delivery Failed",
    "Config History Export Failed",
    "Configuration Recorder Insufficient Permissions Failure",
    "Config Snapshot Export Failed",
)

#: AWS Config failure metrics (namespace ``AWS/Config``, a count: any value above zero is a failure),
#: each with what it means and the first thing to check. Names: ``CONFIG_DOCUMENTED_SUCCESS_METRICS``
#: without spaces (a test pins both lists to each other).
#:
#: Dimensions: the page does not list them. Public evidence disagrees: alarms in public templates
#: (eijikominami/aws-cloudformation-templates, monitoring/sam-app/config.yaml) watch the three delivery
#: metrics with no dimension, and leave the recorder metric out; code samples read
#: ``ConfigurationRecorderInsufficientPermissionsFailure`` per ``ResourceType``, as the console's
#: dashboard shows it per resource type. An alarm on a metric with the wrong dimension set never
#: receives data (and looks healthy), so the alarms do not guess: each is a CloudWatch Metrics Insights
#: query, ``SELECT SUM(<metric>) FROM "AWS/Config"``, which sums every series of the metric whatever
#: its dimensions (a ``SCHEMA(...)`` clause would narrow it to one dimension set).
CONFIG_FAILURE_METRICS: dict[str, str] = {
    "ChangeNotificationsDeliveryFailed": "configuration change notifications could not be sent to the SNS topic",
    "ConfigHistoryExportFailed": "configuration history could not be delivered to the S3 bucket",
    "ConfigurationRecorderInsufficientPermissionsFailure": (
        "the recorder's role may not describe resources: nothing of that type is recorded"
    ),
    "ConfigSnapshotExportFailed": "a configuration snapshot could not be delivered to the S3 bucket",
}
#: Stable alarm-name suffixes and construct ids of ``ConfigHealthAlarms``, by metric.
CONFIG_FAILURE_ALARMS: dict[str, str] = {
    "ChangeNotificationsDeliveryFailed": "change-notifications",
    "ConfigHistoryExportFailed": "history-export",
    "ConfigurationRecorderInsufficientPermissionsFailure": "recorder-permissions",
    "ConfigSnapshotExportFailed": "snapshot-export",
}
_CONFIG_FIRST_CHECK: dict[str, str] = {
    "ChangeNotificationsDeliveryFailed": (
        "aws configservice describe-delivery-channel-status (configStreamDeliveryInfo.lastErrorCode): "
        "the topic's policy and KMS key must admit config.amazonaws.com"
    ),
    "ConfigHistoryExportFailed": (
        "aws configservice describe-delivery-channel-status (configHistoryDeliveryInfo.lastErrorCode): "
        "the Config bucket's and its key's policies"
    ),
    "ConfigurationRecorderInsufficientPermissionsFailure": (
        "the recorder role (AWS_ConfigRole attached, not denied by an SCP or a permissions boundary); "
        "aws configservice describe-configuration-recorder-status"
    ),
    "ConfigSnapshotExportFailed": (
        "aws configservice describe-delivery-channel-status (configSnapshotDeliveryInfo.lastErrorCode): "
        "the Config bucket's and its key's policies"
    ),
}


def config_failure_query(metric_name: str) -> str:
    """The Metrics Insights query summing every series of an AWS Config failure metric, whatever its
    dimensions: ``SELECT SUM(<metric_name>) FROM "AWS/Config"``."""
    if metric_name not in CONFIG_FAILURE_METRICS:
        raise ValueError(
            f"config_failure_query: {metric_name!r} is not an AWS Config failure metric; "
            f"allowed: {', '.join(CONFIG_FAILURE_METRICS)}"
        )
    return f'SELECT SUM({metric_name}) FROM "{CONFIG_METRICS_NAMESPACE}"'


def canary_filter_pattern(parameter_name: str) -> str:
    """The CloudWatch Logs filter pattern that matches the canary's CloudTrail event and no other:
    a successful ``ssm:PutParameter`` of exactly ``parameter_name``. A failed call (denied by an
    SCP, a broken role) carries ``errorCode`` and does not count: the canary is then missing, which
    is what the alarm should say."""
    return (
        '{ ($.eventSource = "ssm.amazonaws.com") && ($.eventName = "PutParameter") && '
        f'($.requestParameters.name = "{parameter_name}") && ($.errorCode NOT EXISTS) }}'
    )


def silent_sources_query(parameter_name: str) -> str:
    """Logs Insights over the trail log group: each account-region's canary count and last canary,
    oldest first (the silent ones on top)."""
    return (
        f'filter eventSource = "ssm.amazonaws.com" and eventName = "PutParameter"'
        f' and requestParameters.name = "{parameter_name}" and not ispresent(errorCode)\n'
        "| stats count(*) as canaries, max(@timestamp) as lastCanary by recipientAccountId, awsRegion\n"
        "| sort lastCanary asc"
    )


#: Logs Insights over the trail log group: CloudTrail-to-CloudWatch-Logs delivery latency per account
#: and region. CloudTrail stamps each log event with the event's time; ``@ingestionTime`` is when
#: CloudWatch Logs received it, so the difference is the whole delay a detection waits for.
DELIVERY_LATENCY_QUERY = (
    "fields (@ingestionTime - @timestamp) / 1000 as delaySeconds\n"
    "| stats pct(delaySeconds, 50) as p50, pct(delaySeconds, 95) as p95, max(delaySeconds) as maxDelay,"
    " count(*) as events by recipientAccountId, awsRegion\n"
    "| sort p95 desc"
)


def _check_alarm_name(problems: Problems, prop: str, value: str | None) -> None:
    problems.check(
        value is None or (isinstance(value, str) and bool(_ALARM_NAME.match(value))),
        f"{prop} {value!r} is not an alarm name: 1-255 letters, digits, '_', '.' or '-'",
    )


def _alarm_name(scope: Construct, given: str | None, *, max_length: int = 255) -> str:
    """``given``, or a name unique to ``scope``'s path; claimed, so a name asked twice in one
    account and region fails at synth naming both constructs."""
    name = given if given is not None else _names.unique(scope, name_prefix=None, suffix="", max_length=max_length)
    return _names.claim(scope, "CloudWatch alarm name", name)


def _check_parameter_name(problems: Problems, value: str) -> None:
    problems.check(
        isinstance(value, str) and len(value) <= 1011 and bool(_PARAMETER_NAME.match(value)),
        f"parameter_name {value!r} is not an SSM parameter path like '/acme/baseline/canary' "
        "(starts with '/', letters, digits, '_', '.', '-', at most 15 levels)",
    )


def _whole_minutes(problems: Problems, prop: str, value: cdk.Duration, low: int, high: int) -> int:
    # to_seconds, not to_minutes: the latter throws on a fraction instead of letting us report it.
    minutes = value.to_seconds() / 60 if isinstance(value, cdk.Duration) else None
    problems.check(
        minutes is not None and float(minutes).is_integer() and low <= minutes <= high,
        f"{prop} {value!r} must be a whole number of minutes from {low} to {high}",
    )
    return int(minutes) if minutes else 0


def _notify(alarm: cloudwatch.AlarmBase, topic: sns.ITopic | None) -> None:
    if topic is None:
        return
    action = cloudwatch_actions.SnsAction(topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)


def health_alarm_state_changes(*, alarm_name_prefix: str) -> SecurityEventPattern:
    """State changes of the health alarms named ``<alarm_name_prefix>...`` into ALARM, and back from
    ALARM to OK: what every account forwards to the central bus, and the bus routes to a severity topic.

    Not INSUFFICIENT_DATA to OK: every new alarm makes that transition once, and a StackSet roll-out
    to 1,000 accounts would otherwise mail 1,000 "OK" notifications per region.
    """
    return SecurityEventPattern(
        name="baseline-health-alarms",
        description=f"Baseline health alarms ({alarm_name_prefix}*) entering ALARM or recovering from it",
        source=["aws.cloudwatch"],
        detail_type=["CloudWatch Alarm State Change"],
        detail={
            "alarmName": [{"prefix": alarm_name_prefix}],
            "$or": [
                {"state": {"value": ["ALARM"]}},
                {"state": {"value": ["OK"]}, "previousState": {"value": ["ALARM"]}},
            ],
        },
    )


def forwarding_heartbeat_pattern(parameter_name: str) -> SecurityEventPattern:
    """The canary's own ``ssm:PutParameter`` as CloudTrail delivers it to the default bus ("AWS API
    Call via CloudTrail", source ``aws.ssm``), successful calls of exactly ``parameter_name`` only:
    the forwarding heartbeat, once per canary run in every account-region."""
    _problems = Problems("forwarding_heartbeat_pattern")
    _check_parameter_name(_problems, parameter_name)
    _problems.raise_if_any()
    return SecurityEventPattern(
        name="forwarding-heartbeat",
        description=f"The baseline canary's ssm:PutParameter {parameter_name}, recorded by CloudTrail",
        source=["aws.ssm"],
        detail_type=[API_CALL_DETAIL_TYPE],
        detail=_heartbeat_detail(parameter_name),
    )


def _heartbeat_detail(parameter_name: str) -> dict[str, Any]:
    return {
        "eventSource": ["ssm.amazonaws.com"],
        "eventName": ["PutParameter"],
        "requestParameters": {"name": [parameter_name]},
        "errorCode": [{"exists": False}],
    }


def forwarded_health_events(
    *, alarm_name_prefix: str, heartbeat_parameter_name: str | None = None
) -> SecurityEventPattern:
    """What every account forwards to the central bus with ONE rule: the health alarms' state changes
    (``health_alarm_state_changes``) and, with ``heartbeat_parameter_name``, the canary's CloudTrail
    event (``forwarding_heartbeat_pattern``) as the forwarding heartbeat.

    One rule, one target, one role: the heartbeat travels exactly the path the alarms' state changes
    travel, so a rule deleted or disabled, its target removed, its role broken or the central bus
    policy changed silences the heartbeat too, and ``ForwardingHeartbeatMonitor`` notices in the
    central account. The branches cannot cross: alarm state changes never come from ``aws.ssm`` nor
    carry an ``eventSource``, CloudTrail events never carry ``alarmName``.

    :param alarm_name_prefix: of the forwarded health alarms.
    :param heartbeat_parameter_name: the canary's parameter. Default: none (state changes only).
    """
    alarms = health_alarm_state_changes(alarm_name_prefix=alarm_name_prefix)
    if heartbeat_parameter_name is None:
        return alarms
    heartbeat = forwarding_heartbeat_pattern(heartbeat_parameter_name)
    prefix = {"alarmName": [{"prefix": alarm_name_prefix}]}
    return SecurityEventPattern(
        name=alarms.name,  # the rule's construct id: unchanged, so the rule is updated, not replaced
        description=f"{alarms.description}; the forwarding heartbeat ({heartbeat_parameter_name} canary calls)",
        source=[*alarms.source, *heartbeat.source],
        detail_type=[*alarms.detail_type, *heartbeat.detail_type],
        detail={
            "$or": [
                {**prefix, "state": {"value": ["ALARM"]}},
                {**prefix, "state": {"value": ["OK"]}, "previousState": {"value": ["ALARM"]}},
                _heartbeat_detail(heartbeat_parameter_name),
            ]
        },
    )


def heartbeat_filter_pattern() -> str:
    """The metric filter pattern counting heartbeat log events: the term ``HEARTBEAT_MESSAGE_PREFIX``."""
    return f'"{HEARTBEAT_MESSAGE_PREFIX}"'


#: Logs Insights over the heartbeat log group: heartbeats and the last one per account-region, the
#: oldest first (silent forwarding paths on top; one silent for the whole time range has no row).
SILENT_FORWARDING_PATHS_QUERY = (
    "parse @message /account=(?<account>[0-9]{12}) region=(?<region>[a-z0-9-]+)/\n"
    "| filter ispresent(account)\n"
    "| stats count(*) as heartbeats, max(@timestamp) as lastHeartbeat by account, region\n"
    "| sort lastHeartbeat asc"
)


class LogGroupHeartbeat(Construct):
    """An alarm when a log group receives no events for ``window``: missing data is breaching.

    Reads ``AWS/Logs`` ``IncomingLogEvents`` (dimension ``LogGroupName``), Sum over the window,
    ALARM below 1. CloudWatch Logs publishes the metric only while events arrive, so a log group
    that stopped receiving has no data at all: treating that as breaching is the point.

    Example::

        LogGroupHeartbeat(stack, "Heartbeat", log_group=trail.log_group, alarm_name="trail-heartbeat")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        alarm_name: str | None = None,
        window: cdk.Duration | None = None,
        topic: sns.ITopic | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param log_group: the log group that must keep receiving events.
        :param alarm_name: name of the alarm. Default: one derived from the construct path.
        :param window: how long without a single event raises the alarm (5 to 1440 whole minutes).
            Default: 30 minutes (CloudTrail delivers about every 5 minutes).
        :param topic: notified on ALARM and on OK. Default: none.
        :param description: Default: says which log group went quiet and what to check first.
        """
        super().__init__(scope, construct_id)
        window = window if window is not None else cdk.Duration.minutes(30)
        problems = Problems(f"LogGroupHeartbeat({self.node.path})")
        _check_alarm_name(problems, "alarm_name", alarm_name)
        minutes = _whole_minutes(problems, "window", window, 5, 1440)
        problems.raise_if_any()
        alarm_name = _alarm_name(self, alarm_name)

        self.metric = cloudwatch.Metric(
            namespace="AWS/Logs",
            metric_name="IncomingLogEvents",
            dimensions_map={"LogGroupName": log_group.log_group_name},
            statistic="Sum",
            period=cdk.Duration.minutes(minutes),
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_name=alarm_name,
            alarm_description=(
                description
                or f"No event reached log group {log_group.log_group_name} for {minutes} minutes. "
                "First check: the trail's logging status and LatestCloudWatchLogsDeliveryError "
                "(aws cloudtrail get-trail-status)."
            ),
            metric=self.metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        _notify(self.alarm, topic)


class ApiCanary(Construct):
    """A scheduled, harmless API call that CloudTrail records, in this account and region.

    The call is ``ssm:PutParameter`` on a parameter the canary owns (created here), with the
    scheduled time as its value, made by EventBridge Scheduler's universal target
    (``arn:<partition>:scheduler:::aws-sdk:ssm:putParameter``), no Lambda. Why this call:

    - it is a **write** management event: trails recording all or write-only management events
      record it (Scheduler refuses read-only actions as universal targets anyway), and it is
      regional, so ``awsRegion`` names the region it ran in (IAM or STS calls would not);
    - it **changes nothing of consequence**: a standard-tier String parameter nobody reads, whose
      value is the last canary time (free, no KMS, no tags, versions capped by SSM at 100);
    - its **permission is easy to scope**: one action on one parameter ARN, nothing else
      (``ssm:PutParameter`` supports resource-level permissions);
    - no SCP of this project denies it, and ``canary_filter_pattern`` matches exactly this call.

    Example::

        canary = ApiCanary(stack, "Canary", parameter_name="/acme/baseline/canary")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        parameter_name: str,
        rate: cdk.Duration | None = None,
    ) -> None:
        """
        :param parameter_name: the SSM parameter the canary writes (a path starting with '/').
        :param rate: how often the canary calls: 5, 6, 10, 12, 15, 20, 30 or 60 minutes, at minute
            ``CANARY_MINUTE_OFFSET`` of each step (``canary_schedule_expression``). Default: every 5 minutes.
        """
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        rate = rate if rate is not None else DEFAULT_CANARY_RATE
        problems = Problems(f"ApiCanary({self.node.path})")
        _check_parameter_name(problems, parameter_name)
        minutes = _whole_minutes(problems, "rate", rate, 1, 60)
        problems.check(
            not minutes or minutes in CANARY_RATES_MINUTES,
            f"rate {minutes} minutes is not a whole divisor of an hour of at least 5 minutes: "
            f"allowed {', '.join(map(str, CANARY_RATES_MINUTES))}",
        )
        problems.raise_if_any()

        self.parameter_name = parameter_name
        self.rate_minutes = minutes
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=parameter_name,
            string_value="not run yet",
            description="Baseline canary: EventBridge Scheduler writes the scheduled time here; CloudTrail records it",
            tier=ssm.ParameterTier.STANDARD,
        )
        self.parameter_arn = stack.format_arn(
            service="ssm",
            resource="parameter",
            resource_name=parameter_name.lstrip("/"),
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="EventBridge Scheduler: the baseline canary's one API call",
        )
        # A customer-managed policy (not inline): exactly the canary call, on exactly its parameter.
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Baseline canary: ssm:PutParameter on its own parameter, nothing else",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(sid="CanaryCall", actions=["ssm:PutParameter"], resources=[self.parameter_arn])
            ],
        )
        self.target_arn = f"arn:{stack.partition}:scheduler:::aws-sdk:ssm:putParameter"
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            description=f"Baseline canary: ssm:PutParameter {parameter_name} every {minutes} minutes",
            schedule_expression=canary_schedule_expression(minutes),
            schedule_expression_timezone="UTC",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.target_arn,
                role_arn=self.role.role_arn,
                # No Type: the parameter exists (created above); PutParameter only overwrites it.
                input=json.dumps(
                    {"Name": parameter_name, "Value": "<aws.scheduler.scheduled-time>", "Overwrite": True}
                ),
                # A canary that cannot run in time is a missing canary: no long retries.
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    # A retry still lands in the canary's own counting window (invoked at minute 2 of 5).
                    maximum_event_age_in_seconds=120,
                    maximum_retry_attempts=2,
                ),
            ),
        )
        # The role must be able to make the call, and the parameter exist, before the first run.
        self.schedule.node.add_dependency(self.policy)
        self.schedule.node.add_dependency(self.parameter)

    @property
    def filter_pattern(self) -> str:
        """``canary_filter_pattern`` of this canary's parameter."""
        return canary_filter_pattern(self.parameter_name)


class CanaryMonitor(Construct):
    """Counts canary events on the central trail log group; one alarm when canaries go missing.

    A metric filter (``canary_filter_pattern``, value 1) publishes ``CanaryEvents``. The alarm sums
    it over **wall clock windows** (CloudWatch ``EvaluationWindow.WallClockWindow``, UTC) of
    ``canary_window_minutes(rate)``: 5 minutes at the default rate, an hour otherwise. Every
    account-region's canary runs at the same minutes (``canary_schedule_expression``), 2 minutes into
    a window and at least 3 before its end, so each window holds exactly ``per_source`` canaries of each
    of the ``expected_sources``: a window breaches when even one is missing (``threshold`` is half a
    canary below the expected count).

    **Evaluation.** A window also breaches while the canaries in it are still on their way: CloudTrail
    delivers "typically within an average of about 5 minutes" (CloudTrail User Guide), with no
    guarantee. The alarm therefore needs ``evaluation_periods`` windows breaching, all of them: as many
    as ``max_delivery_delay`` can keep short, plus one in case CloudWatch counts the window still in
    progress, plus the one that must be complete. Missing data (no canary at all) is breaching.

    **Detection time** (``worst_case_detection_minutes``): an account-region that falls silent right
    after its last canary of a window is in ALARM once ``evaluation_periods`` whole windows passed
    without it: ``window * evaluation_periods + gap`` (``gap``: from a window's last canary to its end)
    plus 2 minutes of evaluation: 30 minutes at the defaults (rate 5, 5 windows of 5 minutes, delivery up
    to 18 minutes late tolerated). One alarm however many accounts: ``HealthQueries`` names the silent
    account-regions.

    Example::

        CanaryMonitor(stack, "Canaries", log_group=trail.log_group, parameter_name="/acme/baseline/canary",
                      expected_sources=12, alarm_name="acme-health-canaries")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        parameter_name: str,
        expected_sources: int,
        alarm_name: str | None = None,
        rate: cdk.Duration | None = None,
        max_delivery_delay: cdk.Duration | None = None,
        metric_namespace: str = DEFAULT_HEALTH_NAMESPACE,
        topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param log_group: the trail log group the canaries' events reach.
        :param parameter_name: the canaries' parameter (``ApiCanary.parameter_name``).
        :param expected_sources: account-regions that run the canary (at least 1).
        :param alarm_name: name of the alarm (and of its metric filter). Default: one derived from the
            construct path.
        :param rate: the canaries' rate (``ApiCanary``'s): 5, 6, 10, 12, 15, 20, 30 or 60 minutes.
            Default: 5 minutes.
        :param max_delivery_delay: how late CloudTrail may deliver a canary without raising the alarm
            (1 to 720 whole minutes). Default: 15 minutes.
        :param metric_namespace: Default: ``BaselineHealth``.
        :param topic: notified on ALARM and on OK. Default: none.
        """
        super().__init__(scope, construct_id)
        rate = rate if rate is not None else DEFAULT_CANARY_RATE
        delay = max_delivery_delay if max_delivery_delay is not None else DEFAULT_MAX_DELIVERY_DELAY
        problems = Problems(f"CanaryMonitor({self.node.path})")
        rate_minutes, delay_minutes = _check_count_props(
            problems,
            parameter_name=parameter_name,
            alarm_name=alarm_name,
            expected_sources=expected_sources,
            metric_namespace=metric_namespace,
            rate=rate,
            delay=delay,
        )
        problems.raise_if_any()

        windows = counting_windows(rate_minutes, delay_minutes)
        self.rate_minutes = rate_minutes
        #: The counting window (the alarm's period).
        self.window_minutes = windows.window_minutes
        self.per_source = windows.per_source
        self.expected_sources = expected_sources
        #: ALARM below this many canary events per window: one canary missing is enough.
        self.threshold = expected_sources * self.per_source - 0.5
        #: From a window's last canary to the window's end.
        self.gap_minutes = windows.gap_minutes
        #: Windows that must all breach: those a late delivery can keep short, one possibly in progress,
        #: and the oldest, complete one.
        self.evaluation_periods = windows.evaluation_periods
        #: Delivery delay the alarm tolerates: the oldest evaluated window's last canary is this old.
        self.tolerated_delay_minutes = windows.tolerated_delay_minutes
        #: From an account-region's last canary to ALARM, at worst.
        self.worst_case_detection_minutes = windows.worst_case_detection_minutes
        problems.check(
            windows.fits_a_day,
            f"max_delivery_delay ({delay_minutes} minutes) needs {self.evaluation_periods} windows of "
            f"{self.window_minutes} minutes: more than the day an alarm may evaluate",
        )
        problems.raise_if_any()
        alarm_name = _alarm_name(self, alarm_name, max_length=255)
        self.metric_filter, self.metric, self.alarm = _counted_events(
            self,
            log_group=log_group,
            alarm_name=alarm_name,
            filter_pattern=canary_filter_pattern(parameter_name),
            metric_namespace=metric_namespace,
            metric_name=CANARY_METRIC_NAME,
            window_minutes=self.window_minutes,
            description=(
                f"Fewer canary events than {expected_sources} account-regions x {self.per_source} per "
                f"{self.window_minutes}-minute window reached {log_group.log_group_name}, "
                f"{self.evaluation_periods} windows running: an account-region went silent (noticed within "
                f"{self.worst_case_detection_minutes} minutes) or CloudTrail delivery lags more than "
                f"{self.tolerated_delay_minutes} minutes. First check: the saved query 'Silent account-regions' "
                "names which; then that account-region's schedule and CloudTrail."
            ),
            threshold=self.threshold,
            evaluation_periods=self.evaluation_periods,
            topic=topic,
        )


class ForwardingHeartbeatMonitor(Construct):
    """Counts forwarded heartbeats on the central bus; ONE alarm when any account-region's forwarding
    path goes quiet, however many accounts.

    **Why.** Member accounts forward their health alarms' state changes to the central bus with an
    EventBridge rule. A path that fails completely (the rule deleted or disabled, its target removed,
    its role broken, the central bus policy changed) cannot report itself: its own failed-forwarding
    alarm travels the same path. So every account forwards a heartbeat through that very rule
    (``forwarded_health_events``): the ``ApiCanary``'s own ``ssm:PutParameter``, which CloudTrail
    delivers to the account-region's default bus ("AWS API Call via CloudTrail"; AWS documents that
    this needs a trail with logging, which the baseline's trail or Control Tower's is). Not a custom
    ``events:PutEvents`` heartbeat: the canary already runs everywhere at known minutes, so no new
    schedule, role or call in 1,000 accounts x 17 regions, and no custom-event charge.

    **Here** (central bus account): a rule on ``bus`` matching ``forwarding_heartbeat_pattern``, whose
    target is an encrypted log group (``_log_groups``; EventBridge writes through the log group's
    resource policy, as AWS documents for CloudWatch Logs targets). An input transformer writes one
    line per heartbeat, ``forwarding-heartbeat account=<id> region=<region>``, stamped with the call's
    ``eventTime``. A metric filter counts the lines (``ForwardedHeartbeats``) and one alarm counts them
    in wall clock windows exactly like ``CanaryMonitor`` (``counting_windows``: 5-minute windows at the
    default rate, all 5 short before ALARM, 15 minutes of delivery delay tolerated, a silent path in
    ALARM within 30 minutes; missing data breaching). The saved query ``<folder>/Health/Silent
    forwarding paths`` names the quiet account-regions.

    **Reading it.** ALARM and the canary alarm (``CanaryMonitor``) quiet: a forwarding path is broken,
    its security events and health alarms do not reach the central bus. Both in ALARM: the account-region
    (or CloudTrail) is silent; start with the canary's checks.

    **Cost** at 1,000 accounts x 17 regions and the default rate (12 heartbeats an hour, 8,760 a month
    per account-region): 148.9 million forwarded events a month, billed to the sending accounts as
    cross-account events ($1.00 per million: $149, $0.15 per account); about 100 bytes of log line each
    here, 14.9 GB ingested ($0.50 per GB: $7.45) and a week of retention; one metric filter (free), one
    alarm ($0.10). Keep the heartbeats out of the central bus's rule for every event and its archive
    (``EventRouting(all_events_exclusion=forwarding_heartbeat_pattern(...))``), or they add ~1.5 KB
    each there.

    Example::

        ForwardingHeartbeatMonitor(stack, "ForwardingHeartbeat", bus=routing.bus,
                                   parameter_name="/acme/baseline/canary", expected_sources=12,
                                   alarm_name="acme-forwarding-heartbeat")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        parameter_name: str,
        expected_sources: int,
        alarm_name: str | None = None,
        rate: cdk.Duration | None = None,
        max_delivery_delay: cdk.Duration | None = None,
        log_group_name: str | None = None,
        retention: logs.RetentionDays | None = None,
        key: kms.IKey | None = None,
        metric_namespace: str = DEFAULT_HEALTH_NAMESPACE,
        query_folder: str | None = "Baseline",
        topic: sns.ITopic | None = None,
        removal_policy: cdk.RemovalPolicy | None = None,
    ) -> None:
        """
        :param bus: the central bus the member accounts forward to.
        :param parameter_name: the canaries' parameter (``ApiCanary.parameter_name``).
        :param expected_sources: account-regions that run the canary and forward (at least 1).
        :param alarm_name: name of the alarm (and of the metric filter). Default: one derived from the
            construct path.
        :param rate: the canaries' rate: 5, 6, 10, 12, 15, 20, 30 or 60 minutes. Default: 5 minutes.
        :param max_delivery_delay: how late a heartbeat may arrive without raising the alarm (1 to
            720 whole minutes). Default: 15 minutes.
        :param log_group_name: Default: ``/aws/events/<alarm_name>``.
        :param retention: of the heartbeat log group. Default: one week (``DEFAULT_HEARTBEAT_RETENTION``).
        :param key: encrypts the log group. Default: a new key with rotation and the CloudWatch Logs statement.
        :param metric_namespace: Default: ``BaselineHealth``.
        :param query_folder: folder of the saved query; None: no saved query. Default: ``Baseline``.
        :param topic: notified on ALARM and on OK. Default: none.
        :param removal_policy: of the key and the log group. Default: RETAIN.
        """
        super().__init__(scope, construct_id)
        rate = rate if rate is not None else DEFAULT_CANARY_RATE
        delay = max_delivery_delay if max_delivery_delay is not None else DEFAULT_MAX_DELIVERY_DELAY
        removal_policy = removal_policy if removal_policy is not None else cdk.RemovalPolicy.RETAIN
        problems = Problems(f"ForwardingHeartbeatMonitor({self.node.path})")
        problems.check(
            hasattr(bus, "event_bus_arn") and hasattr(bus, "event_bus_name"),
            f"bus {bus!r} is not an event bus: events.EventBus(...) or events.EventBus.from_event_bus_arn(...)",
        )
        rate_minutes, delay_minutes = _check_count_props(
            problems,
            parameter_name=parameter_name,
            alarm_name=alarm_name,
            expected_sources=expected_sources,
            metric_namespace=metric_namespace,
            rate=rate,
            delay=delay,
        )
        if log_group_name is not None:
            problems.check(
                isinstance(log_group_name, str) and bool(re.match(r"^[A-Za-z0-9_./#-]{1,512}$", log_group_name)),
                f"log_group_name {log_group_name!r} is not a log group name: 1-512 letters, digits, '_', '.', "
                "'/', '#' or '-'",
            )
        problems.check_enum("retention", retention, logs.RetentionDays, optional=True)
        problems.check_resource("key", key, "kms.IKey")
        problems.check_enum("removal_policy", removal_policy, cdk.RemovalPolicy)
        if query_folder is not None:
            problems.check(
                isinstance(query_folder, str) and bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$", query_folder)),
                f"query_folder {query_folder!r} is not a folder name: 1-64 letters, digits, space, '_', '.' or '-'",
            )
        problems.raise_if_any()
        windows = counting_windows(rate_minutes, delay_minutes)
        problems.check(
            windows.fits_a_day,
            f"max_delivery_delay ({delay_minutes} minutes) needs {windows.evaluation_periods} windows of "
            f"{windows.window_minutes} minutes: more than the day an alarm may evaluate",
        )
        problems.raise_if_any()
        alarm_name = _alarm_name(self, alarm_name)

        #: The counting arithmetic (window, evaluation periods, tolerated delay, detection time).
        self.windows = windows
        self.expected_sources = expected_sources
        #: ALARM below this many heartbeats per window: one missing is enough.
        self.threshold = expected_sources * windows.per_source - 0.5
        self.pattern = forwarding_heartbeat_pattern(parameter_name)
        log_group_name = log_group_name if log_group_name is not None else f"/aws/events/{alarm_name}"
        self.key, created = _log_groups.encrypted_log_groups(
            self,
            log_groups={"LogGroup": log_group_name},
            key=key,
            key_description=f"Encrypts log group {log_group_name} (forwarded heartbeats)",
            retention=retention if retention is not None else DEFAULT_HEARTBEAT_RETENTION,
            removal_policy=removal_policy,
        )
        self.log_group = created["LogGroup"]
        self.log_group.add_to_resource_policy(
            policies.eventbridge_log_group_statement(
                log_group_arn=self.log_group.log_group_arn, sid="AllowEventBridgeToWriteHeartbeats"
            )
        )
        account = events.EventField.from_path("$.detail.recipientAccountId")
        region = events.EventField.from_path("$.detail.awsRegion")
        self.rule = events.Rule(
            self,
            "Rule",
            event_bus=bus,
            description=f"Forwarded heartbeats ({parameter_name} canary calls) to {log_group_name}",
            event_pattern=self.pattern.to_cdk(),
        )
        # The log group and its resource policy first, or the first heartbeats fail to deliver.
        self.rule.node.add_dependency(self.log_group)
        # A CloudWatch Logs target takes exactly {"timestamp": <string>, "message": <string>}
        # (EventBridge PutTargets); one short line per heartbeat instead of the whole CloudTrail event.
        self.rule.add_target(
            _ArnTarget(
                policies.log_group_arn(self, log_group_name),
                input=events.RuleTargetInput.from_object(
                    {
                        "timestamp": events.EventField.from_path("$.detail.eventTime"),
                        "message": f"{HEARTBEAT_MESSAGE_PREFIX} account={account} region={region}",
                    }
                ),
            )
        )
        self.metric_filter, self.metric, self.alarm = _counted_events(
            self,
            log_group=self.log_group,
            alarm_name=alarm_name,
            filter_pattern=heartbeat_filter_pattern(),
            metric_namespace=metric_namespace,
            metric_name=FORWARDING_HEARTBEAT_METRIC_NAME,
            window_minutes=windows.window_minutes,
            description=(
                f"Fewer forwarded heartbeats than {expected_sources} account-regions x {windows.per_source} per "
                f"{windows.window_minutes}-minute window, {windows.evaluation_periods} windows running: the "
                "forwarding path of an account-region is broken (noticed within "
                f"{windows.worst_case_detection_minutes} minutes) or delivery lags more than "
                f"{windows.tolerated_delay_minutes} minutes. First check: the saved query 'Silent forwarding "
                "paths' names which; there, the forwarding rule of the health alarms (enabled, its target the "
                "central bus, its role), then this bus's policy. The canary alarm in ALARM too: check the "
                "account-region's canary and CloudTrail first."
            ),
            threshold=self.threshold,
            evaluation_periods=windows.evaluation_periods,
            topic=topic,
        )
        self.query_definition: logs.CfnQueryDefinition | None = None
        if query_folder is not None:
            self.query_definition = logs.CfnQueryDefinition(
                self,
                "Query",
                name=f"{query_folder}/Health/Silent forwarding paths",
                query_string=SILENT_FORWARDING_PATHS_QUERY,
                log_group_names=[log_group_name],
            )
            self.query_definition.node.add_dependency(self.log_group)


class HealthQueries(Construct):
    """Saved Logs Insights queries over a trail log group: ``<folder>/Health/Delivery latency`` and,
    with a canary, ``<folder>/Health/Silent account-regions``.

    Example::

        HealthQueries(stack, "HealthQueries", log_group=trail.log_group, canary_parameter_name="/acme/baseline/canary")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_group: logs.ILogGroup,
        canary_parameter_name: str | None = None,
        folder: str = "Baseline",
    ) -> None:
        """
        :param log_group: the trail log group.
        :param canary_parameter_name: the canaries' parameter. Default: none (no canary query).
        :param folder: Default: ``Baseline``.
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"HealthQueries({self.node.path})")
        if canary_parameter_name is not None:
            _check_parameter_name(problems, canary_parameter_name)
        problems.check(
            isinstance(folder, str) and bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$", folder)),
            f"folder {folder!r} is not a folder name: 1-64 letters, digits, space, '_', '.' or '-'",
        )
        problems.raise_if_any()
        queries = {"Delivery latency": DELIVERY_LATENCY_QUERY}
        if canary_parameter_name is not None:
            queries["Silent account-regions"] = silent_sources_query(canary_parameter_name)
        #: Query definitions by display name.
        self.query_definitions: dict[str, logs.CfnQueryDefinition] = {
            name: logs.CfnQueryDefinition(
                self,
                re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-"),
                name=f"{folder}/Health/{name}",
                query_string=query,
                log_group_names=[log_group.log_group_name],
            )
            for name, query in queries.items()
        }


def _sum_alarm(
    scope: Construct,
    construct_id: str,
    *,
    alarm_name: str,
    description: str,
    metrics: Mapping[str, cloudwatch.IMetric],
    label: str,
) -> cloudwatch.Alarm:
    """One alarm on the SUM of up to 10 metrics (an alarm's metric math limit): ALARM at >= 1."""
    expression = cloudwatch.MathExpression(
        expression=f"SUM([{', '.join(metrics)}])",
        using_metrics=dict(metrics),
        label=label,
        period=cdk.Duration.minutes(5),
    )
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=alarm_name,
        alarm_description=description[:1024],
        metric=expression,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        # The failure metrics are published only when something fails: no data means healthy.
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def config_failure_metrics(
    *, period: cdk.Duration | None = None, search_account: str | None = None, search_region: str | None = None
) -> dict[str, cloudwatch.MathExpression]:
    """``CONFIG_FAILURE_METRICS`` as Metrics Insights queries (``config_failure_query``: every series of
    the metric, whatever its dimensions), by metric name.

    :param period: Default: five minutes.
    :param search_account: account to query (dashboards). Default: the stack's.
    :param search_region: region to query (dashboards). Default: the stack's.
    """
    return {
        name: cloudwatch.MathExpression(
            expression=config_failure_query(name),
            label=name,
            period=period if period is not None else cdk.Duration.minutes(5),
            search_account=search_account,
            search_region=search_region,
        )
        for name in CONFIG_FAILURE_METRICS
    }


class ConfigHealthAlarms(Construct):
    """One alarm per AWS Config failure metric in this account and region.

    Each alarm reads a Metrics Insights query, ``SELECT SUM(<metric>) FROM "AWS/Config"`` over five
    minutes, and fires at 1 or more; missing data is not breaching (the metrics exist only once
    something failed). A query, not a plain metric, because AWS documents the metric names and the
    namespace but not their dimensions (``CONFIG_FAILURE_METRICS``): the query sums the metric's series
    whatever dimensions AWS Config publishes it with. One query per alarm (a Metrics Insights alarm
    reads one query), hence four alarms, named ``<alarm_name_prefix>-<CONFIG_FAILURE_ALARMS[metric]>``.
    Metrics Insights allows 200 such alarms per account and region; these use 4.

    Example::

        ConfigHealthAlarms(stack, "ConfigHealth", alarm_name_prefix="acme-health-config")
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_name_prefix: str | None = None,
        topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param alarm_name_prefix: the alarms are named ``<prefix>-change-notifications``,
            ``-history-export``, ``-recorder-permissions`` and ``-snapshot-export`` (names are per region).
            Default: a prefix derived from the construct path.
        :param topic: notified on ALARM and on OK. Default: none (forward their state changes instead).
        """
        super().__init__(scope, construct_id)
        problems = Problems(f"ConfigHealthAlarms({self.node.path})")
        longest = max(len(suffix) for suffix in CONFIG_FAILURE_ALARMS.values()) + 1
        _check_alarm_name(problems, "alarm_name_prefix", alarm_name_prefix)
        problems.check(
            not isinstance(alarm_name_prefix, str) or len(alarm_name_prefix) <= 255 - longest,  # None: derived
            f"alarm_name_prefix {alarm_name_prefix!r} is too long: at most {255 - longest} characters "
            "leave room for the alarm suffixes",
        )
        problems.raise_if_any()
        if alarm_name_prefix is None:
            alarm_name_prefix = _names.unique(self, name_prefix=None, suffix="", max_length=255 - longest)
        #: Metrics Insights query per metric name.
        self.metrics = config_failure_metrics()
        #: Alarm per metric name.
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, suffix in CONFIG_FAILURE_ALARMS.items():
            alarm = cloudwatch.Alarm(
                self,
                "".join(part.title() for part in suffix.split("-")),
                alarm_name=_alarm_name(self, f"{alarm_name_prefix}-{suffix}"),
                alarm_description=(
                    f"AWS Config {name} >= 1 in 5 minutes: {CONFIG_FAILURE_METRICS[name]}. "
                    f"First check: {_CONFIG_FIRST_CHECK[name]}."
                ),
                metric=self.metrics[name],
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                # The failure metrics are published only when something fails: no data means healthy.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            _notify(alarm, topic)
            self.alarms[name] = alarm


class NotificationHealthAlarms(Construct):
    """Alarms on the notification path: SNS deliveries that failed, rule invocations that failed,
    messages waiting in dead-letter queues.

    - per topic: ``AWS/SNS`` ``NumberOfNotificationsFailed`` (``TopicName``), Sum over 5 minutes >= 1;
    - rules, up to 10 per alarm: ``SUM`` of ``AWS/Events`` ``FailedInvocations`` (``RuleName``),
      Sum over 5 minutes >= 1;
    - per queue: ``AWS/SQS`` ``ApproximateNumberOfMessagesVisible`` (``QueueName``), Maximum over
      5 minutes >= 1.

    Missing data is not breaching (the metrics exist only while there is traffic).

    Example::

        NotificationHealthAlarms(stack, "NotificationHealth", alarm_name_prefix="acme-health",
                                 topics={"critical": critical}, rules={"forward": rule},
                                 dead_letter_queues={"events": dlq}, topic=high)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_name_prefix: str | None = None,
        topics: Mapping[str, sns.ITopic] | None = None,
        rules: Mapping[str, events.IRule] | None = None,
        dead_letter_queues: Mapping[str, sqs.IQueue] | None = None,
        topic: sns.ITopic | None = None,
        fallback_topic: sns.ITopic | None = None,
    ) -> None:
        """
        :param alarm_name_prefix: alarms are named ``<prefix>-sns-<key>``, ``<prefix>-rules[-n]``,
            ``<prefix>-dlq-<key>``. Default: a prefix derived from the construct path.
        :param topics: topics whose deliveries are watched, by a stable key. Default: none.
        :param rules: EventBridge rules whose invocations are watched, by a stable key. Default: none.
        :param dead_letter_queues: queues that must stay empty, by a stable key. Default: none.
        :param topic: notified on ALARM and on OK. Default: none.
        :param fallback_topic: notified instead of ``topic`` about ``topic``'s own failed deliveries
            (a topic that cannot deliver cannot report that itself). Default: none.
        """
        super().__init__(scope, construct_id)
        topics = dict(topics or {})
        rules = dict(rules or {})
        queues = dict(dead_letter_queues or {})
        problems = Problems(f"NotificationHealthAlarms({self.node.path})")
        _check_alarm_name(problems, "alarm_name_prefix", alarm_name_prefix)
        for prop, keys in (("topics", topics), ("rules", rules), ("dead_letter_queues", queues)):
            for key in keys:
                problems.check(
                    bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$", str(key))),
                    f"{prop}: key {key!r} is not a stable key: 1-40 letters, digits or '-'",
                )
        problems.check(bool(topics or rules or queues), "nothing to watch: give topics, rules or dead_letter_queues")
        problems.raise_if_any()
        if alarm_name_prefix is None:
            # Room for the longest suffix, "-dlq-" and a 40-character key.
            alarm_name_prefix = _names.unique(self, name_prefix=None, suffix="", max_length=255 - 45)

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for key, watched in topics.items():
            alarm = _any_in_five_minutes(
                self,
                f"Sns-{key}",
                alarm_name=_alarm_name(self, f"{alarm_name_prefix}-sns-{key}"),
                description=(
                    f"SNS could not deliver notifications of the {key} alert topic. First check: the "
                    "topic's subscriptions (pending confirmation, bouncing endpoint) and its KMS key policy."
                ),
                namespace="AWS/SNS",
                metric_name="NumberOfNotificationsFailed",
                dimensions={"TopicName": watched.topic_name},
                statistic="Sum",
            )
            own = topic is not None and watched is topic
            _notify(alarm, fallback_topic if own and fallback_topic is not None else topic)
            self.alarms[f"sns-{key}"] = alarm

        keys = list(rules)
        chunks = [keys[i : i + _MAX_ALARM_METRICS] for i in range(0, len(keys), _MAX_ALARM_METRICS)]
        five_minutes = cdk.Duration.minutes(5)  # one Duration for every metric: one round trip to node
        for index, chunk in enumerate(chunks):
            suffix = "" if len(chunks) == 1 else f"-{index + 1}"
            metrics = {
                f"m{position}": cloudwatch.Metric(
                    namespace="AWS/Events",
                    metric_name="FailedInvocations",
                    dimensions_map={"RuleName": rules[key].rule_name},
                    statistic="Sum",
                    period=five_minutes,
                )
                for position, key in enumerate(chunk, start=1)
            }
            alarm = _sum_alarm(
                self,
                f"Rules{suffix}",
                alarm_name=_alarm_name(self, f"{alarm_name_prefix}-rules{suffix}"),
                label="Failed rule invocations",
                description=(
                    f"EventBridge could not deliver events of rule(s) {', '.join(chunk)} to their target. "
                    "First check: the target's resource policy, the rule role's permissions and the target's KMS key."
                ),
                metrics=metrics,
            )
            _notify(alarm, topic)
            self.alarms[f"rules{suffix}"] = alarm

        for key, queue in queues.items():
            alarm = _any_in_five_minutes(
                self,
                f"Dlq-{key}",
                alarm_name=_alarm_name(self, f"{alarm_name_prefix}-dlq-{key}"),
                description=(
                    f"Messages wait in dead-letter queue {key}: events or notifications were not delivered. "
                    "First check: the messages' error attributes, then redrive them."
                ),
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions={"QueueName": queue.queue_name},
                statistic="Maximum",
            )
            _notify(alarm, topic)
            self.alarms[f"dlq-{key}"] = alarm


def _count_graph(
    title: str,
    metric: cloudwatch.IMetric,
    alarm_below: float | None,
    region: str | None = None,
    account: str | None = None,
) -> cloudwatch.GraphWidget:
    """A count per window, with the alarm threshold drawn as a line."""
    return cloudwatch.GraphWidget(
        title=title,
        left=[metric],
        left_annotations=(
            [cloudwatch.HorizontalAnnotation(value=alarm_below, label="alarm below")]
            if alarm_below is not None
            else None
        ),
        left_y_axis=cloudwatch.YAxisProps(min=0),
        region=region,
        account_id=account,
        width=12,
        height=6,
    )


def _query_table(
    title: str, log_group_name: str, query: str, region: str | None = None, account: str | None = None
) -> cloudwatch.LogQueryWidget:
    """A Logs Insights query over one log group, shown as a table."""
    return cloudwatch.LogQueryWidget(
        title=title,
        log_group_names=[log_group_name],
        query_string=query,
        region=region,
        account_id=account,
        view=cloudwatch.LogQueryVisualizationType.TABLE,
        width=12,
        height=8,
    )


def baseline_health_widgets(
    *,
    trail_log_group_name: str,
    trail_account: str | None = None,
    trail_region: str | None = None,
    alarms: Sequence[cloudwatch.IAlarm] = (),
    canary_metric: cloudwatch.IMetric | None = None,
    expected_canaries: float | None = None,
    canary_parameter_name: str | None = None,
    regions: Sequence[str] = (),
    heartbeat_metric: cloudwatch.IMetric | None = None,
    expected_heartbeats: float | None = None,
    heartbeat_log_group_name: str | None = None,
) -> list[cloudwatch.IWidget]:
    """The "Baseline health" dashboard row: health alarm status, trail heartbeat, canaries (count
    against the alarm threshold, and the silent account-regions), delivery latency, and per region
    AWS Config failures and notification-path failures of every linked account (metric SEARCH
    through cross-account observability).

    :param trail_log_group_name: the trail log group.
    :param trail_account: its account, when the dashboard is elsewhere. Default: the dashboard's.
    :param trail_region: its region. Default: the dashboard's.
    :param alarms: the health alarms. Default: none.
    :param canary_metric: ``CanaryMonitor.metric``. Default: none (no canary graph).
    :param expected_canaries: ``CanaryMonitor.threshold``, drawn as a line. Default: none.
    :param canary_parameter_name: for the silent account-regions table. Default: none.
    :param regions: regions whose Config and delivery failures are searched. Default: none.
    :param heartbeat_metric: ``ForwardingHeartbeatMonitor.metric`` (in the dashboard's account and
        region, next to the central bus). Default: none (no heartbeat graph).
    :param expected_heartbeats: ``ForwardingHeartbeatMonitor.threshold``, drawn as a line. Default: none.
    :param heartbeat_log_group_name: for the silent forwarding paths table. Default: none.
    """
    widgets: list[cloudwatch.IWidget] = [
        cloudwatch.TextWidget(
            markdown=(
                "## Baseline health\nIs the pipeline alive? Trail heartbeat, canaries per account-region, "
                "forwarded heartbeats per account-region, CloudTrail delivery latency, AWS Config failures "
                "and undelivered notifications."
            ),
            width=24,
            height=2,
        )
    ]
    if alarms:
        widgets.append(
            cloudwatch.AlarmStatusWidget(
                title="Health alarm status",
                alarms=list(alarms),
                sort_by=cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
                width=24,
                height=3,
            )
        )
    heartbeat = cloudwatch.Metric(
        namespace="AWS/Logs",
        metric_name="IncomingLogEvents",
        dimensions_map={"LogGroupName": trail_log_group_name},
        statistic="Sum",
        period=cdk.Duration.minutes(5),
        account=trail_account,
        region=trail_region,
        label="Trail events delivered",
    )
    widgets.append(
        cloudwatch.GraphWidget(
            title="Trail heartbeat (events per 5 minutes)",
            left=[heartbeat],
            left_y_axis=cloudwatch.YAxisProps(min=0),
            region=trail_region,
            account_id=trail_account,
            width=12,
            height=6,
        )
    )
    if canary_metric is not None:
        widgets.append(
            _count_graph("Canary events per period", canary_metric, expected_canaries, trail_region, trail_account)
        )
    if canary_parameter_name is not None:
        widgets.append(
            _query_table(
                "Canaries per account-region (silent ones first)",
                trail_log_group_name,
                silent_sources_query(canary_parameter_name),
                trail_region,
                trail_account,
            )
        )
    if heartbeat_metric is not None:
        widgets.append(
            _count_graph("Forwarded heartbeats per period (central bus)", heartbeat_metric, expected_heartbeats)
        )
    if heartbeat_log_group_name is not None:
        widgets.append(
            _query_table(
                "Forwarded heartbeats per account-region (silent forwarding paths first)",
                heartbeat_log_group_name,
                SILENT_FORWARDING_PATHS_QUERY,
            )
        )
    widgets.append(
        _query_table(
            "CloudTrail delivery latency per account-region (seconds)",
            trail_log_group_name,
            DELIVERY_LATENCY_QUERY,
            trail_region,
            trail_account,
        )
    )
    # 'Namespace="AWS/Config"', not the schema '{AWS/Config}': a schema matches one dimension set
    # only ('{AWS/Config}' = no dimension), and AWS does not document the metrics' dimensions.
    config_names = " OR ".join(f'MetricName="{name}"' for name in CONFIG_FAILURE_METRICS)
    for region in regions:
        widgets.append(
            cloudwatch.GraphWidget(
                title=f"AWS Config failures, every linked account ({region})",
                left=[
                    cloudwatch.MathExpression(
                        expression=f"SEARCH('Namespace=\"{CONFIG_METRICS_NAMESPACE}\" ({config_names})', 'Sum', 300)",
                        label="Config failures",
                        period=cdk.Duration.minutes(5),
                        search_region=region,
                    )
                ],
                region=region,
                width=12,
                height=6,
            )
        )
        widgets.append(
            cloudwatch.GraphWidget(
                title=f"Undelivered notifications and events, every linked account ({region})",
                left=[
                    cloudwatch.MathExpression(
                        expression=(
                            'SEARCH(\'{AWS/SNS,TopicName} MetricName="NumberOfNotificationsFailed" OR '
                            "{AWS/Events,RuleName} MetricName=\"FailedInvocations\"', 'Sum', 300)"
                        ),
                        label="Failures",
                        period=cdk.Duration.minutes(5),
                        search_region=region,
                    )
                ],
                region=region,
                width=12,
                height=6,
            )
        )
    return widgets


def _any_in_five_minutes(
    scope: Construct,
    construct_id: str,
    *,
    alarm_name: str,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, str],
    statistic: str,
) -> cloudwatch.Alarm:
    """An alarm on one AWS metric reaching 1 within five minutes; no data (nothing failed) is fine."""
    return any_in_five_minutes(
        scope,
        construct_id,
        alarm_name=alarm_name,
        description=description,
        metric=cloudwatch.Metric(
            namespace=namespace,
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=cdk.Duration.minutes(5),
        ),
    )
