"""SecurityAlarms and its detections: patterns proven on CloudTrail records, the template, errors, gates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from constructs_lib import (
    CIS_DETECTIONS,
    EXTRA_DETECTIONS,
    AuditTrail,
    Detection,
    FilterPatternError,
    NotificationTopics,
    SecurityAlarms,
    Severity,
    matches,
)
from constructs_lib.detections import builtin_detections
from stacks.compliance import add_compliance_checks
from tests.conftest import cfn_lint, new_stack
from tests.constructs_lib.cloudtrail_events import ACCOUNT, CASES, Case, api_call

#: The CIS patterns as Security Hub documents them (CloudWatch.1-14, CIS 4.15). A copy on
#: purpose: an edit of the module's table must also be an edit here, in review.
DOCUMENTED_CIS_PATTERNS = {
    "CIS 4.3": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    "CIS 4.1": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "CIS 4.2": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
    '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "CIS 4.4": "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || "
    "($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
    "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || "
    "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
    "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || "
    "($.eventName=DetachGroupPolicy)}",
    "CIS 4.5": "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
    "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    "CIS 4.6": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    "CIS 4.7": "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
    "CIS 4.8": "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || "
    "($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
    "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || "
    "($.eventName=DeleteBucketReplication))}",
    "CIS 4.9": "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
    "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",
    "CIS 4.10": "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
    "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
    "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    "CIS 4.11": "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || "
    "($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || "
    "($.eventName=ReplaceNetworkAclAssociation)}",
    "CIS 4.12": "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
    "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
    "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    "CIS 4.13": "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || "
    "($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
    "($.eventName=DisassociateRouteTable)}",
    "CIS 4.14": "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
    "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
    "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
    "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || "
    "($.eventName=EnableVpcClassicLink)}",
    "CIS 4.15": '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || '
    '($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || '
    '($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
    '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || '
    '($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || '
    '($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || '
    '($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || '
    '($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
}
DETECTIONS = builtin_detections()


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return template.find_resources(resource_type)


def by_name(template: Template, resource_type: str, name_key: str) -> dict[str, dict[str, Any]]:
    return {r["Properties"][name_key]: r for r in resources(template, resource_type).values()}


def new_alarms(**props: Any) -> tuple[SecurityAlarms, Template]:
    stack = new_stack()
    log_group = logs.LogGroup.from_log_group_name(stack, "TrailLogs", "/aws/cloudtrail/audit-trail")
    # The documented fixed prefix; the path-derived default is tested in test_physical_names.
    alarms = SecurityAlarms(stack, "SecurityAlarms", log_group=log_group, **{"alarm_name_prefix": "security", **props})
    return alarms, Template.from_stack(stack)


@pytest.fixture(scope="module")
def default() -> tuple[SecurityAlarms, Template]:
    return new_alarms()


# ------------------------------------------------------------------------------------------
# The detections, proven on CloudTrail records


class TestDetectionTable:
    def test_all_15_cis_controls_with_the_documented_patterns(self):
        assert {d.control: d.pattern for d in CIS_DETECTIONS} == DOCUMENTED_CIS_PATTERNS
        assert [d.security_hub_control for d in CIS_DETECTIONS] == [
            *(f"CloudWatch.{n}" for n in range(1, 15)),
            None,
        ]

    def test_every_pattern_parses_and_fits_the_cloudwatch_limit(self):
        for detection in (*CIS_DETECTIONS, *EXTRA_DETECTIONS):
            assert detection.filter_pattern.kind == "json"
            assert len(detection.pattern) <= 1024

    def test_keys_and_ids_derive_from_names(self):
        root = DETECTIONS["root-account-usage"]
        assert root.name == "Root account usage"
        assert root.construct_id == "RootAccountUsage"
        assert DETECTIONS["console-sign-in-without-mfa"].construct_id == "ConsoleSignInWithoutMFA"
        assert len({d.construct_id for d in DETECTIONS.values()}) == len(DETECTIONS)

    def test_the_seed_alerts_are_covered(self):
        ec2 = DETECTIONS["ec2-instance-state-changes"]
        for name in ("RunInstances", "StopInstances", "RebootInstances", "TerminateInstances"):
            assert ec2.matches(api_call("ec2.amazonaws.com", name)), name
        assert "unauthorized-api-calls" in DETECTIONS
        assert "console-authentication-failures" in DETECTIONS
        assert "iam-policy-changes" in DETECTIONS


class TestDetectionsOnCloudTrailRecords:
    @pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
    def test_each_record_triggers_exactly_the_expected_detections(self, case: Case):
        triggered = {key for key, detection in DETECTIONS.items() if detection.matches(case.line)}
        assert triggered == case.expected

    @pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
    def test_a_decoded_record_and_its_log_line_agree(self, case: Case):
        for detection in DETECTIONS.values():
            assert matches(detection.pattern, case.record) == matches(detection.pattern, case.line)

    @pytest.mark.parametrize("key", list(DETECTIONS))
    def test_every_detection_has_two_matches_and_two_near_misses(self, key):
        hits = [c for c in CASES if key in c.expected]
        near_misses = [c for c in CASES if key in c.near_miss_for]
        assert len(hits) >= 2, f"{key}: {len(hits)} matching records"
        assert len(near_misses) >= 2, f"{key}: {len(near_misses)} near misses"
        assert all(key not in c.expected for c in near_misses)

    def test_records_carry_the_fields_cloudtrail_delivers(self):
        for case in CASES:
            assert {"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion"} <= set(
                case.record
            ), case.label
            assert case.record["recipientAccountId"] == ACCOUNT


# ------------------------------------------------------------------------------------------
# Detection (the public API for custom detections)


class TestDetection:
    def test_defaults(self):
        detection = Detection(name="Break-glass role used", pattern='{ $.userIdentity.userName = "break-glass" }')
        assert detection.threshold == 1
        assert detection.period is None and detection.period_minutes == 5
        assert Detection(name="Slow", pattern="{ $.x = 1 }", period=cdk.Duration.hours(1)).period_minutes == 60
        assert detection.severity is Severity.HIGH
        assert detection.key == "break-glass-role-used"
        assert detection.construct_id == "BreakGlassRoleUsed"
        assert detection.matches({"userIdentity": {"userName": "break-glass"}})
        assert not detection.matches({"userIdentity": {"userName": "alice"}})

    def test_a_malformed_pattern_fails_with_the_position(self):
        with pytest.raises(
            ValueError, match=r"Detection\('Bad'\): pattern: invalid filter pattern at position 16"
        ) as e:
            Detection(name="Bad", pattern="{ $.eventName = }")
        assert "{ $.eventName = }" in str(e.value) and "^" in str(e.value)

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"name": "x"}, r"name 'x' is not a detection name"),
            ({"name": "9 lives"}, r"name '9 lives' is not a detection name"),
            ({"threshold": 0}, r"threshold 0 is not a whole number of events >= 1"),
            ({"threshold": 1.5}, r"threshold 1.5 is not a whole number"),
            ({"period": cdk.Duration.seconds(90)}, r"is not a whole number of minutes from 1 minute to 1 day"),
            ({"period": cdk.Duration.days(2)}, r"is not a whole number of minutes from 1 minute to 1 day"),
            ({"period": 5}, r"period 5 is not a whole number of minutes from 1 minute to 1 day"),
            ({"severity": "high"}, r"severity 'high' is not a Severity"),
        ],
    )
    def test_invalid(self, props, message):
        arguments = {"name": "My detection", "pattern": "ERROR", **props}
        with pytest.raises(ValueError, match=message):
            Detection(**arguments)

    def test_all_problems_are_reported_together(self):
        with pytest.raises(ValueError) as raised:
            Detection(name="x", pattern="{", threshold=0)
        text = str(raised.value)
        assert "Detection('x'): 3 problems:" in text
        assert "name 'x'" in text and "pattern: invalid filter pattern" in text and "threshold 0" in text


# ------------------------------------------------------------------------------------------
# The construct


class TestDefaults:
    def test_a_metric_filter_per_detection_with_the_exact_pattern(self, default):
        _, template = default
        filters = by_name(template, "AWS::Logs::MetricFilter", "FilterName")
        assert set(filters) == {f"security-{key}" for key in DETECTIONS}
        for key, detection in DETECTIONS.items():
            properties = filters[f"security-{key}"]["Properties"]
            assert properties["FilterPattern"] == detection.pattern
            assert properties["LogGroupName"] == "/aws/cloudtrail/audit-trail"
            assert properties["MetricTransformations"] == [
                {"MetricNamespace": "CloudTrailMetrics", "MetricName": detection.construct_id, "MetricValue": "1"}
            ]

    def test_an_alarm_per_detection_counting_events_and_notifying_its_severity(self, default):
        alarms, template = default
        found = by_name(template, "AWS::CloudWatch::Alarm", "AlarmName")
        topic_ids = {severity: template_id(alarms, alarms.topics[severity].node.default_child) for severity in Severity}
        for key, detection in DETECTIONS.items():
            alarm = found[f"security-{key}"]
            properties = alarm["Properties"]
            assert properties["Namespace"] == "CloudTrailMetrics"
            assert properties["MetricName"] == detection.construct_id
            assert properties["Statistic"] == "Sum"
            assert properties["Period"] == 300
            assert properties["EvaluationPeriods"] == 1
            assert properties["Threshold"] == 1
            assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert properties["TreatMissingData"] == "notBreaching"
            topic = {"Ref": topic_ids[detection.severity]}
            assert properties["AlarmActions"] == [topic]
            assert properties["OKActions"] == [topic]
            assert "InsufficientDataActions" not in properties
            assert detection.name in properties["AlarmDescription"]
            assert len(alarm["DependsOn"]) == 1  # the metric filter that feeds it

    def test_cis_alarm_descriptions_name_the_controls(self, default):
        _, template = default
        root = by_name(template, "AWS::CloudWatch::Alarm", "AlarmName")["security-root-account-usage"]
        assert "(CIS 4.3, CloudWatch.1)" in root["Properties"]["AlarmDescription"]

    def test_four_topics_encrypted_with_the_key_and_tls_only(self, default):
        _, template = default
        topics = resources(template, "AWS::SNS::Topic")
        assert sorted(t["Properties"]["DisplayName"] for t in topics.values()) == [
            "Security alarms: critical",
            "Security alarms: high",
            "Security alarms: low",
            "Security alarms: medium",
        ]
        for topic in topics.values():
            assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["SecurityAlarmsKey5BF1DAD9", "Arn"]}

    def test_topic_policies_let_only_this_accounts_services_publish_over_tls(self, default):
        _, template = default
        policies = resources(template, "AWS::SNS::TopicPolicy")
        assert len(policies) == 4
        for policy in policies.values():
            statements = policy["Properties"]["PolicyDocument"]["Statement"]
            publish = next(s for s in statements if s.get("Sid") == "AllowThisAccountsAlarmsAndRulesToPublish")
            assert publish["Effect"] == "Allow"
            assert publish["Action"] == "sns:Publish"
            assert publish["Principal"] == {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}
            assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
            tls = next(s for s in statements if s["Effect"] == "Deny")
            assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    def test_key_rotates_and_lets_cloudwatch_and_eventbridge_publish(self, default):
        _, template = default
        ((logical_id, key),) = resources(template, "AWS::KMS::Key").items()
        assert logical_id == "SecurityAlarmsKey5BF1DAD9"
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
        policy = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
        alarms = policy["AllowCloudWatchAlarmsToPublishToEncryptedTopics"]
        assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        assert f":cloudwatch:eu-west-1:{ACCOUNT}:alarm:*" in json.dumps(alarms["Condition"]["ArnLike"]["aws:SourceArn"])
        # EventBridge's KMS requests carry no source keys: a condition on them would drop events.
        events = policy["AllowEventBridgeToPublishToEncryptedTopics"]
        assert events["Principal"] == {"Service": "events.amazonaws.com"}
        assert events["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert "Condition" not in events

    def test_pinned_logical_ids(self, default):
        _, template = default
        ids = template.to_json()["Resources"]
        pinned = {
            "SecurityAlarmsKey5BF1DAD9": "AWS::KMS::Key",
            "SecurityAlarmsCriticalTopic5238AD40": "AWS::SNS::Topic",
            "SecurityAlarmsRootAccountUsageMetricFilter82622A8F": "AWS::Logs::MetricFilter",
            "SecurityAlarmsRootAccountUsageAlarm60533473": "AWS::CloudWatch::Alarm",
            "SecurityAlarmsUnauthorizedAPICallsAlarmF3CEF81B": "AWS::CloudWatch::Alarm",
            "SecurityAlarmsPostureAlarmCE7B10EA": "AWS::CloudWatch::CompositeAlarm",
        }
        for logical_id, resource_type in pinned.items():
            assert ids[logical_id]["Type"] == resource_type, logical_id

    def test_composite_alarm_covers_every_detection_and_notifies_nobody(self, default):
        alarms, template = default
        ((composite),) = resources(template, "AWS::CloudWatch::CompositeAlarm").values()
        properties = composite["Properties"]
        assert properties["AlarmName"] == "security-posture"
        rule = json.dumps(properties["AlarmRule"])
        for alarm in alarms.alarms.values():
            assert template_id(alarms, alarm.node.default_child) in rule
        assert rule.count("ALARM(") == len(DETECTIONS)
        assert "AlarmActions" not in properties

    def test_anomaly_detection_on_unauthorized_api_calls(self, default):
        _, template = default
        template.resource_count_is("AWS::CloudWatch::AnomalyDetector", 1)
        template.has_resource_properties(
            "AWS::CloudWatch::AnomalyDetector",
            {
                "SingleMetricAnomalyDetector": {
                    "Namespace": "CloudTrailMetrics",
                    "MetricName": "UnauthorizedAPICalls",
                    "Stat": "Sum",
                }
            },
        )
        anomaly = by_name(template, "AWS::CloudWatch::Alarm", "AlarmName")["security-unauthorized-api-calls-anomaly"]
        properties = anomaly["Properties"]
        assert properties["ComparisonOperator"] == "GreaterThanUpperThreshold"
        assert properties["TreatMissingData"] == "notBreaching"
        band = next(m for m in properties["Metrics"] if "Expression" in m)
        assert band["Expression"] == "ANOMALY_DETECTION_BAND(m0, 2)"
        assert properties["ThresholdMetricId"] == band["Id"]
        metric = next(m for m in properties["Metrics"] if "MetricStat" in m)
        assert metric["MetricStat"]["Metric"] == {
            "MetricName": "UnauthorizedAPICalls",
            "Namespace": "CloudTrailMetrics",
        }
        assert metric["MetricStat"]["Stat"] == "Sum"
        assert properties["AlarmActions"] and properties["OKActions"]
        assert [d for d in anomaly["DependsOn"] if "AnomalyDetector" in d]

    def test_no_email_subscriptions_by_default(self, default):
        _, template = default
        template.resource_count_is("AWS::SNS::Subscription", 0)

    def test_attributes(self, default):
        alarms, _ = default
        assert set(alarms.alarms) == set(DETECTIONS) == set(alarms.metric_filters)
        assert set(alarms.topics) == set(Severity)
        assert set(alarms.anomaly_alarms) == {"unauthorized-api-calls"}
        assert alarms.composite_alarm is not None


def template_id(alarms: SecurityAlarms, child: Any) -> str:
    return cdk.Stack.of(alarms).get_logical_id(child)


class TestMetricHelpers:
    def test_metric_by_key_or_name(self, default):
        alarms, _ = default
        for name in ("root-account-usage", "Root account usage"):
            metric = alarms.metric(name)
            assert metric.namespace == "CloudTrailMetrics"
            assert metric.metric_name == "RootAccountUsage"
            assert metric.statistic == "Sum"
            assert metric.period.to_minutes() == 5

    def test_metric_overrides(self, default):
        alarms, _ = default
        metric = alarms.metric("vpc-changes", period=cdk.Duration.hours(1), label="VPC changes")
        assert metric.period.to_minutes() == 60
        assert metric.label == "VPC changes"

    def test_unknown_metric(self, default):
        alarms, _ = default
        with pytest.raises(ValueError, match=r"'nope' is not a deployed detection; deployed: root-account-usage"):
            alarms.metric("nope")


class TestOptions:
    def test_disabled_detections_are_left_out_and_others_keep_their_ids(self, default):
        alarms, template = new_alarms(disabled=["ec2-instance-state-changes", "vpc-changes"])
        names = set(by_name(template, "AWS::CloudWatch::Alarm", "AlarmName"))
        assert "security-ec2-instance-state-changes" not in names and "security-vpc-changes" not in names
        template.resource_count_is("AWS::Logs::MetricFilter", len(DETECTIONS) - 2)
        _, default_template = default
        default_ids = set(default_template.to_json()["Resources"])
        assert set(template.to_json()["Resources"]) < default_ids
        with pytest.raises(ValueError, match="'vpc-changes' is not a deployed detection"):
            alarms.metric("vpc-changes")

    def test_thresholds(self):
        _, template = new_alarms(thresholds={"console-authentication-failures": 3})
        found = by_name(template, "AWS::CloudWatch::Alarm", "AlarmName")
        assert found["security-console-authentication-failures"]["Properties"]["Threshold"] == 3
        assert found["security-root-account-usage"]["Properties"]["Threshold"] == 1

    def test_custom_detection(self):
        custom = Detection(
            name="Break-glass role used",
            pattern='{ $.userIdentity.sessionContext.sessionIssuer.userName = "break-glass" }',
            threshold=2,
            period=cdk.Duration.minutes(15),
            severity=Severity.CRITICAL,
        )
        alarms, template = new_alarms(custom_detections=[custom])
        found = by_name(template, "AWS::CloudWatch::Alarm", "AlarmName")
        properties = found["security-break-glass-role-used"]["Properties"]
        assert properties["Threshold"] == 2
        assert properties["Period"] == 900
        assert properties["MetricName"] == "BreakGlassRoleUsed"
        critical = template_id(alarms, alarms.topics[Severity.CRITICAL].node.default_child)
        assert properties["AlarmActions"] == [{"Ref": critical}]
        template.has_resource_properties(
            "AWS::Logs::MetricFilter",
            {"FilterName": "security-break-glass-role-used", "FilterPattern": custom.pattern},
        )
        rule = json.dumps(resources(template, "AWS::CloudWatch::CompositeAlarm"))
        assert template_id(alarms, alarms.alarms["break-glass-role-used"].node.default_child) in rule
        assert alarms.metric("break-glass-role-used").period.to_minutes() == 15

    def test_insufficient_data_actions_and_composite_notifications(self):
        alarms, template = new_alarms(insufficient_data_actions=True, composite_alarm_severity=Severity.LOW)
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
            assert alarm["Properties"]["InsufficientDataActions"] == alarm["Properties"]["AlarmActions"]
        ((composite),) = resources(template, "AWS::CloudWatch::CompositeAlarm").values()
        low = template_id(alarms, alarms.topics[Severity.LOW].node.default_child)
        assert composite["Properties"]["AlarmActions"] == [{"Ref": low}]
        assert composite["Properties"]["OKActions"] == [{"Ref": low}]

    def test_no_composite_and_no_anomaly_detection(self):
        alarms, template = new_alarms(composite_alarm=False, anomaly_detection=[])
        template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 0)
        template.resource_count_is("AWS::CloudWatch::AnomalyDetector", 0)
        assert alarms.composite_alarm is None and alarms.anomaly_alarms == {}

    def test_anomaly_detection_on_chosen_metrics_with_band_width(self):
        _, template = new_alarms(
            anomaly_detection=["console-authentication-failures", "iam-policy-changes"], anomaly_band_std_devs=3
        )
        template.resource_count_is("AWS::CloudWatch::AnomalyDetector", 2)
        found = by_name(template, "AWS::CloudWatch::Alarm", "AlarmName")
        band = found["security-iam-policy-changes-anomaly"]["Properties"]["Metrics"]
        assert any(m.get("Expression") == "ANOMALY_DETECTION_BAND(m0, 3)" for m in band)

    def test_emails_per_severity(self):
        alarms, template = new_alarms(
            emails={Severity.CRITICAL: ["oncall@example.com", "ciso@example.com"], Severity.LOW: ["team@example.com"]}
        )
        subscriptions = resources(template, "AWS::SNS::Subscription")
        assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == [
            "ciso@example.com",
            "oncall@example.com",
            "team@example.com",
        ]
        critical = template_id(alarms, alarms.topics[Severity.CRITICAL].node.default_child)
        template.has_resource_properties(
            "AWS::SNS::Subscription",
            {"Protocol": "email", "Endpoint": "oncall@example.com", "TopicArn": {"Ref": critical}},
        )

    def test_namespace_and_prefix(self):
        _, template = new_alarms(metric_namespace="Acme/Security", alarm_name_prefix="acme-sec")
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm", {"AlarmName": "acme-sec-root-account-usage", "Namespace": "Acme/Security"}
        )
        template.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmName": "acme-sec-posture"})

    def test_brought_key(self):
        stack = new_stack()
        key = kms.Key.from_key_arn(
            stack, "K", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
        log_group = logs.LogGroup.from_log_group_name(stack, "L", "trail")
        alarms = SecurityAlarms(stack, "SecurityAlarms", log_group=log_group, encryption_key=key)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::KMS::Key", 0)
        assert alarms.encryption_key is key
        template.has_resource_properties(
            "AWS::SNS::Topic",
            {"KmsMasterKeyId": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        )


class TestErrors:
    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"disabled": ["root"]}, r"disabled: 'root' is not a built-in detection; allowed: root-account-usage, "),
            ({"thresholds": {"nope": 2}}, r"thresholds: 'nope' is not a detection; allowed: "),
            (
                {"thresholds": {"vpc-changes": 0}},
                r"thresholds\['vpc-changes'\]: 0 is not a whole number of events >= 1",
            ),
            (
                {"disabled": ["vpc-changes"], "thresholds": {"vpc-changes": 2}},
                r"thresholds: 'vpc-changes' is disabled",
            ),
            ({"anomaly_detection": ["nope"]}, r"anomaly_detection: 'nope' is not a detection"),
            (
                {"disabled": ["unauthorized-api-calls"]},
                r"anomaly_detection: 'unauthorized-api-calls' is disabled",
            ),
            (
                {"anomaly_detection": ["vpc-changes", "vpc-changes"]},
                r"anomaly_detection lists a detection twice",
            ),
            ({"anomaly_band_std_devs": 0}, r"anomaly_band_std_devs 0 must be greater than 0"),
            ({"metric_namespace": "AWS/Logs"}, r"metric_namespace 'AWS/Logs' is not a custom namespace"),
            ({"metric_namespace": "bad namespace!"}, r"metric_namespace 'bad namespace!' is not a custom namespace"),
            ({"alarm_name_prefix": "-x"}, r"alarm_name_prefix '-x' is not a name prefix"),
            ({"emails": {Severity.HIGH: ["not-an-email"]}}, r"emails\[HIGH\]: 'not-an-email' is not an email address"),
            ({"emails": {"high": ["a@example.com"]}}, r"emails: key 'high' is not a Severity"),
            (
                {"custom_detections": [Detection(name="Root account usage", pattern="{ $.x = 1 }")]},
                r"has the key 'root-account-usage' of a built-in detection",
            ),
            (
                {
                    "custom_detections": [
                        Detection(name="Mine", pattern="{ $.x = 1 }"),
                        Detection(name="mine", pattern="{ $.x = 2 }"),
                    ]
                },
                r"'mine' is given twice \(key 'mine'\)",
            ),
            ({"custom_detections": ["{ $.x = 1 }"]}, r"custom_detections: '\{ \$.x = 1 \}' is not a Detection"),
            (
                {"disabled": list(DETECTIONS), "anomaly_detection": []},
                r"every detection is disabled: there is nothing to alarm on",
            ),
        ],
    )
    def test_invalid_props(self, props, message):
        with pytest.raises(ValueError, match=message):
            new_alarms(**props)

    def test_all_problems_are_reported_together(self):
        with pytest.raises(ValueError) as raised:
            new_alarms(disabled=["x"], alarm_name_prefix="-", anomaly_band_std_devs=-1)
        text = str(raised.value)
        assert "SecurityAlarms(TestStack/SecurityAlarms): 3 problems:" in text

    def test_a_malformed_custom_pattern_fails_before_synth_with_its_position(self):
        with pytest.raises(FilterPatternError):
            matches("{ $.a = ", {})
        with pytest.raises(ValueError, match=r"pattern: invalid filter pattern at position 12: expected '&&'"):
            Detection(name="Unclosed", pattern='{ $.a = "b" ')


# ------------------------------------------------------------------------------------------
# Gates: the four cdk-nag packs and cfn-lint


def test_cdk_nag_and_cfn_lint_clean(tmp_path: Path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "SecurityAlarmsGate", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    trail = AuditTrail(stack, "Trail")
    SecurityAlarms(
        stack,
        "SecurityAlarms",
        log_group=trail.log_group,
        emails={severity: [f"{severity.value}@example.com"] for severity in Severity},
        custom_detections=[Detection(name="Break-glass role used", pattern='{ $.userIdentity.userName = "bg" }')],
        insufficient_data_actions=True,
        composite_alarm_severity=Severity.HIGH,
        anomaly_detection=["unauthorized-api-calls", "console-authentication-failures"],
    )
    add_compliance_checks(app)
    app.synth()  # a finding of any pack raises ValidationFailed
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(not plugin.get("violations") for plugin in report.get("pluginReports", []))
    lint = cfn_lint(str(tmp_path / "SecurityAlarmsGate.template.json"))
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_docs_list_every_detection_and_its_examples_run():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "constructs.md").read_text()
    section = doc.split("## Security alarms on CloudTrail events", 1)[1].split("\n## ", 1)[0]
    for detection in DETECTIONS.values():
        assert f"| {detection.name} (`{detection.key}`) |" in section, detection.key
    examples = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(examples) == 2
    for example in examples:
        exec(compile(example, "docs/constructs.md", "exec"), {})


# NotificationTopics: the alarm topics for stacks without alarms of their own
def test_notification_topics_are_encrypted_with_a_key_cloudwatch_and_eventbridge_can_use():
    stack = new_stack()
    topics = NotificationTopics(stack, "Topics", emails={Severity.CRITICAL: ["soc@example.com"]})
    template = Template.from_stack(stack)
    assert set(topics.topics) == set(Severity)
    template.resource_count_is("AWS::SNS::Topic", len(Severity))
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "soc@example.com"})
    (key,) = template.find_resources("AWS::KMS::Key").values()
    assert key["DeletionPolicy"] == "Retain"
    sids = {s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert {"AllowCloudWatchAlarmsToPublishToEncryptedTopics", "AllowEventBridgeToPublishToEncryptedTopics"} <= sids


def test_notification_topics_report_bad_recipients_together():
    with pytest.raises(ValueError) as raised:
        NotificationTopics(new_stack(), "Topics", emails={Severity.HIGH: ["nobody"], "urgent": ["a@b.example"]})
    text = str(raised.value)
    assert "2 problems" in text
    assert "emails[HIGH]: 'nobody' is not an email address" in text
    assert "emails: key 'urgent' is not a Severity" in text
