"""VpcFlowLogs and FlowLogsForEveryVpc: defaults, every option, every error path, pinned logical ids, gates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib import _nag
from constructs_lib.log_bucket import LogBucket
from constructs_lib.vpc_flow_logs import (
    ALL_FIELDS_V5,
    DEFAULT_FIELDS,
    AggregationInterval,
    DestinationKind,
    FlowLogDestination,
    FlowLogField,
    FlowLogResource,
    FlowLogsForEveryVpc,
    TrafficType,
    VpcFlowLogs,
    flow_logs_bucket_statements,
)
from stacks.compliance import add_compliance_checks
from tests.conftest import by_sid, cfn_lint, nag_failures, new_app, new_stack, only

ACCOUNT = "111111111111"


def acknowledge_test_vpc(vpc: cdk.IConstruct) -> None:
    """The test VPC itself (not the construct under test) keeps the default security group rules."""
    _nag.acknowledge(
        vpc,
        "Test fixture VPC; its default security group is out of scope.",
        *_nag.in_compliance_packs("VPCDefaultSecurityGroupClosed"),
    )


@pytest.fixture(scope="module")
def default() -> tuple[VpcFlowLogs, Template]:
    stack = new_stack()
    vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
    flow_logs = VpcFlowLogs(stack, "FlowLogs", resource=FlowLogResource.vpc(vpc))
    return flow_logs, Template.from_stack(stack)


class TestDefaults:
    def test_one_flow_log_of_all_traffic_to_cloudwatch_logs_with_default_format(self, default):
        _, template = default
        template.resource_count_is("AWS::EC2::FlowLog", 1)
        template.has_resource_properties(
            "AWS::EC2::FlowLog",
            {
                "ResourceId": {"Ref": "Vpc"},
                "ResourceType": "VPC",
                "TrafficType": "ALL",
                "LogDestinationType": "cloud-watch-logs",
                "LogDestination": {"Fn::GetAtt": [Match.string_like_regexp("^FlowLogsLogGroup"), "Arn"]},
                "DeliverLogsPermissionArn": {"Fn::GetAtt": [Match.string_like_regexp("^FlowLogsRole"), "Arn"]},
                "MaxAggregationInterval": 600,
                "LogFormat": Match.absent(),
                "DestinationOptions": Match.absent(),
            },
        )

    def test_stateful_resources_have_pinned_logical_ids_and_are_retained(self, default):
        _, template = default
        resources = template.to_json()["Resources"]
        pinned = {
            "FlowLogsKeyBAB0B9A4": "AWS::KMS::Key",
            "FlowLogsLogGroup9853A85F": "AWS::Logs::LogGroup",
            "FlowLogsCloudWatchLogsBA5B8CF5": "AWS::EC2::FlowLog",
        }
        for logical_id, resource_type in pinned.items():
            assert resources[logical_id]["Type"] == resource_type
        for logical_id in ("FlowLogsKeyBAB0B9A4", "FlowLogsLogGroup9853A85F"):
            assert resources[logical_id]["DeletionPolicy"] == "Retain"
            assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"

    def test_log_group_is_encrypted_named_after_the_vpc_and_kept_one_year(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": {"Fn::Join": ["", ["/aws/vpc-flow-logs/", {"Ref": "Vpc"}]]},
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^FlowLogsKey"), "Arn"]},
                "RetentionInDays": 365,
            },
        )

    def test_key_rotates_and_lets_cloudwatch_logs_use_it_only_for_this_group(self, default):
        _, template = default
        _, key = only(template, "AWS::KMS::Key")
        assert key["Properties"]["EnableKeyRotation"] is True
        statement = by_sid(key["Properties"]["KeyPolicy"]["Statement"], "AllowCloudWatchLogsToUseKey")
        assert statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    f":logs:eu-west-1:{ACCOUNT}:log-group:/aws/vpc-flow-logs/",
                    {"Ref": "Vpc"},
                ],
            ]
        }

    def test_role_trusts_only_flow_logs_of_this_account(self, default):
        _, template = default
        _, role = only(template, "AWS::IAM::Role")
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {
                "aws:SourceArn": {
                    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/*"]]
                }
            },
        }

    def test_role_may_write_only_to_its_log_group_and_flow_log_waits_for_that(self, default):
        _, template = default
        policy_id, policy = only(template, "AWS::IAM::ManagedPolicy")
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        assert statement["Resource"] == {"Fn::GetAtt": ["FlowLogsLogGroup9853A85F", "Arn"]}
        (role_ref,) = policy["Properties"]["Roles"]
        assert role_ref["Ref"].startswith("FlowLogsRole")
        template.has_resource("AWS::EC2::FlowLog", {"DependsOn": [policy_id]})
        template.resource_count_is("AWS::IAM::Policy", 0)

    def test_attributes(self, default):
        flow_logs, _ = default
        assert flow_logs.traffic_type is TrafficType.ALL
        assert flow_logs.log_format is None
        assert flow_logs.cloudwatch_flow_log is not None
        assert flow_logs.s3_flow_log is None
        assert flow_logs.log_group is not None and flow_logs.key is not None and flow_logs.role is not None


class TestFields:
    def test_versions_two_to_five_in_documented_order(self):
        assert [f.value for f in DEFAULT_FIELDS] == [
            "version",
            "account-id",
            "interface-id",
            "srcaddr",
            "dstaddr",
            "srcport",
            "dstport",
            "protocol",
            "packets",
            "bytes",
            "start",
            "end",
            "action",
            "log-status",
        ]
        assert FlowLogField.TCP_FLAGS.format_version == 3
        assert FlowLogField.PKT_DSTADDR.format_version == 3
        assert FlowLogField.AZ_ID.format_version == 4
        assert FlowLogField.SUBLOCATION_ID.format_version == 4
        assert FlowLogField.FLOW_DIRECTION.format_version == 5
        assert FlowLogField.TRAFFIC_PATH.format_version == 5
        assert {f.format_version for f in ALL_FIELDS_V5} == {2, 3, 4, 5}
        assert len(ALL_FIELDS_V5) == 29

    def test_each_field_is_one_cdk_knows(self):
        cdk_fields = {
            ec2.LogFormat.SRC_ADDR.value,
            ec2.LogFormat.PKT_SRC_AWS_SERVICE.value,
            ec2.LogFormat.TRAFFIC_PATH.value,
            ec2.LogFormat.SUBLOCATION_TYPE.value,
            ec2.LogFormat.TCP_FLAGS.value,
        }
        ours = {f"${{{f.value}}}" for f in FlowLogField}
        assert cdk_fields <= ours


class TestOptions:
    def test_custom_format_traffic_type_and_interval(self):
        stack = new_stack()
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            traffic_type=TrafficType.REJECT,
            log_format=[FlowLogField.SRCADDR, FlowLogField.DSTADDR, FlowLogField.ACTION, FlowLogField.FLOW_DIRECTION],
            max_aggregation_interval=AggregationInterval.ONE_MINUTE,
        )
        Template.from_stack(stack).has_resource_properties(
            "AWS::EC2::FlowLog",
            {
                "ResourceId": "vpc-0123456789abcdef0",
                "TrafficType": "REJECT",
                "LogFormat": "${srcaddr} ${dstaddr} ${action} ${flow-direction}",
                "MaxAggregationInterval": 60,
            },
        )

    def test_subnet_and_network_interface_by_construct_and_by_id(self):
        stack = new_stack()
        vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
        subnet = ec2.CfnSubnet(stack, "Subnet", vpc_id=vpc.ref, cidr_block="10.0.0.0/24")
        eni = ec2.CfnNetworkInterface(stack, "Eni", subnet_id=subnet.ref)
        cases = {
            "Subnet": FlowLogResource.subnet(subnet),
            "SubnetById": FlowLogResource.subnet("subnet-0123abcd"),
            "Eni": FlowLogResource.network_interface(eni),
            "EniById": FlowLogResource.network_interface("eni-0123456789abcdef0"),
        }
        for name, resource in cases.items():
            VpcFlowLogs(
                stack,
                f"{name}FlowLogs",
                resource=resource,
                destinations=[FlowLogDestination.s3(s3.Bucket(stack, f"B{name}"))],
            )
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::EC2::FlowLog", {"ResourceType": "Subnet", "ResourceId": {"Ref": "Subnet"}}
        )
        template.has_resource_properties(
            "AWS::EC2::FlowLog", {"ResourceType": "Subnet", "ResourceId": "subnet-0123abcd"}
        )
        template.has_resource_properties(
            "AWS::EC2::FlowLog", {"ResourceType": "NetworkInterface", "ResourceId": {"Ref": "Eni"}}
        )
        template.has_resource_properties(
            "AWS::EC2::FlowLog", {"ResourceType": "NetworkInterface", "ResourceId": "eni-0123456789abcdef0"}
        )

    def test_l2_vpc_and_imported_vpc(self):
        stack = new_stack()
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
        imported = ec2.Vpc.from_vpc_attributes(
            stack, "Imported", vpc_id="vpc-0aaaaaaaaaaaaaaaa", availability_zones=["eu-west-1a"]
        )
        VpcFlowLogs(stack, "A", resource=FlowLogResource.vpc(vpc))
        VpcFlowLogs(stack, "B", resource=FlowLogResource.vpc(imported))
        template = Template.from_stack(stack)
        template.has_resource_properties("AWS::EC2::FlowLog", {"ResourceId": {"Ref": Match.string_like_regexp("^Vpc")}})
        template.has_resource_properties("AWS::EC2::FlowLog", {"ResourceId": "vpc-0aaaaaaaaaaaaaaaa"})

    def test_s3_destination_parquet_hive_hourly_with_documented_bucket_policy(self):
        stack = new_stack()
        bucket = s3.Bucket(stack, "Bucket")
        flow_logs = VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[FlowLogDestination.s3(bucket, key_prefix="flow-logs")],
        )
        template = Template.from_stack(stack)
        assert flow_logs.cloudwatch_flow_log is None and flow_logs.log_group is None
        template.resource_count_is("AWS::IAM::Role", 0)
        template.resource_count_is("AWS::Logs::LogGroup", 0)
        template.has_resource(
            "AWS::EC2::FlowLog",
            {
                "Properties": {
                    "LogDestinationType": "s3",
                    "LogDestination": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, "/flow-logs"]]},
                    "DestinationOptions": {
                        "FileFormat": "parquet",
                        "HiveCompatiblePartitions": True,
                        "PerHourPartition": True,
                    },
                    "DeliverLogsPermissionArn": Match.absent(),
                },
                "DependsOn": [Match.string_like_regexp("^BucketPolicy")],
            },
        )
        _, policy = only(template, "AWS::S3::BucketPolicy")
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        source_arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":logs:eu-west-1:{ACCOUNT}:*"]]}
        acl = by_sid(statements, "AWSLogDeliveryAclCheck")
        assert acl["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert acl["Action"] == ["s3:GetBucketAcl", "s3:ListBucket"]
        assert acl["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": source_arn},
        }
        write = by_sid(statements, "AWSLogDeliveryWriteFlowLogs")
        assert write["Action"] == "s3:PutObject"
        assert write["Resource"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, f"/flow-logs/AWSLogs/{ACCOUNT}/*"]]
        }
        assert write["Condition"]["StringEquals"] == {
            "aws:SourceAccount": ACCOUNT,
            "s3:x-amz-acl": "bucket-owner-full-control",
        }

    def test_plain_text_daily_and_kms_bucket_key_grant(self):
        stack = new_stack()
        key = kms.Key(stack, "BucketKey", enable_key_rotation=True)
        bucket = s3.Bucket(stack, "Bucket", encryption=s3.BucketEncryption.KMS, encryption_key=key)
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[
                FlowLogDestination.s3(bucket, parquet=False, hive_compatible_partitions=False, per_hour_partition=False)
            ],
        )
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::EC2::FlowLog",
            {
                "LogDestination": {"Fn::GetAtt": ["Bucket83908E77", "Arn"]},
                "DestinationOptions": {
                    "FileFormat": "plain-text",
                    "HiveCompatiblePartitions": False,
                    "PerHourPartition": False,
                },
            },
        )
        _, key_resource = only(template, "AWS::KMS::Key")
        grant = by_sid(key_resource["Properties"]["KeyPolicy"]["Statement"], "AllowLogDeliveryToEncryptFlowLogs")
        assert grant["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert "kms:GenerateDataKey*" in grant["Action"]
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}

    def test_imported_bucket_policy_is_left_alone(self):
        stack = new_stack()
        bucket = s3.Bucket.from_bucket_name(stack, "Central", "acme-flow-logs-222222222222")
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[FlowLogDestination.s3(bucket)],
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::S3::BucketPolicy", 0)
        template.has_resource(
            "AWS::EC2::FlowLog",
            {
                "Properties": {
                    "LogDestination": {
                        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::acme-flow-logs-222222222222"]]
                    }
                },
                "DependsOn": Match.absent(),
            },
        )

    def test_both_destinations_at_once_share_the_format(self):
        stack = new_stack()
        bucket = s3.Bucket(stack, "Bucket")
        flow_logs = VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[FlowLogDestination.cloudwatch_logs(), FlowLogDestination.s3(bucket)],
            log_format=ALL_FIELDS_V5,
        )
        template = Template.from_stack(stack)
        found = template.find_resources("AWS::EC2::FlowLog")
        assert sorted(found) == ["FlowLogsCloudWatchLogsBA5B8CF5", "FlowLogsS30CE0F948"]
        formats = {r["Properties"]["LogFormat"] for r in found.values()}
        assert len(formats) == 1
        assert formats.pop().split() == [f"${{{f.value}}}" for f in ALL_FIELDS_V5]
        assert flow_logs.cloudwatch_flow_log is not None and flow_logs.s3_flow_log is not None

    def test_cloudwatch_logs_with_own_name_retention_key_and_role(self):
        stack = new_stack()
        key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
        role = iam.Role(stack, "OwnRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"))
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[
                FlowLogDestination.cloudwatch_logs(
                    log_group_name="/custom/flow", retention=logs.RetentionDays.TWO_YEARS, key=key, role=role
                )
            ],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        template = Template.from_stack(stack)
        template.has_resource(
            "AWS::Logs::LogGroup",
            {
                "Properties": {
                    "LogGroupName": "/custom/flow",
                    "RetentionInDays": 731,
                    "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^SharedKey"), "Arn"]},
                },
                "DeletionPolicy": "Delete",
            },
        )
        template.resource_count_is("AWS::KMS::Key", 1)
        template.resource_count_is("AWS::IAM::ManagedPolicy", 0)
        template.has_resource_properties(
            "AWS::EC2::FlowLog",
            {"DeliverLogsPermissionArn": {"Fn::GetAtt": [Match.string_like_regexp("^OwnRole"), "Arn"]}},
        )
        _, key_resource = only(template, "AWS::KMS::Key")
        (statement,) = [
            s
            for s in key_resource["Properties"]["KeyPolicy"]["Statement"]
            if s.get("Sid", "").startswith("AllowCloudWatchLogs")
        ]
        assert statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1][-1].endswith(
            ":log-group:/custom/flow"
        )

    def test_shared_key_and_bucket_get_one_statement_per_user(self):
        stack = new_stack()
        key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
        bucket = s3.Bucket(stack, "Bucket")
        for index, vpc_id in enumerate(("vpc-0123abcd", "vpc-0123abce")):
            VpcFlowLogs(
                stack,
                f"FlowLogs{index}",
                resource=FlowLogResource.vpc(vpc_id),
                destinations=[
                    FlowLogDestination.cloudwatch_logs(key=key),
                    FlowLogDestination.s3(bucket, key_prefix=f"team{index}"),
                ],
            )
        template = Template.from_stack(stack)
        _, key_resource = only(template, "AWS::KMS::Key")
        key_sids = [s.get("Sid") for s in key_resource["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid")]
        assert len(key_sids) == 2 and len(set(key_sids)) == 2
        _, policy = only(template, "AWS::S3::BucketPolicy")
        bucket_sids = [s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid")]
        assert sorted(bucket_sids) == ["AWSLogDeliveryAclCheck", "AWSLogDeliveryWriteTeam0", "AWSLogDeliveryWriteTeam1"]

    def test_existing_log_group(self):
        stack = new_stack()
        group = logs.LogGroup.from_log_group_name(stack, "Existing", "/existing/flow-logs")
        VpcFlowLogs(
            stack,
            "FlowLogs",
            resource=FlowLogResource.vpc("vpc-0123456789abcdef0"),
            destinations=[FlowLogDestination.cloudwatch_logs(log_group=group)],
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Logs::LogGroup", 0)
        template.resource_count_is("AWS::KMS::Key", 0)
        template.has_resource_properties(
            "AWS::EC2::FlowLog",
            {
                "LogDestination": {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            f":logs:eu-west-1:{ACCOUNT}:log-group:/existing/flow-logs:*",
                        ],
                    ]
                }
            },
        )


class TestBucketStatements:
    def test_several_accounts_any_region_for_a_central_bucket(self):
        stack = new_stack()
        statements = [
            stack.resolve(s.to_statement_json())
            for s in flow_logs_bucket_statements(
                bucket_arn="arn:aws:s3:::central", account_ids=["444444444444", "555555555555"], prefix="vpc"
            )
        ]
        write = by_sid(statements, "AWSLogDeliveryWriteVpc")
        assert write["Resource"] == [
            "arn:aws:s3:::central/vpc/AWSLogs/444444444444/*",
            "arn:aws:s3:::central/vpc/AWSLogs/555555555555/*",
        ]
        assert write["Condition"]["StringEquals"]["aws:SourceAccount"] == ["444444444444", "555555555555"]
        assert write["Condition"]["ArnLike"]["aws:SourceArn"] == [
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:*:444444444444:*"]]},
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:*:555555555555:*"]]},
        ]


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"resource": FlowLogResource.vpc("vpc-123")}, r"resource 'vpc-123' is not a VPC id"),
            ({"resource": FlowLogResource.subnet("vpc-0123abcd")}, r"is not a Subnet id: expected subnet-"),
            ({"resource": FlowLogResource.network_interface("eni-xyz")}, r"is not a NetworkInterface id"),
            ({"resource": "vpc-0123abcd"}, r"resource must be FlowLogResource"),
            ({"destinations": []}, r"destinations is empty"),
            (
                {"destinations": [FlowLogDestination.cloudwatch_logs(), FlowLogDestination.cloudwatch_logs()]},
                r"CloudWatch Logs 2 times",
            ),
            ({"destinations": ["s3"]}, r"destinations\[0\] must be a FlowLogDestination"),
            (
                {"destinations": [FlowLogDestination(kind=DestinationKind.S3)]},
                r"an S3 destination needs a bucket",
            ),
            ({"traffic_type": "ALL"}, r"traffic_type must be TrafficType"),
            ({"max_aggregation_interval": 300}, r"max_aggregation_interval must be AggregationInterval.*got 300"),
            ({"log_format": []}, r"log_format is empty"),
            ({"log_format": ["${srcaddr}"]}, r"not FlowLogField members"),
            ({"log_format": [FlowLogField.SRCADDR, FlowLogField.SRCADDR]}, r"\['srcaddr'\] more than once"),
        ],
    )
    def test_invalid_props(self, kwargs, message):
        stack = new_stack()
        props: dict[str, Any] = {"resource": FlowLogResource.vpc("vpc-0123abcd"), **kwargs}
        with pytest.raises(ValueError, match=message):
            VpcFlowLogs(stack, "FlowLogs", **props)

    def test_log_group_options_with_existing_group(self):
        stack = new_stack()
        group = logs.LogGroup.from_log_group_name(stack, "Existing", "/existing")
        destination = FlowLogDestination.cloudwatch_logs(log_group=group, retention=logs.RetentionDays.ONE_DAY)
        with pytest.raises(ValueError, match=r"cloudwatch_logs\(retention=...\) applies only to a new log group"):
            VpcFlowLogs(stack, "FlowLogs", resource=FlowLogResource.vpc("vpc-0123abcd"), destinations=[destination])

    def test_bad_prefix_and_all_problems_together(self):
        stack = new_stack()
        bucket = s3.Bucket(stack, "Bucket")
        with pytest.raises(ValueError, match=r"3 problems") as error:
            VpcFlowLogs(
                stack,
                "FlowLogs",
                resource=FlowLogResource.vpc("vpc-1"),
                destinations=[FlowLogDestination.s3(bucket, key_prefix="/AWSLogs/")],
                traffic_type="REJECT",  # type: ignore[arg-type]
            )
        text = str(error.value)
        assert "key_prefix='/AWSLogs/'" in text and "traffic_type" in text and "'vpc-1'" in text


class TestAspect:
    def test_adds_flow_logs_only_to_vpcs_without_one(self):
        app = new_app()
        stack = cdk.Stack(app, "S", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
        bare = ec2.Vpc(stack, "Bare", max_azs=1, nat_gateways=0)
        ec2.Vpc(stack, "Covered", max_azs=1, nat_gateways=0, flow_logs={"L2": ec2.FlowLogOptions()})
        ec2.CfnVPC(stack, "Raw", cidr_block="10.9.0.0/16")
        covered_by_us = ec2.CfnVPC(stack, "Ours", cidr_block="10.8.0.0/16")
        VpcFlowLogs(stack, "OursFlowLogs1", resource=FlowLogResource.vpc(covered_by_us))
        cdk.Aspects.of(app).add(FlowLogsForEveryVpc(traffic_type=TrafficType.REJECT))
        template = Template.from_stack(stack)
        flow_logs = template.find_resources("AWS::EC2::FlowLog")
        by_vpc: dict[str, list[str]] = {}
        for resource in flow_logs.values():
            by_vpc.setdefault(resource["Properties"]["ResourceId"]["Ref"], []).append(
                resource["Properties"]["TrafficType"]
            )
        bare_id = stack.resolve(bare.vpc_id)["Ref"]
        assert by_vpc[bare_id] == ["REJECT"]
        assert by_vpc["Raw"] == ["REJECT"]
        assert by_vpc["Ours"] == ["ALL"]
        covered = [k for k in by_vpc if k.startswith("Covered")]
        assert len(covered) == 1 and by_vpc[covered[0]] == ["ALL"]
        assert bare.node.try_find_child("FlowLogs") is not None
        assert stack.node.try_find_child("RawFlowLogs") is not None

    def test_applying_twice_adds_nothing_more(self):
        app = new_app()
        stack = cdk.Stack(app, "S", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
        ec2.CfnVPC(stack, "Raw", cidr_block="10.9.0.0/16")
        cdk.Aspects.of(app).add(FlowLogsForEveryVpc())
        cdk.Aspects.of(stack).add(FlowLogsForEveryVpc())
        Template.from_stack(stack).resource_count_is("AWS::EC2::FlowLog", 1)

    def test_aspect_options_reach_every_flow_log(self):
        app = new_app()
        stack = cdk.Stack(app, "S", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
        bucket = s3.Bucket(stack, "Bucket")
        ec2.CfnVPC(stack, "One", cidr_block="10.1.0.0/16")
        ec2.CfnVPC(stack, "Two", cidr_block="10.2.0.0/16")
        cdk.Aspects.of(app).add(
            FlowLogsForEveryVpc(
                destinations=[FlowLogDestination.s3(bucket)],
                log_format=[FlowLogField.SRCADDR, FlowLogField.DSTADDR],
                max_aggregation_interval=AggregationInterval.ONE_MINUTE,
            )
        )
        template = Template.from_stack(stack)
        found = template.find_resources("AWS::EC2::FlowLog")
        assert len(found) == 2
        for resource in found.values():
            assert resource["Properties"]["LogDestinationType"] == "s3"
            assert resource["Properties"]["LogFormat"] == "${srcaddr} ${dstaddr}"
            assert resource["Properties"]["MaxAggregationInterval"] == 60


@pytest.fixture(scope="module")
def gated_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every destination and the aspect in one app under the four cdk-nag packs (a finding fails synth)."""
    outdir = tmp_path_factory.mktemp("flow-logs-gates")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "FlowLogsGates", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    access_logs = LogBucket(stack, "AccessLogs", server_access_logs=False).bucket
    archive = LogBucket(stack, "Archive", access_logs_bucket=access_logs).bucket
    vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
    other = ec2.CfnVPC(stack, "Other", cidr_block="10.1.0.0/16")
    for fixture in (vpc, other):
        acknowledge_test_vpc(fixture)
    VpcFlowLogs(
        stack,
        "FlowLogs",
        resource=FlowLogResource.vpc(vpc),
        destinations=[FlowLogDestination.cloudwatch_logs(), FlowLogDestination.s3(archive)],
        log_format=ALL_FIELDS_V5,
    )
    cdk.Aspects.of(app).add(FlowLogsForEveryVpc())
    add_compliance_checks(app)
    app.synth()
    return outdir


class TestGates:
    def test_no_unacknowledged_nag_findings(self, gated_outdir):
        assert nag_failures(gated_outdir) == []

    def test_cfn_lint_clean(self, gated_outdir):
        templates = sorted(str(p) for p in gated_outdir.glob("*.template.json"))
        result = cfn_lint(*templates)
        assert result.returncode == 0, result.stdout + result.stderr
