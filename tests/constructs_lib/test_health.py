"""The baseline's own health: heartbeat, canary, canary count, queries, Config and notification-path alarms."""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from moto.events.models import EventPattern

from constructs_lib import (
    CONFIG_FAILURE_METRICS,
    ApiCanary,
    CanaryMonitor,
    ConfigHealthAlarm,
    HealthQueries,
    LogGroupHeartbeat,
    NotificationHealthAlarms,
    baseline_health_widgets,
    canary_filter_pattern,
    health_alarm_state_changes,
    matches,
)
from constructs_lib.detections import builtin_detections
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
        assert props["ScheduleExpression"] == "rate(10 minutes)"
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
        ],
    )
    def test_invalid(self, props, message):
        with pytest.raises(ValueError, match=message):
            ApiCanary(new_stack(), "Canary", **{"parameter_name": PARAMETER, **props})


class TestCanaryMonitor:
    def test_one_metric_filter_and_one_alarm_whatever_the_number_of_sources(self):
        for sources in (1, 15, 3000):
            stack = new_stack()
            monitor = CanaryMonitor(
                stack,
                "Canaries",
                log_group=trail_log_group(stack),
                parameter_name=PARAMETER,
                expected_sources=sources,
                alarm_name="acme-canaries",
            )
            template = Template.from_stack(stack)
            template.resource_count_is("AWS::Logs::MetricFilter", 1)
            template.resource_count_is("AWS::CloudWatch::Alarm", 1)
            # 6 canaries an hour per source; half a source's worth of jitter is tolerated.
            assert monitor.threshold == sources * 6 - 3

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
                "Period": 3600,
                "Threshold": 87,
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
            },
        )

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"expected_sources": 0}, r"expected_sources 0 must be a whole number of account-regions >= 1"),
            ({"period": cdk.Duration.minutes(25)}, r"period \(25 minutes\) must be a whole multiple of rate"),
            ({"period": cdk.Duration.minutes(10)}, r"at least two canaries long"),
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


class TestConfigHealthAlarm:
    def test_sum_of_the_documented_failure_metrics(self):
        stack = new_stack()
        ConfigHealthAlarm(stack, "ConfigHealth", alarm_name="acme-health-config")
        _, alarm = only(Template.from_stack(stack), "AWS::CloudWatch::Alarm")
        props = alarm["Properties"]
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["Threshold"] == 1
        assert props["TreatMissingData"] == "notBreaching"
        expression = next(m for m in props["Metrics"] if "Expression" in m)
        stats = [m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m]
        assert expression["Expression"] == f"SUM([{', '.join(f'm{i}' for i in range(1, len(stats) + 1))}])"
        assert expression["ReturnData"] is True
        assert [s["Metric"]["MetricName"] for s in stats] == list(CONFIG_FAILURE_METRICS)
        assert list(CONFIG_FAILURE_METRICS) == [
            "ConfigurationRecorderInsufficientPermissionsFailure",
            "ConfigHistoryExportFailed",
            "ConfigSnapshotExportFailed",
            "ChangeNotificationsDeliveryFailed",
        ]
        for stat in stats:
            assert stat["Metric"]["Namespace"] == "AWS/Config"
            assert "Dimensions" not in stat["Metric"]  # one series per account and region
            assert stat["Stat"] == "Sum" and stat["Period"] == 300

    def test_invalid_name(self):
        with pytest.raises(ValueError, match=r"alarm_name '' is not an alarm name"):
            ConfigHealthAlarm(new_stack(), "ConfigHealth", alarm_name="")


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
    assert '"accountId": "111111111111"' in body


def test_docs_health_section_example_runs_and_names_every_alarm():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "health.md").read_text()
    section = doc.split("## Baseline health: the pipeline proves it is alive", 1)[1].split("\n## ", 1)[0]
    for metric in CONFIG_FAILURE_METRICS:
        assert f"`{metric}`" in section, metric
    for alarm in ("trail-health-heartbeat", "trail-health-canaries", "health-config", "health-forwarding-rules"):
        assert f"`<prefix>-{alarm}`" in section, alarm
    (example,) = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(compile(example, "docs/health.md#baseline-health", "exec"), {})
