"""The `health` config section: canaries in every account-region, trail and central health, the dashboard row."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from moto.events.models import EventPattern

from constructs_lib import canary_filter_pattern, scp_evaluator
from constructs_lib.health import CONFIG_FAILURE_ALARMS
from constructs_lib.scp_evaluator import FULL_AWS_ACCESS, Request
from stacks.config import ConfigError, parse_config
from stacks.health import canary_parameter_name, expected_canary_sources
from stacks.org_settings import scp_documents
from tests.conftest import EXAMPLE_CONFIGS, Synthesized, synthesize

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
SINGLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
PARAMETER = "/acme/baseline/canary"


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def alarms_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r
        for r in of_type(template, "AWS::CloudWatch::Alarm").values()
        if isinstance(r["Properties"].get("AlarmName"), str)
    }


class TestConfig:
    def test_defaults(self):
        config = parse_config(copy.deepcopy(EXAMPLE))
        assert config.health.enabled and config.health.canary
        assert canary_parameter_name(config) == PARAMETER
        # management + 4 member accounts, 3 governed regions
        assert expected_canary_sources(config) == 15

    def test_target_ous_count_their_subtree_and_the_management_account(self):
        data = copy.deepcopy(EXAMPLE)
        data["stacksets"] = {"target_organizational_units": ["Workloads"]}
        # shop-prod (Production) and shop-dev (NonProduction) sit under Workloads; plus management
        assert expected_canary_sources(parse_config(data)) == 3 * 3

    def test_an_explicit_count_wins(self):
        data = copy.deepcopy(EXAMPLE)
        data["health"] = {"expected_canary_sources": 3000}
        assert expected_canary_sources(parse_config(data)) == 3000

    @pytest.mark.parametrize("events", ["read-only", "none"])
    def test_the_canary_needs_write_management_events(self, events):
        data = copy.deepcopy(SINGLE)
        data["cloudtrail"] = {"management_events": events}
        with pytest.raises(ConfigError) as raised:
            parse_config(data)
        assert any(
            p.startswith("health.canary: the canary's ssm:PutParameter is a write management event")
            and repr(events) in p
            for p in raised.value.problems
        ), raised.value.problems

    @pytest.mark.parametrize(
        ("health", "message"),
        [
            ({"canary_parameter_name": "no-slash"}, "health.canary_parameter_name: 'no-slash' is not an SSM"),
            ({"canary_rate_minutes": 7}, "health.canary_rate_minutes: Input should be 5, 10, 15, 20 or 30"),
            ({"heartbeat_minutes": 1}, "health.heartbeat_minutes: Input should be greater than or equal to 5"),
            ({"severity": "urgent"}, "health.severity: Input should be 'critical', 'high', 'medium' or 'low'"),
        ],
    )
    def test_bad_values_name_their_path(self, health, message):
        data = copy.deepcopy(SINGLE)
        data["health"] = health
        with pytest.raises(ConfigError) as raised:
            parse_config(data)
        assert any(p.startswith(message) for p in raised.value.problems), raised.value.problems


class TestEveryAccountAndRegion:
    def test_the_stackset_template_runs_the_canary_in_every_region(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].stackset_template()
        (schedule,) = of_type(template, "AWS::Scheduler::Schedule").values()
        # The canary's parameter (the StackSet may also carry the agent's configuration parameters).
        (parameter,) = [
            p for p in of_type(template, "AWS::SSM::Parameter").values() if p["Properties"]["Name"] == PARAMETER
        ]
        assert json.loads(schedule["Properties"]["Target"]["Input"])["Name"] == PARAMETER
        # Not gated by IsHomeRegion or an account: every account and governed region calls.
        assert "Condition" not in schedule and "Condition" not in parameter

    def test_config_and_forwarding_health_alarms_are_forwarded_not_mailed(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].stackset_template()
        alarms = alarms_by_name(template)
        config_alarms = {f"acme-health-config-{suffix}" for suffix in CONFIG_FAILURE_ALARMS.values()}
        assert {*config_alarms, "acme-health-forwarding-rules"} <= set(alarms)
        for name in (*sorted(config_alarms), "acme-health-forwarding-rules"):
            assert "AlarmActions" not in alarms[name]["Properties"]
        rules = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if "event-bus/security-events" in json.dumps(r["Properties"]["Targets"])
        ]
        health = [r for r in rules if "aws.cloudwatch" in r["EventPattern"].get("source", [])]
        (rule,) = health
        branches = rule["EventPattern"]["detail"]["$or"]
        assert [b["alarmName"] for b in branches if "alarmName" in b] == [[{"prefix": "acme-health-"}]] * 2
        # Forwarding health watches every forwarding rule, the health one included.
        forwarding_alarm = alarms["acme-health-forwarding-rules"]["Properties"]
        watched = [m for m in forwarding_alarm["Metrics"] if "MetricStat" in m]
        assert len(watched) == len(rules)

    def test_the_management_account_runs_it_from_its_baseline_stacks(self, synthesized: dict[str, Synthesized]):
        for region in ("eu-west-1", "eu-central-1", "us-east-1"):
            template = synthesized["example"].template_json(f"acme-baseline-management-{region}")
            assert len(of_type(template, "AWS::Scheduler::Schedule")) == 1, region

    def test_the_projects_scps_leave_the_canary_alone(self, synthesized: dict[str, Synthesized]):
        config = synthesized["example"].config
        policies = [FULL_AWS_ACCESS, *scp_documents(config).values()]
        role = "arn:aws:iam::444444444444:role/StackSet-acme-workload-baseline-HealthCanaryRole-1A2B3C"
        deployer = "arn:aws:iam::444444444444:role/stacksets-exec-0123456789abcdef0123456789abcdef"
        for region in config.regions:
            parameter_arn = f"arn:aws:ssm:{region}:444444444444:parameter{PARAMETER}"
            call = Request(action="ssm:PutParameter", resource=parameter_arn, principal_arn=role, region=region)
            assert scp_evaluator.evaluate(policies, call).allowed, region
            # ...and its roll-out by the StackSets execution role.
            for action, resource in (
                ("scheduler:CreateSchedule", f"arn:aws:scheduler:{region}:444444444444:schedule/default/x"),
                ("ssm:PutParameter", parameter_arn),
                ("iam:CreateRole", role),
                ("iam:AttachRolePolicy", role),
                ("iam:PassRole", role),
            ):
                request = Request(action=action, resource=resource, principal_arn=deployer, region=region)
                assert scp_evaluator.evaluate(policies, request).allowed, (action, region)
        # The evaluator does deny: the same call in an ungoverned region is stopped by the region guardrail.
        outside = Request(
            action="ssm:PutParameter",
            resource=f"arn:aws:ssm:ap-south-1:444444444444:parameter{PARAMETER}",
            principal_arn=role,
            region="ap-south-1",
        )
        assert scp_evaluator.evaluate(policies, outside).denied


class TestNextToTheTrail:
    def test_heartbeat_canary_count_and_queries(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].template_json("acme-management")
        alarms = alarms_by_name(template)
        heartbeat = alarms["acme-trail-health-heartbeat"]["Properties"]
        ((dimension),) = heartbeat["Dimensions"]
        assert dimension["Name"] == "LogGroupName"
        assert dimension["Value"]["Ref"].startswith("OrganizationTrailLogGroup")
        assert heartbeat["TreatMissingData"] == "breaching" and heartbeat["Period"] == 1800
        canaries = alarms["acme-trail-health-canaries"]["Properties"]
        # One canary per account-region and 5-minute window (rate 5 by default); one missing is enough.
        assert canaries["Threshold"] == 15 - 0.5 and canaries["TreatMissingData"] == "breaching"
        assert (canaries["Period"], canaries["EvaluationPeriods"], canaries["DatapointsToAlarm"]) == (300, 5, 5)
        filters = [
            f["Properties"]
            for f in of_type(template, "AWS::Logs::MetricFilter").values()
            if f["Properties"]["FilterPattern"] == canary_filter_pattern(PARAMETER)
        ]
        assert len(filters) == 1
        names = {q["Properties"]["Name"] for q in of_type(template, "AWS::Logs::QueryDefinition").values()}
        assert {"Baseline/Health/Delivery latency", "Baseline/Health/Silent account-regions"} <= names
        # Notified directly, on the health severity's topic (high).
        assert heartbeat["AlarmActions"] == [{"Ref": topic_id(template, "Security alarms: high")}]
        assert "acme-trail-health-alerts-sns-high" in alarms
        assert alarms["acme-trail-health-alerts-sns-high"]["Properties"]["AlarmActions"] == [
            {"Ref": topic_id(template, "Security alarms: critical")}
        ]

    def test_the_number_of_alarms_does_not_grow_with_the_accounts(self, bigger, synthesized: dict[str, Synthesized]):
        bigger = bigger.template_json("acme-management")
        base = synthesized["example"].template_json("acme-management")
        assert len(of_type(bigger, "AWS::CloudWatch::Alarm")) == len(of_type(base, "AWS::CloudWatch::Alarm"))
        assert len(of_type(bigger, "AWS::Logs::MetricFilter")) == len(of_type(base, "AWS::Logs::MetricFilter"))
        assert alarms_by_name(bigger)["acme-trail-health-canaries"]["Properties"]["Threshold"] == (1 + 4 + 30) * 3 - 0.5


def topic_id(template: dict[str, Any], display_name: str) -> str:
    (logical_id,) = [
        k for k, r in of_type(template, "AWS::SNS::Topic").items() if r["Properties"].get("DisplayName") == display_name
    ]
    return logical_id


class TestCentral:
    def test_forwarded_health_alarms_reach_the_health_topic(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].template_json("acme-audit")
        rules = [r["Properties"] for r in of_type(template, "AWS::Events::Rule").values()]
        (route,) = [r for r in rules if r["EventPattern"].get("source") == ["aws.cloudwatch"]]
        assert route["EventPattern"]["detail"]["alarmName"] == [{"prefix": "acme-health-"}]
        assert route["Targets"][0]["Arn"] == {"Ref": topic_id(template, "Security alarms: high")}

    def test_central_topics_rules_and_dead_letter_queue_are_watched(self, synthesized: dict[str, Synthesized]):
        alarms = alarms_by_name(synthesized["example"].template_json("acme-audit"))
        assert {
            "acme-central-health-sns-critical",
            "acme-central-health-sns-high",
            "acme-central-health-rules",
            "acme-central-health-dlq-central-bus",
        } <= set(alarms)

    def test_single_account_watches_each_topic_once(self, synthesized: dict[str, Synthesized]):
        alarms = alarms_by_name(synthesized["single-account"].template_json("solo-single-account"))
        sns_alarms = sorted(n for n in alarms if "-sns-" in n)
        assert sns_alarms == [f"solo-trail-health-alerts-sns-{s}" for s in ("critical", "high", "low", "medium")]

    def test_dashboard_has_the_baseline_health_row(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].template_json("acme-audit")
        (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        assert "## Baseline health" in body
        assert "CanaryEvents" in body and "111111111111" in body
        assert "@ingestionTime" in body and "AWS/Config" in body
        assert "acme-trail-health-canaries" in body  # its status, by ARN in the management account


def test_health_off_removes_every_piece(tmp_path):
    data = copy.deepcopy(SINGLE)
    data["health"] = {"enabled": False}
    synth = synthesize(parse_config(data), tmp_path, compliance=False)
    for name in synth.stacks:
        template = synth.template_json(name)
        assert not of_type(template, "AWS::Scheduler::Schedule"), name
        assert not [n for n in alarms_by_name(template) if "health" in n], name


def forwarding_rule(template: dict[str, Any]) -> dict[str, Any]:
    """The one forwarding rule that carries the health alarms' state changes."""
    (rule,) = [
        r["Properties"]
        for r in of_type(template, "AWS::Events::Rule").values()
        if "aws.cloudwatch" in r["Properties"]["EventPattern"].get("source", [])
        and "event-bus/" in json.dumps(r["Properties"]["Targets"])
    ]
    return rule


