"""Control Tower mode (issue 13): the config checks of ``control_tower``, and what the stacks skip and add
on a landing zone (config/control-tower.yaml)."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import assertions

from stacks import deployers
from stacks.baseline import build_stacks
from stacks.config import CONTROL_TOWER_TRAIL_LOG_GROUP, ConfigError, parse_config
from stacks.diagram import render, stacks_by_account_of
from stacks.landing_zone import adopted_recorder_name, trail_log_group_name, wants_aggregator
from stacks.org_settings import scp_documents
from tests.conftest import CDK_CONTEXT, EXAMPLE_CONFIGS, Synthesized

CT: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["control-tower"].read_text())
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())

#: What Control Tower owns: never in a template of Control Tower mode.
OWNED_BY_CONTROL_TOWER = {
    "AWS::Organizations::Organization",
    "AWS::Organizations::OrganizationalUnit",
    "AWS::CloudTrail::Trail",
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::Config::ConfigurationAggregator",
    "AWS::S3::Bucket",
}


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


def ct(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(CT)
    data.update(changes)
    return data


def types_of(template: dict[str, Any]) -> set[str]:
    return {r["Type"] for r in template["Resources"].values()}


# --- config checks ---------------------------------------------------------------------------------


def test_the_bundled_config_is_control_tower_mode_with_the_landing_zone_names():
    config = parse_config(copy.deepcopy(CT))
    assert config.on_control_tower
    assert trail_log_group_name(config) == CONTROL_TOWER_TRAIL_LOG_GROUP == "aws-controltower/CloudTrailLogs"
    assert adopted_recorder_name(config) == "aws-controltower-BaselineConfigRecorder"
    assert not wants_aggregator(config)
    # Standalone keeps its own trail's log group and no adopted recorder.
    example = parse_config(copy.deepcopy(EXAMPLE))
    assert not example.on_control_tower
    assert trail_log_group_name(example) == "/aws/cloudtrail/acme-organization-trail"
    assert adopted_recorder_name(example) is None and wants_aggregator(example)


def test_single_account_mode_cannot_run_on_control_tower():
    data = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
    data["control_tower"] = {}
    assert any(
        p.startswith("control_tower: a Control Tower landing zone governs an organization") for p in problems_of(data)
    )


def test_a_new_organization_is_refused():
    data = ct()
    data["organization"] = {"create": True}
    problems = problems_of(data)
    assert any(p.startswith("organization.create: true, but control_tower is on") for p in problems), problems


def test_an_ou_without_id_is_refused_as_ungoverned():
    data = ct()
    data["organization"]["organizational_units"][2]["children"][1].pop("id")
    problems = problems_of(data)
    assert [p for p in problems if "ungoverned" in p] == [
        "organization.organizational_units[2].children[1].id: missing for OU 'NonProd': in Control Tower mode the "
        "baseline creates no OU (an OU created outside Control Tower is not registered, so its accounts stay "
        "ungoverned: no Control Tower recorder evaluates the baseline's rules); create or register it in Control "
        "Tower and give its id (ou-...)"
    ]


def test_a_member_account_in_the_root_is_refused():
    data = ct()
    data["accounts"][5].pop("ou")
    assert any(p.startswith("accounts[5].ou: missing for 'sandbox'") for p in problems_of(data))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("log_archive_account", "payments-prod", "control_tower.log_archive_account: 'payments-prod' (its role is 'workload') must name the account of role 'log-archive'; allowed: log-archive"),
        ("audit_account", "nobody", "control_tower.audit_account: 'nobody' (no such account) must name the account of role 'audit'; allowed: audit"),
    ],
)  # fmt: skip
def test_landing_zone_accounts_name_the_accounts_of_their_role(field: str, value: str, expected: str):
    data = ct()
    data["control_tower"][field] = value
    assert expected in problems_of(data)


def test_the_audit_account_is_required_when_not_named():
    data = ct()
    data["control_tower"].pop("audit_account")
    data["accounts"] = [a for a in data["accounts"] if a["role"] != "audit"]
    assert (
        "accounts: Control Tower mode needs exactly one account with role 'audit' (Control Tower's audit account), got none"
        in problems_of(data)
    )


def test_the_landing_zone_home_region_must_be_the_home_region():
    data = ct()
    data["control_tower"]["home_region"] = "eu-west-1"
    problems = problems_of(data)
    assert any(
        p.startswith("control_tower.home_region: 'eu-west-1' differs from home_region 'eu-central-1'") for p in problems
    ), problems


def test_a_conflicting_adopted_recorder_is_refused_and_the_same_one_accepted():
    data = ct()
    data["aws_config"]["existing_recorder_name"] = "default"
    assert any(
        p.startswith("aws_config.existing_recorder_name: 'default' conflicts with control_tower.config_recorder_name")
        for p in problems_of(data)
    )
    data["aws_config"]["existing_recorder_name"] = "aws-controltower-BaselineConfigRecorder"
    assert parse_config(data).on_control_tower


def test_recording_settings_are_refused_they_belong_to_the_landing_zone():
    data = ct()
    data["aws_config"].update(recording_frequency="DAILY", excluded_resource_types=["AWS::EC2::NetworkInterface"])
    problems = [p for p in problems_of(data) if p.startswith("aws_config: ")]
    assert problems == [
        "aws_config: recording_frequency, excluded_resource_types would configure a recorder, but in Control Tower "
        "mode the rules are evaluated by Control Tower's 'aws-controltower-BaselineConfigRecorder' (its recording is "
        "set in the landing zone); remove them"
    ]


def test_our_aggregator_only_when_control_towers_is_not_reused():
    data = ct()
    data["aws_config"]["aggregator"] = True
    assert any(
        p.startswith("aws_config.aggregator: true, but control_tower.config_aggregator is true")
        for p in problems_of(data)
    )
    data["control_tower"]["config_aggregator"] = False
    assert wants_aggregator(parse_config(data))


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("cloudtrail", "trail_name", "my-trail"),
        ("cloudtrail", "insights", {"api_call_rate": True}),
        ("log_archive", "retention_days", 3650),
        ("log_archive", "object_lock", {"mode": "GOVERNANCE", "days": 30}),
    ],
)
def test_settings_of_what_control_tower_owns_are_refused(section: str, key: str, value: Any):
    data = ct(**{section: {key: value}})
    problems = [p for p in problems_of(data) if p.startswith(f"{section}.{key}: ")]
    assert len(problems) == 1, problems
    assert "configures what Control Tower owns in Control Tower mode" in problems[0]
    assert problems[0].endswith(f"remove {section}.{key}")


def test_delegated_administrator_for_cloudtrail_is_refused():
    data = ct()
    data["service_control_policies"]["delegated_administrators"] = {"cloudtrail": True}
    assert any(
        p.startswith("service_control_policies.delegated_administrators.cloudtrail: true, but in Control Tower mode")
        for p in problems_of(data)
    )


def test_every_problem_is_reported_together():
    data = ct(cloudtrail={"trail_name": "mine"})
    data["control_tower"]["home_region"] = "us-east-1"
    data["organization"]["organizational_units"][1].pop("id")
    problems = problems_of(data)
    assert len([p for p in problems if p.startswith(("cloudtrail.", "control_tower.", "organization."))]) == 3


def test_enabled_false_is_standalone_mode():
    """The section switched off: no Control Tower check applies and the standalone stacks come back."""
    data = ct(cloudtrail={"trail_name": "northwind-trail"})
    data["control_tower"]["enabled"] = False
    data["organization"]["organizational_units"][1].pop("id")
    config = parse_config(data)
    assert not config.on_control_tower
    assert "northwind-log-archive" in stacks_by_account_of(config)["710000000002"]


# --- composition ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["control-tower"]


def all_templates(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        **{name: synth.template_json(name) for name in synth.stacks},
        **synth.stackset_templates(),
    }


def test_nothing_control_tower_owns_is_created_anywhere(synth: Synthesized):
    templates = all_templates(synth)
    assert len(templates) == 5
    for name, template in templates.items():
        assert not types_of(template) & OWNED_BY_CONTROL_TOWER, name
    # No log-archive stack at all: Control Tower owns that account's buckets.
    assert "northwind-log-archive" not in synth.stacks


def test_security_alarms_and_trail_health_read_control_towers_trail_log_group(synth: Synthesized):
    management = synth.stacks["northwind-management"]
    assert (management.account, management.region) == ("710000000001", "eu-central-1")
    template = synth.template_json("northwind-management")
    filters = [r for r in template["Resources"].values() if r["Type"] == "AWS::Logs::MetricFilter"]
    assert len(filters) >= 15  # the CIS detections, the heartbeat
    assert {f["Properties"]["LogGroupName"] for f in filters} == {"aws-controltower/CloudTrailLogs"}
    root_usage = synth.template("northwind-management")
    root_usage.has_resource_properties(
        "AWS::Logs::MetricFilter",
        {
            "LogGroupName": "aws-controltower/CloudTrailLogs",
            "FilterPattern": assertions.Match.string_like_regexp("Root"),
        },
    )
    root_usage.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "northwind-security-root-account-usage"})
    root_usage.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "northwind-trail-health-heartbeat"})
    # The saved queries name the same log group.
    queries = [r for r in template["Resources"].values() if r["Type"] == "AWS::Logs::QueryDefinition"]
    assert queries and all(
        q["Properties"]["LogGroupNames"] == ["aws-controltower/CloudTrailLogs"]
        for q in queries
        if "LogGroupNames" in q["Properties"]
    )


def test_no_trusted_access_for_cloudtrail_the_organization_is_only_referenced(synth: Synthesized):
    template = json.dumps(synth.template_json("northwind-management"))
    assert "cloudtrail.amazonaws.com" not in template
    management = synth.template("northwind-management")
    management.resource_count_is("AWS::Organizations::Policy", 3)
    management.has_resource_properties(
        "AWS::Organizations::Policy", {"Name": "protect-audit-logging", "TargetIds": ["r-n7w1"]}
    )


def test_the_stackset_evaluates_rules_with_control_towers_recorder_in_the_registered_ous(synth: Synthesized):
    (stackset_template,) = synth.stackset_templates().values()
    rules = {k: r for k, r in stackset_template["Resources"].items() if r["Type"] == "AWS::Config::ConfigRule"}
    assert len(rules) >= 10
    # No recorder of ours to wait for: Control Tower's exists in every enrolled account.
    for rule in rules.values():
        for dependency in rule.get("DependsOn", []):
            assert stackset_template["Resources"][dependency]["Type"] != "AWS::Config::ConfigurationRecorder"
    management = synth.template("northwind-management")
    management.has_resource_properties(
        "AWS::CloudFormation::StackSet",
        {
            "StackSetName": "northwind-workload-baseline",
            "PermissionModel": "SERVICE_MANAGED",
            # Off on Control Tower: the Account Factory roll-out adds vended accounts once Control
            # Tower has set them up (docs/control-tower.md "Account Factory roll-out").
            "AutoDeployment": {"Enabled": False},
            "StackInstancesGroup": [
                {
                    "DeploymentTargets": {
                        "OrganizationalUnitIds": ["ou-n7w1-secur1ty", "ou-n7w1-sandb0x1", "ou-n7w1-w0rkl0ad"]
                    },
                    "Regions": ["eu-central-1", "eu-west-1"],
                }
            ],
        },
    )
    # The StackSet waits for CloudFormation's trusted access to Organizations.
    stack_sets = management.find_resources("AWS::CloudFormation::StackSet")
    (stack_set,) = stack_sets.values()
    template = synth.template_json("northwind-management")
    assert any(template["Resources"][d]["Type"] == "Custom::AWS" for d in stack_set["DependsOn"])


def test_the_management_account_gets_no_config_rules_without_a_recorder(synth: Synthesized):
    for region in ("eu-central-1", "eu-west-1"):
        name = f"northwind-baseline-management-{region}"
        types = types_of(synth.template_json(name))
        assert "AWS::Config::ConfigRule" not in types, name
        assert "AWS::Events::Rule" in types  # security event forwarding stays
        assert synth.stacks[name].dependencies == []  # no log-archive stack to wait for


def _config_health_alarms(template: dict[str, Any]) -> list[str]:
    return sorted(
        r["Properties"]["AlarmName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "AWS/Config" in json.dumps(r["Properties"])
    )


def test_config_health_alarms_only_where_control_tower_records(synth: Synthesized):
    # The management account records nothing on Control Tower: AWS/Config would never publish there.
    for region in ("eu-central-1", "eu-west-1"):
        assert _config_health_alarms(synth.template_json(f"northwind-baseline-management-{region}")) == []
    assert _config_health_alarms(synth.stackset_template()) == [
        "northwind-health-config-change-notifications",
        "northwind-health-config-history-export",
        "northwind-health-config-recorder-permissions",
        "northwind-health-config-snapshot-export",
    ]


def test_the_audit_stack_holds_the_central_bus_and_dashboard_but_no_aggregator(synth: Synthesized):
    audit = synth.template("northwind-audit")
    audit.resource_count_is("AWS::Events::EventBus", 1)
    audit.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    audit.resource_count_is("AWS::Config::ConfigurationAggregator", 0)
    dashboard = json.dumps(synth.template_json("northwind-audit"))
    # The delivery and health widgets read Control Tower's trail log group, never a group of a trail of ours.
    assert "aws-controltower/CloudTrailLogs" in dashboard
    assert "/aws/cloudtrail/" not in dashboard


def test_our_aggregator_when_control_towers_is_not_reused():
    data = ct()
    data["control_tower"]["config_aggregator"] = False
    stacks = build_stacks(cdk.App(context=dict(CDK_CONTEXT)), parse_config(data))
    audit = assertions.Template.from_stack(stacks["northwind-audit"])
    audit.has_resource_properties(
        "AWS::Config::ConfigurationAggregator",
        {
            "ConfigurationAggregatorName": "northwind-organization",
            "OrganizationAggregationSource": assertions.Match.any_value(),
        },
    )


def test_deployers_are_the_stacks_the_app_builds_and_none_is_denied(synth: Synthesized):
    config = synth.config
    found = deployers.deployers(config)
    members = {a.id for a in config.accounts if a.role.value != "management"}
    cdk_stacks = {
        (d.deployment, d.account.id) for d in found if d.deployment not in ("workload-baseline", "control-tower")
    }
    built = {(n.removeprefix("northwind-"), s.account) for n, s in synth.stacks.items() if s.account in members}
    assert cdk_stacks == built == {("audit", "710000000003")}
    assert sorted(d.account.id for d in found if d.deployment == "workload-baseline") == sorted(members)
    # Control Tower's execution role deploys its own baseline into every enrolled account.
    assert sorted(d.account.id for d in found if d.deployment == "control-tower") == sorted(members)
    templates = {
        "audit": synth.template_json("northwind-audit"),
        "workload-baseline": next(iter(synth.stackset_templates().values())),
    }
    for key, template in templates.items():
        assert not types_of(template) - deployers.deployment_types()[key], key
    actual = {key: sorted(types_of(t)) for key, t in templates.items()}
    actual["control-tower"] = sorted(deployers.deployment_types()["control-tower"])  # what Control Tower deploys
    assert deployers.denials(config, scp_documents(config), resource_types=actual) == []


def test_the_diagram_shows_control_towers_trail_and_no_log_archive_stack():
    from stacks.config import load_config

    config = load_config(EXAMPLE_CONFIGS["control-tower"])
    picture = render(config, stacks_by_account_of(config))
    assert "Control Tower trail aws-controltower-BaselineCloudTrail" in picture
    assert "northwind-log-archive" not in picture
    assert "StackSet northwind-workload-baseline" in picture
