"""LogBucket and its option structs."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from constructs_lib import LifecycleOptions, LogBucket, ObjectLockMode, ObjectLockOptions
from tests.conftest import new_stack


def test_access_log_bucket_uses_sse_s3_and_receives_logs_by_bucket_policy():
    stack = new_stack()
    target = LogBucket(stack, "AccessLogs", server_access_logs=False)
    LogBucket(
        stack, "Logs", encryption_key=kms.Key(stack, "Key", enable_key_rotation=True), access_logs_bucket=target.bucket
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "LoggingConfiguration": Match.absent(),
            "AccessControl": Match.absent(),
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject"}
                        )
                    ]
                )
            }
        },
    )
    template.has_resource_properties("AWS::S3::Bucket", {"LoggingConfiguration": {"LogFilePrefix": "Logs/"}})


def test_defaults_are_retained_versioned_and_abort_incomplete_uploads():
    stack = new_stack()
    LogBucket(stack, "AccessLogs", server_access_logs=False)
    resource = Template.from_stack(stack).to_json()["Resources"]
    (bucket,) = [r for r in resource.values() if r["Type"] == "AWS::S3::Bucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    rule = bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_no_transition_and_no_expiry():
    stack = new_stack()
    LogBucket(
        stack,
        "B",
        server_access_logs=False,
        lifecycle=LifecycleOptions(transition_after_days=None, expire_after_days=None),
    )
    rule = Template.from_stack(stack).to_json()["Resources"]
    (bucket,) = [r for r in rule.values() if r["Type"] == "AWS::S3::Bucket"]
    lifecycle_rule = bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]
    assert "Transitions" not in lifecycle_rule and "ExpirationInDays" not in lifecycle_rule


def test_object_lock_governance():
    stack = new_stack()
    LogBucket(
        stack, "B", server_access_logs=False, object_lock=ObjectLockOptions(mode=ObjectLockMode.GOVERNANCE, days=30)
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
            }
        },
    )


def test_access_logs_are_required_unless_switched_off():
    with pytest.raises(ValueError, match="access_logs_bucket is required while server_access_logs is True"):
        LogBucket(new_stack(), "B")
    stack = new_stack()
    other = s3.Bucket(stack, "Other")
    with pytest.raises(ValueError, match="access_logs_bucket was given with server_access_logs=False"):
        LogBucket(stack, "B", server_access_logs=False, access_logs_bucket=other)


def test_removal_policy_override():
    stack = new_stack()
    LogBucket(stack, "B", server_access_logs=False, removal_policy=cdk.RemovalPolicy.DESTROY)
    (bucket,) = [
        r for r in Template.from_stack(stack).to_json()["Resources"].values() if r["Type"] == "AWS::S3::Bucket"
    ]
    assert bucket["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"mode": "GOVERNANCE", "days": 10},
            r"mode must be ObjectLockMode.GOVERNANCE or ObjectLockMode.COMPLIANCE \(got 'GOVERNANCE'\)",
        ),
        ({"mode": None, "days": 10}, r"mode must be .* \(got None\)"),
        ({"mode": ObjectLockMode.COMPLIANCE, "days": 0}, r"days must be a whole number of days >= 1 \(got 0\)"),
    ],
)
def test_object_lock_options_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ObjectLockOptions(**kwargs)


def test_lifecycle_expiry_must_follow_transition():
    with pytest.raises(ValueError, match=r"expire_after_days \(30\) must be greater than transition_after_days \(90\)"):
        LifecycleOptions(transition_after_days=90, expire_after_days=30)
    with pytest.raises(
        ValueError, match=r"transition_after_days must be None or a whole number of days >= 1 \(got -1\)"
    ):
        LifecycleOptions(transition_after_days=-1)