def heartbeat_event(account: str, region: str, parameter: str = PARAMETER) -> dict[str, Any]:
    """The canary's ssm:PutParameter as EventBridge delivers it ("AWS API Call via CloudTrail")."""
    return {
        "version": "0",
        "id": "36eb8523-97d0-4518-b33d-ee3579ff19f0",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ssm",
        "account": account,
        "time": "2026-12-02T10:02:01Z",
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole", "invokedBy": "scheduler.amazonaws.com"},
            "eventTime": "2026-12-02T10:02:01Z",
            "eventSource": "ssm.amazonaws.com",
            "eventName": "PutParameter",
            "awsRegion": region,
            "requestParameters": {"name": parameter, "overwrite": True, "value": "HIDDEN_DUE_TO_SECURITY_REASONS"},
            "responseElements": {"version": 7, "tier": "Standard"},
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        },
    }


def eventbridge_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


@pytest.fixture(scope="module")
def bigger(tmp_path_factory) -> Synthesized:
    """The example organization with 30 more workload accounts (35 accounts)."""
    data = copy.deepcopy(EXAMPLE)
    data["accounts"] += [
        {"name": f"extra-{i}", "id": f"{600000000000 + i}", "email": f"x{i}@acme.example", "role": "workload"}
        for i in range(30)
    ]
    return synthesize(parse_config(data), tmp_path_factory.mktemp("bigger"), compliance=False)


