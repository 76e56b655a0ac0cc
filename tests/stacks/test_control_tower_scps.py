"""Control Tower mode, the SCP side and the roll-out: the roles Control Tower manages enrolled accounts
with stay exempt from every SCP statement (a config that drops one is refused), the handler-permission
model proves no statement denies what Control Tower's baseline needs (and would without the
exemption), and the management stack rolls the baseline out to accounts Account Factory vends."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from constructs_lib.scp_evaluator import FULL_AWS_ACCESS, Request, evaluate_path
from stacks import deployers, org_doc
from stacks.config import BaselineConfig, ConfigError, parse_config
from stacks.control_tower import (
    CONTROL_TOWER_SERVICE_ROLES,
    add_account_factory_rollout,
    control_tower_exempt_roles,
    effective_exempt_role_names,
)
from stacks.management import ManagementStack
from stacks.org_settings import organization_options, scp_documents
from tests.conftest import CDK_CONTEXT, EXAMPLE_CONFIGS, Synthesized, cfn_lint, nag_failures

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
CT_ROLES = ["AWSControlTowerExecution", *CONTROL_TOWER_SERVICE_ROLES]


def control_tower_data(**section: Any) -> dict[str, Any]:
    """The example organization on a Control Tower landing zone, the exemptions left to their defaults.

    As the mode's config checks ask: every OU registered with Control Tower (an id), and no settings
    of the trail and the log archive, which Control Tower owns."""
    data = copy.deepcopy(EXAMPLE)
    data["control_tower"] = {"home_region": data["home_region"], **section}
    del data["service_control_policies"]["exempt_role_names"]
    del data["cloudtrail"], data["log_archive"]
    units = list(data["organization"]["organizational_units"])
    for number, unit in enumerate(units):
        unit.setdefault("id", f"ou-ct00-{number:08d}")
        units.extend(unit.get("children", []))
    return data


@pytest.fixture(scope="module")
def ct_config() -> BaselineConfig:
    return parse_config(control_tower_data())


def test_control_tower_roles_are_exempt_in_every_statement(ct_config):
    assert control_tower_exempt_roles(ct_config) == CT_ROLES
    assert effective_exempt_role_names(ct_config)[-4:] == CT_ROLES
    assert organization_options(ct_config)["exempt_role_names"] == effective_exempt_role_names(ct_config)
    documents = scp_documents(ct_config)
    assert set(documents) == {"protect-audit-logging", "protect-monitoring", "guardrails"}
    for name, document in documents.items():
        for statement in document["Statement"]:
            exempt = statement["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
            for role in CT_ROLES:
                assert f"arn:aws:iam::*:role/{role}" in exempt, (name, statement["Sid"])


def test_the_generated_organization_doc_names_them(ct_config):
    text = org_doc.section(ct_config)
    exempt = text.split("Every statement exempts these roles")[1]
    assert all(f"`{role}`" in exempt for role in CT_ROLES)


def test_standalone_configs_are_unchanged():
    standalone = parse_config(copy.deepcopy(EXAMPLE))
    assert control_tower_exempt_roles(standalone) == []
    assert effective_exempt_role_names(standalone) == EXAMPLE["service_control_policies"]["exempt_role_names"]
    off = parse_config({**control_tower_data(enabled=False)})
    assert "AWSControlTowerExecution" not in json.dumps(scp_documents(off))


def test_a_renamed_execution_role_is_the_one_exempted():
    config = parse_config(control_tower_data(execution_role_name="OrgExecution"))
    assert control_tower_exempt_roles(config)[0] == "OrgExecution"
    assert {d.role_name for d in deployers.deployers(config) if d.deployment == "control-tower"} == {"OrgExecution"}


def test_control_tower_deploys_into_every_enrolled_account_and_no_scp_denies_it(ct_config):
    found = [d for d in deployers.deployers(ct_config) if d.deployment == "control-tower"]
    members = sorted(a.name for a in ct_config.accounts if a.role.value != "management")
    assert sorted(d.account.name for d in found) == members
    assert {d.role_name for d in found} == {"AWSControlTowerExecution"}
    checked = sum(len(deployers.handler_actions(t)) for t in deployers.CONTROL_TOWER_TYPES)
    assert checked > 100  # recorder, delivery channel, rules, trail, roles, functions, topics: their handlers
    assert deployers.denials(ct_config, scp_documents(ct_config)) == []


def test_without_the_exemption_our_scps_would_deny_control_tower(ct_config):
    """The evaluation can fail: the same SCPs built without the Control Tower roles deny the recorder."""
    section = ct_config.service_control_policies
    assert section is not None
    bare = section.model_copy(update={"exempt_role_names": ["cdk-*-cfn-exec-role-*", "stacksets-exec-*"]})
    unexempted = ct_config.model_copy(update={"service_control_policies": bare})
    found = deployers.denials(unexempted, scp_documents(unexempted))
    control_tower = {(d.action, d.policy) for d in found if d.deployer.deployment == "control-tower"}
    assert ("config:PutConfigurationRecorder", "protect-audit-logging") in control_tower
    assert ("config:PutConfigRule", "protect-audit-logging") in control_tower
    assert {d.deployer.deployment for d in found} == {"control-tower"}  # the others keep their exemptions
    problems = deployers.problems(unexempted, scp_documents(unexempted))
    assert any("add 'AWSControlTowerExecution' to exempt_role_names" in p for p in problems), problems


def test_service_roles_act_in_regions_our_region_deny_does_not_govern(ct_config):
    """Control Tower's notification forwarder runs in every region it governs, maybe more than ours;
    our region deny (config:* is among its global actions, sns:* is not) would stop it there."""
    account = next(a for a in ct_config.accounts if a.name == "shop-prod")
    path = deployers.scp_path(ct_config, account)
    documents = scp_documents(ct_config)
    levels = [[FULL_AWS_ACCESS, *(documents[n] for n in names)] for _, names in path]
    request = Request(
        action="sns:Publish",
        principal_arn=f"arn:aws:iam::{account.id}:role/aws-controltower-ForwardSnsNotificationRole",
        region="ap-southeast-2",
    )
    assert evaluate_path(levels, request).allowed
    bare = ct_config.service_control_policies.model_copy(update={"exempt_role_names": ["stacksets-exec-*"]})  # type: ignore[union-attr]
    unexempted = scp_documents(ct_config.model_copy(update={"service_control_policies": bare}))
    denied_levels = [[FULL_AWS_ACCESS, *(unexempted[n] for n in names)] for _, names in path]
    assert evaluate_path(denied_levels, request).denied


@pytest.mark.parametrize("dropped", CT_ROLES)
def test_config_refuses_an_explicit_list_without_a_control_tower_role(dropped):
    data = control_tower_data()
    data["service_control_policies"]["exempt_role_names"] = [
        r for r in ["cdk-*-cfn-exec-role-*", "stacksets-exec-*", *CT_ROLES] if r != dropped
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    (problem,) = [p for p in caught.value.problems if "Control Tower" in p]
    assert problem.startswith("service_control_policies.exempt_role_names: [")
    assert f"role(s) {dropped} subject to the SCPs" in problem and f"add [{dropped!r}]" in problem


def test_an_explicit_list_whose_wildcards_cover_the_roles_is_accepted():
    data = control_tower_data()
    data["service_control_policies"]["exempt_role_names"] = [
        "cdk-*-cfn-exec-role-*",
        "stacksets-exec-*",
        "AWSControlTower*",
        "aws-controltower-*Role",
    ]
    config = parse_config(data)
    assert effective_exempt_role_names(config) == data["service_control_policies"]["exempt_role_names"]


# --- the roll-out in the management stack --------------------------------------------------------


def management_stack(config: BaselineConfig, region: str = "eu-west-1") -> ManagementStack:
    app = cdk.App(context=dict(CDK_CONTEXT))
    return ManagementStack(
        app, "acme-management", config=config, env=cdk.Environment(account="111111111111", region=region)
    )


@pytest.fixture(scope="module")
def rollout_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The management stack with the roll-out to named OUs, synthesized without the cdk-nag packs:
    the packs run on the same roll-out in the shared synthesis of config/control-tower.yaml (below)."""
    data = control_tower_data()
    data["stacksets"] = {"target_organizational_units": ["Security", "Workloads"]}
    config = parse_config(data)
    outdir = tmp_path_factory.mktemp("ct-management")
    app = cdk.App(outdir=str(outdir), context=dict(CDK_CONTEXT))
    stack = ManagementStack(
        app, "acme-management", config=config, env=cdk.Environment(account="111111111111", region="eu-west-1")
    )
    # The management stack adds the roll-out itself in Control Tower mode.
    assert stack.workload_baseline is not None and stack.account_factory_rollout is not None
    app.synth()
    return outdir / "acme-management.template.json"


