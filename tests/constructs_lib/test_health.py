"""The baseline's own health: heartbeat, canary, canary count, queries, Config and notification-path alarms."""

from __future__ import annotations

import bisect
import json
import random
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from moto.events.models import EventPattern

from constructs_lib import (
    CONFIG_FAILURE_METRICS,
    CONFIG_METRICS_DOCUMENTATION,
    SILENT_FORWARDING_PATHS_QUERY,
    ApiCanary,
    CanaryMonitor,
    ConfigHealthAlarms,
    EventRouting,
    ForwardingHeartbeatMonitor,
    HealthQueries,
    LogGroupHeartbeat,
    NotificationHealthAlarms,
    baseline_health_widgets,
    canary_filter_pattern,
    config_failure_query,
    forwarded_health_events,
    forwarding_heartbeat_pattern,
    health_alarm_state_changes,
    heartbeat_filter_pattern,
    matches,
)
from constructs_lib.detections import builtin_detections
from constructs_lib.event_patterns import SecurityEventPattern, everything_but
from constructs_lib.health import CONFIG_DOCUMENTED_SUCCESS_METRICS, CONFIG_FAILURE_ALARMS, CONFIG_METRICS_NAMESPACE
from constructs_lib.scp_evaluator import Request, statement_matches
from tests.conftest import new_stack, only
from tests.constructs_lib.cloudtrail_events import ACCOUNT, CASES, api_call

PARAMETER = "/acme/baseline/canary"
PARAMETER_ID = "CanaryParameter747E57F2"
PARAMETER_ARN = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/acme/baseline/canary"


def _resolve_partition(node: Any) -> Any:
    """A resolved template value with ``AWS::Partition`` read as ``aws`` (what a commercial deploy sees)."""
    if isinstance(node, dict) and list(node) == ["Fn::Join"]:
        separator, parts = node["Fn::Join"]
        return separator.join(_resolve_partition(p) for p in parts)
    if node == {"Ref": "AWS::Partition"}:
        return "aws"
    if isinstance(node, dict):
        return {k: _resolve_partition(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_partition(v) for v in node]
    return node


def trail_log_group(stack: cdk.Stack) -> logs.ILogGroup:
    return logs.LogGroup.from_log_group_name(stack, "TrailLogs", "/aws/cloudtrail/acme-organization-trail")


# CloudTrail records of the canary as CloudTrail delivers them: EventBridge Scheduler assumes the
# canary role and calls ssm:PutParameter.
SCHEDULER_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLECANARY001:a1b2c3d4e5f6a7b8",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/StackSet-acme-workload-baseline-HealthCanaryRole-ABC/a1b2c3d4e5f6a7b8",
    "accountId": ACCOUNT,
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLECANARY001",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/StackSet-acme-workload-baseline-HealthCanaryRole-ABC",
            "accountId": ACCOUNT,
            "userName": "StackSet-acme-workload-baseline-HealthCanaryRole-ABC",
        },
        "attributes": {"creationDate": "2024-05-01T10:00:00Z", "mfaAuthenticated": "false"},
    },
    "invokedBy": "scheduler.amazonaws.com",
}


def canary_record(name: str = PARAMETER, event: str = "PutParameter", **kwargs: Any) -> dict[str, Any]:
    request = {"name": name, "overwrite": True, "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    if event != "PutParameter":
        request = {"name": name}
    return api_call(
        "ssm.amazonaws.com",
        event,
        identity=SCHEDULER_ROLE,
        request=request,
        response={"version": 42, "tier": "Standard"}
        if event == "PutParameter" and "error_code" not in kwargs
        else None,
        read_only=event.startswith("Get"),
        **kwargs,
    )


class TestCanaryFilterPattern:
    pattern = canary_filter_pattern(PARAMETER)

    @pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
    def test_matches_the_canary_event(self, region):
        record = canary_record(region=region)
        assert matches(self.pattern, record)
        assert matches(self.pattern, json.dumps(record, separators=(",", ":")))  # as the log line

    @pytest.mark.parametrize(
        ("label", "record"),
        [
            ("another parameter", canary_record("/acme/app/feature-flag")),
            ("a parameter sharing the prefix", canary_record(f"{PARAMETER}-old")),
            ("reading the canary parameter", canary_record(event="GetParameter")),
            ("deleting the canary parameter", canary_record(event="DeleteParameter")),
            ("the canary call denied by an SCP", canary_record(error_code="AccessDenied", error_message="denied")),
            ("the canary call throttled", canary_record(error_code="ThrottlingException")),
        ],
    )
    def test_near_misses_do_not_match(self, label, record):
        assert not matches(self.pattern, record), label

    @pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
    def test_no_other_recorded_event_matches(self, case):
        assert not matches(self.pattern, case.record)

    def test_the_canary_trips_no_security_detection(self):
        record = canary_record()
        assert [key for key, d in builtin_detections().items() if matches(d.pattern, record)] == []


class TestLogGroupHeartbeat:
    def test_alarm_reads_incoming_log_events_and_missing_data_breaches(self):
        stack = new_stack()
        topic = sns.Topic(stack, "Topic")
        heartbeat = LogGroupHeartbeat(
            stack, "Heartbeat", log_group=trail_log_group(stack), alarm_name="acme-heartbeat", topic=topic
        )
        Template.from_stack(stack).has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": "acme-heartbeat",
                "Namespace": "AWS/Logs",
                "MetricName": "IncomingLogEvents",
                "Dimensions": [{"Name": "LogGroupName", "Value": "/aws/cloudtrail/acme-organization-trail"}],
                "Statistic": "Sum",
                "Period": 1800,
                "Threshold": 1,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
                "AlarmActions": [{"Ref": Match.string_like_regexp("Topic")}],
                "OKActions": [{"Ref": Match.string_like_regexp("Topic")}],
            },
        )
        assert heartbeat.alarm.node.id == "Alarm"

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"window": cdk.Duration.minutes(2)}, r"window .* whole number of minutes from 5 to 1440"),
            ({"window": cdk.Duration.seconds(450)}, r"window .* whole number of minutes"),
            ({"alarm_name": "bad name!"}, r"alarm_name 'bad name!' is not an alarm name"),
        ],
    )
    def test_invalid(self, props, message):
        stack = new_stack()
        options = {"log_group": trail_log_group(stack), "alarm_name": "ok", **props}
        with pytest.raises(ValueError, match=message):
            LogGroupHeartbeat(stack, "Heartbeat", **options)


@pytest.fixture(scope="module")
def canary() -> tuple[ApiCanary, Template, None]:
    stack = new_stack(account=ACCOUNT)
    canary = ApiCanary(stack, "Canary", parameter_name=PARAMETER)
    return canary, Template.from_stack(stack), None