class TestForwardingHeartbeat:
    """A forwarding path that fails completely now raises one alarm in the central account."""

    @pytest.mark.parametrize("name", ["example", "control-tower"])
    def test_the_heartbeat_travels_the_health_alarms_rule(self, synthesized: dict[str, Synthesized], name):
        template = synthesized[name].stackset_template()
        parameter = canary_parameter_name(synthesized[name].config)
        prefix = synthesized[name].config.naming.prefix
        rule = forwarding_rule(template)
        pattern = rule["EventPattern"]
        # The canary's own CloudTrail event is forwarded by the rule that forwards the health alarms...
        assert eventbridge_matches(pattern, heartbeat_event("444444444444", "eu-central-1", parameter))
        alarm = {
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "detail": {"alarmName": f"{prefix}-health-forwarding-rules", "state": {"value": "ALARM"}},
        }
        assert eventbridge_matches(pattern, alarm)
        other = heartbeat_event("444444444444", "eu-central-1", parameter)
        other["detail"]["requestParameters"]["name"] = "/acme/app/flag"
        assert not eventbridge_matches(pattern, other)
        # ...through its one target and role, the same path as every other forwarding rule: a deleted or
        # disabled rule, a removed target, a broken role or a changed bus policy silences the heartbeat.
        (target,) = rule["Targets"]
        assert "event-bus/security-events" in json.dumps(target["Arn"])
        others = [
            r["Properties"]["Targets"][0]
            for r in of_type(template, "AWS::Events::Rule").values()
            if "event-bus/security-events" in json.dumps(r["Properties"]["Targets"])
        ]
        assert all(t["Arn"] == target["Arn"] and t["RoleArn"] == target["RoleArn"] for t in others)
        # No other rule forwards it (one heartbeat per canary run, not two).
        forwarded = [
            r
            for r in of_type(template, "AWS::Events::Rule").values()
            if eventbridge_matches(
                r["Properties"]["EventPattern"], heartbeat_event("444444444444", "eu-west-1", parameter)
            )
        ]
        assert len(forwarded) == 1 and len(others) > 1

    def test_the_management_accounts_baseline_stacks_forward_it_too(self, synthesized: dict[str, Synthesized]):
        for region in ("eu-west-1", "eu-central-1", "us-east-1"):
            template = synthesized["example"].template_json(f"acme-baseline-management-{region}")
            assert eventbridge_matches(
                forwarding_rule(template)["EventPattern"], heartbeat_event("111111111111", region)
            ), region

    def test_one_alarm_in_the_central_account_counts_every_account_region(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].template_json("acme-audit")
        alarm = alarms_by_name(template)["acme-central-health-forwarding-heartbeat"]["Properties"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "BaselineHealth",
            "ForwardedHeartbeats",
            "Sum",
        )
        # 5 accounts x 3 governed regions, one heartbeat per 5-minute window each; one missing is enough.
        assert alarm["Threshold"] == 15 - 0.5 and alarm["TreatMissingData"] == "breaching"
        assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 5, 5)
        assert alarm["EvaluationWindow"] == {"WallClockWindow": {"Timezone": "UTC"}}
        # Notified directly on the health severity's topic (high), like the other central health alarms.
        assert alarm["AlarmActions"] == [{"Ref": topic_id(template, "Security alarms: high")}]
        # The rule on the central bus matches the forwarded heartbeat; its log group is the central key's.
        (rule,) = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if r["Properties"]["EventPattern"].get("source") == ["aws.ssm"]
        ]
        assert eventbridge_matches(rule["EventPattern"], heartbeat_event("555555555555", "us-east-1"))
        assert "Ref" in rule["EventBusName"]
        assert "/aws/events/acme-central-health-forwarding-heartbeat" in json.dumps(rule["Targets"])
        # No key of its own: the central bus's key encrypts the heartbeat log group too.
        groups = {
            r["Properties"]["LogGroupName"]: r["Properties"] for r in of_type(template, "AWS::Logs::LogGroup").values()
        }
        assert (
            groups["/aws/events/acme-central-health-forwarding-heartbeat"]["KmsKeyId"]
            == groups["/aws/events/security-events"]["KmsKeyId"]
        )
        assert groups["/aws/events/acme-central-health-forwarding-heartbeat"]["RetentionInDays"] == 7
        names = {q["Properties"]["Name"] for q in of_type(template, "AWS::Logs::QueryDefinition").values()}
        assert "Baseline/Health/Silent forwarding paths" in names

    def test_the_central_route_mails_no_heartbeat(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].template_json("acme-audit")
        topics = set(of_type(template, "AWS::SNS::Topic"))
        to_topics = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if any(t["Arn"] in [{"Ref": k} for k in topics] for t in r["Properties"]["Targets"])
        ]
        assert to_topics
        for rule in to_topics:
            assert not eventbridge_matches(rule["EventPattern"], heartbeat_event("555555555555", "us-east-1"))

    @pytest.mark.parametrize(("name", "stack"), [("example", "acme-audit"), ("single-account", "solo-single-account")])
    def test_heartbeats_stay_out_of_the_event_log_queue_and_archive(self, synthesized, name, stack):
        synth = synthesized[name]
        template = synth.template_json(stack)
        heartbeat = heartbeat_event("555555555555", "us-east-1", canary_parameter_name(synth.config))
        other = heartbeat_event("555555555555", "us-east-1", "/acme/app/flag")
        (archive,) = of_type(template, "AWS::Events::Archive").values()
        (every_event,) = [
            r["Properties"]
            for r in of_type(template, "AWS::Events::Rule").values()
            if "$or" in r["Properties"]["EventPattern"] and "/aws/events/security-events" in json.dumps(r)
        ]
        for pattern in (archive["Properties"]["EventPattern"], every_event["EventPattern"]):
            assert not eventbridge_matches(pattern, heartbeat)
            assert eventbridge_matches(pattern, other)

    def test_the_count_does_not_grow_with_the_accounts(self, synthesized: dict[str, Synthesized], bigger):
        base = synthesized["example"].template_json("acme-audit")
        big = bigger.template_json("acme-audit")
        for resource_type in ("AWS::CloudWatch::Alarm", "AWS::Logs::MetricFilter", "AWS::Events::Rule"):
            assert len(of_type(big, resource_type)) == len(of_type(base, resource_type)), resource_type
        alarm = alarms_by_name(big)["acme-central-health-forwarding-heartbeat"]["Properties"]
        assert alarm["Threshold"] == (1 + 4 + 30) * 3 - 0.5

    def test_single_account_proves_the_local_path(self, synthesized: dict[str, Synthesized]):
        synth = synthesized["single-account"]
        template = synth.template_json("solo-single-account")
        alarm = alarms_by_name(template)["solo-central-health-forwarding-heartbeat"]["Properties"]
        assert alarm["Threshold"] == len(synth.config.regions) - 0.5
        assert eventbridge_matches(
            forwarding_rule(template)["EventPattern"],
            heartbeat_event("999999999999", synth.config.home_region, canary_parameter_name(synth.config)),
        )

    def test_control_tower_counts_its_account_regions(self, synthesized: dict[str, Synthesized]):
        synth = synthesized["control-tower"]
        audit = next(n for n in synth.stacks if n.endswith("-audit"))
        alarms = alarms_by_name(synth.template_json(audit))
        (name,) = [n for n in alarms if n.endswith("-central-health-forwarding-heartbeat")]
        assert alarms[name]["Properties"]["Threshold"] == expected_canary_sources(synth.config) - 0.5

    def test_without_forwarding_or_canary_there_is_no_heartbeat(self, tmp_path):
        for index, change in enumerate(({"health": {"canary": False}}, {"observability": {"forwarding": False}})):
            data = copy.deepcopy(SINGLE)
            data.update(change)
            synth = synthesize(parse_config(data), tmp_path / str(index), compliance=False)
            for name in synth.stacks:
                assert not [n for n in alarms_by_name(synth.template_json(name)) if "forwarding-heartbeat" in n]

    def test_the_projects_scps_leave_the_forwarding_path_alone(self, synthesized: dict[str, Synthesized]):
        config = synthesized["example"].config
        policies = [FULL_AWS_ACCESS, *scp_documents(config).values()]
        role = "arn:aws:iam::444444444444:role/StackSet-acme-workload-ForwardSecurityEventsRole-1A2B3C"
        bus = "arn:aws:events:eu-west-1:333333333333:event-bus/security-events"
        for region in config.regions:
            put = Request(action="events:PutEvents", resource=bus, principal_arn=role, region=region)
            assert scp_evaluator.evaluate(policies, put).allowed, region

    def test_dashboard_shows_the_heartbeats(self, synthesized: dict[str, Synthesized]):
        template = synthesized["example"].template_json("acme-audit")
        (dashboard,) = of_type(template, "AWS::CloudWatch::Dashboard").values()
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        assert "Forwarded heartbeats per period" in body and "ForwardedHeartbeats" in body
        assert "silent forwarding paths first" in body
        (alarm_id,) = [
            k
            for k, r in of_type(template, "AWS::CloudWatch::Alarm").items()
            if r["Properties"].get("AlarmName") == "acme-central-health-forwarding-heartbeat"
        ]
        assert alarm_id in body  # its status
