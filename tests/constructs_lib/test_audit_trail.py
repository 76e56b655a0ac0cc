"""AuditTrail: defaults, every option, every error path, pinned logical ids."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from constructs_lib import (
    DEFAULT_ROLE_NAME,
    AuditTrail,
    DataEventSelection,
    InsightType,
    LifecycleOptions,
    ManagementEvents,
    ObjectLockMode,
    ObjectLockOptions,
)
from tests.conftest import by_sid, new_stack, only

ACCOUNT = "111111111111"
TRAIL_ARN = {
    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":cloudtrail:eu-west-1:{ACCOUNT}:trail/audit-trail"]]
}


def statements(resource: dict[str, Any], key: str = "PolicyDocument") -> list[dict[str, Any]]:
    return resource["Properties"][key]["Statement"]


@pytest.fixture(scope="module")
def default() -> tuple[AuditTrail, Template]:
    stack = new_stack()
    # The names AWS documents, asked for explicitly; the path-derived defaults are tested in test_physical_names.
    trail = AuditTrail(stack, "Trail", trail_name="audit-trail", role_name=DEFAULT_ROLE_NAME)
    return trail, Template.from_stack(stack)


class TestDefaults:
    def test_trail_is_multi_region_validated_encrypted_and_delivers_to_logs(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::CloudTrail::Trail",
            {
                "TrailName": "audit-trail",
                "IsLogging": True,
                "IsMultiRegionTrail": True,
                "IncludeGlobalServiceEvents": True,
                "EnableLogFileValidation": True,
                "IsOrganizationTrail": False,
                "KMSKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^TrailKey"), "Arn"]},
                "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("^TrailLogGroup"), "Arn"]},
                "CloudWatchLogsRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^TrailCloudWatchLogsRole"), "Arn"]},
                "SnsTopicName": {"Fn::GetAtt": [Match.string_like_regexp("^TrailTopic"), "TopicName"]},
                "AdvancedEventSelectors": [
                    {
                        "Name": "Management events",
                        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
                    }
                ],
                "InsightSelectors": Match.absent(),
            },
        )

    def test_stateful_resources_have_pinned_logical_ids_and_are_retained(self, default):
        _, template = default
        resources = template.to_json()["Resources"]
        pinned = {
            "TrailKey31F874A3": "AWS::KMS::Key",
            "TrailBucket7F7024F7": "AWS::S3::Bucket",
            "TrailAccessLogsBucketA0DDCE10": "AWS::S3::Bucket",
            "TrailLogGroup4CBE3AF5": "AWS::Logs::LogGroup",
            "Trail022F0CF2": "AWS::CloudTrail::Trail",
        }
        for logical_id, resource_type in pinned.items():
            assert resources[logical_id]["Type"] == resource_type
        for logical_id in (
            "TrailKey31F874A3",
            "TrailBucket7F7024F7",
            "TrailAccessLogsBucketA0DDCE10",
            "TrailLogGroup4CBE3AF5",
        ):
            assert resources[logical_id]["DeletionPolicy"] == "Retain"
            assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"

    def test_key_rotates_and_lets_cloudtrail_encrypt_only_under_its_context(self, default):
        _, template = default
        _, key = only(template, "AWS::KMS::Key")
        assert key["Properties"]["EnableKeyRotation"] is True
        policy = statements(key, "KeyPolicy")
        encrypt = by_sid(policy, "AllowCloudTrailToEncryptLogs")
        assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert encrypt["Action"] == "kms:GenerateDataKey*"
        assert encrypt["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
        assert encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"] == {
            "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":cloudtrail:*:{ACCOUNT}:trail/*"]]
        }
        describe = by_sid(policy, "AllowCloudTrailToDescribeKey")
        assert describe["Action"] == "kms:DescribeKey"
        decrypt = by_sid(policy, "AllowLogReadersToDecryptLogFiles")
        assert decrypt["Action"] == ["kms:Decrypt", "kms:ReEncryptFrom"]
        assert decrypt["Condition"]["Null"] == {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}
        assert decrypt["Condition"]["StringEquals"] == {"kms:CallerAccount": ACCOUNT}

    def test_key_lets_cloudwatch_logs_encrypt_only_the_trail_log_group(self, default):
        _, template = default
        _, key = only(template, "AWS::KMS::Key")
        logs_statement = by_sid(statements(key, "KeyPolicy"), "AllowCloudWatchLogsToUseKey")
        assert logs_statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
        assert logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, f":logs:eu-west-1:{ACCOUNT}:log-group:/aws/cloudtrail/audit-trail"],
            ]
        }

    def test_key_lets_cloudtrail_publish_to_the_encrypted_topic(self, default):
        _, template = default
        _, key = only(template, "AWS::KMS::Key")
        publish = by_sid(statements(key, "KeyPolicy"), "AllowCloudTrailToPublishToEncryptedTopic")
        assert publish["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}

    def test_bucket_is_versioned_private_kms_encrypted_with_lifecycle_and_access_logs(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": ["TrailKey31F874A3", "Arn"]},
                            },
                        }
                    ]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "TrailAccessLogsBucketA0DDCE10"}},
                "LifecycleConfiguration": {
                    "Rules": [
                        Match.object_like(
                            {
                                "ExpirationInDays": 2557,
                                "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
                            }
                        )
                    ]
                },
                "ObjectLockEnabled": Match.absent(),
            },
        )

    def test_bucket_policy_is_the_documented_cloudtrail_policy_with_source_arn(self, default):
        _, template = default
        policies = template.find_resources(
            "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": "TrailBucket7F7024F7"}}}
        )
        (policy,) = policies.values()
        acl = by_sid(statements(policy), "AWSCloudTrailAclCheck")
        assert acl["Action"] == "s3:GetBucketAcl"
        assert acl["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
        write = by_sid(statements(policy), "AWSCloudTrailWrite")
        assert write["Action"] == "s3:PutObject"
        assert write["Resource"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": ["TrailBucket7F7024F7", "Arn"]}, f"/AWSLogs/{ACCOUNT}/*"]]
        }
        assert write["Condition"] == {
            "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}
        }
        tls = [s for s in statements(policy) if s["Effect"] == "Deny"]
        assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    def test_trail_waits_for_bucket_policy_and_role_policy(self, default):
        _, template = default
        trail = template.to_json()["Resources"]["Trail022F0CF2"]
        assert set(trail["DependsOn"]) == {"TrailBucketPolicyA9210232", "TrailCloudWatchLogsPolicyE3F35CC9"}

    def test_role_is_named_trusted_by_cloudtrail_and_writes_only_trail_streams(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::IAM::Role",
            {
                "RoleName": "CloudTrail_CloudWatchLogs_Role",
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        }
                    ]
                },
            },
        )
        _, policy = only(template, "AWS::IAM::ManagedPolicy")
        (statement,) = statements(policy)
        assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert statement["Resource"] == {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    f":logs:eu-west-1:{ACCOUNT}:log-group:/aws/cloudtrail/audit-trail:log-stream:{ACCOUNT}_CloudTrail_eu-west-1*",
                ],
            ]
        }
        assert template.find_resources("AWS::IAM::Policy") == {}

    def test_log_group_is_encrypted_with_one_year_retention(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": "/aws/cloudtrail/audit-trail",
                "RetentionInDays": 365,
                "KmsKeyId": {"Fn::GetAtt": ["TrailKey31F874A3", "Arn"]},
            },
        )

    def test_topic_is_encrypted_tls_only_and_admits_only_this_trail(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": ["TrailKey31F874A3", "Arn"]}}
        )
        _, policy = only(template, "AWS::SNS::TopicPolicy")
        publish = by_sid(statements(policy), "AWSCloudTrailSNSPolicy")
        assert publish["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements(policy)
        )

    def test_attributes_expose_what_was_created(self, default):
        trail, _ = default
        assert trail.trail_name == "audit-trail"
        assert isinstance(trail.key, kms.Key)
        assert trail.log_file_key is trail.key
        assert isinstance(trail.bucket, s3.Bucket)
        assert isinstance(trail.access_logs_bucket, s3.Bucket)
        assert isinstance(trail.log_group, logs.LogGroup)
        assert isinstance(trail.topic, sns.Topic)
        assert trail.role.node.id == "CloudWatchLogsRole"


class TestOptions:
    def test_organization_trail_writes_org_paths_and_org_streams(self):
        stack = new_stack()
        AuditTrail(stack, "Trail", is_organization_trail=True, organization_id="o-a1b2c3d4e5")
        template = Template.from_stack(stack)
        template.has_resource_properties("AWS::CloudTrail::Trail", {"IsOrganizationTrail": True})
        text = json.dumps(template.to_json())
        assert "/AWSLogs/o-a1b2c3d4e5/*" in text
        assert f"/AWSLogs/{ACCOUNT}/*" in text
        assert "log-stream:o-a1b2c3d4e5_*" in text

    def test_write_only_management_events_without_kms_and_rds_data(self):
        stack = new_stack()
        AuditTrail(
            stack,
            "Trail",
            management_events=ManagementEvents.WRITE_ONLY,
            exclude_kms_events=True,
            exclude_rds_data_events=True,
        )
        Template.from_stack(stack).has_resource_properties(
            "AWS::CloudTrail::Trail",
            {
                "AdvancedEventSelectors": [
                    {
                        "Name": "Management events",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "readOnly", "Equals": ["false"]},
                            {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
                        ],
                    }
                ]
            },
        )

    def test_read_only_management_events(self):
        stack = new_stack()
        AuditTrail(stack, "Trail", management_events=ManagementEvents.READ_ONLY)
        Template.from_stack(stack).has_resource_properties(
            "AWS::CloudTrail::Trail",
            {
                "AdvancedEventSelectors": [
                    Match.object_like({"FieldSelectors": Match.array_with([{"Field": "readOnly", "Equals": ["true"]}])})
                ]
            },
        )

    def test_data_events_for_selected_buckets_and_all_lambda_functions(self):
        stack = new_stack()
        AuditTrail(
            stack,
            "Trail",
            data_events=DataEventSelection(s3_bucket_names=["payroll-data"], all_lambda_functions=True),
        )
        selectors = Template.from_stack(stack).to_json()["Resources"]["Trail022F0CF2"]["Properties"][
            "AdvancedEventSelectors"
        ]
        assert [s["Name"] for s in selectors] == ["Management events", "S3 data events", "Lambda data events"]
        s3_fields = selectors[1]["FieldSelectors"]
        assert {"Field": "resources.type", "Equals": ["AWS::S3::Object"]} in s3_fields
        assert {
            "Field": "resources.ARN",
            "StartsWith": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::payroll-data/"]]}],
        } in s3_fields
        assert selectors[2]["FieldSelectors"] == [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
        ]

    def test_data_events_only(self):
        stack = new_stack()
        arn = "arn:aws:lambda:eu-west-1:111111111111:function:pay"
        AuditTrail(
            stack,
            "Trail",
            management_events=ManagementEvents.NONE,
            data_events=DataEventSelection(lambda_function_arns=[arn]),
        )
        selectors = Template.from_stack(stack).to_json()["Resources"]["Trail022F0CF2"]["Properties"][
            "AdvancedEventSelectors"
        ]
        assert [s["Name"] for s in selectors] == ["Lambda data events"]
        assert {"Field": "resources.ARN", "Equals": [arn]} in selectors[0]["FieldSelectors"]

    def test_insights(self):
        stack = new_stack()
        AuditTrail(stack, "Trail", insights=[InsightType.API_CALL_RATE, InsightType.API_ERROR_RATE])
        Template.from_stack(stack).has_resource_properties(
            "AWS::CloudTrail::Trail",
            {"InsightSelectors": [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]},
        )

    def test_object_lock_lifecycle_retention_prefix_role_name_and_tags(self):
        stack = new_stack()
        AuditTrail(
            stack,
            "Trail",
            trail_name="org-trail",
            bucket_prefix="cloudtrail",
            object_lock=ObjectLockOptions(mode=ObjectLockMode.COMPLIANCE, days=400),
            lifecycle=LifecycleOptions(transition_after_days=30, expire_after_days=3650),
            log_retention=logs.RetentionDays.TWO_YEARS,
            role_name="TrailLogsRole",
            tags={"owner": "platform"},
        )
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "ObjectLockEnabled": True,
                "ObjectLockConfiguration": {
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}},
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        Match.object_like(
                            {
                                "ExpirationInDays": 3650,
                                "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                            }
                        )
                    ]
                },
            },
        )
        template.has_resource_properties(
            "AWS::CloudTrail::Trail", {"TrailName": "org-trail", "S3KeyPrefix": "cloudtrail"}
        )
        template.has_resource_properties(
            "AWS::Logs::LogGroup", {"LogGroupName": "/aws/cloudtrail/org-trail", "RetentionInDays": 731}
        )
        template.has_resource_properties("AWS::IAM::Role", {"RoleName": "TrailLogsRole"})
        assert "/cloudtrail/AWSLogs/111111111111/*" in json.dumps(template.to_json())
        for resource_type in ("AWS::CloudTrail::Trail", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup"):
            template.has_resource_properties(
                resource_type, {"Tags": Match.array_with([{"Key": "owner", "Value": "platform"}])}
            )

    def test_removal_policy_can_be_destroy_for_sandboxes(self):
        stack = new_stack()
        AuditTrail(stack, "Trail", removal_policy=cdk.RemovalPolicy.DESTROY)
        resources = Template.from_stack(stack).to_json()["Resources"]
        assert resources["TrailBucket7F7024F7"]["DeletionPolicy"] == "Delete"
        assert resources["TrailKey31F874A3"]["DeletionPolicy"] == "Delete"

    def test_bring_your_own_bucket_key_topic_and_log_group(self):
        stack = new_stack()
        bucket = s3.Bucket.from_bucket_name(stack, "Archive", "central-cloudtrail-logs")
        archive_key = kms.Key.from_key_arn(
            stack, "ArchiveKey", "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
        topic = sns.Topic(stack, "MyTopic")
        log_group = logs.LogGroup(stack, "MyLogs", log_group_name="/my/trail", retention=logs.RetentionDays.ONE_YEAR)
        trail = AuditTrail(stack, "Trail", bucket=bucket, log_file_key=archive_key, topic=topic, log_group=log_group)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::S3::Bucket", 0)
        template.resource_count_is("AWS::S3::BucketPolicy", 0)
        template.resource_count_is("AWS::SNS::Topic", 1)
        template.resource_count_is("AWS::Logs::LogGroup", 1)
        template.has_resource_properties(
            "AWS::CloudTrail::Trail",
            {
                "S3BucketName": "central-cloudtrail-logs",
                "KMSKeyId": "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "SnsTopicName": {"Fn::GetAtt": [Match.string_like_regexp("^MyTopic"), "TopicName"]},
            },
        )
        # The local key still exists for nothing but the construct's own needs; log files use the archive key.
        assert trail.log_file_key is archive_key
        assert trail.access_logs_bucket is None
        (role_policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
        assert statements(role_policy)[0]["Resource"] == {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":logs:eu-west-1:111111111111:log-group:",
                    {"Ref": stack.get_logical_id(log_group.node.default_child)},
                    ":log-stream:111111111111_CloudTrail_eu-west-1*",
                ],
            ]
        }

    def test_brought_key_is_used_everywhere(self):
        stack = new_stack()
        key = kms.Key(stack, "MyKey", enable_key_rotation=True)
        AuditTrail(stack, "Trail", key=key)
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::KMS::Key", 1)
        template.has_resource_properties(
            "AWS::CloudTrail::Trail", {"KMSKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^MyKey"), "Arn"]}}
        )

    def test_grant_read_logs(self):
        stack = new_stack()
        trail = AuditTrail(stack, "Trail")
        reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
        trail.grant_read_logs(reader)
        template = Template.from_stack(stack)
        (policy,) = template.find_resources("AWS::IAM::Policy").values()
        actions = {
            a for s in statements(policy) for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        assert {"s3:GetObject*", "s3:List*", "kms:Decrypt", "logs:FilterLogEvents", "logs:GetLogEvents"} <= actions
        assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in actions)

    def test_metric_helpers(self, default):
        trail, _ = default
        metric = trail.metric_incoming_log_events()
        assert metric.namespace == "AWS/Logs"
        assert metric.metric_name == "IncomingLogEvents"
        assert metric.statistic == "Sum"
        assert trail.metric_incoming_bytes(period=cdk.Duration.hours(1)).period.to_seconds() == 3600


class TestErrors:
    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"is_organization_trail": True}, r"is_organization_trail=True needs organization_id \(got None\)"),
            (
                {"is_organization_trail": True, "organization_id": "org-1"},
                r"organization_id 'org-1' is not an organization id",
            ),
            ({"organization_id": "o-a1b2c3d4e5"}, r"organization_id was given but is_organization_trail is False"),
            ({"trail_name": "my trail!"}, r"trail_name 'my trail!' is not a valid trail name"),
            ({"management_events": ManagementEvents.NONE}, r"the trail would record nothing"),
            (
                {
                    "management_events": ManagementEvents.NONE,
                    "data_events": DataEventSelection(all_s3_buckets=True),
                    "insights": [InsightType.API_CALL_RATE],
                },
                r"insights need management events",
            ),
            (
                {"management_events": ManagementEvents.READ_ONLY, "insights": [InsightType.API_ERROR_RATE]},
                r"insights analyse write",
            ),
            ({"insights": [InsightType.API_CALL_RATE, InsightType.API_CALL_RATE]}, r"insights lists a type twice"),
            (
                {
                    "management_events": ManagementEvents.NONE,
                    "exclude_kms_events": True,
                    "data_events": DataEventSelection(all_s3_buckets=True),
                },
                r"filter management events",
            ),
        ],
    )
    def test_invalid_props(self, props, message):
        with pytest.raises(ValueError, match=message):
            AuditTrail(new_stack(), "Trail", **props)

    def test_bucket_options_with_a_brought_bucket(self):
        stack = new_stack()
        bucket = s3.Bucket.from_bucket_name(stack, "B", "somebucket")
        with pytest.raises(ValueError, match="lifecycle applies only to a bucket created here"):
            AuditTrail(stack, "Trail", bucket=bucket, lifecycle=LifecycleOptions())

    def test_log_group_options_with_a_brought_log_group(self):
        stack = new_stack()
        log_group = logs.LogGroup(stack, "L")
        with pytest.raises(ValueError, match="log_retention applies only to a new log group"):
            AuditTrail(stack, "Trail", log_group=log_group, log_retention=logs.RetentionDays.ONE_DAY)

    def test_all_problems_are_reported_together(self):
        with pytest.raises(ValueError) as raised:
            AuditTrail(new_stack(), "Trail", trail_name="x", is_organization_trail=True)
        text = str(raised.value)
        assert "AuditTrail(TestStack/Trail): 2 problems:" in text
        assert "trail_name 'x'" in text and "needs organization_id" in text

    def test_data_event_selection_conflicts(self):
        with pytest.raises(ValueError, match="all_s3_buckets=True already covers every bucket"):
            DataEventSelection(all_s3_buckets=True, s3_bucket_names=["a-bucket"])
        with pytest.raises(ValueError, match="all_lambda_functions=True already covers every function"):
            DataEventSelection(
                all_lambda_functions=True, lambda_function_arns=["arn:aws:lambda:eu-west-1:1:function:f"]
            )
        with pytest.raises(ValueError, match="'arn:aws:s3:::x' is not an S3 bucket name"):
            DataEventSelection(s3_bucket_names=["arn:aws:s3:::x"])