class TestApiCanary:
    def test_schedule_calls_ssm_put_parameter_through_the_universal_target(self, canary):
        _, template, _ = canary
        _, schedule = only(template, "AWS::Scheduler::Schedule")
        props = _resolve_partition(schedule["Properties"])
        # Universal target ARN format: arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction>
        assert re.fullmatch(r"arn:aws:scheduler:::aws-sdk:[a-z0-9-]+:[a-z][A-Za-z0-9]+", props["Target"]["Arn"])
        assert props["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:ssm:putParameter"
        assert json.loads(props["Target"]["Input"]) == {
            "Name": PARAMETER,
            "Value": "<aws.scheduler.scheduled-time>",
            "Overwrite": True,
        }
        # Minute 2 of every 5, UTC, in every account-region alike: inside the canary alarm's 5-minute windows.
        assert props["ScheduleExpression"] == "cron(2/5 * * * ? *)"
        assert props["ScheduleExpressionTimezone"] == "UTC"
        assert props["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 120, "MaximumRetryAttempts": 2}
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert props["State"] == "ENABLED"

    def test_the_parameter_exists_and_the_policy_is_attached_before_the_first_run(self, canary):
        _, template, _ = canary
        schedule_id, schedule = only(template, "AWS::Scheduler::Schedule")
        parameter_id, parameter = only(template, "AWS::SSM::Parameter")
        policy_id, _ = only(template, "AWS::IAM::ManagedPolicy")
        assert set(schedule["DependsOn"]) == {parameter_id, policy_id}
        props = dict(parameter["Properties"])
        assert props.pop("Description").startswith("Baseline canary")
        assert props == {"Name": PARAMETER, "Type": "String", "Tier": "Standard", "Value": "not run yet"}
        # Pinned: a new logical id would replace the parameter and the schedule.
        assert (schedule_id, parameter_id) == ("CanarySchedule71325C82", PARAMETER_ID)

    def test_role_trusted_by_scheduler_of_this_account_only(self, canary):
        _, template, _ = canary
        _, role = only(template, "AWS::IAM::Role")
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        assert "Policies" not in role["Properties"] and "ManagedPolicyArns" not in role["Properties"]

    def test_the_role_may_make_exactly_the_canary_call(self, canary):
        _, template, _ = canary
        _, policy = only(template, "AWS::IAM::ManagedPolicy")
        statements = _resolve_partition(policy["Properties"]["PolicyDocument"])["Statement"]
        assert len(statements) == 1 and statements[0]["Effect"] == "Allow"

        def allowed(action: str, resource: str) -> bool:
            return any(statement_matches(s, Request(action=action, resource=resource)) for s in statements)

        assert allowed("ssm:PutParameter", PARAMETER_ARN)
        assert not allowed("ssm:PutParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/acme/app/flag")
        assert not allowed("ssm:PutParameter", f"{PARAMETER_ARN}-old")
        for action in (
            "ssm:DeleteParameter",
            "ssm:GetParameter",
            "ssm:AddTagsToResource",
            "kms:Decrypt",
            "iam:PassRole",
        ):
            assert not allowed(action, PARAMETER_ARN), action
            assert not allowed(action, "*"), action

    def test_the_canary_event_is_counted_by_its_own_pattern(self, canary):
        api_canary, _, _ = canary
        assert api_canary.filter_pattern == canary_filter_pattern(PARAMETER)
        assert matches(api_canary.filter_pattern, canary_record())

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"parameter_name": "acme/canary"}, r"parameter_name 'acme/canary' is not an SSM parameter path"),
            ({"parameter_name": "/acme canary"}, r"is not an SSM parameter path"),
            ({"rate": cdk.Duration.hours(2)}, r"rate .* whole number of minutes from 1 to 60"),
            ({"rate": cdk.Duration.minutes(7)}, r"rate 7 minutes is not a whole divisor of an hour of at least 5"),
        ],
    )
    def test_invalid(self, props, message):
        with pytest.raises(ValueError, match=message):
            ApiCanary(new_stack(), "Canary", **{"parameter_name": PARAMETER, **props})


def canary_monitor(sources: int = 15, **props: Any) -> tuple[CanaryMonitor, dict[str, Any], str]:
    """A CanaryMonitor and an ApiCanary at the same rate; the synthesized alarm and schedule expression."""
    stack = new_stack()
    rate = props.get("rate")
    ApiCanary(stack, "Canary", parameter_name=PARAMETER, rate=rate)
    monitor = CanaryMonitor(
        stack,
        "Canaries",
        log_group=trail_log_group(stack),
        parameter_name=PARAMETER,
        expected_sources=sources,
        alarm_name="acme-canaries",
        **props,
    )
    template = Template.from_stack(stack)
    _, alarm = only(template, "AWS::CloudWatch::Alarm")
    _, schedule = only(template, "AWS::Scheduler::Schedule")
    return monitor, alarm["Properties"], schedule["Properties"]["ScheduleExpression"]


def schedule_minutes(expression: str) -> list[int]:
    """Minutes of the hour a ``cron(M/R * * * ? *)`` or ``cron(M * * * ? *)`` schedule runs at."""
    minutes = re.fullmatch(r"cron\((\d+)(?:/(\d+))? \* \* \* \? \*\)", expression)
    assert minutes, expression
    start, step = int(minutes[1]), int(minutes[2] or 60)
    return list(range(start, 60, step))


def detection_arithmetic(alarm: dict[str, Any], expression: str, sources: int) -> tuple[int, int]:
    """(tolerated delivery delay, worst-case detection) in minutes, from the alarm and the schedule alone.

    Windows are wall-clock aligned; each holds the same canaries of every source. All
    ``DatapointsToAlarm`` (= ``EvaluationPeriods``) windows must breach. A delivery delay keeps windows
    short whose canaries are younger than it; one more window may be in progress; the oldest must be
    complete: tolerated = (windows - 2) * period + gap. A source silent right after a window's last
    canary breaches every later window: ALARM once ``windows`` of them ended, + 2 minutes of evaluation.
    """
    period = alarm["Period"] // 60
    windows = alarm["EvaluationPeriods"]
    assert alarm["DatapointsToAlarm"] == windows
    assert alarm["EvaluationWindow"] == {"WallClockWindow": {"Timezone": "UTC"}}
    assert period in (1, 5, 60)  # periods CloudWatch allows for wall clock windows
    ticks = schedule_minutes(expression)
    in_window = [t % period for t in ticks if t < period] if period < 60 else ticks
    assert all(t % period in in_window for t in ticks)  # every window holds the same canaries
    per_source = len(in_window)
    # One canary missing is enough, nothing else is: the threshold sits within one canary of the count.
    assert sources * per_source - 1 < alarm["Threshold"] < sources * per_source
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["TreatMissingData"] == "breaching"
    # At least 2 minutes from both edges: an invocation up to 2 minutes late stays in its window.
    assert min(in_window) >= 2 and period - max(in_window) >= 3
    gap = period - max(in_window)
    return (windows - 2) * period + gap, windows * period + gap + 2


