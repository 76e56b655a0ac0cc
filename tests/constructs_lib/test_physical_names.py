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
    ConfigAggregator,
    ConfigRecorder,
    ConfigRules,
    EventRouting,
    MonitoringDashboard,
    ObservabilitySink,
    SecurityAlarms,
)
from tests.conftest import new_app


def two_stacks(account_b: str = "111111111111", region_b: str = "eu-west-1") -> tuple[cdk.Stack, cdk.Stack]:
    app = new_app()
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


class TestUniqueByDefaultElsewhere:
    """Bus, dashboard, aggregator, Config rules and agent: two of each with no name given coexist in one stack."""

    def test_two_of_each_synthesize_side_by_side(self):
        stack, _ = two_stacks()
        buses = [EventRouting(stack, f"Events{i}").bus_name for i in (1, 2)]
        dashboards = [MonitoringDashboard(stack, f"Dashboard{i}").dashboard_name for i in (1, 2)]
        aggregators = [
            ConfigAggregator(stack, f"Aggregator{i}", account_ids=[stack.account]).aggregator_name for i in (1, 2)
        ]
        prefixes = [ConfigRules(stack, f"Rules{i}").rule_name_prefix for i in (1, 2)]
        agents = [CloudWatchAgent(stack, f"Agent{i}") for i in (1, 2)]
        for names in (buses, dashboards, aggregators, prefixes, [a.parameter_name for a in agents]):
            assert len(set(names)) == 2, names
        assert not set(agents[0].log_groups) & set(agents[1].log_groups)
        template = Template.from_stack(stack)
        assert {
            r["Properties"]["DashboardName"] for r in template.find_resources("AWS::CloudWatch::Dashboard").values()
        } == set(dashboards)

    def test_the_config_recorder_keeps_its_fixed_default_name(self):
        # One recorder per account and region: a unique name would not avoid that limit, and a changed
        # name replaces the recorder, which fails while the old one exists. A second one fails at synth.
        stack, _ = two_stacks()
        recorder = ConfigRecorder(stack, "Recorder", bucket=s3.Bucket(stack, "ConfigBucket"))
        assert recorder.recorder_name == "default"


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
        EventRouting(stack, "Events", bus_name="security-events")
        with pytest.raises(ValueError, match=r"EventBridge bus name 'security-events' is asked for twice"):
            EventRouting(stack, "More", bus_name="security-events")

    def test_two_dashboards_with_one_name_in_two_regions_of_one_account_fail(self):
        # Dashboards are global per account: PutDashboard would replace the first one.
        a, b = two_stacks(region_b="us-east-1")
        MonitoringDashboard(a, "Dashboard", dashboard_name="security-overview")
        with pytest.raises(
            ValueError, match=r"CloudWatch dashboard name 'security-overview' is asked for twice in 111111111111: "
        ):
            MonitoringDashboard(b, "Dashboard", dashboard_name="security-overview")

    def test_a_second_oam_sink_in_one_account_and_region_fails(self):
        a, b = two_stacks()
        ObservabilitySink(a, "Sink", organization_id="o-a1b2c3d4e5")
        with pytest.raises(ValueError, match=r"OAM sink \(one per account and region\) .* by A/Sink and by B/Other"):
            ObservabilitySink(b, "Other", sink_name="other", organization_id="o-a1b2c3d4e5")
