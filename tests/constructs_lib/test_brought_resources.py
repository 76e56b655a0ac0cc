"""Brought resources: a key, bucket, topic or log group of this app gets what the service needs;
an imported one gets a warning naming the statements and the ``policies`` helper that builds them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib import (
    AgentConfig,
    AuditTrail,
    CloudFrontAccessLogs,
    CloudFrontStandardLoggingV2,
    CloudWatchAgent,
    ConfigRecorder,
    EventRouting,
    FlowLogDestination,
    FlowLogResource,
    LogBucket,
    NotificationRoute,
    NotificationTopics,
    SecurityAlarms,
    VpcFlowLogs,
    event_patterns,
)
from constructs_lib._brought import IMPORTED_WARNING_ID
from tests.conftest import new_stack

ACCOUNT = "111111111111"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def key_statements(template: Template, key_id_prefix: str) -> list[dict[str, Any]]:
    keys = template.find_resources("AWS::KMS::Key")
    (resource,) = [r for logical_id, r in keys.items() if logical_id.startswith(key_id_prefix)]
    return resource["Properties"]["KeyPolicy"]["Statement"]


def principals(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        service = statement.get("Principal", {}).get("Service")
        if service is None:
            continue
        found.update(v for v in (service if isinstance(service, list) else [service]) if isinstance(v, str))
    return found


def actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found.update(action if isinstance(action, list) else [action])
    return found


def imported_warnings(stack: cdk.Stack) -> list[str]:
    messages = []
    for entry in Annotations.from_stack(stack).find_warning("*", Match.any_value()):
        data = entry.entry.data
        if IMPORTED_WARNING_ID in str(data):
            messages.append(str(data))
    return messages


def imported_key(stack: cdk.Stack) -> kms.IKey:
    return kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN)


class TestAuditTrail:
    def test_key_of_this_stack_gets_cloudtrail_logs_and_sns_statements(self):
        # The case of the issue: a kms.Key in the same stack used to get nothing.
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        AuditTrail(stack, "Trail", key=my_key)
        statements = key_statements(Template.from_stack(stack), "MyKey")
        sids = [s.get("Sid", "") for s in statements]
        assert any(sid.startswith("AllowCloudTrailToEncryptLogs") for sid in sids)
        assert any(sid.startswith("AllowCloudTrailToDescribeKey") for sid in sids)
        assert any(sid.startswith("AllowCloudWatchLogs") for sid in sids)
        assert any(sid.startswith("AllowCloudTrailToPublishToEncryptedTopic") for sid in sids)
        assert {"cloudtrail.amazonaws.com", "logs.eu-west-1.amazonaws.com"} <= principals(statements)
        assert imported_warnings(stack) == []

    def test_two_trails_share_one_key_without_duplicate_sids(self):
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        AuditTrail(stack, "TrailA", key=my_key, trail_name="trail-a")
        AuditTrail(stack, "TrailB", key=my_key, trail_name="trail-b")
        sids = [s.get("Sid") for s in key_statements(Template.from_stack(stack), "MyKey") if s.get("Sid")]
        assert len(sids) == len(set(sids))

    def test_log_file_key_of_this_stack_gets_cloudtrail_statements_only(self):
        stack = new_stack()
        archive_key = kms.Key(stack, "ArchiveKey", enable_key_rotation=True)
        AuditTrail(stack, "Trail", log_file_key=archive_key)
        statements = key_statements(Template.from_stack(stack), "ArchiveKey")
        assert "kms:GenerateDataKey*" in actions(statements)
        assert principals(statements) == {"cloudtrail.amazonaws.com"}

    def test_topic_of_this_stack_gets_the_publish_statement_and_its_key_the_key_statement(self):
        stack = new_stack()
        topic_key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
        topic = sns.Topic(stack, "MyTopic", master_key=topic_key)
        AuditTrail(stack, "Trail", topic=topic)
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Sid": "AWSCloudTrailSNSPolicy", "Action": "sns:Publish"})]
                    )
                }
            },
        )
        assert "cloudtrail.amazonaws.com" in principals(key_statements(template, "TopicKey"))

    @pytest.mark.parametrize(
        ("kwargs", "helper"),
        [
            ({"key": "imported"}, "cloudtrail_key_statements"),
            ({"key": "imported"}, "logs_key_statement"),
            ({"key": "imported"}, "service_publish_key_statement"),
            ({"log_file_key": "imported"}, "cloudtrail_key_statements"),
            ({"bucket": "imported"}, "cloudtrail_bucket_statements"),
            ({"topic": "imported"}, "service_publish_topic_statement"),
        ],
    )
    def test_imported_resources_get_a_warning_naming_statements_and_helper(self, kwargs, helper):
        stack = new_stack()
        brought: dict[str, Any] = {}
        for prop in kwargs:
            if prop in ("key", "log_file_key"):
                brought[prop] = imported_key(stack)
            elif prop == "bucket":
                brought[prop] = s3.Bucket.from_bucket_name(stack, "Imported", "my-archive-bucket")
            else:
                brought[prop] = sns.Topic.from_topic_arn(stack, "Imported", f"arn:aws:sns:eu-west-1:{ACCOUNT}:t")
        AuditTrail(stack, "Trail", **brought)
        warnings = [w for w in imported_warnings(stack) if f"constructs_lib.policies.{helper}" in w]
        assert warnings, imported_warnings(stack)
        assert f"{next(iter(kwargs))}:" in warnings[0]

    def test_the_warning_can_be_acknowledged(self):
        stack = new_stack()
        trail = AuditTrail(stack, "Trail", bucket=s3.Bucket.from_bucket_name(stack, "Archive", "my-archive-bucket"))
        cdk.Annotations.of(trail).acknowledge_warning(IMPORTED_WARNING_ID, "the log archive stack adds them")
        assert imported_warnings(stack) == []


class TestSecurityAlarmsAndNotificationTopics:
    @pytest.mark.parametrize("construct", ["alarms", "topics"])
    def test_key_of_this_stack_lets_cloudwatch_and_eventbridge_publish(self, construct):
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        if construct == "alarms":
            trail = AuditTrail(stack, "Trail")
            SecurityAlarms(stack, "Alarms", log_group=trail.log_group, encryption_key=my_key)
        else:
            NotificationTopics(stack, "Topics", encryption_key=my_key)
        statements = key_statements(Template.from_stack(stack), "MyKey")
        assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= principals(statements)
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions(statements)

    def test_imported_key_gets_a_warning(self):
        stack = new_stack()
        NotificationTopics(stack, "Topics", encryption_key=imported_key(stack))
        (warning,) = imported_warnings(stack)
        assert "encryption_key:" in warning
        assert "AllowCloudWatchAlarmsToPublishToEncryptedTopics" in warning
        assert "service_publish_key_statement" in warning


class TestVpcFlowLogs:
    def test_key_of_this_stack_gets_the_logs_statement(self):
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[FlowLogDestination.cloudwatch_logs(key=my_key)],
        )
        assert "logs.eu-west-1.amazonaws.com" in principals(key_statements(Template.from_stack(stack), "MyKey"))

    def test_imported_key_and_bucket_get_warnings(self):
        stack = new_stack()
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[
                FlowLogDestination.cloudwatch_logs(key=imported_key(stack)),
                FlowLogDestination.s3(s3.Bucket.from_bucket_name(stack, "Archive", "my-archive-bucket")),
            ],
        )
        warnings = " ".join(imported_warnings(stack))
        assert "constructs_lib.policies.logs_key_statement" in warnings
        assert "constructs_lib.policies.flow_logs_bucket_statements" in warnings
        assert "AWSLogDeliveryAclCheck" in warnings

    def test_bucket_key_of_this_stack_gets_the_log_delivery_statement(self):
        stack = new_stack()
        bucket_key = kms.Key(stack, "BucketKey", enable_key_rotation=True)
        bucket = s3.Bucket(stack, "Archive", encryption_key=bucket_key)
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[FlowLogDestination.s3(bucket)],
        )
        statements = key_statements(Template.from_stack(stack), "BucketKey")
        assert "delivery.logs.amazonaws.com" in principals(statements)


class TestCloudFront:
    def test_access_logs_key_of_this_stack_gets_the_delivery_statement(self):
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        CloudFrontAccessLogs(stack, "AccessLogs", encryption_key=my_key)
        assert "delivery.logs.amazonaws.com" in principals(key_statements(Template.from_stack(stack), "MyKey"))

    def test_imported_access_logs_key_gets_a_warning(self):
        stack = new_stack()
        CloudFrontAccessLogs(stack, "AccessLogs", encryption_key=imported_key(stack))
        (warning,) = imported_warnings(stack)
        assert "cloudfront_logs_key_statement" in warning

    def test_v2_imported_bucket_gets_a_warning_and_one_of_this_stack_the_statement(self):
        stack = new_stack(region="us-east-1")
        distribution = cloudfront.Distribution(
            stack, "Cdn", default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin("example.com"))
        )
        bucket = s3.Bucket(stack, "Mine")
        CloudFrontStandardLoggingV2(stack, "V2", distribution=distribution, bucket=bucket)
        CloudFrontStandardLoggingV2(
            stack,
            "V2Imported",
            distribution=distribution,
            bucket=s3.Bucket.from_bucket_name(stack, "Imported", "someone-elses-bucket"),
        )
        Template.from_stack(stack).has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with([Match.object_like({"Sid": "AWSLogDeliveryWriteCloudFrontV2"})])
                }
            },
        )
        (warning,) = imported_warnings(stack)
        assert "cloudfront_v2_bucket_statements" in warning


class TestCloudWatchAgent:
    def test_key_of_this_stack_gets_the_logs_statement_with_a_sid_of_its_own(self):
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        CloudWatchAgent(stack, "Agent", config=AgentConfig.linux(), key=my_key)
        statements = key_statements(Template.from_stack(stack), "MyKey")
        (logs_statement,) = [s for s in statements if s.get("Sid", "").startswith("AllowCloudWatchLogs")]
        assert logs_statement["Sid"] != "AllowCloudWatchLogsToUseKey"

    def test_imported_key_gets_a_warning(self):
        stack = new_stack()
        CloudWatchAgent(stack, "Agent", config=AgentConfig.linux(), key=imported_key(stack))
        (warning,) = imported_warnings(stack)
        assert "logs_key_statement" in warning and "/ec2/linux/messages" in warning


class TestEventRouting:
    def test_key_of_this_stack_gets_logs_and_eventbridge_statements(self):
        stack = new_stack()
        my_key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        EventRouting(stack, "Events", key=my_key)
        statements = key_statements(Template.from_stack(stack), "MyKey")
        assert {"logs.eu-west-1.amazonaws.com", "events.amazonaws.com"} <= principals(statements)

    def test_route_topic_key_of_this_stack_lets_eventbridge_publish(self):
        stack = new_stack()
        topic_key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
        topic = sns.Topic(stack, "Critical", master_key=topic_key)
        EventRouting(
            stack,
            "Events",
            notification_routes=[
                NotificationRoute(name="critical", topic=topic, patterns=[event_patterns.root_sign_in()])
            ],
        )
        assert "events.amazonaws.com" in principals(key_statements(Template.from_stack(stack), "TopicKey"))

    def test_imported_key_and_topic_get_warnings(self):
        stack = new_stack()
        topic = sns.Topic.from_topic_arn(stack, "Critical", f"arn:aws:sns:eu-west-1:{ACCOUNT}:critical")
        EventRouting(
            stack,
            "Events",
            key=imported_key(stack),
            notification_routes=[
                NotificationRoute(name="critical", topic=topic, patterns=[event_patterns.root_sign_in()])
            ],
        )
        warnings = " ".join(imported_warnings(stack))
        assert "logs_key_statement" in warnings
        assert "eventbridge_publish_key_statement" in warnings
        assert "notification_routes[0].topic:" in warnings


class TestConfigRecorder:
    def test_bucket_key_and_stream_topic_key_of_this_stack_get_config_statements(self):
        stack = new_stack()
        bucket_key = kms.Key(stack, "BucketKey", enable_key_rotation=True)
        topic_key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
        ConfigRecorder(
            stack,
            "Recorder",
            bucket=s3.Bucket(stack, "ConfigBucket"),
            bucket_key=bucket_key,
            stream_topic=sns.Topic(stack, "Stream", master_key=topic_key),
        )
        template = Template.from_stack(stack)
        assert "config.amazonaws.com" in principals(key_statements(template, "BucketKey"))
        assert "config.amazonaws.com" in principals(key_statements(template, "TopicKey"))
        template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "PolicyDocument": {
                    "Statement": Match.array_with([Match.object_like({"Sid": "AWSConfigBucketDelivery"})])
                }
            },
        )

    def test_imported_bucket_key_and_topic_get_warnings(self):
        stack = new_stack()
        ConfigRecorder(
            stack,
            "Recorder",
            bucket=s3.Bucket.from_bucket_name(stack, "Archive", "acme-config"),
            bucket_key=imported_key(stack),
            stream_topic=sns.Topic.from_topic_arn(stack, "Stream", f"arn:aws:sns:eu-west-1:{ACCOUNT}:stream"),
        )
        warnings = " ".join(imported_warnings(stack))
        for helper in ("config_bucket_statements", "config_key_statement", "service_publish_topic_statement"):
            assert f"constructs_lib.policies.{helper}" in warnings


class TestLogBucket:
    def test_imported_access_logs_bucket_gets_a_warning(self):
        stack = new_stack()
        LogBucket(stack, "Logs", access_logs_bucket=s3.Bucket.from_bucket_name(stack, "AccessLogs", "access-logs"))
        (warning,) = imported_warnings(stack)
        assert "access_logs_bucket:" in warning and "server_access_logs_bucket_statement" in warning

    def test_access_logs_bucket_of_this_stack_gets_no_warning(self):
        stack = new_stack()
        access_logs = LogBucket(stack, "AccessLogs", server_access_logs=False)
        LogBucket(stack, "Logs", access_logs_bucket=access_logs.bucket)
        assert imported_warnings(stack) == []
