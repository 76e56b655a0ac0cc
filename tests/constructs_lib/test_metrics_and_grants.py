"""Typed metric_* methods with their documented defaults, grant_* methods returning one combined grant."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import (
    AgentConfig,
    AuditTrail,
    CloudFrontAccessLogs,
    CloudWatchAgent,
    ConfigRecorder,
    FlowLogDestination,
    FlowLogResource,
    LogBucket,
    SecurityAlarms,
    VpcFlowLogs,
)
from constructs_lib._metrics import DEFAULT_PERIOD
from tests.conftest import new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555"
VPC = FlowLogResource.vpc("vpc-0123456789abcdef0")


def rendered(stack: cdk.Stack, metric: cloudwatch.Metric) -> dict[str, Any]:
    config = metric.to_metric_config().metric_stat
    assert config is not None
    return {
        "namespace": config.namespace,
        "name": config.metric_name,
        "statistic": config.statistic,
        "period": config.period.to_seconds(),
        "dimensions": {d.name: stack.resolve(d.value) for d in (config.dimensions or [])},
    }


def role_statements(template: Template) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def all_actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found.update(action if isinstance(action, list) else [action])
    return found


class TestDocumentedMetricDefaults:
    def test_default_metric_period_is_five_minutes(self):
        assert DEFAULT_PERIOD.to_seconds() == 300

    def test_trail_metrics_default_to_sum_over_five_minutes_of_its_log_group(self):
        stack = new_stack()
        trail = AuditTrail(stack, "Trail")
        metric = rendered(stack, trail.metric_incoming_log_events())
        assert metric["namespace"] == "AWS/Logs"
        assert metric["name"] == "IncomingLogEvents"
        assert (metric["statistic"], metric["period"]) == ("Sum", 300)
        assert list(metric["dimensions"]) == ["LogGroupName"]
        assert rendered(stack, trail.metric_incoming_bytes())["name"] == "IncomingBytes"

    def test_typed_options_override_the_defaults(self):
        stack = new_stack()
        trail = AuditTrail(stack, "Trail")
        metric = trail.metric_incoming_log_events(
            period=cdk.Duration.hours(1), statistic="Maximum", label="Trail events", unit=cloudwatch.Unit.COUNT
        )
        assert (rendered(stack, metric)["statistic"], rendered(stack, metric)["period"]) == ("Maximum", 3600)
        assert metric.label == "Trail events"

    def test_extra_dimensions_merge_over_the_metric_own(self):
        stack = new_stack()
        recorder = ConfigRecorder(stack, "Recorder", bucket=s3.Bucket(stack, "ConfigBucket"))
        metric = recorder.metric_configuration_items_recorded(dimensions_map={"ResourceType": "AWS::EC2::Instance"})
        assert rendered(stack, metric)["dimensions"] == {"ResourceType": "AWS::EC2::Instance"}
        with pytest.raises(
            ValueError, match=r"has no 'ResourceType': AWS Config publishes ConfigurationItemsRecorded per"
        ):
            recorder.metric_configuration_items_recorded()
        snapshot = recorder.metric_snapshot_export_failed()
        # Every series of the metric, whatever its dimensions (AWS documents none).
        assert snapshot.expression == 'SELECT SUM(ConfigSnapshotExportFailed) FROM "AWS/Config"'
        assert snapshot.period.to_seconds() == 300

    def test_an_unknown_option_is_refused_naming_the_allowed_ones(self):
        stack = new_stack()
        trail = AuditTrail(stack, "Trail")
        with pytest.raises(ValueError, match=r"AuditTrail\(TestStack/Trail\): periods not metric options; allowed: "):
            trail.metric_incoming_bytes(periods=cdk.Duration.minutes(1))  # type: ignore[call-arg]

    def test_security_alarm_metric_defaults_to_sum_over_the_detection_period(self):
        stack = new_stack()
        trail = AuditTrail(stack, "Trail")
        alarms = SecurityAlarms(stack, "Alarms", log_group=trail.log_group)
        metric = rendered(stack, alarms.metric("root-account-usage"))
        assert (metric["namespace"], metric["statistic"], metric["period"]) == ("CloudTrailMetrics", "Sum", 300)

    def test_flow_log_metrics_read_its_log_group_and_refuse_without_one(self):
        stack = new_stack()
        flow_logs = VpcFlowLogs(stack, "FlowLogs", resource=VPC)
        assert rendered(stack, flow_logs.metric_incoming_bytes())["name"] == "IncomingBytes"
        s3_only = VpcFlowLogs(
            stack, "S3Only", resource=VPC, destinations=[FlowLogDestination.s3(s3.Bucket(stack, "B"))]
        )
        with pytest.raises(ValueError, match="no CloudWatch Logs destination"):
            s3_only.metric_incoming_log_events()

    def test_bucket_storage_metrics_are_daily_averages(self):
        stack = new_stack()
        bucket = LogBucket(stack, "Logs", server_access_logs=False)
        metric = rendered(stack, bucket.metric_bucket_size_bytes())
        assert (metric["namespace"], metric["statistic"], metric["period"]) == ("AWS/S3", "Average", 86400)
        assert metric["dimensions"]["StorageType"] == "StandardStorage"
        access_logs = CloudFrontAccessLogs(stack, "CloudFront")
        assert rendered(stack, access_logs.metric_number_of_objects())["dimensions"]["StorageType"] == "AllStorageTypes"


class TestGrants:
    def test_trail_grant_read_logs_on_imported_bucket_and_key_is_one_combined_grant(self):
        stack = new_stack()
        bucket = s3.Bucket.from_bucket_name(stack, "Archive", "acme-cloudtrail-archive")
        key = kms.Key.from_key_arn(stack, "ArchiveKey", KEY_ARN)
        trail = AuditTrail(stack, "Trail", bucket=bucket, log_file_key=key)
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        grant = trail.grant_read_logs(reader)
        assert grant.success
        statements = role_statements(Template.from_stack(stack))
        assert {"s3:GetObject*", "kms:Decrypt", "logs:FilterLogEvents"} <= all_actions(statements)
        resources = str(statements)
        assert "acme-cloudtrail-archive" in resources and KEY_ARN in resources
        # The returned grant holds what all three grants added, not only the bucket's.
        granted = all_actions([stack.resolve(s.to_statement_json()) for s in grant.principal_statements])
        assert {"s3:GetObject*", "kms:Decrypt", "logs:FilterLogEvents"} <= granted

    def test_flow_logs_grant_covers_log_group_key_and_bucket_prefix(self):
        stack = new_stack()
        archive = s3.Bucket.from_bucket_name(stack, "Archive", "acme-flow-logs")
        flow_logs = VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=VPC,
            destinations=[FlowLogDestination.cloudwatch_logs(), FlowLogDestination.s3(archive, key_prefix="vpc")],
        )
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        flow_logs.grant_read_logs(reader)
        statements = role_statements(Template.from_stack(stack))
        assert {"kms:Decrypt", "s3:GetObject*", "logs:FilterLogEvents"} <= all_actions(statements)
        assert "acme-flow-logs/vpc/AWSLogs/*" in str(statements)

    def test_config_recorder_grant_reads_its_prefix_and_decrypts_with_the_bucket_key(self):
        stack = new_stack()
        recorder = ConfigRecorder(
            stack,
            "Recorder",
            bucket=s3.Bucket.from_bucket_name(stack, "ConfigBucket", "acme-config"),
            bucket_key=kms.Key.from_key_arn(stack, "ConfigKey", KEY_ARN),
        )
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        recorder.grant_read_history(reader)
        statements = role_statements(Template.from_stack(stack))
        assert "acme-config/AWSLogs/111111111111/Config/*" in str(statements)
        assert "kms:Decrypt" in all_actions(statements)

    def test_cloudfront_grant_read_on_a_key_encrypted_bucket_includes_the_key(self):
        stack = new_stack()
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        access_logs = CloudFrontAccessLogs(stack, "CloudFront", encryption_key=key)
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        access_logs.grant_read(reader, "shop/*")
        assert "kms:Decrypt" in all_actions(role_statements(Template.from_stack(stack)))


class TestCloudWatchAgentReusesAnInstanceProfile:
    def test_instance_role_gets_the_policies_and_no_second_profile_is_created(self):
        stack = new_stack()
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
        instance = ec2.Instance(
            stack,
            "Web",
            vpc=vpc,
            instance_type=ec2.InstanceType("t3.micro"),
            machine_image=ec2.MachineImage.generic_linux({"eu-west-1": "ami-0123456789abcdef0"}),
        )
        agent = CloudWatchAgent(stack, "Agent", config=AgentConfig.linux(), instance_role=instance.role)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::IAM::InstanceProfile", 1)  # the instance's own
        assert agent.instance_profile is None
        assert agent.role.node.path == instance.role.node.path
        (role,) = [
            r
            for logical_id, r in template.find_resources("AWS::IAM::Role").items()
            if logical_id.startswith("WebInstanceRole")
        ]
        assert "CloudWatchAgentServerPolicy" in str(role["Properties"]["ManagedPolicyArns"])
