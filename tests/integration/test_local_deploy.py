"""Deploys the single-account config into moto and asserts what the emulator really created."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, Synthesized
from tests.integration.local_deploy import CDK, Row, deploy_and_verify, table


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    if not CDK.exists():
        pytest.fail("the CDK CLI is not installed: run `make test`, which runs `npm ci` first")
    result, notes = deploy_and_verify(ROOT / "config" / "single-account.yaml")
    assert notes == [
        "config tags dropped: moto 5.2.5 cannot create a KMS key with tags through CloudFormation",
        "observability.central_bus switched off: moto 5.2.5 cannot create a rule on an event bus of the same template",
        "observability.dashboard switched off: moto 5.2.5 cannot resolve the ARN of an alarm it skips",
    ]
    return result


def by_type(rows: list[Row], resource_type: str) -> list[Row]:
    return [r for r in rows if r.resource_type == resource_type]


def test_buckets_exist_with_their_encryption(rows: list[Row]):
    buckets = {r.logical_id: r for r in by_type(rows, "AWS::S3::Bucket")}
    assert buckets["TrailBucket7F7024F7"].created
    assert buckets["TrailBucket7F7024F7"].detail.startswith("encryption aws:kms")
    assert buckets["TrailAccessLogsBucketA0DDCE10"].detail.startswith("encryption AES256")


def test_key_topic_log_group_role_and_policy_exist(rows: list[Row]):
    for resource_type in (
        "AWS::KMS::Key",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
    ):
        found = by_type(rows, resource_type)
        assert found and all(r.created for r in found), found
    topics = by_type(rows, "AWS::SNS::Topic")
    assert {t.logical_id for t in topics} >= {"TrailTopicA2324151"}
    assert all(t.detail == "KMS-encrypted" for t in topics), topics
    (trail_log_group,) = [r for r in by_type(rows, "AWS::Logs::LogGroup") if r.logical_id == "TrailLogGroup4CBE3AF5"]
    assert trail_log_group.detail.startswith("retention 365 days")
    (trail_role,) = [r for r in by_type(rows, "AWS::IAM::Role") if r.logical_id == "TrailCloudWatchLogsRoleA041CF61"]
    assert "cloudtrail.amazonaws.com" in trail_role.detail


def test_types_the_emulator_skips_are_reported_as_not_created(rows: list[Row]):
    (trail,) = by_type(rows, "AWS::CloudTrail::Trail")
    assert not trail.created
    report = table(rows)
    assert "AWS::CloudTrail::Trail" in report and "accepted by the emulator's CloudFormation, not created" in report


def test_every_template_resource_has_a_row(rows: list[Row], synthesized: dict[str, Synthesized]):
    single = synthesized["single-account"]
    expected = {
        logical_id
        for stack in single.stacks
        for logical_id, r in single.template_json(stack)["Resources"].items()
        if r["Type"] != "AWS::CDK::Metadata"
    }
    # Everything of the bundled config but the central bus and dashboard the emulator cannot take.
    central_bus = {
        logical_id
        for logical_id in expected
        if logical_id.startswith(("SecurityEvents", "ForwardSecurityEvents", "SecurityDashboard"))
    }
    assert central_bus
    assert {r.logical_id for r in rows} == expected - central_bus