class TestCanaryMonitor:
    def test_one_metric_filter_and_one_alarm_whatever_the_number_of_sources(self):
        for sources in (1, 15, 3000):
            monitor, alarm, _ = canary_monitor(sources)
            # One canary per source and 5-minute window; one missing is enough.
            assert monitor.threshold == sources - 0.5 == alarm["Threshold"]

    def test_filter_and_alarm(self):
        stack = new_stack()
        CanaryMonitor(
            stack,
            "Canaries",
            log_group=trail_log_group(stack),
            parameter_name=PARAMETER,
            expected_sources=15,
            alarm_name="acme-canaries",
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Logs::MetricFilter", 1)
        template.resource_count_is("AWS::CloudWatch::Alarm", 1)
        template.has_resource_properties(
            "AWS::Logs::MetricFilter",
            {
                "LogGroupName": "/aws/cloudtrail/acme-organization-trail",
                "FilterPattern": canary_filter_pattern(PARAMETER),
                "MetricTransformations": [
                    {"MetricNamespace": "BaselineHealth", "MetricName": "CanaryEvents", "MetricValue": "1"}
                ],
            },
        )
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": "acme-canaries",
                "Namespace": "BaselineHealth",
                "MetricName": "CanaryEvents",
                "Statistic": "Sum",
                "Period": 300,
                "Threshold": 14.5,
                "EvaluationPeriods": 5,
                "DatapointsToAlarm": 5,
                "EvaluationWindow": {"WallClockWindow": {"Timezone": "UTC"}},
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
            },
        )

    def test_detection_within_half_an_hour_tolerating_15_minutes_of_delivery_delay(self):
        monitor, alarm, expression = canary_monitor(15)
        tolerated, detection = detection_arithmetic(alarm, expression, 15)
        assert (tolerated, detection) == (18, 30)
        assert tolerated >= 15  # CloudTrail's older documented delivery figure; ~5 minutes on average
        assert detection < 60
        assert (monitor.tolerated_delay_minutes, monitor.worst_case_detection_minutes) == (tolerated, detection)
        assert f"noticed within {detection} minutes" in alarm["AlarmDescription"]

    @pytest.mark.parametrize(
        ("rate", "delay", "expected"),
        [(5, 5, (8, 20)), (5, 30, (33, 45)), (10, 15, (68, 190)), (30, 15, (28, 150)), (60, 15, (58, 180))],
    )
    def test_detection_arithmetic_for_other_rates_and_delays(self, rate, delay, expected):
        monitor, alarm, expression = canary_monitor(
            7, rate=cdk.Duration.minutes(rate), max_delivery_delay=cdk.Duration.minutes(delay)
        )
        assert detection_arithmetic(alarm, expression, 7) == expected
        assert (monitor.tolerated_delay_minutes, monitor.worst_case_detection_minutes) == expected
        assert monitor.tolerated_delay_minutes >= delay

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"expected_sources": 0}, r"expected_sources 0 must be a whole number of account-regions >= 1"),
            ({"rate": cdk.Duration.minutes(25)}, r"rate 25 minutes is not a whole divisor of an hour"),
            ({"max_delivery_delay": cdk.Duration.hours(13)}, r"max_delivery_delay .* from 1 to 720"),
            ({"metric_namespace": "AWS/Logs"}, r"metric_namespace 'AWS/Logs' is not a custom namespace"),
        ],
    )
    def test_invalid(self, props, message):
        stack = new_stack()
        options = {
            "log_group": trail_log_group(stack),
            "parameter_name": PARAMETER,
            "expected_sources": 3,
            "alarm_name": "acme-canaries",
            **props,
        }
        with pytest.raises(ValueError, match=message):
            CanaryMonitor(stack, "Canaries", **options)


