"""The `alarms` config section and SecurityAlarms in the management and single-account stacks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib import Severity
from stacks.config import ConfigError, parse_config
from stacks.settings import security_alarm_options
from tests.conftest import EXAMPLE_CONFIGS, synthesize
from tests.constructs_lib.cloudtrail_events import api_call


def example(**alarms: Any) -> dict[str, Any]:
    data = copy.deepcopy(yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text()))
    data["alarms"] = alarms
    return data


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    return raised.value.problems


class TestConfig:
    def test_defaults(self):
        config = parse_config(example())
        assert config.alarms.enabled is True
        assert config.alarms.disabled == []
        assert config.alarms.anomaly_detection.metrics == ["unauthorized-api-calls"]

    def test_a_custom_pattern_that_does_not_parse_names_its_path_and_position(self):
        found = problems(example(custom=[{"name": "Mine", "pattern": '{ $.eventName = "X" && }'}]))
        assert len(found) == 1
        assert found[0].startswith(
            "alarms.custom[0].pattern: '{ $.eventName = \"X\" && }' is not a valid filter pattern: "
            "expected a selector such as $.eventName (position 23"
        )
        assert found[0].endswith("(position 23, after '{ $.eventName = \"X\" && ')"), found[0]
        assert "\n" not in found[0]  # one line per problem

    @pytest.mark.parametrize(
        ("alarms", "message"),
        [
            (
                {"disabled": ["vpc"]},
                "alarms.disabled[0]: 'vpc' is not a built-in detection; allowed: root-account-usage",
            ),
            ({"thresholds": {"nope": 2}}, "alarms.thresholds: 'nope' is not a detection; allowed: "),
            (
                {"disabled": ["vpc-changes"], "thresholds": {"vpc-changes": 2}},
                "alarms.thresholds: 'vpc-changes' is disabled",
            ),
            ({"thresholds": {"vpc-changes": 0}}, "alarms.thresholds.vpc-changes: 0 is not a whole number of events"),
            (
                {"anomaly_detection": {"metrics": ["vpc"]}},
                "alarms.anomaly_detection.metrics[0]: 'vpc' is not a detection",
            ),
            (
                {"custom": [{"name": "VPC changes", "pattern": "{ $.a = 1 }"}]},
                "alarms.custom[0].name: 'VPC changes' has the key 'vpc-changes' of a built-in detection",
            ),
            (
                {"custom": [{"name": "Mine", "pattern": "{ $.a = 1 }"}, {"name": "mine", "pattern": "{ $.a = 2 }"}]},
                "alarms.custom[1].name: 'mine' is already used by alarms.custom[0]",
            ),
            (
                {"custom": [{"name": "x", "pattern": "{ $.a = 1 }"}]},
                "alarms.custom[0].name: 'x' is not a detection name",
            ),
            (
                {"custom": [{"name": "Mine", "pattern": "{ $.a = 1 }", "severity": "urgent"}]},
                "alarms.custom[0].severity: ",
            ),
            (
                {"custom": [{"name": "Mine", "pattern": "{ $.a = 1 }", "period_minutes": 0}]},
                "alarms.custom[0].period_minutes",
            ),
            ({"treshold": 1}, "alarms: unknown key(s) 'treshold'"),
        ],
    )
    def test_invalid(self, alarms, message):
        found = problems(example(**alarms))
        assert any(problem.startswith(message) for problem in found), found

    def test_custom_thresholds_and_options_become_construct_options(self):
        config = parse_config(
            example(
                thresholds={"mine": 4},
                custom=[
                    {
                        "name": "Mine",
                        "pattern": '{ $.eventName = "DeleteBucket" }',
                        "threshold": 2,
                        "period_minutes": 15,
                        "severity": "low",
                    }
                ],
                insufficient_data_notifications=True,
                anomaly_detection={"enabled": False},
            )
        )
        options = security_alarm_options(config)
        (custom,) = options["custom_detections"]
        assert custom.key == "mine" and custom.threshold == 2 and custom.period.to_minutes() == 15
        assert custom.severity.value == "low"
        assert custom.matches(api_call("s3.amazonaws.com", "DeleteBucket"))
        assert options["thresholds"] == {"mine": 4}
        assert options["anomaly_detection"] == []
        assert options["insufficient_data_actions"] is True
        assert options["alarm_name_prefix"] == "solo-security"
        assert options["emails"][Severity.CRITICAL] == ["oncall@solo.example"]
        assert options["emails"][Severity.HIGH] == []


class TestStacks:
    def test_management_alarms_read_the_organization_trail_log_group(self, synthesized):
        template = synthesized["example"].template_json("acme-management")
        resources = template["Resources"]
        log_group_id = next(k for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup")
        filters = {
            r["Properties"]["FilterName"]: r for r in resources.values() if r["Type"] == "AWS::Logs::MetricFilter"
        }
        assert "acme-security-root-account-usage" in filters
        assert "acme-security-break-glass-role-used" in filters
        for metric_filter in filters.values():
            assert metric_filter["Properties"]["LogGroupName"] == {"Ref": log_group_id}
        alarms = {r["Properties"]["AlarmName"]: r for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
        assert alarms["acme-security-console-authentication-failures"]["Properties"]["Threshold"] == 3
        assert "acme-security-console-authentication-failures-anomaly" in alarms
        endpoints = sorted(
            r["Properties"]["Endpoint"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"
        )
        assert endpoints == ["platform@acme.example", "security-oncall@acme.example", "security@acme.example"]

    def test_no_alarms_in_the_log_archive_stack(self, synthesized):
        template = synthesized["example"].template_json("acme-log-archive")
        assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]

    def test_single_account_alarms_follow_the_config(self, synthesized):
        template = synthesized["single-account"].template_json("solo-single-account")
        names = {
            r["Properties"]["AlarmName"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::CloudWatch::Alarm"
        }
        assert "solo-security-root-account-usage" in names
        assert "solo-security-ec2-instance-state-changes" not in names

    def test_alarms_can_be_switched_off(self, tmp_path: Path):
        data = example(enabled=False)
        data["health"] = {"enabled": False}  # the baseline's own health alarms have their own switch
        synthesized = synthesize(parse_config(data), tmp_path, compliance=False)
        template = synthesized.template_json("solo-single-account")
        # The observability dashboard stays; no alarm, anomaly detector or metric filter does.
        types = {r["Type"] for r in template["Resources"].values()}
        assert not types & {
            "AWS::CloudWatch::Alarm",
            "AWS::CloudWatch::CompositeAlarm",
            "AWS::CloudWatch::AnomalyDetector",
            "AWS::Logs::MetricFilter",
        }
        assert synthesized.stacks["solo-single-account"].security_alarms is None
