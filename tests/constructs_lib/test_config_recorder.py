"""ConfigRecorder: defaults, every option, every error path, pinned logical ids, cdk-nag and cfn-lint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    GLOBAL_IAM_RESOURCE_TYPES,
    ConfigRecorder,
    LogBucket,
    RecordingFrequency,
    RecordingFrequencyOverride,
    SnapshotDeliveryFrequency,
    policies,
)
from stacks.compliance import add_compliance_checks
from tests.conftest import by_sid, cfn_lint, new_stack, only

ACCOUNT = "111111111111"
ARCHIVE_BUCKET = "acme-config-222222222222-eu-west-1"
ARCHIVE_BUCKET_ARN = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{ARCHIVE_BUCKET}"]]}


def archive(stack: cdk.Stack) -> s3.IBucket:
    return s3.Bucket.from_bucket_name(stack, "Archive", ARCHIVE_BUCKET)


def recorder_template(**props: Any) -> Template:
    stack = new_stack()
    if "bucket" not in props and "existing_recorder_name" not in props:
        props["bucket"] = archive(stack)
    ConfigRecorder(stack, "Recorder", **props)
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def default() -> Template:
    return recorder_template()


class TestDefaults:
    def test_records_all_supported_types_without_global_iam_types_continuously(self, default):
        default.has_resource_properties(
            "AWS::Config::ConfigurationRecorder",
            {
                "Name": "default",
                "RecordingGroup": {
                    "AllSupported": True,
                    "IncludeGlobalResourceTypes": False,
                    "RecordingStrategy": {"UseOnly": "ALL_SUPPORTED_RESOURCE_TYPES"},
                    "ExclusionByResourceTypes": Match.absent(),
                },
                "RecordingMode": {"RecordingFrequency": "CONTINUOUS", "RecordingModeOverrides": Match.absent()},
                "RoleARN": {"Fn::GetAtt": [Match.string_like_regexp("^RecorderRole"), "Arn"]},
            },
        )

    def test_delivery_channel_daily_snapshots_and_stream_topic(self, default):
        default.has_resource_properties(
            "AWS::Config::DeliveryChannel",
            {
                "Name": "default",
                "S3BucketName": ARCHIVE_BUCKET,
                "S3KeyPrefix": Match.absent(),
                "S3KmsKeyArn": Match.absent(),
                "SnsTopicARN": {"Ref": Match.string_like_regexp("^RecorderTopic")},
                "ConfigSnapshotDeliveryProperties": {"DeliveryFrequency": "TwentyFour_Hours"},
            },
        )

    def test_delivery_channel_waits_for_the_recorder(self, default):
        recorder_id, _ = only(default, "AWS::Config::ConfigurationRecorder")
        _, channel = only(default, "AWS::Config::DeliveryChannel")
        assert recorder_id in channel["DependsOn"]

    def test_role_trusts_config_of_this_account_only_with_aws_config_role(self, default):
        _, role = only(default, "AWS::IAM::Role")
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "config.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
        assert role["Properties"]["ManagedPolicyArns"] == [
            {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWS_ConfigRole"],
                ]
            }
        ]

    def test_role_may_deliver_only_under_its_config_prefix(self, default):
        _, policy = only(default, "AWS::IAM::ManagedPolicy")
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        delivery = by_sid(statements, "AWSConfigBucketDelivery")
        assert delivery["Resource"] == {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{ARCHIVE_BUCKET}/AWSLogs/{ACCOUNT}/Config/*"],
            ]
        }
        assert delivery["Condition"] == {"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}}
        assert by_sid(statements, "AWSConfigBucketPermissionsCheck")["Resource"] == ARCHIVE_BUCKET_ARN
        assert by_sid(statements, "AWSConfigSNSPolicy")["Action"] == "sns:Publish"
        assert by_sid(statements, "AWSConfigTopicKey")["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]

    def test_recorder_waits_for_the_delivery_policy(self, default):
        policy_id, _ = only(default, "AWS::IAM::ManagedPolicy")
        _, recorder = only(default, "AWS::Config::ConfigurationRecorder")
        assert policy_id in recorder["DependsOn"]

    def test_stream_topic_encrypted_tls_only_and_config_may_publish(self, default):
        default.has_resource_properties(
            "AWS::SNS::Topic",
            {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^RecorderKey"), "Arn"]}},
        )
        _, topic_policy = only(default, "AWS::SNS::TopicPolicy")
        statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
        publish = by_sid(statements, "AWSConfigSNSPolicy")
        assert publish["Principal"] == {"Service": "config.amazonaws.com"}
        assert publish["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
        assert by_sid(statements, "AllowPublishThroughSSLOnly")["Effect"] == "Deny"

    def test_key_rotates_lets_config_publish_and_is_retained(self, default):
        _, key = only(default, "AWS::KMS::Key")
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain"
        assert key["UpdateReplacePolicy"] == "Retain"
        statement = by_sid(key["Properties"]["KeyPolicy"]["Statement"], "AllowConfigToPublishToEncryptedTopic")
        assert statement["Principal"] == {"Service": "config.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}

    def test_logical_ids_are_pinned(self, default):
        # Renaming these replaces the recorder (losing its history) or its key.
        assert only(default, "AWS::Config::ConfigurationRecorder")[0] == "RecorderC4C6639E"
        assert only(default, "AWS::Config::DeliveryChannel")[0] == "RecorderDeliveryChannel9B0B469B"
        assert only(default, "AWS::KMS::Key")[0] == "RecorderKey90D141C5"


class TestRecordingOptions:
    def test_global_types_in_the_home_region(self):
        template = recorder_template(include_global_resource_types=True)
        template.has_resource_properties(
            "AWS::Config::ConfigurationRecorder",
            {"RecordingGroup": {"AllSupported": True, "IncludeGlobalResourceTypes": True}},
        )

    def test_exclusions_outside_home_region_also_exclude_global_iam_types(self):
        template = recorder_template(excluded_resource_types=["AWS::EC2::NetworkInterface"])
        template.has_resource_properties(
            "AWS::Config::ConfigurationRecorder",
            {
                "RecordingGroup": {
                    "AllSupported": False,
                    "IncludeGlobalResourceTypes": False,
                    "RecordingStrategy": {"UseOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                    "ExclusionByResourceTypes": {
                        "ResourceTypes": sorted(["AWS::EC2::NetworkInterface", *GLOBAL_IAM_RESOURCE_TYPES])
                    },
                }
            },
        )

    def test_exclusions_in_home_region_keep_global_iam_types(self):
        template = recorder_template(
            include_global_resource_types=True, excluded_resource_types=["AWS::EC2::NetworkInterface"]
        )
        template.has_resource_properties(
            "AWS::Config::ConfigurationRecorder",
            {"RecordingGroup": {"ExclusionByResourceTypes": {"ResourceTypes": ["AWS::EC2::NetworkInterface"]}}},
        )

    def test_daily_with_a_continuous_override(self):
        template = recorder_template(
            recording_frequency=RecordingFrequency.DAILY,
            frequency_overrides=[
                RecordingFrequencyOverride(
                    resource_types=["AWS::EC2::SecurityGroup", "AWS::IAM::Role"],
                    frequency=RecordingFrequency.CONTINUOUS,
                    description="security-relevant changes as they happen",
                )
            ],
        )
        template.has_resource_properties(
            "AWS::Config::ConfigurationRecorder",
            {
                "RecordingMode": {
                    "RecordingFrequency": "DAILY",
                    "RecordingModeOverrides": [
                        {
                            "RecordingFrequency": "CONTINUOUS",
                            "ResourceTypes": ["AWS::EC2::SecurityGroup", "AWS::IAM::Role"],
                            "Description": "security-relevant changes as they happen",
                        }
                    ],
                }
            },
        )

    def test_recorder_name(self):
        template = recorder_template(recorder_name="baseline")
        template.has_resource_properties("AWS::Config::ConfigurationRecorder", {"Name": "baseline"})
        template.has_resource_properties("AWS::Config::DeliveryChannel", {"Name": "baseline"})


class TestDeliveryOptions:
    def test_prefix_key_and_hourly_snapshots(self):
        stack = new_stack()
        key = kms.Key.from_key_arn(stack, "ArchiveKey", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab")
        ConfigRecorder(
            stack,
            "Recorder",
            bucket=archive(stack),
            bucket_prefix="config",
            bucket_key=key,
            snapshot_delivery_frequency=SnapshotDeliveryFrequency.ONE_HOUR,
        )
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::Config::DeliveryChannel",
            {
                "S3KeyPrefix": "config",
                "S3KmsKeyArn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab",
                "ConfigSnapshotDeliveryProperties": {"DeliveryFrequency": "One_Hour"},
            },
        )
        _, policy = only(template, "AWS::IAM::ManagedPolicy")
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert by_sid(statements, "AWSConfigKMSPolicy")["Resource"] == key.key_arn
        assert by_sid(statements, "AWSConfigBucketDelivery")["Resource"]["Fn::Join"][1][-1].endswith(
            f"/config/AWSLogs/{ACCOUNT}/Config/*"
        )

    def test_bucket_of_the_same_stack_gets_the_documented_policy(self):
        stack = new_stack()
        access = LogBucket(stack, "AccessLogs", server_access_logs=False).bucket
        bucket = LogBucket(stack, "ConfigBucket", access_logs_bucket=access).bucket
        ConfigRecorder(stack, "Recorder", bucket=bucket)
        template = Template.from_stack(stack)
        policies_found = template.find_resources(
            "AWS::S3::BucketPolicy",
            {"Properties": {"Bucket": {"Ref": stack.get_logical_id(bucket.node.default_child)}}},
        )
        ((policy_id, policy),) = policies_found.items()
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        for sid, action in (
            ("AWSConfigBucketPermissionsCheck", "s3:GetBucketAcl"),
            ("AWSConfigBucketExistenceCheck", "s3:ListBucket"),
            ("AWSConfigBucketDelivery", "s3:PutObject"),
        ):
            statement = by_sid(statements, sid)
            assert statement["Action"] == action
            assert statement["Principal"] == {"Service": "config.amazonaws.com"}
            assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
        assert by_sid(statements, "AWSConfigBucketDelivery")["Condition"]["StringEquals"]["s3:x-amz-acl"] == (
            "bucket-owner-full-control"
        )
        _, channel = only(template, "AWS::Config::DeliveryChannel")
        assert policy_id in channel["DependsOn"]

    def test_no_configuration_stream(self):
        template = recorder_template(configuration_stream=False)
        template.resource_count_is("AWS::SNS::Topic", 0)
        template.resource_count_is("AWS::KMS::Key", 0)
        template.has_resource_properties("AWS::Config::DeliveryChannel", {"SnsTopicARN": Match.absent()})

    def test_given_stream_topic(self):
        stack = new_stack()
        topic = sns.Topic(stack, "Stream", master_key=kms.Key(stack, "TopicKey", enable_key_rotation=True))
        ConfigRecorder(stack, "Recorder", bucket=archive(stack), stream_topic=topic)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::SNS::Topic", 1)
        template.has_resource_properties(
            "AWS::Config::DeliveryChannel", {"SnsTopicARN": {"Ref": stack.get_logical_id(topic.node.default_child)}}
        )

    def test_service_linked_role(self):
        template = recorder_template(use_service_linked_role=True)
        template.resource_count_is("AWS::IAM::Role", 0)
        template.resource_count_is("AWS::IAM::ManagedPolicy", 0)
        template.has_resource_properties(
            "AWS::Config::ConfigurationRecorder",
            {
                "RoleARN": {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            f":iam::{ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
                        ],
                    ]
                }
            },
        )


class TestAdoptExistingRecorder:
    def test_creates_nothing_and_exposes_the_name(self):
        stack = new_stack()
        recorder = ConfigRecorder(stack, "Recorder", existing_recorder_name="aws-controltower-BaselineConfigRecorder")
        template = Template.from_stack(stack)
        assert template.to_json().get("Resources", {}) == {}
        assert recorder.adopted is True
        assert recorder.recorder_name == "aws-controltower-BaselineConfigRecorder"
        assert recorder.dependables == []


class TestErrors:
    def test_bucket_required(self):
        with pytest.raises(ValueError, match="bucket is required"):
            ConfigRecorder(new_stack(), "Recorder")

    def test_adopting_rejects_options_that_would_do_nothing(self):
        stack = new_stack()
        with pytest.raises(ValueError, match=r"so bucket, recording_frequency, excluded_resource_types would have no"):
            ConfigRecorder(
                stack,
                "Recorder",
                existing_recorder_name="ct",
                bucket=archive(stack),
                recording_frequency=RecordingFrequency.DAILY,
                excluded_resource_types=["AWS::EC2::Volume"],
            )

    def test_bad_names_and_types_are_reported_together(self):
        stack = new_stack()
        with pytest.raises(ValueError, match=r"3 problems") as error:
            ConfigRecorder(
                stack,
                "Recorder",
                bucket=archive(stack),
                recorder_name="has space",
                excluded_resource_types=["EC2::Instance", "AWS::EC2::Volume", "AWS::EC2::Volume"],
            )
        message = str(error.value)
        assert "recorder_name 'has space'" in message
        assert "'EC2::Instance' is not a resource type" in message
        assert "['AWS::EC2::Volume'] listed more than once" in message

    def test_at_most_one_override(self):
        override = RecordingFrequencyOverride(resource_types=["AWS::EC2::Volume"], frequency=RecordingFrequency.DAILY)
        other = RecordingFrequencyOverride(resource_types=["AWS::EC2::VPC"], frequency=RecordingFrequency.DAILY)
        with pytest.raises(ValueError, match="frequency_overrides has 2 entries; AWS Config accepts at most 1"):
            recorder_template(frequency_overrides=[override, other])

    def test_override_equal_to_default_frequency(self):
        override = RecordingFrequencyOverride(
            resource_types=["AWS::EC2::Volume"], frequency=RecordingFrequency.CONTINUOUS
        )
        with pytest.raises(ValueError, match=r"frequency_overrides\[0\] sets CONTINUOUS, which is already"):
            recorder_template(frequency_overrides=[override])

    def test_override_of_an_excluded_type(self):
        override = RecordingFrequencyOverride(resource_types=["AWS::EC2::Volume"], frequency=RecordingFrequency.DAILY)
        with pytest.raises(ValueError, match=r"\['AWS::EC2::Volume'\] are also in excluded_resource_types"):
            recorder_template(frequency_overrides=[override], excluded_resource_types=["AWS::EC2::Volume"])

    def test_stream_options_without_stream(self):
        with pytest.raises(ValueError, match="configuration_stream=False"):
            stack = new_stack()
            ConfigRecorder(
                stack,
                "Recorder",
                bucket=archive(stack),
                configuration_stream=False,
                key=kms.Key(stack, "K", enable_key_rotation=True),
            )

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"existing_recorder_name": "has space"}, r"existing_recorder_name 'has space' is not a recorder name"),
            (
                {"recording_frequency": "DAILY"},
                r"recording_frequency: 'DAILY' is not a RecordingFrequency; allowed: RecordingFrequency.CONTINUOUS",
            ),
            (
                {"snapshot_delivery_frequency": "One_Hour"},
                r"snapshot_delivery_frequency: 'One_Hour' is not a SnapshotDeliveryFrequency; allowed: ",
            ),
        ],
    )
    def test_invalid_values(self, props, message):
        with pytest.raises(ValueError, match=message):
            recorder_template(**props)

    def test_key_with_a_given_topic(self):
        stack = new_stack()
        with pytest.raises(ValueError, match="key encrypts a new stream topic, but stream_topic was given"):
            ConfigRecorder(
                stack,
                "Recorder",
                bucket=archive(stack),
                stream_topic=sns.Topic(stack, "T"),
                key=kms.Key(stack, "K", enable_key_rotation=True),
            )

    def test_override_validation(self):
        with pytest.raises(ValueError, match="resource_types is empty"):
            RecordingFrequencyOverride(resource_types=[], frequency=RecordingFrequency.DAILY)
        with pytest.raises(ValueError, match="refuses DAILY"):
            RecordingFrequencyOverride(
                resource_types=["AWS::Config::ResourceCompliance"], frequency=RecordingFrequency.DAILY
            )
        with pytest.raises(ValueError, match="frequency must be RecordingFrequency"):
            RecordingFrequencyOverride(resource_types=["AWS::EC2::VPC"], frequency="DAILY")  # type: ignore[arg-type]


class TestConfigBucketStatements:
    def test_statements_for_several_accounts_and_a_prefix(self):
        stack = new_stack()
        statements = [
            stack.resolve(s.to_statement_json())
            for s in policies.config_bucket_statements(
                bucket_arn="arn:aws:s3:::b", account_ids=["111111111111", "444444444444"], prefix="/org/"
            )
        ]
        delivery = by_sid(statements, "AWSConfigBucketDelivery")
        assert delivery["Resource"] == [
            "arn:aws:s3:::b/org/AWSLogs/111111111111/Config/*",
            "arn:aws:s3:::b/org/AWSLogs/444444444444/Config/*",
        ]
        assert delivery["Condition"]["StringEquals"]["AWS:SourceAccount"] == ["111111111111", "444444444444"]
        assert by_sid(statements, "AWSConfigBucketExistenceCheck")["Action"] == "s3:ListBucket"

    def test_key_statement(self):
        stack = new_stack()
        statement = stack.resolve(policies.config_key_statement(account_ids=["111111111111"]).to_statement_json())
        assert statement["Principal"] == {"Service": "config.amazonaws.com"}
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": "111111111111"}}


@pytest.fixture(scope="module")
def compliant_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every variant in one app under the four cdk-nag packs: a finding fails ``app.synth()``."""
    outdir = tmp_path_factory.mktemp("config-recorder")
    app = cdk.App(outdir=str(outdir))
    env = cdk.Environment(account=ACCOUNT, region="eu-west-1")
    local = cdk.Stack(app, "LocalBucket", env=env)
    access = LogBucket(local, "AccessLogs", server_access_logs=False).bucket
    ConfigRecorder(
        local,
        "Recorder",
        bucket=LogBucket(local, "ConfigBucket", access_logs_bucket=access).bucket,
        include_global_resource_types=True,
        excluded_resource_types=["AWS::EC2::NetworkInterface"],
    )
    # One recorder per account and region (a second one fails at synth): each variant has its own region.
    remote = cdk.Stack(app, "RemoteBucket", env=cdk.Environment(account=ACCOUNT, region="eu-west-2"))
    ConfigRecorder(
        remote,
        "Recorder",
        bucket=s3.Bucket.from_bucket_name(remote, "Archive", ARCHIVE_BUCKET),
        bucket_key=kms.Key.from_key_arn(remote, "Key", f"arn:aws:kms:eu-west-2:{ACCOUNT}:key/1234abcd-12ab"),
        recording_frequency=RecordingFrequency.DAILY,
    )
    linked = cdk.Stack(app, "ServiceLinked", env=cdk.Environment(account=ACCOUNT, region="eu-west-3"))
    ConfigRecorder(
        linked,
        "Recorder",
        bucket=s3.Bucket.from_bucket_name(linked, "Archive", ARCHIVE_BUCKET),
        use_service_linked_role=True,
    )
    add_compliance_checks(app)
    app.synth()
    return outdir


def test_cdk_nag_packs_pass(compliant_assembly):
    assert (compliant_assembly / "LocalBucket.template.json").exists()


def test_cfn_lint_clean(compliant_assembly):
    templates = sorted(str(p) for p in compliant_assembly.glob("*.template.json"))
    result = cfn_lint(*templates)
    assert result.returncode == 0, result.stdout + result.stderr