def simulate_canary_alarm(
    alarm: dict[str, Any],
    expression: str,
    *,
    sources: int,
    hours: int,
    silent: tuple[int, int] | None = None,
    in_progress_window: bool = False,
    seed: int = 12,
) -> list[int]:
    """Minutes (since 00:00 UTC) at which the synthesized canary alarm is in ALARM.

    Every source calls at the schedule's minutes, up to 90 seconds late; CloudTrail delivers each
    event 0 to 15 minutes later (uniformly: far worse than its ~5-minute average). The metric counts
    an event in the window of its event time, once delivered. Each minute the alarm evaluates its
    last ``EvaluationPeriods`` wall-clock windows, the newest complete one first, or (when
    ``in_progress_window``) the one in progress; ALARM when all are below the threshold.
    ``silent``: (source, minute) from which that source makes no call.
    """
    draw = random.Random(seed).random  # draw() * b is rng.uniform(0, b): the same numbers, a call less
    period = alarm["Period"] // 60
    windows = alarm["EvaluationPeriods"]
    delivered: dict[int, list[float]] = {}  # window index -> delivery times (seconds)
    ticks = schedule_minutes(expression)
    for hour in range(hours):
        for minute in ticks:
            start = (hour * 60 + minute) * 60
            quiet = silent[0] if silent is not None and start >= silent[1] * 60 else None
            for source in range(sources):
                if source == quiet:
                    continue
                event = start + draw() * 90
                window = int(event // (period * 60))
                if window not in delivered:
                    delivered[window] = []
                delivered[window].append(event + draw() * (15 * 60))
    for times in delivered.values():
        times.sort()
    in_alarm = []
    for now_minute in range(windows * period + 60, hours * 60):
        now = now_minute * 60
        newest = now_minute // period - (0 if in_progress_window else 1)
        counts = [bisect.bisect_right(delivered.get(w, []), now) for w in range(newest - windows + 1, newest + 1)]
        if all(count < alarm["Threshold"] for count in counts):
            in_alarm.append(now_minute)
    return in_alarm


class TestCanaryAlarmSimulation:
    """The synthesized alarm and schedule against simulated canaries of 1,000 account-regions."""

    @pytest.fixture(scope="class")
    def synthesized(self) -> tuple[dict[str, Any], str, int]:
        monitor, alarm, expression = canary_monitor(1000)
        return alarm, expression, monitor.worst_case_detection_minutes

    @pytest.mark.parametrize("in_progress_window", [False, True])
    def test_no_false_alarm_from_delivery_delay_or_late_invocations(self, synthesized, in_progress_window):
        alarm, expression, _ = synthesized
        assert (
            simulate_canary_alarm(alarm, expression, sources=1000, hours=24, in_progress_window=in_progress_window)
            == []
        )

    @pytest.mark.parametrize("in_progress_window", [False, True])
    @pytest.mark.parametrize("silent_from", [303, 305, 307, 331])
    def test_one_silent_account_region_of_1000_within_the_worst_case(
        self, synthesized, in_progress_window, silent_from
    ):
        alarm, expression, worst_case = synthesized
        in_alarm = simulate_canary_alarm(
            alarm, expression, sources=1000, hours=8, silent=(417, silent_from), in_progress_window=in_progress_window
        )
        assert in_alarm, "a silent account-region was never noticed"
        last_call = max(m for m in range(silent_from) if m % 60 in schedule_minutes(expression))
        assert in_alarm[0] - last_call <= worst_case
        # Once in ALARM it stays there: the account-region stays silent.
        assert in_alarm == list(range(in_alarm[0], in_alarm[-1] + 1))

    def test_an_uncounted_account_region_masks_a_silent_one(self, synthesized):
        # The count must be exact (health.expected_canary_sources): one account-region more than
        # expected running the canary hides one that falls silent.
        alarm, expression, _ = synthesized
        assert simulate_canary_alarm(alarm, expression, sources=1001, hours=4, silent=(417, 60)) == []
        assert simulate_canary_alarm(alarm, expression, sources=1000, hours=4, silent=(417, 60)) != []


class TestHealthQueries:
    def test_latency_and_silent_sources(self):
        stack = new_stack()
        HealthQueries(stack, "Health", log_group=trail_log_group(stack), canary_parameter_name=PARAMETER)
        definitions = Template.from_stack(stack).find_resources("AWS::Logs::QueryDefinition")
        by_name = {d["Properties"]["Name"]: d["Properties"] for d in definitions.values()}
        assert set(by_name) == {"Baseline/Health/Delivery latency", "Baseline/Health/Silent account-regions"}
        latency = by_name["Baseline/Health/Delivery latency"]["QueryString"]
        assert "(@ingestionTime - @timestamp) / 1000 as delaySeconds" in latency
        for part in ("pct(delaySeconds, 50)", "pct(delaySeconds, 95)", "max(delaySeconds)"):
            assert part in latency
        assert "by recipientAccountId, awsRegion" in latency
        silent = by_name["Baseline/Health/Silent account-regions"]["QueryString"]
        assert f'requestParameters.name = "{PARAMETER}"' in silent and "not ispresent(errorCode)" in silent
        assert "by recipientAccountId, awsRegion" in silent and "sort lastCanary asc" in silent

    def test_without_canary_only_latency(self):
        stack = new_stack()
        queries = HealthQueries(stack, "Health", log_group=trail_log_group(stack))
        assert list(queries.query_definitions) == ["Delivery latency"]


class TestConfigHealthAlarms:
    def test_metric_names_and_namespace_are_the_documented_ones(self):
        # AWS Config Developer Guide, "Viewing the AWS Config Dashboard", "AWS Config Success Metrics".
        assert CONFIG_METRICS_DOCUMENTATION == (
            "https://docs.aws.amazon.com/config/latest/developerguide/viewing-the-aws-config-dashboard.html"
        )
        assert CONFIG_DOCUMENTED_SUCCESS_METRICS == (
            "Change Notifications Delivery Failed",
            "Config History Export Failed",
            "Configuration Recorder Insufficient Permissions Failure",
            "Config Snapshot Export Failed",
        )
        assert [n.replace(" ", "") for n in CONFIG_DOCUMENTED_SUCCESS_METRICS] == list(CONFIG_FAILURE_METRICS)
        assert list(CONFIG_FAILURE_METRICS) == [
            "ChangeNotificationsDeliveryFailed",
            "ConfigHistoryExportFailed",
            "ConfigurationRecorderInsufficientPermissionsFailure",
            "ConfigSnapshotExportFailed",
        ]
        assert CONFIG_METRICS_NAMESPACE == "AWS/Config"

    def test_one_metrics_insights_alarm_per_metric_whatever_its_dimensions(self):
        stack = new_stack()
        created = ConfigHealthAlarms(stack, "ConfigHealth", alarm_name_prefix="acme-health-config")
        assert list(created.alarms) == list(CONFIG_FAILURE_METRICS)
        alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
        by_name = {a["Properties"]["AlarmName"]: a["Properties"] for a in alarms.values()}
        assert sorted(by_name) == [
            "acme-health-config-change-notifications",
            "acme-health-config-history-export",
            "acme-health-config-recorder-permissions",
            "acme-health-config-snapshot-export",
        ]
        for metric, suffix in CONFIG_FAILURE_ALARMS.items():
            props = by_name[f"acme-health-config-{suffix}"]
            assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["Threshold"] == 1
            assert props["EvaluationPeriods"] == 1
            assert props["TreatMissingData"] == "notBreaching"
            (query,) = props["Metrics"]
            # FROM the namespace, no SCHEMA(...): every series of the metric, with or without ResourceType.
            assert query["Expression"] == f'SELECT SUM({metric}) FROM "AWS/Config"'
            assert query["Period"] == 300 and query["ReturnData"] is True
            assert metric in props["AlarmDescription"] and "First check:" in props["AlarmDescription"]

    def test_the_query_refuses_other_metrics(self):
        assert (
            config_failure_query("ConfigHistoryExportFailed")
            == 'SELECT SUM(ConfigHistoryExportFailed) FROM "AWS/Config"'
        )
        with pytest.raises(ValueError, match=r"'ConfigurationItemsRecorded' is not an AWS Config failure metric"):
            config_failure_query("ConfigurationItemsRecorded")

    @pytest.mark.parametrize(
        ("prefix", "message"),
        [
            ("", r"alarm_name_prefix '' is not an alarm name"),
            ("a" * 240, r"alarm_name_prefix 'a+' is too long: at most 234 characters"),
        ],
    )
    def test_invalid_prefix(self, prefix, message):
        with pytest.raises(ValueError, match=message):
            ConfigHealthAlarms(new_stack(), "ConfigHealth", alarm_name_prefix=prefix)


class TestNotificationHealthAlarms:
    def test_topics_rules_and_queues(self):
        stack = new_stack()
        high = sns.Topic(stack, "High", topic_name="acme-high")
        critical = sns.Topic(stack, "Critical", topic_name="acme-critical")
        rules = {
            f"rule-{i}": events.Rule(
                stack, f"Rule{i}", rule_name=f"rule-{i}", schedule=events.Schedule.rate(cdk.Duration.hours(1))
            )
            for i in range(12)
        }
        dlq = sqs.Queue(stack, "Dlq", queue_name="acme-dlq")
        alarms = NotificationHealthAlarms(
            stack,
            "Health",
            alarm_name_prefix="acme-central-health",
            topics={"high": high, "critical": critical},
            rules=rules,
            dead_letter_queues={"bus": dlq},
            topic=high,
            fallback_topic=critical,
        )
        assert sorted(alarms.alarms) == ["dlq-bus", "rules-1", "rules-2", "sns-critical", "sns-high"]
        template = Template.from_stack(stack)
        by_name = {
            a["Properties"]["AlarmName"]: a["Properties"]
            for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        }
        sns_high = by_name["acme-central-health-sns-high"]
        assert (sns_high["Namespace"], sns_high["MetricName"], sns_high["Statistic"], sns_high["Period"]) == (
            "AWS/SNS",
            "NumberOfNotificationsFailed",
            "Sum",
            300,
        )
        high_id = template_id(template, "AWS::SNS::Topic", "acme-high")
        assert sns_high["Dimensions"] == [{"Name": "TopicName", "Value": {"Fn::GetAtt": [high_id, "TopicName"]}}]
        assert sns_high["TreatMissingData"] == "notBreaching"
        # The high topic cannot report its own failed deliveries: the critical one does.
        assert sns_high["AlarmActions"] == [{"Ref": template_id(template, "AWS::SNS::Topic", "acme-critical")}]
        assert by_name["acme-central-health-sns-critical"]["AlarmActions"] == [
            {"Ref": template_id(template, "AWS::SNS::Topic", "acme-high")}
        ]
        first = by_name["acme-central-health-rules-1"]
        stats = [m["MetricStat"] for m in first["Metrics"] if "MetricStat" in m]
        assert (
            len(stats) == 10
            and len([m for m in by_name["acme-central-health-rules-2"]["Metrics"] if "MetricStat" in m]) == 2
        )
        for stat in stats:
            assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == (
                "AWS/Events",
                "FailedInvocations",
                "Sum",
            )
            assert [d["Name"] for d in stat["Metric"]["Dimensions"]] == ["RuleName"]
        assert first["TreatMissingData"] == "notBreaching"
        queue = by_name["acme-central-health-dlq-bus"]
        assert (queue["Namespace"], queue["MetricName"], queue["Statistic"], queue["Threshold"]) == (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            1,
        )
        assert queue["Dimensions"][0]["Name"] == "QueueName"
        assert queue["TreatMissingData"] == "notBreaching"

    def test_needs_something_to_watch(self):
        with pytest.raises(ValueError, match="nothing to watch"):
            NotificationHealthAlarms(new_stack(), "Health", alarm_name_prefix="acme")

    def test_bad_keys(self):
        stack = new_stack()
        with pytest.raises(ValueError, match=r"topics: key 'a b' is not a stable key"):
            NotificationHealthAlarms(stack, "Health", alarm_name_prefix="acme", topics={"a b": sns.Topic(stack, "T")})


def template_id(template: Template, resource_type: str, name: str) -> str:
    name_key = {"AWS::SNS::Topic": "TopicName"}[resource_type]
    (logical_id,) = [
        k for k, r in template.find_resources(resource_type).items() if r["Properties"].get(name_key) == name
    ]
    return logical_id


class TestHealthAlarmStateChanges:
    pattern = health_alarm_state_changes(alarm_name_prefix="acme-health-")

    @staticmethod
    def event(name: str, state: str, previous: str = "OK") -> dict[str, Any]:
        return {
            "version": "0",
            "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": "444444444444",
            "time": "2024-05-01T10:00:00Z",
            "region": "eu-central-1",
            "resources": [f"arn:aws:cloudwatch:eu-central-1:444444444444:alarm:{name}"],
            "detail": {
                "alarmName": name,
                "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2024-05-01T10:00:00.000+0000"},
                "previousState": {"value": previous},
            },
        }

    def matched(self, event: dict[str, Any]) -> bool:
        return EventPattern.load(json.dumps(self.pattern.to_json())).matches_event(event)

    def test_health_alarms_entering_alarm_or_recovering(self):
        assert self.matched(self.event("acme-health-config", "ALARM"))
        assert self.matched(self.event("acme-health-config", "ALARM", previous="INSUFFICIENT_DATA"))
        assert self.matched(self.event("acme-health-forwarding-rules", "OK", previous="ALARM"))

    def test_a_new_alarm_settling_to_ok_is_not_forwarded(self):
        # Every alarm of a StackSet roll-out does this once: no mail per account and region.
        assert not self.matched(self.event("acme-health-config", "OK", previous="INSUFFICIENT_DATA"))

    def test_other_alarms_and_insufficient_data_are_not_forwarded(self):
        assert not self.matched(self.event("acme-security-root-account-usage", "ALARM"))
        assert not self.matched(self.event("app-latency", "ALARM"))
        assert not self.matched(self.event("acme-health-config", "INSUFFICIENT_DATA", previous="ALARM"))


