"""CloudFrontAccessLogs, standard logging (legacy and v2) and the aspect: defaults, options, errors, gates."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from constructs import Construct

from constructs_lib import _nag
from constructs_lib.cloudfront_logs import (
    CLOUDFRONT_LOGGING_NAG_FINDING,
    UNSUPPORTED_BUCKET_REGIONS,
    AccessLogsForEveryDistribution,
    CloudFrontAccessLogs,
    CloudFrontStandardLoggingV2,
    OutputFormat,
    enable_standard_logging,
)
from constructs_lib.log_bucket import LifecycleOptions
from stacks.compliance import add_compliance_checks
from tests.conftest import by_sid, cfn_lint, nag_failures, new_app, new_stack

ACCOUNT = "111111111111"


def distribution(stack: cdk.Stack, construct_id: str = "Distribution") -> cloudfront.Distribution:
    return cloudfront.Distribution(
        stack, construct_id, default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin("example.com"))
    )


def logging_of(template: Template, logical_prefix: str) -> Any:
    found = {
        k: v
        for k, v in template.find_resources("AWS::CloudFront::Distribution").items()
        if k.startswith(logical_prefix)
    }
    assert len(found) == 1, list(found)
    return next(iter(found.values()))["Properties"]["DistributionConfig"].get("Logging")


@pytest.fixture(scope="module")
def default() -> tuple[CloudFrontAccessLogs, Template]:
    stack = new_stack()
    access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
    return access_logs, Template.from_stack(stack)


class TestBucket:
    def test_bucket_allows_acls_blocks_public_access_and_is_versioned(self, default):
        _, template = default
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "LoggingConfiguration": {
                    "DestinationBucketName": {"Ref": Match.string_like_regexp("^CloudFrontLogsAccessLogsBucket")}
                },
                "LifecycleConfiguration": {
                    "Rules": [Match.object_like({"ExpirationInDays": 2557, "Status": "Enabled"})]
                },
            },
        )

    def test_pinned_logical_ids_and_retained(self, default):
        _, template = default
        resources = template.to_json()["Resources"]
        for logical_id in ("CloudFrontLogsBucket9CFAE0FB", "CloudFrontLogsAccessLogsBucketE861E5CC"):
            assert resources[logical_id]["Type"] == "AWS::S3::Bucket"
            assert resources[logical_id]["DeletionPolicy"] == "Retain"
            assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"

    def test_tls_only(self, default):
        _, template = default
        policies = template.find_resources("AWS::S3::BucketPolicy")
        policy = next(
            p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": "CloudFrontLogsBucket9CFAE0FB"}
        )
        deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    def test_customer_key_grants_log_delivery_and_lifecycle(self):
        stack = new_stack()
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        CloudFrontAccessLogs(
            stack,
            "CloudFrontLogs",
            encryption_key=key,
            lifecycle=LifecycleOptions(transition_after_days=30, expire_after_days=400),
        )
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        Match.object_like(
                            {"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})}
                        )
                    ]
                },
                "LifecycleConfiguration": {"Rules": [Match.object_like({"ExpirationInDays": 400})]},
            },
        )
        key_resource = template.find_resources("AWS::KMS::Key")["Key961B73FD"]
        grant = by_sid(key_resource["Properties"]["KeyPolicy"]["Statement"], "AllowCloudFrontLogDeliveryToEncrypt")
        assert grant["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert grant["Action"] == "kms:GenerateDataKey*"

    @pytest.mark.parametrize("region", UNSUPPORTED_BUCKET_REGIONS)
    def test_regions_cloudfront_cannot_deliver_to(self, region):
        stack = new_stack(region=region)
        with pytest.raises(ValueError, match=rf"region {region} is one CloudFront cannot deliver standard logs to"):
            CloudFrontAccessLogs(stack, "CloudFrontLogs")


class TestLegacyLogging:
    def test_enable_logging_sets_bucket_prefix_and_cookies(self):
        stack = new_stack(region="us-east-1")
        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        access_logs.enable_logging(distribution(stack), prefix="shop/", include_cookies=True)
        assert logging_of(Template.from_stack(stack), "Distribution") == {
            "Bucket": {"Fn::GetAtt": ["CloudFrontLogsBucket9CFAE0FB", "RegionalDomainName"]},
            "Prefix": "shop/",
            "IncludeCookies": True,
        }

    def test_bucket_with_acls_disabled_is_refused(self):
        stack = new_stack()
        bucket = s3.Bucket(stack, "Plain")
        with pytest.raises(ValueError, match=r"ObjectOwnership BucketOwnerEnforced \(ACLs disabled\)"):
            enable_standard_logging(distribution(stack), bucket)

    def test_object_writer_bucket_is_accepted(self):
        stack = new_stack()
        bucket = s3.Bucket(stack, "Writer", object_ownership=s3.ObjectOwnership.OBJECT_WRITER)
        enable_standard_logging(distribution(stack), bucket)
        (logical_id, attribute) = logging_of(Template.from_stack(stack), "Distribution")["Bucket"]["Fn::GetAtt"]
        assert logical_id.startswith("Writer") and attribute == "RegionalDomainName"

    def test_bucket_in_an_unsupported_region_and_all_problems_together(self):
        app = new_app()
        bucket_stack = cdk.Stack(app, "Logs", env=cdk.Environment(account=ACCOUNT, region="me-south-1"))
        bucket = s3.Bucket(bucket_stack, "Plain")
        stack = cdk.Stack(app, "Cdn", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
        with pytest.raises(ValueError, match=r"3 problems") as error:
            enable_standard_logging(distribution(stack), bucket, prefix="/bad")
        text = str(error.value)
        assert "ACLs disabled" in text
        assert "is in me-south-1, where CloudFront cannot deliver" in text
        assert "prefix '/bad' is not an S3 key prefix" in text

    def test_second_legacy_logging_is_refused(self):
        stack = new_stack()
        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        dist = distribution(stack)
        access_logs.enable_logging(dist)
        with pytest.raises(ValueError, match=r"already has standard logging \(legacy\) configured"):
            access_logs.enable_logging(dist, prefix="again/")
        logged = cloudfront.Distribution(
            stack,
            "Logged",
            default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin("example.com")),
            log_bucket=access_logs.bucket,
        )
        with pytest.raises(ValueError, match=r"already has standard logging"):
            enable_standard_logging(logged, access_logs.bucket)

    def test_v2_does_not_block_legacy_logging(self):
        stack = new_stack(region="us-east-1")
        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        dist = distribution(stack)
        CloudFrontStandardLoggingV2(stack, "V2", distribution=dist)
        access_logs.enable_logging(dist)
        assert logging_of(Template.from_stack(stack), "Distribution")["IncludeCookies"] is False

    def test_imported_distribution_is_refused(self):
        stack = new_stack()
        imported = cloudfront.Distribution.from_distribution_attributes(
            stack, "Imported", distribution_id="E123", domain_name="d111.cloudfront.net"
        )
        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        with pytest.raises(ValueError, match=r"an imported distribution's logging cannot be changed here"):
            access_logs.enable_logging(imported)


class TestAspect:
    def test_enables_logging_only_where_there_is_none(self):
        app = new_app()
        stack = cdk.Stack(app, "Cdn", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        own_bucket = s3.Bucket(stack, "Own", object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED)
        distribution(stack, "Bare")
        cloudfront.Distribution(
            stack,
            "Logged",
            default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin("example.com")),
            log_bucket=own_bucket,
        )
        v2 = distribution(stack, "ViaV2")
        CloudFrontStandardLoggingV2(stack, "AccessLogsV2", distribution=v2)
        cdk.Aspects.of(app).add(AccessLogsForEveryDistribution(access_logs.bucket, prefix="all/"))
        template = Template.from_stack(stack)
        assert logging_of(template, "Bare") == {
            "Bucket": {"Fn::GetAtt": ["CloudFrontLogsBucket9CFAE0FB", "RegionalDomainName"]},
            "Prefix": "all/",
            "IncludeCookies": False,
        }
        assert logging_of(template, "Logged")["Bucket"]["Fn::GetAtt"][0].startswith("Own")
        assert "Prefix" not in logging_of(template, "Logged")
        assert logging_of(template, "ViaV2") is None


class TestStandardLoggingV2:
    def test_default_encrypted_log_group_json(self):
        stack = new_stack(region="us-east-1")
        dist = distribution(stack)
        v2 = CloudFrontStandardLoggingV2(stack, "AccessLogs", distribution=dist)
        template = Template.from_stack(stack)
        template.has_resource_properties(
            "AWS::Logs::DeliverySource",
            {
                "Name": f"{v2.name}-source",
                "LogType": "ACCESS_LOGS",
                "ResourceArn": {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            f":cloudfront::{ACCOUNT}:distribution/",
                            {"Ref": Match.string_like_regexp("^Distribution")},
                        ],
                    ]
                },
            },
        )
        template.has_resource_properties(
            "AWS::Logs::DeliveryDestination",
            {
                "Name": f"{v2.name}-destination",
                "OutputFormat": "json",
                "DestinationResourceArn": {"Fn::GetAtt": [Match.string_like_regexp("^AccessLogsLogGroup"), "Arn"]},
            },
        )
        template.has_resource_properties(
            "AWS::Logs::Delivery",
            {
                "DeliverySourceName": {"Ref": Match.string_like_regexp("^AccessLogsSource")},
                "DeliveryDestinationArn": {"Fn::GetAtt": [Match.string_like_regexp("^AccessLogsDestination"), "Arn"]},
            },
        )
        template.has_resource(
            "AWS::Logs::LogGroup",
            {
                "Properties": {
                    "LogGroupName": f"/aws/cloudfront/{v2.name}",
                    "RetentionInDays": 365,
                    "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AccessLogsKey"), "Arn"]},
                },
                "DeletionPolicy": "Retain",
            },
        )
        resources = template.to_json()["Resources"]
        assert resources["AccessLogsLogGroupE4473AFE"]["Type"] == "AWS::Logs::LogGroup"
        assert resources["AccessLogsKey9230123E"]["DeletionPolicy"] == "Retain"
        assert v2.log_group is not None and v2.bucket is None
        # The default name comes from the construct path: unique, and within the delivery names' limit.
        assert re.fullmatch(r"TestStack-AccessLogs-[0-9A-F]{8}", v2.name), v2.name

    def test_default_names_never_collide_and_a_name_asked_twice_fails_naming_both(self):
        stack = new_stack(region="us-east-1")
        dist = distribution(stack)
        first = CloudFrontStandardLoggingV2(stack, "AccessLogs", distribution=dist)
        nested = CloudFrontStandardLoggingV2(Construct(stack, "Other"), "AccessLogs", distribution=dist)
        assert first.name != nested.name
        CloudFrontStandardLoggingV2(stack, "Shop", distribution=dist, name="shop")
        with pytest.raises(
            ValueError, match=r"'shop-source' is asked for twice .*by TestStack/Shop and by TestStack/Again"
        ):
            CloudFrontStandardLoggingV2(stack, "Again", distribution=dist, name="shop")

    def test_to_s3_parquet_with_suffix_hive_and_documented_policy(self):
        stack = new_stack(region="us-east-1")
        bucket = s3.Bucket(stack, "Bucket")
        CloudFrontStandardLoggingV2(
            stack,
            "AccessLogs",
            distribution=distribution(stack),
            bucket=bucket,
            s3_suffix_path="{DistributionId}/{yyyy}/{MM}/{dd}/{HH}",
            hive_compatible_path=True,
            name="shop",
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Logs::LogGroup", 0)
        template.has_resource_properties(
            "AWS::Logs::DeliveryDestination",
            {
                "Name": "shop-destination",
                "OutputFormat": "parquet",
                "DestinationResourceArn": {"Fn::GetAtt": ["Bucket83908E77", "Arn"]},
            },
        )
        template.has_resource(
            "AWS::Logs::Delivery",
            {
                "Properties": {
                    "S3SuffixPath": "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}",
                    "S3EnableHiveCompatiblePath": True,
                },
                "DependsOn": [Match.string_like_regexp("^BucketPolicy")],
            },
        )
        (policy,) = template.find_resources("AWS::S3::BucketPolicy").values()
        write = by_sid(policy["Properties"]["PolicyDocument"]["Statement"], "AWSLogDeliveryWriteCloudFrontV2")
        assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert write["Condition"]["StringEquals"] == {
            "s3:x-amz-acl": "bucket-owner-full-control",
            "aws:SourceAccount": ACCOUNT,
        }
        assert write["Condition"]["ArnLike"]["aws:SourceArn"] == {
            "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":logs:us-east-1:{ACCOUNT}:delivery-source:*"]]
        }

    def test_existing_log_group_and_plain_format(self):
        stack = new_stack(region="us-east-1")
        group = logs.LogGroup.from_log_group_name(stack, "Group", "/existing")
        CloudFrontStandardLoggingV2(
            stack, "AccessLogs", distribution=distribution(stack), log_group=group, output_format=OutputFormat.W3C
        )
        template = Template.from_stack(stack)
        template.resource_count_is("AWS::Logs::LogGroup", 0)
        template.resource_count_is("AWS::KMS::Key", 0)
        template.has_resource_properties("AWS::Logs::DeliveryDestination", {"OutputFormat": "w3c"})

    @pytest.mark.parametrize(
        ("region", "kwargs", "message"),
        [
            ("eu-west-1", {}, r"CloudFront delivery sources exist only in us-east-1"),
            ("us-east-1", {"name": "has space"}, r"name 'has space' must be 1-50"),
            ("us-east-1", {"output_format": OutputFormat.PARQUET}, r"PARQUET is for S3 only"),
            ("us-east-1", {"s3_suffix_path": "{yyyy}"}, r"apply to an S3 destination, but bucket is None"),
        ],
    )
    def test_errors(self, region, kwargs, message):
        stack = new_stack(region=region)
        with pytest.raises(ValueError, match=message):
            CloudFrontStandardLoggingV2(stack, "AccessLogs", distribution=distribution(stack), **kwargs)

    def test_both_destinations_and_retention_with_destination(self):
        stack = new_stack(region="us-east-1")
        group = logs.LogGroup.from_log_group_name(stack, "Group", "/existing")
        with pytest.raises(ValueError, match=r"2 problems") as error:
            CloudFrontStandardLoggingV2(
                stack,
                "AccessLogs",
                distribution=distribution(stack),
                log_group=group,
                bucket=s3.Bucket(stack, "Bucket"),
                retention=logs.RetentionDays.ONE_DAY,
            )
        assert "not both" in str(error.value) and "retention applies only" in str(error.value)


def acknowledge_fixture_distribution(dist: cloudfront.Distribution) -> None:
    """The test distribution's own settings (WAF, geo restriction, default certificate) are out of scope here.

    As the owner of the distribution, the test also acknowledges cdk-nag's false CFR3 finding that
    logging set after creation raises (the library does not acknowledge on a user's distribution).
    """
    _nag.acknowledge(
        dist.node.default_child,  # type: ignore[arg-type]
        "Test fixture distribution; only its logging is under test.",
        "AwsSolutions-CFR1",
        "AwsSolutions-CFR2",
        "AwsSolutions-CFR4",
    )
    _nag.acknowledge(
        dist.node.default_child,  # type: ignore[arg-type]
        "Logging is on: constructs_lib sets DistributionConfig.Logging by override or delivers through v2.",
        CLOUDFRONT_LOGGING_NAG_FINDING,
    )


def acknowledged_rules(construct: cdk.IConstruct) -> list[str]:
    """The cdk-nag rule ids acknowledged on ``construct`` itself."""
    return [
        rule for entry in construct.node.metadata if entry.type == "aws:cdk:acknowledged-rules" for rule in entry.data
    ]


class TestNoAcknowledgementOnTheUsersDistribution:
    def test_neither_legacy_nor_v2_nor_the_aspect_acknowledges_anything_on_the_distribution(self):
        app = new_app()
        stack = cdk.Stack(app, "Edge", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
        access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
        legacy, v2, by_aspect = (distribution(stack, name) for name in ("Legacy", "V2", "ByAspect"))
        access_logs.enable_logging(legacy)
        CloudFrontStandardLoggingV2(stack, "ToLogs", distribution=v2)
        cdk.Aspects.of(app).add(AccessLogsForEveryDistribution(access_logs.bucket))
        app.synth()
        for dist in (legacy, v2, by_aspect):
            assert acknowledged_rules(dist.node.default_child) == []
            assert acknowledged_rules(dist) == []


@pytest.fixture(scope="module")
def gated_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cloudfront-gates")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "CloudFrontLogsGates", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    access_logs = CloudFrontAccessLogs(stack, "CloudFrontLogs")
    legacy, v2_logs, v2_s3, by_aspect = (distribution(stack, name) for name in ("Legacy", "V2Logs", "V2S3", "ByAspect"))
    for dist in (legacy, v2_logs, v2_s3, by_aspect):
        acknowledge_fixture_distribution(dist)
    access_logs.enable_logging(legacy, prefix="legacy/")
    CloudFrontStandardLoggingV2(stack, "ToLogs", distribution=v2_logs)
    CloudFrontStandardLoggingV2(stack, "ToS3", distribution=v2_s3, bucket=access_logs.bucket)
    cdk.Aspects.of(app).add(AccessLogsForEveryDistribution(access_logs.bucket))
    add_compliance_checks(app)
    app.synth()
    return outdir


class TestGates:
    def test_no_unacknowledged_nag_findings(self, gated_outdir):
        assert nag_failures(gated_outdir) == []

    def test_every_distribution_logs(self, gated_outdir):
        template = json.loads((gated_outdir / "CloudFrontLogsGates.template.json").read_text())
        distributions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudFront::Distribution"}
        with_legacy = {k for k, v in distributions.items() if "Logging" in v["Properties"]["DistributionConfig"]}
        assert {k[:6] for k in with_legacy} == {"Legacy", "ByAspe"}

    def test_cfn_lint_clean(self, gated_outdir):
        templates = sorted(str(p) for p in gated_outdir.glob("*.template.json"))
        result = cfn_lint(*templates)
        assert result.returncode == 0, result.stdout + result.stderr