@pytest.fixture(scope="module")
def rollout_template(rollout_synth: Path) -> dict[str, Any]:
    return json.loads(rollout_synth.read_text())


def rollout_types(template: dict[str, Any]) -> list[str]:
    return sorted(r["Type"] for k, r in template["Resources"].items() if k.startswith("AccountFactoryRollout"))


def test_management_stack_with_the_rollout_is_cfn_lint_clean(rollout_synth):
    lint = cfn_lint(rollout_synth)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_rollout_passes_the_four_cdk_nag_packs(synthesized: dict[str, Synthesized], rollout_template):
    """The shared synthesis of config/control-tower.yaml runs the four packs (tests/conftest.py; a finding
    fails it) over a management stack with the same roll-out resources as the one above (only the OU ids
    and names differ)."""
    control_tower = synthesized["control-tower"]
    management = control_tower.template_json("northwind-management")
    assert rollout_types(management) == rollout_types(rollout_template)
    assert "AWS::StepFunctions::StateMachine" in rollout_types(management)
    assert nag_failures(control_tower.outdir) == []


def test_rollout_rules_cover_the_target_ous_and_those_below(rollout_template):
    rules = [
        r["Properties"]
        for r in rollout_template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule" and "controltower" in json.dumps(r["Properties"].get("EventPattern", {}))
    ]
    assert len(rules) == 2
    for rule in rules:
        status = next(iter(rule["EventPattern"]["detail"]["serviceEventDetails"].values()))
        units = status["organizationalUnit"]["organizationalUnitId"]
        # Security, Workloads and its two children, all registered with Control Tower (their ids).
        assert units == ["ou-a1b2-c3d4e5f6", "ou-ct00-00000002", "ou-ct00-00000003", "ou-ct00-00000004"]