def test_dashboard_row_widgets():
    stack = new_stack(account="333333333333")
    widgets = baseline_health_widgets(
        trail_log_group_name="/aws/cloudtrail/acme-organization-trail",
        trail_account="111111111111",
        trail_region="eu-west-1",
        canary_parameter_name=PARAMETER,
        regions=["eu-west-1", "us-east-1"],
    )
    body = json.dumps([stack.resolve(w.to_json()) for w in widgets])
    assert "## Baseline health" in body
    assert "@ingestionTime" in body and "Canaries per account-region" in body
    assert body.count("AWS/Config") == 2 and "NumberOfNotificationsFailed" in body
    # A property search, not the schema {AWS/Config} (which would match dimensionless series only).
    assert "{AWS/Config}" not in body and body.count('Namespace=\\"AWS/Config\\"') == 2
    assert '"accountId": "111111111111"' in body


def test_docs_health_section_example_runs_and_names_every_alarm():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "health.md").read_text()
    section = doc.split("## Baseline health: the pipeline proves it is alive", 1)[1].split("\n## ", 1)[0]
    for metric in CONFIG_FAILURE_METRICS:
        assert f"`{metric}`" in section, metric
    config_alarms = tuple(f"health-config-{suffix}" for suffix in CONFIG_FAILURE_ALARMS.values())
    for alarm in (
        "trail-health-heartbeat",
        "trail-health-canaries",
        *config_alarms,
        "health-forwarding-rules",
        "central-health-forwarding-heartbeat",
    ):
        assert f"`<prefix>-{alarm}`" in section, alarm
    (example,) = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(compile(example, "docs/health.md#baseline-health", "exec"), {})


def physical(alarm: Any) -> str:
    """The AlarmName the template gets (``alarm.alarm_name`` is a reference)."""
    return alarm.node.default_child.alarm_name


