"""Event patterns against realistic sample events, matched by moto's EventBridge pattern engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from constructs_lib import event_patterns as ep
from constructs_lib.event_patterns import FindingSeverity, WorkflowStatus

ACCOUNT = "444444444444"


def _eventbridge_view(node: Any) -> Any:
    """The event as EventBridge matches it: a path through an array of objects collects each element's values.

    moto's matcher does not descend into arrays of objects (Security Hub's ``findings``); EventBridge
    does, matching when any element's value matches. Arrays of scalars stay as they are.
    """
    if isinstance(node, dict):
        return {key: _eventbridge_view(value) for key, value in node.items()}
    if isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        merged: dict[str, list[Any]] = {}
        for item in node:
            for key, value in _eventbridge_view(item).items():
                merged.setdefault(key, []).append(value)
        return {key: _collapse(values) for key, values in merged.items()}
    return node


def _collapse(values: list[Any]) -> Any:
    if all(isinstance(v, dict) for v in values):
        return _eventbridge_view([v for v in values])
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def matches(pattern: ep.SecurityEventPattern, event: dict[str, Any]) -> bool:
    return EventPattern.load(json.dumps(pattern.to_json())).matches_event(_eventbridge_view(event))


def envelope(source: str, detail_type: str, detail: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-26T23:59:59Z",
        "region": region,
        "resources": [],
        "detail": detail,
    }


def api_call(
    service: str, event_name: str, *, error_code: str | None = None, region: str = "us-east-1"
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice",
            "accountId": ACCOUNT,
        },
        "eventTime": "2026-11-26T23:59:58Z",
        "eventSource": f"{service}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.17.0",
        "requestParameters": {},
        "responseElements": None,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if error_code is not None:
        detail["errorCode"] = error_code
        detail["errorMessage"] = "User is not authorized to perform this action"
    return envelope(f"aws.{service}", "AWS API Call via CloudTrail", detail, region)


def sign_in(identity_type: str, result: str = "Success", *, mfa: bool = False) -> dict[str, Any]:
    identity: dict[str, Any] = {"type": identity_type, "accountId": ACCOUNT}
    if identity_type == "Root":
        identity.update({"principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root"})
    else:
        identity.update({"principalId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{ACCOUNT}:user/bob", "userName": "bob"})
    return envelope(
        "aws.signin",
        "AWS Console Sign In via CloudTrail",
        {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "responseElements": {"ConsoleLogin": result},
            "additionalEventData": {"MFAUsed": "Yes" if mfa else "No", "MobileVersion": "No"},
            "eventType": "AwsConsoleSignIn",
        },
    )


def config_change(compliance: str, rule: str = "s3-bucket-ssl-requests-only") -> dict[str, Any]:
    return envelope(
        "aws.config",
        "Config Rules Compliance Change",
        {
            "resourceId": "my-bucket",
            "awsRegion": "eu-west-1",
            "awsAccountId": ACCOUNT,
            "configRuleName": rule,
            "recordVersion": "1.0",
            "configRuleARN": f"arn:aws:config:eu-west-1:{ACCOUNT}:config-rule/config-rule-abc123",
            "messageType": "ComplianceChangeNotification",
            "newEvaluationResult": {
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": {
                        "configRuleName": rule,
                        "resourceType": "AWS::S3::Bucket",
                        "resourceId": "my-bucket",
                    }
                },
                "complianceType": compliance,
                "resultRecordedTime": "2026-11-26T23:59:00.000Z",
            },
            "oldEvaluationResult": {"complianceType": "COMPLIANT"},
            "notificationCreationTime": "2026-11-26T23:59:01.000Z",
            "resourceType": "AWS::S3::Bucket",
        },
        region="eu-west-1",
    )


def guardduty(severity: float, finding_type: str = "UnauthorizedAccess:EC2/SSHBruteForce") -> dict[str, Any]:
    return envelope(
        "aws.guardduty",
        "GuardDuty Finding",
        {
            "schemaVersion": "2.0",
            "accountId": ACCOUNT,
            "region": "eu-west-1",
            "id": "16afba5c5c43e07c9e3e5e2e544e95df",
            "type": finding_type,
            "severity": severity,
            "title": "SSH brute force attacks against i-99999999.",
            "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-99999999"}},
            "service": {"serviceName": "guardduty", "count": 3, "archived": False},
        },
        region="eu-west-1",
    )


def security_hub(*labels: str, workflow: str = "NEW", record_state: str = "ACTIVE") -> dict[str, Any]:
    findings = [
        {
            "SchemaVersion": "2018-10-08",
            "Id": f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:finding/{index}",
            "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
            "GeneratorId": "security-control/S3.8",
            "AwsAccountId": ACCOUNT,
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
            "Title": "S3 general purpose buckets should block public access",
            "Severity": {"Label": label, "Normalized": 70, "Original": label},
            "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::my-bucket", "Region": "eu-west-1"}],
            "Compliance": {"Status": "FAILED"},
            "Workflow": {"Status": workflow},
            "RecordState": record_state,
        }
        for index, label in enumerate(labels)
    ]
    return envelope("aws.securityhub", "Security Hub Findings - Imported", {"findings": findings}, region="eu-west-1")


CASES: dict[str, tuple[ep.SecurityEventPattern, list[dict[str, Any]], list[dict[str, Any]]]] = {
    "root sign-in": (
        ep.root_sign_in(),
        [sign_in("Root"), sign_in("Root", result="Failure")],
        [sign_in("IAMUser"), api_call("iam", "CreateUser")],
    ),
    "root sign-in, successful only": (
        ep.root_sign_in(only_successful=True),
        [sign_in("Root"), sign_in("Root", mfa=True)],
        [sign_in("Root", result="Failure"), sign_in("IAMUser")],
    ),
    "IAM changes": (
        ep.iam_changes(),
        [api_call("iam", "AttachRolePolicy"), api_call("iam", "CreateAccessKey", error_code="AccessDenied")],
        [api_call("iam", "ListRoles"), api_call("ec2", "AttachRolePolicy"), sign_in("Root")],
    ),
    "IAM changes, custom list, successful only": (
        ep.iam_changes(event_names=["DeleteUser"], only_successful=True),
        [api_call("iam", "DeleteUser"), api_call("iam", "DeleteUser", region="us-east-1")],
        [api_call("iam", "DeleteUser", error_code="AccessDenied"), api_call("iam", "AttachRolePolicy")],
    ),
    "security group changes": (
        ep.security_group_changes(),
        [api_call("ec2", "AuthorizeSecurityGroupIngress"), api_call("ec2", "ModifySecurityGroupRules")],
        [api_call("ec2", "DescribeSecurityGroups"), api_call("ec2", "RunInstances")],
    ),
    "audit tampering": (
        ep.audit_tampering(),
        [
            api_call("cloudtrail", "StopLogging"),
            api_call("cloudtrail", "DeleteTrail", error_code="AccessDenied"),
            api_call("config", "StopConfigurationRecorder"),
            api_call("config", "DeleteDeliveryChannel"),
        ],
        [
            api_call("cloudtrail", "StartLogging"),
            api_call("cloudtrail", "DescribeTrails"),
            api_call("config", "StartConfigurationRecorder"),
            # A name from one service under the other service's source must not cross over.
            envelope(
                "aws.config",
                "AWS API Call via CloudTrail",
                {"eventSource": "config.amazonaws.com", "eventName": "StopLogging"},
            ),
        ],
    ),
    "config non-compliant": (
        ep.config_non_compliant(),
        [config_change("NON_COMPLIANT"), config_change("NON_COMPLIANT", rule="iam-root-access-key-check")],
        [config_change("COMPLIANT"), config_change("NOT_APPLICABLE")],
    ),
    "config non-compliant, rule prefixes": (
        ep.config_non_compliant(rule_name_prefixes=["securityhub-", "baseline-"]),
        [
            config_change("NON_COMPLIANT", rule="securityhub-s3-bucket-level-public-access"),
            config_change("NON_COMPLIANT", rule="baseline-cloudtrail-enabled"),
        ],
        [config_change("NON_COMPLIANT", rule="team-tagging"), config_change("COMPLIANT", rule="baseline-x")],
    ),
    "GuardDuty findings": (
        ep.guardduty_findings(),
        [guardduty(8.0), guardduty(4)],
        [guardduty(2.0), guardduty(3.9), api_call("guardduty", "CreateDetector")],
    ),
    "GuardDuty high only": (
        ep.guardduty_findings(min_severity=7.0),
        [guardduty(7.0), guardduty(8.9)],
        [guardduty(5.0), guardduty(6.9)],
    ),
    "Security Hub findings": (
        ep.security_hub_findings(),
        [security_hub("CRITICAL"), security_hub("HIGH"), security_hub("LOW", "HIGH")],
        [
            security_hub("MEDIUM"),
            security_hub("HIGH", workflow="SUPPRESSED"),
            security_hub("CRITICAL", record_state="ARCHIVED"),
        ],
    ),
    "Security Hub, medium and notified": (
        ep.security_hub_findings(
            severities=[FindingSeverity.MEDIUM], workflow_states=[WorkflowStatus.NEW, WorkflowStatus.NOTIFIED]
        ),
        [security_hub("MEDIUM"), security_hub("MEDIUM", workflow="NOTIFIED")],
        [security_hub("HIGH"), security_hub("MEDIUM", workflow="RESOLVED")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pattern_matches_what_it_should_and_nothing_else(case: str):
    pattern, must_match, must_not_match = CASES[case]
    assert len(must_match) >= 2 and len(must_not_match) >= 2
    for event in must_match:
        assert matches(pattern, event), f"{case}: should match {json.dumps(event['detail'])[:300]}"
    for event in must_not_match:
        assert not matches(pattern, event), f"{case}: should not match {json.dumps(event['detail'])[:300]}"


def test_defaults_cover_every_security_event_family_with_unique_names():
    names = [p.name for p in ep.default_security_patterns()]
    assert names == [
        "root-sign-in",
        "iam-changes",
        "security-group-changes",
        "audit-tampering",
        "config-non-compliant",
        "guardduty-findings",
        "securityhub-findings",
    ]
    ep.check_unique_names("test", ep.default_security_patterns())


def test_to_cdk_renders_the_same_pattern_as_to_json():
    import aws_cdk as cdk
    from aws_cdk import aws_events as events
    from aws_cdk.assertions import Template

    from tests.conftest import new_app

    stack = cdk.Stack(new_app(), "S")
    pattern = ep.audit_tampering()
    events.Rule(stack, "Rule", event_pattern=pattern.to_cdk())
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": pattern.to_json()})


def test_default_patterns_do_not_overlap_so_no_event_is_routed_twice():
    every_sample = [sample for _, good, bad in CASES.values() for sample in good + bad]
    patterns = ep.default_security_patterns()
    for sample in every_sample:
        hits = [p.name for p in patterns if matches(p, sample)]
        assert len(hits) <= 1, (hits, sample["detail"].get("eventName"))
    for pattern in patterns:
        assert any(matches(pattern, s) for s in every_sample), f"{pattern.name} matches no sample"


class TestErrors:
    def test_api_calls_reports_every_problem_together(self):
        with pytest.raises(ValueError, match=r"2 problems") as error:
            ep.api_calls(name="x", description="d", services=["IAM"], event_names=["Stop Logging"])
        assert "'IAM' is not a service prefix" in str(error.value)
        assert "'Stop Logging' is not an API name" in str(error.value)

    def test_api_calls_rejects_a_string_instead_of_a_list(self):
        with pytest.raises(ValueError, match=r"services must be a list.*'iam'"):
            ep.api_calls(name="x", description="d", services="iam", event_names=["A1"])
        with pytest.raises(ValueError, match=r"event_names must be a list.*'StopLogging'"):
            ep.iam_changes(event_names="StopLogging")

    def test_empty_event_names(self):
        with pytest.raises(ValueError, match=r"event_names is empty"):
            ep.security_group_changes(event_names=[])
        with pytest.raises(ValueError, match=r"config_event_names is empty"):
            ep.audit_tampering(config_event_names=[])

    @pytest.mark.parametrize("severity", [0, 10.5, True, "7"])
    def test_guardduty_severity_outside_the_scale(self, severity):
        with pytest.raises(ValueError, match=r"min_severity .* from 1.0 to 10.0"):
            ep.guardduty_findings(min_severity=severity)

    def test_security_hub_needs_enum_members(self):
        with pytest.raises(ValueError, match=r"severities: 'HIGH' is not a FindingSeverity"):
            ep.security_hub_findings(severities=["HIGH"])
        with pytest.raises(ValueError, match=r"workflow_states is empty"):
            ep.security_hub_findings(workflow_states=[])

    def test_config_rule_prefixes(self):
        with pytest.raises(ValueError, match=r"rule_name_prefixes: '' is not a rule-name prefix"):
            ep.config_non_compliant(rule_name_prefixes=[""])

    def test_pattern_name_and_parts(self):
        with pytest.raises(ValueError, match=r"3 problems") as error:
            ep.SecurityEventPattern(name="1bad name", description="d", source=[], detail_type=[])
        assert "is not a pattern name" in str(error.value)

    def test_duplicate_names(self):
        with pytest.raises(ValueError, match=r"name 'root-sign-in' is used twice"):
            ep.check_unique_names("X", [ep.root_sign_in(), ep.root_sign_in(only_successful=True)])