def test_auto_deployment_is_off_on_control_tower(rollout_template, ct_config):
    (stack_set,) = [r for r in rollout_template["Resources"].values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    assert stack_set["Properties"]["AutoDeployment"]["Enabled"] is False
    (machine,) = [
        (k, r) for k, r in rollout_template["Resources"].items() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    assert "acme-workload-baseline" in json.dumps(machine[1]["Properties"]["DefinitionString"])
    standalone = management_stack(parse_config(copy.deepcopy(EXAMPLE)))
    template = cdk.assertions.Template.from_stack(standalone).to_json()
    (stack_set,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFormation::StackSet"]
    assert stack_set["Properties"]["AutoDeployment"]["Enabled"] is True


def test_rollout_only_in_control_tower_mode_and_its_home_region(ct_config):
    standalone = parse_config(copy.deepcopy(EXAMPLE))
    stack = management_stack(standalone)
    assert stack.workload_baseline is not None and stack.account_factory_rollout is None
    assert add_account_factory_rollout(stack, standalone, stack.workload_baseline) is None
    off = parse_config(control_tower_data(account_factory_rollout=False))
    stack = management_stack(off)
    assert stack.workload_baseline is not None and stack.account_factory_rollout is None
    assert add_account_factory_rollout(stack, off, stack.workload_baseline) is None
    # A landing zone elsewhere is a config error; a management stack deployed elsewhere, a synth error.
    with pytest.raises(ConfigError, match=r"control_tower.home_region: 'us-east-1' differs from home_region"):
        parse_config(control_tower_data(home_region="us-east-1"))
    with pytest.raises(ValueError, match=r"control_tower.home_region: .* home region 'eu-west-1', .* 'us-east-1'"):
        management_stack(ct_config, region="us-east-1")


def test_rollout_calls_run_where_no_scp_applies(ct_config):
    """The roll-out's role lives in the management account; SCPs never restrict it, and the config
    refuses attaching one there, so no SCP of the project can deny CreateStackInstances."""
    management = next(a for a in ct_config.accounts if a.role.value == "management")
    assert all(d.account.id != management.id for d in deployers.deployers(ct_config))
    data = control_tower_data()
    data["service_control_policies"]["attachments"]["accounts"] = {"management": ["guardrails"]}
    with pytest.raises(ConfigError, match="SCPs never restrict the management account"):
        parse_config(data)