class TestHealthAlarmNames:
    """Unique by default, fixed when asked, never asked twice (docs/constructs.md "Physical names")."""

    @staticmethod
    def build(stack: cdk.Stack, construct_id: str, kind: str, **names: Any) -> list[str]:
        group = logs.LogGroup.from_log_group_name(stack, f"{construct_id}Group", "/aws/cloudtrail/trail")
        if kind == "heartbeat":
            return [physical(LogGroupHeartbeat(stack, construct_id, log_group=group, **names).alarm)]
        if kind == "canaries":
            monitor = CanaryMonitor(
                stack, construct_id, log_group=group, parameter_name=PARAMETER, expected_sources=3, **names
            )
            return [physical(monitor.alarm)]
        if kind == "config":
            return [physical(a) for a in ConfigHealthAlarms(stack, construct_id, **names).alarms.values()]
        if kind == "forwarding":
            bus = events.EventBus(stack, f"{construct_id}Bus")
            built = ForwardingHeartbeatMonitor(
                stack, construct_id, bus=bus, parameter_name=PARAMETER, expected_sources=3, **names
            )
            return [physical(built.alarm)]
        queue = sqs.Queue(stack, f"{construct_id}Dlq")
        built = NotificationHealthAlarms(stack, construct_id, dead_letter_queues={"forwarding": queue}, **names)
        return [physical(a) for a in built.alarms.values()]

    @pytest.mark.parametrize("kind", ["heartbeat", "canaries", "config", "notifications", "forwarding"])
    def test_default_names_come_from_the_path_and_two_uses_do_not_collide(self, kind):
        stack = new_stack()
        first = self.build(stack, "One", kind)
        second = self.build(stack, "Two", kind)
        assert all(name.startswith("TestStack-One-") for name in first), first
        assert not set(first) & set(second)

    @pytest.mark.parametrize(
        ("kind", "prop", "value"),
        [
            ("heartbeat", "alarm_name", "acme-health-trail"),
            ("canaries", "alarm_name", "acme-health-canaries"),
            ("config", "alarm_name_prefix", "acme-health-config"),
            ("notifications", "alarm_name_prefix", "acme-health"),
            ("forwarding", "alarm_name", "acme-health-forwarding-heartbeat"),
        ],
    )
    def test_a_name_asked_twice_in_one_account_and_region_fails_naming_both(self, kind, prop, value):
        stack = new_stack()
        self.build(stack, "One", kind, **{prop: value})
        with pytest.raises(
            ValueError, match=r"CloudWatch alarm name '.+' is asked for twice .*TestStack/One.* and by TestStack/Two"
        ):
            self.build(stack, "Two", kind, **{prop: value})


# ---------------------------------------------------------------------------------------------------
# The forwarding heartbeat: the canary's CloudTrail event, forwarded through the health alarms' rule
# ---------------------------------------------------------------------------------------------------


