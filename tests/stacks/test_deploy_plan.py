"""stacks/deploy_plan.py: environments to bootstrap and fixed physical names, checked against the
synthesized templates (the snapshots test_gates proves equal to them) and docs/organization.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stacks import deploy_plan
from stacks.config import load_config, parse_config
from stacks.deploy_plan import NAME_ATTRIBUTES, NOT_FIXED, DeployPlan, build_plan
from tests.conftest import EXAMPLE_CONFIGS, ROOT

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_gates"
#: The CloudFormation property holding each fixed name (NAME_ATTRIBUTES holds the L1 attribute).
NAME_PROPERTIES = {
    "AWS::CloudFormation::StackSet": "StackSetName",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Config::ConfigRule": "ConfigRuleName",
    "AWS::Config::ConfigurationAggregator": "ConfigurationAggregatorName",
    "AWS::Config::ConfigurationRecorder": "Name",
    "AWS::Config::DeliveryChannel": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Oam::Sink": "Name",
    "AWS::Organizations::Policy": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SSM::Parameter": "Name",
}
#: Properties named like a name that name something else (a referenced bucket, a metric, a display text).
NOT_NAMES = {"S3BucketName", "MetricName", "DisplayName", "ServiceName", "FilterName"}


@pytest.fixture(scope="module")
def plans() -> dict[str, DeployPlan]:
    return {name: build_plan(load_config(path)) for name, path in EXAMPLE_CONFIGS.items()}


def _templates(config: str) -> dict[str, dict]:
    """Synthesized templates by creator ("StackSet <name>" for the StackSet template)."""
    templates = {}
    for path in SNAPSHOTS.glob(f"test_snapshot[[]{config}-*].json"):
        templates[path.name.removeprefix(f"test_snapshot[{config}-").removesuffix("].json")] = json.loads(
            path.read_text()
        )
    for path in SNAPSHOTS.glob(f"test_stackset_template_snapshot[[]{config}-*].json"):
        templates[f"StackSet {load_config(EXAMPLE_CONFIGS[config]).naming.prefix}-workload-baseline"] = json.loads(
            path.read_text()
        )
    return templates


def test_name_properties_cover_the_fixed_types():
    assert set(NAME_PROPERTIES) == set(NAME_ATTRIBUTES)
    assert not set(NAME_ATTRIBUTES) & set(NOT_FIXED)


@pytest.mark.parametrize("config", list(EXAMPLE_CONFIGS))
def test_fixed_names_are_exactly_the_literal_names_of_the_templates(plans: dict[str, DeployPlan], config: str):
    templates = _templates(config)
    assert len(templates) >= 2
    in_templates = set()
    for creator, template in templates.items():
        for resource in template["Resources"].values():
            prop = NAME_PROPERTIES.get(resource["Type"])
            value = (resource.get("Properties") or {}).get(prop)
            if isinstance(value, str):
                in_templates.add((resource["Type"], value, creator))
    planned = {(f.resource_type, f.name, f.stack) for f in plans[config].fixed_names}
    assert planned == in_templates


@pytest.mark.parametrize("config", list(EXAMPLE_CONFIGS))
def test_every_literal_name_in_the_templates_is_classified(config: str):
    """A new resource type with a literal name fails here until it is a fixed name or explained in NOT_FIXED."""
    unclassified = set()
    for template in _templates(config).values():
        for resource in template["Resources"].values():
            for key, value in (resource.get("Properties") or {}).items():
                classified = resource["Type"] in NAME_ATTRIBUTES or resource["Type"] in NOT_FIXED
                if key.endswith("Name") and key not in NOT_NAMES and isinstance(value, str) and not classified:
                    unclassified.add((resource["Type"], key))
    assert unclassified == set()


def test_fixed_names_place_stackset_resources_in_every_target_account_and_region(plans: dict[str, DeployPlan]):
    by_key = {(f.resource_type, f.name, f.stack): f for f in plans["example"].fixed_names}
    recorder = by_key[("AWS::Config::ConfigurationRecorder", "default", "StackSet acme-workload-baseline")]
    assert recorder.accounts == ("222222222222", "333333333333", "444444444444", "555555555555")
    assert recorder.regions == ("eu-west-1", "eu-central-1", "us-east-1")
    # Account-wide rules are gated to the home region by the template's IsHomeRegion condition.
    root_mfa = by_key[("AWS::Config::ConfigRule", "acme-root-account-mfa-enabled", "StackSet acme-workload-baseline")]
    assert root_mfa.regions == ("eu-west-1",)
    role = by_key[("AWS::IAM::Role", "CloudTrail_CloudWatchLogs_Role", "acme-management")]
    assert role.accounts == ("111111111111",) and role.is_global


def test_stackset_targets_follow_target_organizational_units():
    data = json.loads(json.dumps(_example_data()))
    data["stacksets"] = {"target_organizational_units": ["Workloads"]}
    config = parse_config(data)
    # Nested OUs count: Production and NonProduction sit under Workloads.
    assert deploy_plan.stackset_target_accounts(config) == ("444444444444", "555555555555")
    data["stacksets"] = {"target_organizational_units": []}
    assert deploy_plan.stackset_target_accounts(parse_config(data)) == (
        "222222222222",
        "333333333333",
        "444444444444",
        "555555555555",
    )


def _example_data() -> dict:
    import yaml

    return yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def test_bootstrap_commands_cover_every_environment_with_trust(plans: dict[str, DeployPlan]):
    config = load_config(EXAMPLE_CONFIGS["example"])
    commands = deploy_plan.bootstrap_commands(config, plans["example"])
    environments = {(e.account, e.region) for e in plans["example"].environments}
    # The example workload's account gets a CDK stack, so it is bootstrapped like the others.
    assert ("444444444444", "eu-west-1") in environments
    bootstrapped = {(a, r) for c in commands for a, r in re.findall(r"aws://(\d{12})/([a-z0-9-]+)", c)}
    assert bootstrapped == environments
    assert commands[0].startswith("npx cdk bootstrap aws://111111111111/eu-west-1 ")
    assert "--trust" not in commands[0]
    for command in commands[1:]:
        assert "--trust 111111111111" in command
        assert "--cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess" in command


def test_single_account_bootstraps_its_regions_without_trust(plans: dict[str, DeployPlan]):
    config = load_config(EXAMPLE_CONFIGS["single-account"])
    assert deploy_plan.bootstrap_commands(config, plans["single-account"]) == [
        "npx cdk bootstrap aws://999999999999/us-east-1 aws://999999999999/us-west-2"
    ]


def test_docs_deploy_section_is_current(plans: dict[str, DeployPlan]):
    # The page --update-docs rewrites is the one that holds the section.
    assert deploy_plan.DOC == ROOT / "docs" / "organization.md"
    doc = deploy_plan.DOC.read_text()
    expected = deploy_plan.section(load_config(EXAMPLE_CONFIGS["example"]), plan=plans["example"])
    assert expected in doc, "docs/organization.md deploy section is stale: run .venv/bin/python -m " + (
        "stacks.deploy_plan --update-docs config/example.yaml"
    )
