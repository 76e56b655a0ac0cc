"""Physical names: unique by default, fixed only when asked, never asked twice in one app."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import (
    DEFAULT_ROLE_NAME,
    AgentConfig,
    AuditTrail,
    CloudWatchAgent,
    ConfigRecorder,
    EventRouting,
    SecurityAlarms,
)


def two_stacks(account_b: str = "111111111111", region_b: str = "eu-west-1") -> tuple[cdk.Stack, cdk.Stack]:
    app = cdk.App()
    a = cdk.Stack(app, "A", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    b = cdk.Stack(app, "B", env=cdk.Environment(account=account_b, region=region_b))
    return a, b


class TestUniqueByDefault:
    def test_two_trails_in_one_stack_get_different_names_roles_and_log_groups(self):
        stack, _ = two_stacks()
        first = AuditTrail(stack, "First")
        second = AuditTrail(stack, "Second")
        assert first.trail_name != second.trail_name
        assert first.trail_name.startswith("A-First-")
        template = Template.from_stack(stack)
        names = [t["Properties"]["TrailName"] for t in template.find_resources("AWS::CloudTrail::Trail").values()]
        assert sorted(names) == sorted([first.trail_name, second.trail_name])
        # No fixed role name: CloudFormation generates one per trail.
        assert all("RoleName" not in r["Properties"] for r in template.find_resources("AWS::IAM::Role").values())

    def test_name_prefix_gives_a_readable_name(self):
        stack, _ = two_stacks()
        assert AuditTrail(stack, "Trail", name_prefix="acme").trail_name == "acme-audit-trail"

    def test_two_security_alarms_on_one_log_group_get_different_prefixes(self):
        stack, _ = two_stacks()
        group = logs.LogGroup.from_log_group_name(stack, "Trail", "/aws/cloudtrail/org")
        first = SecurityAlarms(stack, "First", log_group=group)
        second = SecurityAlarms(stack, "Second", log_group=group)
        assert first.alarm_name_prefix != second.alarm_name_prefix
        Template.from_stack(stack)  # synthesizes


class TestAskedTwice:
    def test_same_trail_name_in_two_stacks_of_one_account_and_region_fails_naming_both(self):
        a, b = two_stacks()
        AuditTrail(a, "Trail", trail_name="org-trail")
        with pytest.raises(
            ValueError, match=r"CloudTrail trail name 'org-trail' is asked for twice .* by A/Trail and by B/Trail"
        ):
            AuditTrail(b, "Trail", trail_name="org-trail")

    def test_same_trail_name_in_another_account_is_fine(self):
        a, b = two_stacks(account_b="222222222222")
        AuditTrail(a, "Trail", trail_name="org-trail")
        AuditTrail(b, "Trail", trail_name="org-trail")

    def test_role_names_are_global_per_account(self):
        a, b = two_stacks(region_b="us-east-1")
        AuditTrail(a, "Trail", role_name=DEFAULT_ROLE_NAME)
        with pytest.raises(ValueError, match=r"IAM role name 'CloudTrail_CloudWatchLogs_Role' is asked for twice"):
            AuditTrail(b, "Trail", role_name=DEFAULT_ROLE_NAME)

    def test_two_agents_writing_the_same_log_groups_fail_naming_both(self):
        stack, _ = two_stacks()
        CloudWatchAgent(stack, "Agent", config=AgentConfig.linux(), name="web")
        with pytest.raises(
            ValueError, match=r"log group name '/ec2/linux/messages' is asked for twice .* A/Agent .* A/Other"
        ):
            CloudWatchAgent(stack, "Other", config=AgentConfig.linux(), name="batch")

    def test_same_alarm_prefix_twice_fails(self):
        stack, _ = two_stacks()
        group = logs.LogGroup.from_log_group_name(stack, "Trail", "/aws/cloudtrail/org")
        SecurityAlarms(stack, "First", log_group=group, alarm_name_prefix="security")
        with pytest.raises(ValueError, match=r"alarm name prefix .security. is asked for twice"):
            SecurityAlarms(stack, "Second", log_group=group, alarm_name_prefix="security")

    def test_a_second_config_recorder_in_one_account_and_region_fails(self):
        a, b = two_stacks()
        ConfigRecorder(a, "Recorder", bucket=s3.Bucket(a, "ConfigBucket"))
        with pytest.raises(ValueError, match=r"Config recorder .* asked for twice .* by A/Recorder and by B/Recorder"):
            ConfigRecorder(b, "Recorder", bucket=s3.Bucket(b, "ConfigBucket"))

    def test_same_bus_name_twice_fails(self):
        stack, _ = two_stacks()
        EventRouting(stack, "Events")
        with pytest.raises(ValueError, match=r"EventBridge bus name 'security-events' is asked for twice"):
            EventRouting(stack, "More")