def on_default_bus(record: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail record as EventBridge delivers it to the default bus ("AWS API Call via CloudTrail")
    and, unchanged, to the central bus it is forwarded to."""
    service = record["eventSource"].split(".")[0]
    return {
        "version": "0",
        "id": "36eb8523-97d0-4518-b33d-ee3579ff19f0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": record,
    }


def eventbridge_matches(pattern: Any, event: dict[str, Any]) -> bool:
    return EventPattern.load(json.dumps(pattern.to_json())).matches_event(event)


HEARTBEAT_NEAR_MISSES = [
    ("another parameter", canary_record("/acme/app/feature-flag")),
    ("a parameter sharing the prefix", canary_record(f"{PARAMETER}-old")),
    ("reading the canary parameter", canary_record(event="GetParameter")),
    ("deleting the canary parameter", canary_record(event="DeleteParameter")),
    ("the canary call denied by an SCP", canary_record(error_code="AccessDenied", error_message="denied")),
    ("the canary call throttled", canary_record(error_code="ThrottlingException")),
]


class TestForwardingHeartbeatPattern:
    pattern = forwarding_heartbeat_pattern(PARAMETER)

    @pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "ap-southeast-3"])
    def test_matches_the_canary_event_as_eventbridge_delivers_it(self, region):
        assert eventbridge_matches(self.pattern, on_default_bus(canary_record(region=region)))

    @pytest.mark.parametrize(("label", "record"), HEARTBEAT_NEAR_MISSES, ids=[c[0] for c in HEARTBEAT_NEAR_MISSES])
    def test_near_misses_do_not_match(self, label, record):
        assert not eventbridge_matches(self.pattern, on_default_bus(record)), label

    @pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
    def test_no_other_recorded_event_matches(self, case):
        assert not eventbridge_matches(self.pattern, on_default_bus(case.record))

    def test_a_bad_parameter_name_is_refused(self):
        with pytest.raises(ValueError, match=r"parameter_name 'canary' is not an SSM parameter path"):
            forwarding_heartbeat_pattern("canary")


class TestForwardedHealthEvents:
    """ONE pattern, so ONE rule, target and role carry the alarms' state changes and the heartbeat."""

    pattern = forwarded_health_events(alarm_name_prefix="acme-health-", heartbeat_parameter_name=PARAMETER)

    def test_the_rule_keeps_its_name_and_without_a_heartbeat_stays_the_alarm_pattern(self):
        alarms_only = forwarded_health_events(alarm_name_prefix="acme-health-")
        assert alarms_only == health_alarm_state_changes(alarm_name_prefix="acme-health-")
        assert self.pattern.name == alarms_only.name  # the rule's construct id: updated in place

    def test_forwards_the_heartbeat_and_the_alarm_state_changes(self):
        assert eventbridge_matches(self.pattern, on_default_bus(canary_record(region="eu-central-1")))
        state_change = TestHealthAlarmStateChanges.event
        assert eventbridge_matches(self.pattern, state_change("acme-health-config", "ALARM"))
        assert eventbridge_matches(self.pattern, state_change("acme-health-forwarding-rules", "OK", previous="ALARM"))

    @pytest.mark.parametrize(("label", "record"), HEARTBEAT_NEAR_MISSES, ids=[c[0] for c in HEARTBEAT_NEAR_MISSES])
    def test_forwards_no_near_miss(self, label, record):
        assert not eventbridge_matches(self.pattern, on_default_bus(record)), label

    def test_the_branches_do_not_cross(self):
        state_change = TestHealthAlarmStateChanges.event
        assert not eventbridge_matches(self.pattern, state_change("acme-health-config", "OK", "INSUFFICIENT_DATA"))
        assert not eventbridge_matches(self.pattern, state_change("app-latency", "ALARM"))
        # A CloudWatch API call (source aws.cloudwatch, an API call detail-type) matches neither branch.
        put_alarm = api_call("monitoring.amazonaws.com", "PutMetricAlarm", request={"alarmName": "acme-health-x"})
        event = on_default_bus(put_alarm)
        event["source"] = "aws.cloudwatch"
        assert not eventbridge_matches(self.pattern, event)

    @pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
    def test_forwards_no_other_recorded_event(self, case):
        assert not eventbridge_matches(self.pattern, on_default_bus(case.record))


def heartbeat_monitor(sources: int = 15, **props: Any) -> tuple[ForwardingHeartbeatMonitor, Template, cdk.Stack]:
    stack = new_stack(account="333333333333")
    bus = events.EventBus(stack, "Bus", event_bus_name="security-events")
    ApiCanary(stack, "Canary", parameter_name=PARAMETER, rate=props.get("rate"))
    monitor = ForwardingHeartbeatMonitor(
        stack,
        "ForwardingHeartbeat",
        bus=bus,
        parameter_name=PARAMETER,
        expected_sources=sources,
        alarm_name="acme-forwarding-heartbeat",
        **props,
    )
    return monitor, Template.from_stack(stack), stack


def transform(input_transformer: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """EventBridge's input transformer on ``event``: each ``<name>`` of the template replaced by the
    value at its path, as JSON outside a quoted string and as bare text inside one."""
    values = {}
    for name, path in input_transformer["InputPathsMap"].items():
        value: Any = event
        for key in path.removeprefix("$.").split("."):
            value = value[key]
        values[name] = value
    template, out, in_string, i = input_transformer["InputTemplate"], [], False, 0
    while i < len(template):
        placeholder = re.match(r"<([A-Za-z0-9_-]+)>", template[i:])
        if placeholder and placeholder[1] in values:
            value = values[placeholder[1]]
            out.append(str(value) if in_string else json.dumps(value))
            i += len(placeholder[0])
            continue
        if template[i] == '"' and (i == 0 or template[i - 1] != "\\"):
            in_string = not in_string
        out.append(template[i])
        i += 1
    return json.loads("".join(out))


def stack_id(monitor: ForwardingHeartbeatMonitor, construct_id: str) -> str:
    """Logical id of the stack's top-level construct ``construct_id``'s resource."""
    stack = cdk.Stack.of(monitor)
    child = stack.node.find_child(construct_id).node.default_child
    return stack.get_logical_id(child)


def insights_parse(message: str) -> dict[str, str]:
    """The ``parse @message /regex/`` of ``SILENT_FORWARDING_PATHS_QUERY``, in Python's regex syntax."""
    (regex,) = re.findall(r"parse @message /(.*?)/\n", SILENT_FORWARDING_PATHS_QUERY)
    found = re.search(regex.replace("(?<", "(?P<"), message)
    return found.groupdict() if found else {}


@pytest.fixture(scope="module")
def heartbeat() -> tuple[ForwardingHeartbeatMonitor, Template, cdk.Stack]:
    return heartbeat_monitor()


class TestForwardingHeartbeatMonitor:
    def test_a_rule_on_the_central_bus_writes_one_line_per_heartbeat_to_its_log_group(self, heartbeat):
        monitor, template, _ = heartbeat
        _, rule = only(template, "AWS::Events::Rule")
        props = rule["Properties"]
        assert props["EventBusName"] == {"Ref": stack_id(monitor, "Bus")}
        assert props["EventPattern"] == forwarding_heartbeat_pattern(PARAMETER).to_json()
        ((target),) = props["Targets"]
        assert (
            _resolve_partition(target["Arn"])
            == "arn:aws:logs:eu-west-1:333333333333:log-group:/aws/events/acme-forwarding-heartbeat"
        )
        assert "RoleArn" not in target  # CloudWatch Logs targets use the log group's resource policy
        line = transform(target["InputTransformer"], on_default_bus(canary_record(region="us-east-1")))
        # EventBridge's CloudWatch Logs target takes exactly {"timestamp": <string>, "message": <string>}.
        assert set(line) == {"timestamp", "message"}
        assert isinstance(line["timestamp"], str) and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", line["timestamp"]
        )
        assert line["message"] == f"forwarding-heartbeat account={ACCOUNT} region=us-east-1"
        # The metric filter counts the line; the saved query names its account-region.
        assert matches(heartbeat_filter_pattern(), line["message"])
        assert not matches(heartbeat_filter_pattern(), "something else account=1 region=x")
        assert insights_parse(line["message"]) == {"account": ACCOUNT, "region": "us-east-1"}
        # The log group (and its resource policy) before the rule: the first heartbeats are not lost.
        log_group_id, _ = only(template, "AWS::Logs::LogGroup")
        assert log_group_id in rule["DependsOn"]

    def test_the_log_group_is_encrypted_retained_for_a_week_and_writable_by_eventbridge_only(self, heartbeat):
        _, template, _ = heartbeat
        log_group_id, log_group = only(template, "AWS::Logs::LogGroup")
        key_id, key = only(template, "AWS::KMS::Key")
        # Pinned: a new logical id would replace the log group (and lose the heartbeats kept).
        assert (log_group_id, key_id) == ("ForwardingHeartbeatLogGroup89B798E9", "ForwardingHeartbeatKey894047B9")
        assert log_group["DeletionPolicy"] == log_group["UpdateReplacePolicy"] == "Retain"
        assert key["DeletionPolicy"] == "Retain" and key["Properties"]["EnableKeyRotation"] is True
        assert log_group["Properties"]["RetentionInDays"] == 7
        assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        _, policy = only(template, "AWS::Logs::ResourcePolicy")
        document = json.loads(
            "".join(p if isinstance(p, str) else "ARN" for p in policy["Properties"]["PolicyDocument"]["Fn::Join"][1])
        )
        (statement,) = document["Statement"]
        assert statement["Principal"] == {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]}
        assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        # The key lets CloudWatch Logs use it for this log group only.
        logs_statement = [
            s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchLogsToUseKey"
        ]
        assert len(logs_statement) == 1
        assert "/aws/events/acme-forwarding-heartbeat" in json.dumps(logs_statement[0]["Condition"])

    def test_one_alarm_counting_heartbeats_like_the_canaries(self, heartbeat):
        monitor, template, _ = heartbeat
        _, alarm = only(template, "AWS::CloudWatch::Alarm")
        props = alarm["Properties"]
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == (
            "BaselineHealth",
            "ForwardedHeartbeats",
            "Sum",
        )
        assert "Dimensions" not in props
        assert props["TreatMissingData"] == "breaching"
        _, schedule = only(template, "AWS::Scheduler::Schedule")
        tolerated, detection = detection_arithmetic(props, schedule["Properties"]["ScheduleExpression"], 15)
        assert (tolerated, detection) == (18, 30) and props["Threshold"] == 14.5 == monitor.threshold
        assert f"noticed within {detection} minutes" in props["AlarmDescription"]
        assert "Silent forwarding paths" in props["AlarmDescription"]
        _, metric_filter = only(template, "AWS::Logs::MetricFilter")
        assert metric_filter["Properties"]["FilterPattern"] == heartbeat_filter_pattern()
        assert metric_filter["Properties"]["MetricTransformations"] == [
            {"MetricNamespace": "BaselineHealth", "MetricName": "ForwardedHeartbeats", "MetricValue": "1"}
        ]
        _, query = only(template, "AWS::Logs::QueryDefinition")
        assert query["Properties"]["Name"] == "Baseline/Health/Silent forwarding paths"
        assert query["Properties"]["LogGroupNames"] == ["/aws/events/acme-forwarding-heartbeat"]

    @pytest.mark.parametrize(("rate", "expected"), [(10, (68, 190)), (30, (28, 150))])
    def test_other_rates_count_the_same_way_as_the_canary(self, rate, expected):
        monitor, template, _ = heartbeat_monitor(7, rate=cdk.Duration.minutes(rate))
        _, alarm = only(template, "AWS::CloudWatch::Alarm")
        _, schedule = only(template, "AWS::Scheduler::Schedule")
        assert detection_arithmetic(alarm["Properties"], schedule["Properties"]["ScheduleExpression"], 7) == expected
        assert (monitor.windows.tolerated_delay_minutes, monitor.windows.worst_case_detection_minutes) == expected

    def test_one_alarm_whatever_the_number_of_sources(self):
        for sources in (1, 17000):
            monitor, template, _ = heartbeat_monitor(sources)
            template.resource_count_is("AWS::CloudWatch::Alarm", 1)
            template.resource_count_is("AWS::Events::Rule", 1)
            assert monitor.threshold == sources - 0.5

    def test_brought_key_topic_and_no_query(self):
        stack = new_stack(account="333333333333")
        bus = events.EventBus(stack, "Bus")
        key = kms.Key(stack, "Shared")
        topic = sns.Topic(stack, "Health")
        ForwardingHeartbeatMonitor(
            stack,
            "Heartbeat",
            bus=bus,
            parameter_name=PARAMETER,
            expected_sources=3,
            alarm_name="acme-fh",
            key=key,
            topic=topic,
            query_folder=None,
            retention=logs.RetentionDays.ONE_DAY,
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::KMS::Key", 1)
        template.resource_count_is("AWS::Logs::QueryDefinition", 0)
        template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 1})
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {"AlarmActions": [{"Ref": Match.string_like_regexp("Health")}], "OKActions": Match.any_value()},
        )

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"expected_sources": 0}, r"expected_sources 0 must be a whole number of account-regions >= 1"),
            ({"parameter_name": "canary"}, r"parameter_name 'canary' is not an SSM parameter path"),
            ({"alarm_name": "bad name"}, r"alarm_name 'bad name' is not an alarm name"),
            ({"rate": cdk.Duration.minutes(25)}, r"rate 25 minutes is not a whole divisor of an hour"),
            ({"max_delivery_delay": cdk.Duration.hours(13)}, r"max_delivery_delay .* from 1 to 720"),
            ({"metric_namespace": "AWS/Events"}, r"metric_namespace 'AWS/Events' is not a custom namespace"),
            ({"log_group_name": "bad name"}, r"log_group_name 'bad name' is not a log group name"),
            ({"retention": 7}, r"retention: 7 is not a RetentionDays"),
            ({"query_folder": "/x"}, r"query_folder '/x' is not a folder name"),
            ({"bus": "security-events"}, r"bus 'security-events' is not an event bus"),
        ],
    )
    def test_invalid(self, props, message):
        stack = new_stack()
        options = {
            "bus": events.EventBus(stack, "Bus"),
            "parameter_name": PARAMETER,
            "expected_sources": 3,
            "alarm_name": "acme-fh",
            **props,
        }
        with pytest.raises(ValueError, match=message):
            ForwardingHeartbeatMonitor(stack, "Heartbeat", **options)

    def test_all_problems_are_reported_together(self):
        stack = new_stack()
        with pytest.raises(ValueError) as raised:
            ForwardingHeartbeatMonitor(
                stack,
                "Heartbeat",
                bus=events.EventBus(stack, "Bus"),
                parameter_name="x",
                expected_sources=0,
                alarm_name="a b",
            )
        assert all(p in str(raised.value) for p in ("parameter_name", "expected_sources", "alarm_name"))


