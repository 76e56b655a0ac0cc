"""The observability section wired into the baseline stacks: audit stack, forwarding, links, queries."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from stacks.baseline import build_stacks
from stacks.config import ConfigError, parse_config
from tests.conftest import CDK_CONTEXT, EXAMPLE_CONFIGS, Synthesized, new_app, synthesize

AUDIT = "333333333333"
SINK_ARN = f"arn:aws:oam:eu-west-1:{AUDIT}:sink/a1b2c3d4-5678-90ab-cdef-1234567890ab"


def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def build(data: dict[str, Any]) -> dict[str, cdk.Stack]:
    app = cdk.App(context=copy.deepcopy(CDK_CONTEXT))
    return build_stacks(app, parse_config(data))


def resources(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


class TestOrganization:
    def test_audit_stack_holds_bus_dashboard_and_sink(self, synthesized: dict[str, Synthesized]):
        audit = synthesized["example"].template_json("acme-audit")
        (bus,) = resources(audit, "AWS::Events::EventBus")
        assert bus["Properties"]["Name"] == "security-events"
        (policy,) = resources(audit, "AWS::Events::EventBusPolicy")
        assert policy["Properties"]["Statement"]["Condition"] == {
            "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
        }
        (dashboard,) = resources(audit, "AWS::CloudWatch::Dashboard")
        assert dashboard["Properties"]["DashboardName"] == "security-overview"
        (sink,) = resources(audit, "AWS::Oam::Sink")
        assert sink["Properties"]["Policy"]["Statement"][0]["Condition"]["StringEquals"] == {
            "aws:PrincipalOrgID": "o-a1b2c3d4e5"
        }
        assert {"SecurityEventBusArn"} <= set(audit["Outputs"])
        assert synthesized["example"].stacks["acme-audit"].account == AUDIT

    def test_stateful_resources_of_the_audit_stack_have_pinned_ids_and_are_retained(self, synthesized):
        audit = synthesized["example"].template_json("acme-audit")["Resources"]
        for logical_id, resource_type in {
            "SecurityEventsKey533EA74A": "AWS::KMS::Key",
            "SecurityEventsLogGroup787C3956": "AWS::Logs::LogGroup",
            "SecurityEventsQueue12451FD3": "AWS::SQS::Queue",
            "SecurityEventsDeadLetterQueueD27F0DE3": "AWS::SQS::Queue",
            "SecurityEventsArchive4C69E635": "AWS::Events::Archive",
        }.items():
            assert audit[logical_id]["Type"] == resource_type
            assert audit[logical_id]["DeletionPolicy"] == audit[logical_id]["UpdateReplacePolicy"] == "Retain"
        assert audit["SecurityEventsBus7A8469F0"]["Type"] == "AWS::Events::EventBus"
        assert audit["ObservabilitySink648F476E"]["Type"] == "AWS::Oam::Sink"

    def test_callers_pass_topics_alarms_and_metrics_to_the_audit_pieces(self):
        from aws_cdk import aws_cloudwatch as cloudwatch
        from aws_cdk import aws_sns as sns

        from constructs_lib import routes_by_severity
        from stacks.observability import add_audit_observability

        config = parse_config(example_data())
        stack = cdk.Stack(new_app(), "Audit", env=cdk.Environment(account=AUDIT, region="eu-west-1"))
        metric = cloudwatch.Metric(namespace="Baseline", metric_name="RootUse", statistic="Sum")
        alarm = cloudwatch.Alarm(stack, "RootUse", metric=metric, threshold=1, evaluation_periods=1)
        created = add_audit_observability(
            stack,
            config,
            notification_routes=routes_by_severity(critical=sns.Topic(stack, "Critical")),
            alarms=[alarm],
            detection_metrics={"Root sign-in": metric},
        )
        assert created.routing is not None and list(created.routing.notification_rules) == ["critical"]
        assert created.dashboard is not None and created.dashboard.sections[:2] == ["Security alarms", "Detections"]

    def test_dashboard_watches_the_management_trail_and_every_governed_region(self, synthesized):
        audit = synthesized["example"].template_json("acme-audit")
        (dashboard,) = resources(audit, "AWS::CloudWatch::Dashboard")
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        assert "/aws/cloudtrail/acme-organization-trail" in body
        assert '\\"accountId\\":\\"111111111111\\"' in body
        for region in ("eu-west-1", "eu-central-1", "us-east-1"):
            assert f'\\"region\\":\\"{region}\\"' in body

    @pytest.mark.parametrize(
        "stack",
        [
            "acme-baseline-management-eu-west-1",
            "acme-baseline-management-eu-central-1",
            "acme-baseline-management-us-east-1",
        ],
    )
    def test_each_account_and_region_forwards_security_events_once(self, synthesized, stack):
        template = synthesized["example"].template_json(stack)
        rules = [r for r in resources(template, "AWS::Events::Rule") if "EventBusName" not in r["Properties"]]
        forwarding = [r for r in rules if "event-bus/security-events" in json.dumps(r["Properties"].get("Targets"))]
        # The seven security patterns, plus the health alarms' state changes (stacks/health.py).
        assert len(forwarding) == 8
        for rule in forwarding:
            (target,) = rule["Properties"]["Targets"]
            assert target["Arn"] == f"arn:aws:events:eu-west-1:{AUDIT}:event-bus/security-events"

    def test_every_other_account_forwards_through_the_stackset(self, synthesized):
        template = synthesized["example"].stackset_template()
        forwarding = [
            r
            for r in resources(template, "AWS::Events::Rule")
            if "event-bus/security-events" in json.dumps(r["Properties"])
        ]
        assert len(forwarding) == 8  # seven security patterns + health alarm state changes

    @pytest.mark.parametrize("stack", ["acme-log-archive", "acme-management", "acme-audit"])
    def test_the_role_stacks_do_not_forward_a_second_time(self, synthesized, stack):
        template = synthesized["example"].template_json(stack)
        assert not [r for r in resources(template, "AWS::Events::Rule") if "event-bus/security-events" in json.dumps(r)]

    def test_management_saves_the_trail_queries(self, synthesized):
        template = synthesized["example"].template_json("acme-management")
        queries = [
            q
            for q in resources(template, "AWS::Logs::QueryDefinition")
            if not q["Properties"]["Name"].startswith("Baseline/Health/")  # stacks/health.py
        ]
        assert len(queries) == 5
        for query in queries:
            assert query["Properties"]["Name"].startswith("Baseline/CloudTrail/")
            assert query["Properties"]["LogGroupNames"][0]["Ref"].startswith("OrganizationTrailLogGroup")

    def test_no_link_without_the_sink_arn_and_a_link_with_it(self, synthesized, tmp_path):
        example = synthesized["example"]
        for stack in example.stacks:
            assert resources(example.template_json(stack), "AWS::Oam::Link") == []
        assert resources(example.stackset_template(), "AWS::Oam::Link") == []
        data = example_data()
        data["observability"] = {"oam_sink_arn": SINK_ARN}
        synth = synthesize(parse_config(data), tmp_path, compliance=False)
        # The management account links in the sink's region only; the StackSet template links every
        # other account there, the sink's own account excepted.
        (link,) = resources(synth.template_json("acme-baseline-management-eu-west-1"), "AWS::Oam::Link")
        assert link["Properties"]["SinkIdentifier"] == SINK_ARN
        assert resources(synth.template_json("acme-baseline-management-us-east-1"), "AWS::Oam::Link") == []
        template = synth.stackset_template()
        (link,) = resources(template, "AWS::Oam::Link")
        assert link["Condition"] == "IsLinkedAccountInHomeRegion"
        assert template["Conditions"]["IsLinkedAccountInHomeRegion"] == {
            "Fn::And": [
                {"Condition": "IsHomeRegion"},
                {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::AccountId"}, AUDIT]}]},
            ]
        }

    def test_any_further_stack_gets_forwarding_and_the_link(self):
        from stacks.observability import add_workload_observability

        data = example_data()
        data["observability"] = {"oam_sink_arn": SINK_ARN}
        config = parse_config(data)
        app = cdk.App(context=copy.deepcopy(CDK_CONTEXT))
        stack = cdk.Stack(app, "ShopProdEuWest1", env=cdk.Environment(account="444444444444", region="eu-west-1"))
        add_workload_observability(stack, config)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Events::Rule", 8)  # 7 security patterns + health alarm state changes
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "Targets": [
                    {
                        "Arn": f"arn:aws:events:eu-west-1:{AUDIT}:event-bus/security-events",
                        "Id": "Target0",
                        "RoleArn": {
                            "Fn::GetAtt": [cdk.assertions.Match.string_like_regexp("^ForwardSecurityEventsRole"), "Arn"]
                        },
                    }
                ]
            },
        )
        template.has_resource_properties("AWS::Oam::Link", {"SinkIdentifier": SINK_ARN})

    def test_switches_turn_each_piece_off(self):
        data = example_data()
        data["observability"] = {
            "dashboard": False,
            "oam": False,
            "forwarding": False,
            "queries": False,
            "bus_name": "org-events",
            "archive_retention_days": 30,
        }
        stacks = build(data)
        audit = Template.from_stack(stacks["acme-audit"])
        audit.resource_count_is("AWS::CloudWatch::Dashboard", 0)
        audit.resource_count_is("AWS::Oam::Sink", 0)
        audit.has_resource_properties("AWS::Events::EventBus", {"Name": "org-events"})
        audit.has_resource_properties("AWS::Events::Archive", {"RetentionDays": 30})
        management = Template.from_stack(stacks["acme-management"])
        management.resource_count_is("AWS::Logs::QueryDefinition", 0)
        management.resource_count_is("AWS::Events::Rule", 0)

    def test_everything_off_means_nothing_central(self):
        data = example_data()
        data["observability"] = {"central_bus": False, "dashboard": False, "oam": False}
        data["aws_config"] = {"aggregator": False}
        assert "acme-audit" not in build(data)

    def test_custom_queries_land_next_to_the_trail_queries(self):
        data = example_data()
        data["observability"] = {
            "custom_queries": [
                {"name": "Deletes", "query": "filter eventName like /^Delete/", "log_groups": ["/custom/a"]},
                {"name": "Also", "query": "fields @message", "log_groups": ["/custom/a"]},
            ]
        }
        template = Template.from_stack(build(data)["acme-management"])
        template.has_resource_properties(
            "AWS::Logs::QueryDefinition", {"Name": "Baseline/Custom/Deletes", "LogGroupNames": ["/custom/a"]}
        )
        template.resource_count_is("AWS::Logs::QueryDefinition", 7 + 2)  # + Baseline/Health queries


class TestSingleAccount:
    def test_bus_admits_only_the_account_and_the_stack_forwards_to_it(self, synthesized):
        template = synthesized["single-account"].template_json("solo-single-account")
        (policy,) = resources(template, "AWS::Events::EventBusPolicy")
        assert "Condition" not in policy["Properties"]["Statement"]
        assert "999999999999" in json.dumps(policy["Properties"]["Statement"]["Principal"])
        forwarding = [
            r
            for r in resources(template, "AWS::Events::Rule")
            if "event-bus/security-events" in json.dumps(r["Properties"])
        ]
        assert len(forwarding) == 8  # seven security patterns + health alarm state changes
        assert resources(template, "AWS::Oam::Sink") == []
        assert len(resources(template, "AWS::CloudWatch::Dashboard")) == 1
        # trail + health queries + the forwarding heartbeat's silent forwarding paths
        assert len(resources(template, "AWS::Logs::QueryDefinition")) == 5 + 2 + 1


class TestConfig:
    def test_defaults(self):
        settings = parse_config(example_data()).observability
        assert settings.central_bus and settings.dashboard and settings.oam and settings.queries
        assert settings.bus_name == "security-events" and settings.oam_sink_arn is None

    @pytest.mark.parametrize(
        ("section", "expected"),
        [
            ({"bus_name": "default"}, "observability.bus_name: 'default' is not a custom event bus name"),
            ({"oam_sink_arn": "sink"}, "observability.oam_sink_arn: 'sink' is not an OAM sink ARN"),
            ({"event_log_retention_days": 2}, "observability.event_log_retention_days: 2 is not a CloudWatch Logs"),
            ({"dashboard_name": "a b"}, "observability.dashboard_name: 'a b' is not a dashboard name"),
            ({"custom_queries": [{"name": "x", "query": " "}]}, "observability.custom_queries[0].query"),
            ({"unknown": 1}, "observability: unknown key(s) 'unknown'"),
            (
                {"custom_queries": [{"name": "x", "query": "a"}, {"name": "x", "query": "b"}]},
                "observability.custom_queries[1].name: 'x' is used twice",
            ),
            (
                {"queries": False, "custom_queries": [{"name": "x", "query": "a"}]},
                "observability.custom_queries: given, but observability.queries is false",
            ),
        ],
    )
    def test_problems_name_the_path(self, section, expected):
        data = example_data()
        data["observability"] = section
        with pytest.raises(ConfigError) as error:
            parse_config(data)
        assert any(p.startswith(expected) for p in error.value.problems), error.value.problems

    def test_audit_pieces_asked_for_without_an_audit_account(self):
        data = example_data()
        data["accounts"] = [a for a in data["accounts"] if a["role"] != "audit"]
        data["service_control_policies"]["delegated_administrators"] = {"config": False, "cloudtrail": False}
        parse_config(data)  # defaults: nothing to hold them, nothing asked explicitly
        data["observability"] = {"dashboard": True}
        with pytest.raises(ConfigError, match=r"observability.dashboard: true needs an account with role 'audit'"):
            parse_config(data)

    def test_sink_arn_in_single_account_mode(self):
        data = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
        data["observability"] = {"oam_sink_arn": SINK_ARN}
        with pytest.raises(ConfigError, match=r"observability.oam_sink_arn: .* single-account mode"):
            parse_config(data)


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


class TestNotificationsAndDashboardWiring:
    def test_the_central_bus_routes_by_severity_to_topics_of_the_audit_account(self, synthesized):
        audit = synthesized["example"].template_json("acme-audit")["Resources"]
        topics = {k for k, r in audit.items() if r["Type"] == "AWS::SNS::Topic"}
        assert {k for k in topics if k.startswith("NotificationTopics")} == topics and len(topics) == 4
        routed = [
            r
            for r in audit.values()
            if r["Type"] == "AWS::Events::Rule"
            and any(_ref(t["Arn"]) in topics for t in r["Properties"].get("Targets", []))
        ]
        assert len(routed) == 9  # critical 3, high 3, medium 2 patterns, baseline health 1
        subscriptions = {r["Properties"]["Endpoint"] for r in audit.values() if r["Type"] == "AWS::SNS::Subscription"}
        assert subscriptions == {"security-oncall@acme.example", "security@acme.example", "platform@acme.example"}

    def test_the_audit_dashboard_shows_the_management_accounts_alarms_and_detections(self, synthesized):
        audit = synthesized["example"].template_json("acme-audit")
        (dashboard,) = resources(audit, "AWS::CloudWatch::Dashboard")
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        assert "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:acme-security-root-account-usage" in body
        assert "CloudTrailMetrics" in body

    def test_in_single_account_mode_the_bus_reuses_the_alarm_topics(self, synthesized):
        template = synthesized["single-account"].template_json("solo-single-account")["Resources"]
        alarm_topics = {
            k for k, r in template.items() if r["Type"] == "AWS::SNS::Topic" and k.startswith("SecurityAlarms")
        }
        routed = [
            r
            for r in template.values()
            if r["Type"] == "AWS::Events::Rule"
            and any(_ref(t["Arn"]) in alarm_topics for t in r["Properties"].get("Targets", []))
        ]
        assert len(routed) == 9  # with the baseline health route
        assert not [k for k in template if k.startswith("NotificationTopics")]
