"""Policy builders and helpers shared by the constructs and the cross-account stacks."""

from __future__ import annotations

import pytest
from aws_cdk import aws_logs as logs

from constructs_lib import RETENTION_DAYS, policies, retention_from_days
from constructs_lib._nag import in_compliance_packs, rendered
from tests.conftest import new_stack


def test_trail_arn_is_built_from_the_name_in_another_account():
    stack = new_stack()
    arn = stack.resolve(policies.trail_arn(stack, trail_name="org", account="999999999999", region="us-east-1"))
    assert arn == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":cloudtrail:us-east-1:999999999999:trail/org"]]
    }


def test_bucket_statements_with_prefix_and_organization():
    stack = new_stack()
    acl, write = policies.cloudtrail_bucket_statements(
        bucket_arn="arn:aws:s3:::b",
        trail_arns=["t1"],
        account_ids=["111111111111"],
        organization_id="o-a1b2c3d4e5",
        prefix="/ct/",
    )
    document = stack.resolve(write.to_statement_json())
    assert document["Resource"] == [
        "arn:aws:s3:::b/ct/AWSLogs/111111111111/*",
        "arn:aws:s3:::b/ct/AWSLogs/o-a1b2c3d4e5/*",
    ]
    assert stack.resolve(acl.to_statement_json())["Condition"] == {"StringEquals": {"aws:SourceArn": "t1"}}


def test_several_trails_are_listed():
    (acl, _) = policies.cloudtrail_bucket_statements(
        bucket_arn="arn:aws:s3:::b", trail_arns=["t1", "t2"], account_ids=["1"]
    )
    assert new_stack().resolve(acl.to_statement_json())["Condition"]["StringEquals"]["aws:SourceArn"] == ["t1", "t2"]


def test_retention_from_days():
    assert len(RETENTION_DAYS) == 22
    assert retention_from_days(365).name == "ONE_YEAR"
    # Every finite member of aws-cdk's enum, once, in the order of their days.
    members = dict(RETENTION_DAYS)
    assert set(members.values()) == set(logs.RetentionDays) - {logs.RetentionDays.INFINITE}
    assert list(members) == sorted(members) and 365 in RETENTION_DAYS and 100 not in RETENTION_DAYS
    with pytest.raises(ValueError, match="100 is not a CloudWatch Logs retention period; allowed days: 1, 3, 5, 7"):
        retention_from_days(100)


def test_nag_helpers():
    assert in_compliance_packs("X") == ["NIST.800.53.R5-X", "HIPAA.Security-X", "PCI.DSS.321-X"]
    stack = new_stack()
    assert (
        rendered(stack, stack.format_arn(service="s3", resource="b", region="", account=""))
        == "arn:<AWS::Partition>:s3:::b"
    )
