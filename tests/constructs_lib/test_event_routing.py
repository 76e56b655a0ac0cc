"""EventRouting and EventForwarding: bus policy, targets, encryption, archive, forwarding role, errors."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from moto.events.models import EventPattern

from constructs_lib import event_patterns as ep
from constructs_lib.event_routing import (
    EventForwarding,
    EventRouting,
    NotificationRoute,
    central_bus_arn,
    routes_by_severity,
)
from tests.conftest import new_stack

AUDIT = "333333333333"
WORKLOAD = "444444444444"
BUS_ARN = {
    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":events:eu-west-1:{AUDIT}:event-bus/security-events"]]
}


def resources_of(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(resource_type)


@pytest.fixture(scope="module")
def single() -> Template:
    stack = new_stack(account=AUDIT)
    EventRouting(stack, "Routing", bus_name="security-events")
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def organization() -> tuple[EventRouting, Template]:
    stack = new_stack(account=AUDIT)
    critical = sns.Topic(stack, "Critical")
    high = sns.Topic(stack, "High")
    routing = EventRouting(
        stack,
        "Routing",
        bus_name="security-events",
        organization_id="o-a1b2c3d4e5",
        notification_routes=[
            NotificationRoute(name="critical", topic=critical, patterns=[ep.root_sign_in(), ep.audit_tampering()]),
            NotificationRoute(name="high", topic=high, patterns=[ep.guardduty_findings(min_severity=7)]),
        ],
    )
    return routing, Template.from_stack(stack)


class TestCentralBus:
    def test_bus_has_the_fixed_name_asked_for(self, single):
        single.has_resource_properties("AWS::Events::EventBus", {"Name": "security-events"})

    def test_without_a_name_the_bus_and_its_log_group_are_named_from_the_construct_path(self):
        stack = new_stack(account=AUDIT)
        first = EventRouting(stack, "Routing")
        second = EventRouting(stack, "TeamRouting")
        assert first.bus_name.startswith("TestStack-Routing-") and second.bus_name.startswith("TestStack-TeamRouting-")
        template = Template.from_stack(stack)
        buses = {r["Properties"]["Name"] for r in resources_of(template, "AWS::Events::EventBus").values()}
        assert buses == {first.bus_name, second.bus_name}
        groups = {r["Properties"]["LogGroupName"] for r in resources_of(template, "AWS::Logs::LogGroup").values()}
        assert groups == {f"/aws/events/{first.bus_name}", f"/aws/events/{second.bus_name}"}
        # Forwarders build the ARN from the name the routing reports.
        arn = central_bus_arn(stack, bus_name=first.bus_name, account=AUDIT, region="eu-west-1")
        assert stack.resolve(arn)["Fn::Join"][1][-1].endswith(f"event-bus/{first.bus_name}")

    def test_single_account_policy_admits_only_the_account(self, single):
        (policy,) = resources_of(single, "AWS::Events::EventBusPolicy").values()
        statement = policy["Properties"]["Statement"]
        assert statement["Action"] == "events:PutEvents"
        assert statement["Principal"] == {
            "AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{AUDIT}:root"]]}
        }
        assert "Condition" not in statement

    def test_organization_policy_admits_only_the_organization(self, organization):
        _, template = organization
        (policy,) = resources_of(template, "AWS::Events::EventBusPolicy").values()
        statement = policy["Properties"]["Statement"]
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
        assert statement["Resource"]["Fn::GetAtt"][0].startswith("RoutingBus")

    def test_archive_keeps_every_event_of_the_bus_for_a_year(self, single):
        (archive,) = resources_of(single, "AWS::Events::Archive").values()
        props = archive["Properties"]
        assert props["RetentionDays"] == 365
        assert props["SourceArn"]["Fn::GetAtt"][0].startswith("RoutingBus")
        assert "EventPattern" not in props

    def test_central_bus_arn_is_built_from_name_account_and_region(self):
        stack = new_stack(account=WORKLOAD, region="us-east-1")
        arn = central_bus_arn(stack, bus_name="security-events", account=AUDIT, region="eu-west-1")
        assert stack.resolve(arn) == BUS_ARN


class TestEveryEventTargets:
    def test_log_group_is_encrypted_retained_and_named_under_aws_events(self, single):
        resources = single.to_json()["Resources"]
        group = resources["RoutingLogGroup7AB5F62F"]
        assert group["Properties"]["LogGroupName"] == "/aws/events/security-events"
        assert group["Properties"]["RetentionInDays"] == 365
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["RoutingKey81DC27B4", "Arn"]}
        assert resources["RoutingArchiveDADED32E"]["Type"] == "AWS::Events::Archive"
        for logical_id in (
            "RoutingLogGroup7AB5F62F",
            "RoutingKey81DC27B4",
            "RoutingQueue24DCF826",
            "RoutingDeadLetterQueue03385CD9",
            "RoutingArchiveDADED32E",
        ):
            assert resources[logical_id]["DeletionPolicy"] == "Retain", logical_id
            assert resources[logical_id]["UpdateReplacePolicy"] == "Retain", logical_id

    def test_log_group_resource_policy_lets_eventbridge_write(self, single):
        (policy,) = resources_of(single, "AWS::Logs::ResourcePolicy").values()
        document = json.dumps(policy["Properties"]["PolicyDocument"])
        for expected in (
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "events.amazonaws.com",
            "delivery.logs.amazonaws.com",
        ):
            assert expected in document
        assert "RoutingLogGroup7AB5F62F" in document

    def test_every_event_goes_to_log_group_and_queue_with_a_dead_letter_queue(self, single):
        (rule,) = [
            r
            for r in resources_of(single, "AWS::Events::Rule").values()
            if r["Properties"]["EventPattern"] == {"source": [{"prefix": ""}]}
        ]
        target_arns = [json.dumps(t["Arn"]) for t in rule["Properties"]["Targets"]]
        assert any("log-group:/aws/events/security-events" in arn for arn in target_arns)
        assert any("RoutingQueue24DCF826" in arn for arn in target_arns)
        for target in rule["Properties"]["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["RoutingDeadLetterQueue03385CD9", "Arn"]}}

    def test_queues_are_kms_encrypted_tls_only_and_redrive_to_the_dead_letter_queue(self, single):
        queues = single.to_json()["Resources"]
        queue = queues["RoutingQueue24DCF826"]["Properties"]
        assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": ["RoutingKey81DC27B4", "Arn"]}
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": ["RoutingDeadLetterQueue03385CD9", "Arn"]},
            "maxReceiveCount": 5,
        }
        assert queues["RoutingDeadLetterQueue03385CD9"]["Properties"]["KmsMasterKeyId"] == {
            "Fn::GetAtt": ["RoutingKey81DC27B4", "Arn"]
        }
        for policy in resources_of(single, "AWS::SQS::QueuePolicy").values():
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            assert any(
                s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                for s in statements
            )

    def test_only_the_rules_of_this_bus_may_send_to_the_queues(self, single):
        for policy in resources_of(single, "AWS::SQS::QueuePolicy").values():
            sends = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
            assert sends
            for statement in sends:
                assert statement["Principal"] == {"Service": "events.amazonaws.com"}
                assert statement["Action"] == "sqs:SendMessage"
                assert list(statement["Condition"]["ArnEquals"]) == ["aws:SourceArn"]

    def test_key_rotates_and_admits_logs_for_the_log_group_and_eventbridge_for_the_account(self, single):
        key = single.to_json()["Resources"]["RoutingKey81DC27B4"]["Properties"]
        assert key["EnableKeyRotation"] is True
        statements = {s.get("Sid"): s for s in key["KeyPolicy"]["Statement"]}
        logs_statement = statements["AllowCloudWatchLogsToUseKey"]
        assert "log-group:/aws/events/security-events" in json.dumps(
            logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        )
        events_statement = statements["AllowEventBridgeToUseEncryptedQueues"]
        assert events_statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert events_statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
        # EventBridge's delivery requests carry no aws:SourceAccount: a condition would drop every
        # event; the queue policies limit who may send instead. Every other service is conditioned.
        assert "Condition" not in events_statement
        others = [s for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"] and s is not events_statement]
        assert others and all("Condition" in s for s in others)


class TestNotificationRoutes:
    def test_one_rule_per_route_and_pattern_to_the_topic(self, organization):
        routing, template = organization
        assert {name: [r.node.id for r in rules] for name, rules in routing.notification_rules.items()} == {
            "critical": ["root-sign-in", "audit-tampering"],
            "high": ["guardduty-findings"],
        }
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventBusName": {"Ref": Match.string_like_regexp("^RoutingBus")},
                "EventPattern": ep.root_sign_in().to_json(),
                "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("^Critical")}})],
            },
        )
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventPattern": ep.guardduty_findings(min_severity=7).to_json(),
                "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("^High")}})],
            },
        )

    def test_topics_let_eventbridge_publish(self, organization):
        _, template = organization
        template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Action": "sns:Publish", "Principal": {"Service": "events.amazonaws.com"}})]
                    )
                }
            },
        )


class TestRoutesBySeverity:
    def test_each_default_family_goes_to_one_severity(self):
        stack = new_stack(account=AUDIT)
        topics = {name: sns.Topic(stack, name) for name in ("critical", "high", "medium")}
        routes = routes_by_severity(**topics)
        assert {r.name: [p.name for p in r.patterns] for r in routes} == {
            "critical": ["root-sign-in", "audit-tampering", "guardduty-findings"],
            "high": ["iam-changes", "securityhub-findings", "guardduty-medium"],
            "medium": ["security-group-changes", "config-non-compliant"],
        }
        assert all(r.topic is topics[r.name] for r in routes)
        EventRouting(stack, "Routing", notification_routes=routes)
        Template.from_stack(stack).resource_count_is("AWS::Events::Rule", 1 + 8)

    def test_guardduty_severities_split_without_gap_or_overlap(self):
        stack = new_stack()
        routes = {r.name: r for r in routes_by_severity(critical=sns.Topic(stack, "C"), high=sns.Topic(stack, "H"))}
        critical = next(p for p in routes["critical"].patterns if p.name == "guardduty-findings")
        medium = next(p for p in routes["high"].patterns if p.name == "guardduty-medium")
        for severity, expected in (
            (3.9, set()),
            (4.0, {"high"}),
            (6.9, {"high"}),
            (7.0, {"critical"}),
            (8.9, {"critical"}),
        ):
            event = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"severity": severity}}
            hit = {
                name
                for name, pattern in (("critical", critical), ("high", medium))
                if EventPattern.load(json.dumps(pattern.to_json())).matches_event(event)
            }
            assert hit == expected, severity

    def test_a_missing_topic_drops_its_routes(self):
        stack = new_stack()
        assert [r.name for r in routes_by_severity(medium=sns.Topic(stack, "M"))] == ["medium"]
        assert routes_by_severity() == []

    def test_config_compliance_can_have_a_topic_of_its_own(self):
        stack = new_stack()
        medium, own = sns.Topic(stack, "M"), sns.Topic(stack, "Own")
        routes = {r.name: r for r in routes_by_severity(medium=medium, config_compliance=own)}
        assert [p.name for p in routes["medium"].patterns] == ["security-group-changes"]
        assert routes["config-compliance"].topic is own
        assert [p.name for p in routes["config-compliance"].patterns] == ["config-non-compliant"]
        default = {r.name: r for r in routes_by_severity(medium=medium)}
        assert [p.name for p in default["medium"].patterns] == ["security-group-changes", "config-non-compliant"]


class TestOptions:
    def test_bus_name_log_group_retention_archive_and_no_queue(self):
        stack = new_stack(account=AUDIT)
        key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
        EventRouting(
            stack,
            "Routing",
            bus_name="org-security",
            key=key,
            log_group_name="/aws/events/custom",
            log_retention=logs.RetentionDays.THREE_MONTHS,
            enable_queue=False,
            archive_retention_days=0,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        template = Template.from_stack(stack)
        template.has_resource_properties("AWS::Events::EventBus", {"Name": "org-security"})
        template.has_resource_properties(
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": "/aws/events/custom",
                "RetentionInDays": 90,
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^OwnKey"), "Arn"]},
            },
        )
        template.has_resource_properties("AWS::Events::Archive", {"RetentionDays": 0})
        template.resource_count_is("AWS::SQS::Queue", 1)  # the dead-letter queue only
        template.resource_count_is("AWS::KMS::Key", 1)
        template.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "Delete"})
        template.has_resource("AWS::Events::Archive", {"DeletionPolicy": "Delete"})


class TestForwarding:
    @pytest.fixture(scope="class")
    def forwarding(self) -> Template:
        stack = new_stack(account=WORKLOAD, region="us-east-1")
        EventForwarding(
            stack,
            "Forward",
            central_bus_arn=central_bus_arn(stack, bus_name="security-events", account=AUDIT, region="eu-west-1"),
        )
        return Template.from_stack(stack)

    def test_one_rule_on_the_default_bus_per_default_pattern(self, forwarding):
        rules = resources_of(forwarding, "AWS::Events::Rule").values()
        # Compared as data, not text: the template writes GuardDuty's 4.0 as 4.
        by_source = sorted((r["Properties"]["EventPattern"] for r in rules), key=lambda p: p["source"])
        expected = sorted((p.to_json() for p in ep.default_security_patterns()), key=lambda p: p["source"])
        assert by_source == expected
        for rule in rules:
            assert "EventBusName" not in rule["Properties"]
            (target,) = rule["Properties"]["Targets"]
            assert target["Arn"] == BUS_ARN
            assert target["RoleArn"]["Fn::GetAtt"][0].startswith("ForwardRole")

    def test_role_is_trusted_by_eventbridge_of_this_account_and_may_only_put_events_on_the_bus(self, forwarding):
        forwarding.has_resource_properties(
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": WORKLOAD}},
                        }
                    ]
                }
            },
        )
        (policy,) = resources_of(forwarding, "AWS::IAM::ManagedPolicy").values()
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {"Action": "events:PutEvents", "Effect": "Allow", "Resource": BUS_ARN, "Sid": "PutEventsOnCentralBus"}
        ]
        forwarding.resource_count_is("AWS::IAM::Policy", 0)

    def test_custom_patterns_and_role_name(self):
        stack = new_stack(account=WORKLOAD)
        forwarding = EventForwarding(
            stack,
            "Forward",
            central_bus_arn=f"arn:aws:events:eu-west-1:{AUDIT}:event-bus/security-events",
            patterns=[ep.root_sign_in()],
            role_name="security-event-forwarder",
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Events::Rule", 1)
        template.has_resource_properties("AWS::IAM::Role", {"RoleName": "security-event-forwarder"})
        assert list(forwarding.rules) == ["root-sign-in"]


class TestErrors:
    def test_routing_reports_every_problem_together(self):
        stack = new_stack()
        topic = sns.Topic(stack, "T")
        with pytest.raises(ValueError, match=r"5 problems") as error:
            EventRouting(
                stack,
                "Routing",
                bus_name="default",
                organization_id="org-1",
                archive_retention_days=-1,
                notification_routes=[
                    NotificationRoute(name="a", topic=topic, patterns=[]),
                    NotificationRoute(name="a", topic=topic, patterns=[ep.root_sign_in()]),
                ],
            )
        message = str(error.value)
        assert "bus_name 'default'" in message
        assert "organization_id 'org-1'" in message
        assert "archive_retention_days -1" in message
        assert "notification_routes[0] ('a') has no patterns" in message
        assert "notification_routes[1].name 'a' is used twice" in message

    def test_route_with_duplicate_pattern_names(self):
        stack = new_stack()
        topic = sns.Topic(stack, "T")
        with pytest.raises(ValueError, match=r"name 'root-sign-in' is used twice"):
            EventRouting(
                stack,
                "Routing",
                notification_routes=[
                    NotificationRoute(name="x", topic=topic, patterns=[ep.root_sign_in(), ep.root_sign_in()])
                ],
            )

    @pytest.mark.parametrize(
        ("arn", "message"),
        [
            ("security-events", r"is not an event bus ARN"),
            (f"arn:aws:events:eu-west-1:{AUDIT}:event-bus/default", r"names a default bus"),
        ],
    )
    def test_forwarding_needs_a_custom_bus_arn(self, arn, message):
        with pytest.raises(ValueError, match=message):
            EventForwarding(new_stack(), "Forward", central_bus_arn=arn)

    def test_forwarding_needs_patterns(self):
        with pytest.raises(ValueError, match=r"patterns is empty"):
            EventForwarding(
                new_stack(), "Forward", central_bus_arn=f"arn:aws:events:eu-west-1:{AUDIT}:event-bus/b", patterns=[]
            )
