"""The example organization and the single-account config, as `cdk synth` produces them."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from tests.conftest import Synthesized

MANAGEMENT = "111111111111"
ARCHIVE = "222222222222"
# cdk.json turns on partition literals: with a concrete region the partition is known at synth.
ORG_TRAIL_ARN = f"arn:aws:cloudtrail:eu-west-1:{MANAGEMENT}:trail/acme-organization-trail"


def test_organization_mode_builds_log_archive_then_management(synthesized: dict[str, Synthesized]):
    example = synthesized["example"]
    assert list(example.stacks) == ["acme-log-archive", "acme-management", "acme-audit"]
    archive, management, _audit = example.stacks.values()
    assert archive.account == ARCHIVE and management.account == MANAGEMENT
    assert archive.region == management.region == "eu-west-1"
    assert management.dependencies == [archive]


def test_log_archive_bucket_admits_only_the_organization_trail(synthesized: dict[str, Synthesized]):
    template = synthesized["example"].template_json("acme-log-archive")
    resources = template["Resources"]
    bucket = resources["CloudTrailBucket48E312B6"]
    assert bucket["Properties"]["BucketName"] == "acme-cloudtrail-222222222222-eu-west-1"
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": "GOVERNANCE",
        "Days": 365,
    }
    (policy,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": "CloudTrailBucket48E312B6"}
    ]
    write = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "AWSCloudTrailWrite")
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == ORG_TRAIL_ARN
    paths = json.dumps(write["Resource"])
    assert f"/AWSLogs/{MANAGEMENT}/*" in paths and "/AWSLogs/o-a1b2c3d4e5/*" in paths


def test_log_archive_key_is_aliased_and_lets_only_the_management_trail_encrypt(synthesized: dict[str, Synthesized]):
    template = synthesized["example"].template("acme-log-archive")
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/acme/log-archive"})
    key = template.to_json()["Resources"]["LogArchiveKey3EA712C9"]
    assert key["DeletionPolicy"] == "Retain"
    encrypt = next(
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudTrailToEncryptLogs"
    )
    assert encrypt["Condition"]["StringEquals"]["aws:SourceArn"] == ORG_TRAIL_ARN
    assert MANAGEMENT in json.dumps(encrypt["Condition"]["StringLike"])


def test_access_log_bucket_keeps_access_logs_for_the_configured_days(synthesized: dict[str, Synthesized]):
    template = synthesized["example"].template("acme-log-archive")
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "acme-access-logs-222222222222-eu-west-1",
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": 365, "Transitions": Match.absent()})]
            },
        },
    )


def test_management_trail_is_an_organization_trail_into_the_archive(synthesized: dict[str, Synthesized]):
    template = synthesized["example"].template("acme-management")
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "TrailName": "acme-organization-trail",
            "IsOrganizationTrail": True,
            "S3BucketName": "acme-cloudtrail-222222222222-eu-west-1",
            "KMSKeyId": "arn:aws:kms:eu-west-1:222222222222:alias/acme/log-archive",
            "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}],
            "Tags": Match.array_with([{"Key": "owner", "Value": "platform-team"}]),
        },
    )
    resources = template.to_json()["Resources"]
    for logical_id in ("OrganizationTrailKey6914D6D8", "OrganizationTrailLogGroupB83451B1"):
        assert resources[logical_id]["DeletionPolicy"] == "Retain"


def test_single_account_stack_holds_the_whole_trail_bundle(synthesized: dict[str, Synthesized]):
    single = synthesized["single-account"]
    assert list(single.stacks) == ["solo-single-account"]
    (stack,) = single.stacks.values()
    assert (stack.account, stack.region) == ("999999999999", "us-east-1")
    template = single.template("solo-single-account")
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "TrailName": "solo-audit-trail",
            "IsOrganizationTrail": False,
            "AdvancedEventSelectors": [
                {
                    "Name": "Management events",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                    ],
                }
            ],
        },
    )
    resources = template.to_json()["Resources"]
    for logical_id in (
        "TrailKey31F874A3",
        "TrailBucket7F7024F7",
        "TrailAccessLogsBucketA0DDCE10",
        "TrailLogGroup4CBE3AF5",
    ):
        assert resources[logical_id]["DeletionPolicy"] == "Retain", logical_id
    assert (
        resources["TrailBucket7F7024F7"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 731
    )


def test_log_archive_key_lets_readers_and_the_trail_creator_decrypt_only_log_files(synthesized: dict[str, Synthesized]):
    key = synthesized["example"].template_json("acme-log-archive")["Resources"]["LogArchiveKey3EA712C9"]
    decrypt = next(
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowLogReadersToDecryptLogFiles"
    )
    assert decrypt["Condition"]["StringEquals"]["kms:CallerAccount"] == [ARCHIVE, MANAGEMENT]
    assert decrypt["Condition"]["Null"] == {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}
