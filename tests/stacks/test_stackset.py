"""The workload baseline as a service-managed StackSet: one template, every account and region."""

from __future__ import annotations

import copy
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib import ConfigRecorder, ConfigRules, Organization, OrganizationalUnitSpec, policies
from stacks.config import ConfigError, parse_config
from tests.conftest import EXAMPLE_CONFIGS, Synthesized, new_stack, synthesize

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def test_targets_named_ous_with_the_configured_preferences(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["stacksets"] = {
        "target_organizational_units": ["Workloads", "Security"],
        "max_concurrent_percentage": 50,
        "failure_tolerance_percentage": 0,
        "region_concurrency": "SEQUENTIAL",
        "retain_stacks_on_account_removal": False,
    }
    synth = synthesize(parse_config(data), tmp_path, compliance=False)
    resources = synth.template_json("acme-management")["Resources"]
    (stack_set,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    (group,) = stack_set["StackInstancesGroup"]
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == [
        {"Fn::GetAtt": ["OrganizationOuWorkloads16BCFA20", "Id"]},
        "ou-a1b2-c3d4e5f6",  # Security exists: referenced by its id
    ]
    assert stack_set["OperationPreferences"] == {
        "FailureTolerancePercentage": 0,
        "MaxConcurrentPercentage": 50,
        "RegionConcurrencyType": "SEQUENTIAL",
    }
    assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}


def test_stackset_waits_for_stacksets_trusted_access(synthesized: dict[str, Synthesized]):
    resources = synthesized["example"].template_json("acme-management")["Resources"]
    (logical_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::CloudFormation::StackSet"]
    assert "OrganizationStackSetsAccessDF6DA934" in resources[logical_id]["DependsOn"]
    access = resources["OrganizationStackSetsAccessDF6DA934"]
    assert '"action":"activateOrganizationsAccess"' in str(access["Properties"]["Create"])


def test_the_stackset_template_is_account_and_region_agnostic(synthesized: dict[str, Synthesized]):
    template = dict(synthesized["example"].stackset_template())
    # The one exception: the condition that puts the on-premises resources (telemetry.on_premises)
    # into the account the servers register with.
    conditions = dict(template.pop("Conditions"))
    assert "444444444444" in str(conditions.pop("OnPremisesInshopprod"))
    text = str(template) + str(conditions)
    # Only the central accounts are named: the Config bucket (log archive, 222...) and the central
    # event bus (audit, 333...); the accounts it deploys to never are.
    for account in ("111111111111", "444444444444", "555555555555"):
        assert account not in text, account
    assert "eu-central-1" not in text and "us-east-1" not in text


def test_the_template_does_not_grow_with_the_number_of_accounts(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["accounts"] += [
        {
            "name": f"extra-{i}",
            "id": f"{600000000000 + i}",
            "email": f"x{i}@acme.example",
            "role": "workload",
            "ou": "Production",
        }
        for i in range(20)
    ]
    data["telemetry"] = {"example_workload": False}
    synth = synthesize(parse_config(data), tmp_path, compliance=False)
    assert [n for n in synth.stacks if n.startswith("acme-baseline-")] == [
        "acme-baseline-management-eu-west-1",
        "acme-baseline-management-eu-central-1",
        "acme-baseline-management-us-east-1",
    ]
    assert len(synth.stackset_templates()) == 1


@pytest.mark.parametrize(
    ("stacksets", "message"),
    [
        (
            {"target_organizational_units": ["Nope"]},
            "stacksets.target_organizational_units[0]: 'Nope' is not a declared OU",
        ),
        (
            {"max_concurrent_percentage": 0},
            "stacksets.max_concurrent_percentage: Input should be greater than or equal to 1",
        ),
        ({"region_concurrency": "RANDOM"}, "stacksets.region_concurrency: Input should be 'PARALLEL' or 'SEQUENTIAL'"),
    ],
)
def test_config_errors(stacksets, message):
    data = copy.deepcopy(EXAMPLE)
    data["stacksets"] = stacksets
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    assert any(p.startswith(message) for p in raised.value.problems), raised.value.problems


def test_single_account_mode_has_no_target_ous():
    data = yaml.safe_load(EXAMPLE_CONFIGS["single-account"].read_text())
    data["stacksets"] = {"target_organizational_units": ["Workloads"]}
    with pytest.raises(ConfigError, match=r"stacksets\.target_organizational_units: single-account mode has no OUs"):
        parse_config(data)


class TestConstructSupport:
    def test_recorder_condition_and_flag_are_exclusive(self):
        stack = new_stack()
        condition = cdk.CfnCondition(stack, "Home", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, "eu-west-1"))
        bucket = s3.Bucket.from_bucket_name(stack, "B", "config-bucket")
        with pytest.raises(
            ValueError, match="give include_global_resource_types=True or global_resource_types_condition"
        ):
            ConfigRecorder(
                stack,
                "Recorder",
                bucket=bucket,
                include_global_resource_types=True,
                global_resource_types_condition=condition,
            )

    def test_rules_gate_home_only_rules_with_the_condition(self):
        stack = new_stack()
        condition = cdk.CfnCondition(stack, "Home", expression=cdk.Fn.condition_equals(cdk.Aws.REGION, "eu-west-1"))
        ConfigRules(stack, "Rules", home_region=False, home_region_condition=condition, rule_name_prefix="")
        rules = Template.from_stack(stack).find_resources("AWS::Config::ConfigRule")
        by_name = {r["Properties"]["ConfigRuleName"]: r for r in rules.values()}
        assert by_name["root-account-mfa-enabled"]["Condition"] == "Home"
        assert "Condition" not in by_name["restricted-ssh"]

    def test_stacksets_access_is_created_once(self):
        stack = new_stack()
        organization = Organization(stack, "Org", organizational_units=[OrganizationalUnitSpec(name="Workloads")])
        assert organization.enable_stack_sets_access() is organization.enable_stack_sets_access()

    def test_config_bucket_statements_for_an_organization(self):
        stack = new_stack()
        _, _, delivery = policies.config_bucket_statements(
            bucket_arn="arn:aws:s3:::b", account_ids=["111111111111"], organization_id="o-a1b2c3d4e5"
        )
        document = stack.resolve(delivery.to_statement_json())
        assert document["Resource"] == "arn:aws:s3:::b/AWSLogs/*/Config/*"
        assert document["Condition"]["StringEquals"]["aws:SourceOrgID"] == "o-a1b2c3d4e5"
