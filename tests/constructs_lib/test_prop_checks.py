"""Every public prop is checked at construction: a wrong enum value or type raises a ValueError
naming the prop, the value received and what is allowed (never an AttributeError at synth)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from constructs_lib import (
    AgentConfig,
    AuditTrail,
    CloudFrontAccessLogs,
    CloudWatchAgent,
    ConfigRecorder,
    EventForwarding,
    EventRouting,
    FlowLogDestination,
    FlowLogResource,
    LogBucket,
    NotificationTopics,
    SecurityAlarms,
    VpcFlowLogs,
)
from tests.conftest import new_stack

VPC = FlowLogResource.vpc("vpc-0123456789abcdef0")


def _make(construct: Callable[..., Any]) -> Callable[..., Any]:
    return lambda stack, **props: construct(stack, "X", **props)


def _alarms(stack: cdk.Stack, **props: Any) -> SecurityAlarms:
    group = logs.LogGroup.from_log_group_name(stack, "Trail", "/aws/cloudtrail/audit-trail")
    return SecurityAlarms(stack, "Alarms", **{"log_group": group, **props})


CASES: list[tuple[str, Callable[..., Any], dict[str, Any], str]] = [
    # The two cases of the issue.
    (
        "trail-management-events-string",
        _make(AuditTrail),
        {"management_events": "none"},
        r"management_events: 'none' is not a ManagementEvents; allowed: ManagementEvents.ALL, "
        r"ManagementEvents.WRITE_ONLY, ManagementEvents.READ_ONLY, ManagementEvents.NONE",
    ),
    (
        "trail-bucket-name",
        _make(AuditTrail),
        {"bucket": "my-bucket"},
        r"bucket: 'my-bucket' is not an s3.IBucket; pass s3.Bucket\(...\) or s3.Bucket.from_bucket_name",
    ),
    ("trail-key-arn", _make(AuditTrail), {"key": "arn:aws:kms:eu-west-1:1:key/x"}, r"key: .* is not a kms.IKey"),
    (
        "trail-insights-strings",
        _make(AuditTrail),
        {"insights": ["ApiCallRateInsight"]},
        r"insights\[0\]: .* InsightType",
    ),
    ("trail-retention-int", _make(AuditTrail), {"log_retention": 365}, r"log_retention: 365 is not a RetentionDays"),
    (
        "trail-flag-string",
        _make(AuditTrail),
        {"exclude_kms_events": "yes"},
        r"exclude_kms_events: 'yes' is not of type bool",
    ),
    (
        "trail-removal-string",
        _make(AuditTrail),
        {"removal_policy": "retain"},
        r"removal_policy: 'retain' is not a RemovalPolicy",
    ),
    ("alarms-key", _alarms, {"encryption_key": "alias/x"}, r"encryption_key: 'alias/x' is not a kms.IKey"),
    ("alarms-severity", _alarms, {"composite_alarm_severity": "critical"}, r"composite_alarm_severity: 'critical'"),
    ("alarms-disabled-string", _alarms, {"disabled": "vpc-changes"}, r"disabled: 'vpc-changes' is not a list"),
    ("alarms-emails-string", _alarms, {"emails": "soc@example.com"}, r"emails: 'soc@example.com' is not a mapping"),
    ("alarms-log-group", lambda s, **p: SecurityAlarms(s, "A", log_group="/aws/x", **p), {}, r"log_group: '/aws/x'"),
    ("topics-key", _make(NotificationTopics), {"encryption_key": "k"}, r"encryption_key: 'k' is not a kms.IKey"),
    (
        "flow-logs-destination-bucket",
        lambda s, **p: VpcFlowLogs(s, "F", resource=VPC, **p),
        {"destinations": [FlowLogDestination.s3("my-bucket")]},
        r"destinations\[0\]: bucket: 'my-bucket' is not an s3.IBucket",
    ),
    (
        "flow-logs-destinations-not-list",
        lambda s, **p: VpcFlowLogs(s, "F", resource=VPC, **p),
        {"destinations": FlowLogDestination.cloudwatch_logs()},
        r"destinations: .* is not a list or tuple",
    ),
    (
        "flow-logs-retention",
        lambda s, **p: VpcFlowLogs(s, "F", resource=VPC, **p),
        {"destinations": [FlowLogDestination.cloudwatch_logs(retention=30)]},
        r"retention: 30 is not a RetentionDays",
    ),
    ("cloudfront-key", _make(CloudFrontAccessLogs), {"encryption_key": "k"}, r"encryption_key: 'k' is not a kms.IKey"),
    ("agent-config", _make(CloudWatchAgent), {"config": "linux"}, r"config: 'linux' is not of type AgentConfig"),
    (
        "agent-tag-values",
        _make(CloudWatchAgent),
        {"target_tag_values": "enabled"},
        r"target_tag_values: 'enabled' is not a list",
    ),
    ("agent-create-role", _make(CloudWatchAgent), {"create_role": "no"}, r"create_role: 'no' is not of type bool"),
    ("routing-key", _make(EventRouting), {"key": "k"}, r"key: 'k' is not a kms.IKey"),
    ("routing-queue-flag", _make(EventRouting), {"enable_queue": 1}, r"enable_queue: 1 is not of type bool"),
    (
        "routing-routes",
        _make(EventRouting),
        {"notification_routes": ["critical"]},
        r"notification_routes\[0\]: 'critical'",
    ),
    (
        "forwarding-patterns",
        lambda s, **p: EventForwarding(
            s, "F", central_bus_arn="arn:aws:events:eu-west-1:333333333333:event-bus/security-events", **p
        ),
        {"patterns": ["root-sign-in"]},
        r"patterns\[0\]: 'root-sign-in' is not of type SecurityEventPattern",
    ),
    (
        "recorder-bucket",
        _make(ConfigRecorder),
        {"bucket": "acme-config"},
        r"bucket: 'acme-config' is not an s3.IBucket",
    ),
    (
        "recorder-frequency",
        _make(ConfigRecorder),
        {"recording_frequency": "DAILY"},
        r"recording_frequency: 'DAILY' is not a RecordingFrequency; allowed: RecordingFrequency.CONTINUOUS",
    ),
    ("recorder-excluded", _make(ConfigRecorder), {"excluded_resource_types": "AWS::EC2::Volume"}, r"is not a list"),
    ("log-bucket-key", _make(LogBucket), {"server_access_logs": False, "encryption_key": "k"}, r"encryption_key: 'k'"),
    (
        "log-bucket-ownership",
        _make(LogBucket),
        {"server_access_logs": False, "object_ownership": "ObjectWriter"},
        r"ObjectOwnership",
    ),
]


@pytest.mark.parametrize(("build", "props", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_wrong_prop_raises_naming_prop_value_and_allowed(build, props, message):
    stack = new_stack()
    with pytest.raises(ValueError, match=message):
        build(stack, **props)


def test_type_problems_of_one_construct_are_reported_together():
    stack = new_stack()
    with pytest.raises(ValueError, match=r"3 problems") as raised:
        AuditTrail(stack, "Trail", management_events="none", bucket="my-bucket", insights="ApiCallRateInsight")
    assert "AuditTrail(TestStack/Trail)" in str(raised.value)


def test_a_right_enum_value_still_works():
    stack = new_stack()
    CloudWatchAgent(stack, "Agent", config=AgentConfig.linux(), log_retention=logs.RetentionDays.ONE_MONTH)