def test_dashboard_row_shows_forwarded_heartbeats():
    monitor, _, stack = heartbeat_monitor()
    widgets = baseline_health_widgets(
        trail_log_group_name="/aws/cloudtrail/acme-organization-trail",
        heartbeat_metric=monitor.metric,
        expected_heartbeats=monitor.threshold,
        heartbeat_log_group_name=monitor.log_group.log_group_name,
    )
    body = json.dumps([stack.resolve(w.to_json()) for w in widgets])
    assert "Forwarded heartbeats per period" in body and "ForwardedHeartbeats" in body
    assert "silent forwarding paths first" in body and "lastHeartbeat" in body
    assert '"value": 14.5' in body


class TestHeartbeatsStayOutOfTheEventLog:
    """The central bus's rule for every event (log group, queue) and its archive leave heartbeats out."""

    every_event = everything_but(forwarding_heartbeat_pattern(PARAMETER))

    def matched(self, event: dict[str, Any]) -> bool:
        return EventPattern.load(json.dumps(self.every_event)).matches_event(event)

    def test_the_heartbeat_is_left_out(self):
        assert not self.matched(on_default_bus(canary_record(region="us-east-1")))

    @pytest.mark.parametrize(("label", "record"), HEARTBEAT_NEAR_MISSES, ids=[c[0] for c in HEARTBEAT_NEAR_MISSES])
    def test_near_misses_are_kept(self, label, record):
        assert self.matched(on_default_bus(record)), label

    @pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
    def test_every_other_recorded_event_is_kept(self, case):
        assert self.matched(on_default_bus(case.record))

    def test_alarm_state_changes_and_findings_are_kept(self):
        assert self.matched(TestHealthAlarmStateChanges.event("acme-health-config", "ALARM"))
        finding = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": 8}}
        assert self.matched(finding)

    def test_the_routing_applies_it_to_the_rule_and_the_archive(self):
        stack = new_stack(account="333333333333")
        EventRouting(
            stack,
            "Routing",
            bus_name="security-events",
            all_events_exclusion=forwarding_heartbeat_pattern(PARAMETER),
        )
        template = Template.from_stack(stack)
        _, archive = only(template, "AWS::Events::Archive")
        assert archive["Properties"]["EventPattern"] == self.every_event
        (rule,) = [
            r for r in template.find_resources("AWS::Events::Rule").values() if "$or" in r["Properties"]["EventPattern"]
        ]
        assert rule["Properties"]["EventPattern"] == self.every_event

    def test_without_it_every_event_is_kept(self):
        stack = new_stack(account="333333333333")
        EventRouting(stack, "Routing", bus_name="security-events")
        _, archive = only(Template.from_stack(stack), "AWS::Events::Archive")
        assert "EventPattern" not in archive["Properties"]

    def test_a_pattern_that_cannot_be_negated_is_refused(self):
        numeric = SecurityEventPattern(
            name="guardduty-high",
            description="x",
            source=["aws.guardduty"],
            detail_type=["GuardDuty Finding"],
            detail={"severity": [{"numeric": [">=", 7]}]},
        )
        with pytest.raises(ValueError, match=r"all_events_exclusion: everything_but\('guardduty-high'\): detail field"):
            EventRouting(new_stack(), "Routing", bus_name="b", all_events_exclusion=numeric)
