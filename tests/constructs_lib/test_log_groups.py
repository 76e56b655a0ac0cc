"""The one encrypted-log-group helper: every construct's new log group gets the documented defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from constructs_lib import (
    AgentConfig,
    AuditTrail,
    CloudFrontStandardLoggingV2,
    CloudWatchAgent,
    EventRouting,
    FlowLogResource,
    VpcFlowLogs,
)
from constructs_lib._log_groups import DEFAULT_RETENTION
from tests.conftest import new_stack


def _v2(stack: cdk.Stack) -> Any:
    distribution = cloudfront.Distribution(
        stack, "Cdn", default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin("example.com"))
    )
    return CloudFrontStandardLoggingV2(stack, "X", distribution=distribution)


BUILDERS: dict[str, tuple[str, Callable[[cdk.Stack], Any]]] = {
    "AuditTrail": ("eu-west-1", lambda s: AuditTrail(s, "X")),
    "CloudFrontStandardLoggingV2": ("us-east-1", _v2),
    "CloudWatchAgent": ("eu-west-1", lambda s: CloudWatchAgent(s, "X", config=AgentConfig.linux())),
    "EventRouting": ("eu-west-1", lambda s: EventRouting(s, "X")),
    "VpcFlowLogs": ("eu-west-1", lambda s: VpcFlowLogs(s, "X", resource=FlowLogResource.vpc("vpc-0123456789abcdef0"))),
}


def test_documented_default_retention_is_one_year():
    assert DEFAULT_RETENTION is logs.RetentionDays.ONE_YEAR


@pytest.mark.parametrize("name", list(BUILDERS))
def test_new_log_groups_are_encrypted_retained_for_a_year_with_the_logs_statement_on_their_key(name):
    region, build = BUILDERS[name]
    stack = new_stack(region=region)
    build(stack)
    template = Template.from_stack(stack)
    groups = template.find_resources("AWS::Logs::LogGroup")
    assert groups
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == 365
        assert "KmsKeyId" in group["Properties"]
        assert group["DeletionPolicy"] == "Retain" and group["UpdateReplacePolicy"] == "Retain"
    key_statements = [
        s for k in template.find_resources("AWS::KMS::Key").values() for s in k["Properties"]["KeyPolicy"]["Statement"]
    ]
    (logs_statement,) = [s for s in key_statements if s.get("Sid") == "AllowCloudWatchLogsToUseKey"]
    assert logs_statement["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
