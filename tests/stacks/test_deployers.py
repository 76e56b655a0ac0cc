"""Our guardrails never block our own deployers: every IAM action CloudFormation's handlers need for
every resource of every template that deploys into a member account passes the baseline's SCPs for
the principal that deploys it; a config that drops a deployer's exemption is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from constructs_lib.scp_evaluator import FULL_AWS_ACCESS, Request, evaluate_path
from stacks import deployers
from stacks.config import ConfigError, parse_config
from stacks.org_settings import scp_documents
from tests.conftest import EXAMPLE_CONFIGS, Synthesized

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def member_templates(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """Deployment key -> the template it deploys into member accounts."""
    found = {
        key: synth.template_json(f"acme-{key}")
        for key in ("log-archive", "audit", "example-workload")
        if f"acme-{key}" in synth.stacks
    }
    found["workload-baseline"] = synth.stackset_template()
    return found


def types_of(template: dict[str, Any]) -> set[str]:
    return {r["Type"] for r in template["Resources"].values()}


def test_handler_permissions_schema_lists_what_a_recorder_needs():
    """The schemas cfn-lint ships are the source: a known type lists the actions its handlers call."""
    actions = deployers.handler_actions("AWS::Config::ConfigurationRecorder")
    assert {"config:PutConfigurationRecorder", "config:DeleteConfigurationRecorder", "iam:PassRole"} <= set(actions)
    with pytest.raises(KeyError, match="AWS::Nope::Thing: no resource provider schema"):
        deployers.handler_actions("AWS::Nope::Thing")


def test_every_member_template_type_is_in_the_table(synthesized):
    """The config check evaluates the table; the table must cover what the app really deploys."""
    for key, template in member_templates(synthesized["example"]).items():
        missing = types_of(template) - deployers.deployment_types()[key]
        assert not missing, f"{key}: add {sorted(missing)} to its RoleStack.resource_types (stacks/roles.py)"


def test_deployers_of_the_example_are_the_stacks_the_app_builds(synthesized):
    synth = synthesized["example"]
    config = synth.config
    cdk_stacks = {
        (d.deployment, d.account.id) for d in deployers.deployers(config) if d.deployment != "workload-baseline"
    }  # fmt: skip
    members = {a.id for a in config.accounts if a.role.value != "management"}
    built = {
        (name.removeprefix("acme-"), stack.account)
        for name, stack in synth.stacks.items()
        if stack.account in members
    }  # fmt: skip
    assert cdk_stacks == built
    stackset = [d for d in deployers.deployers(config) if d.deployment == "workload-baseline"]
    assert sorted(d.account.id for d in stackset) == sorted(members)
    assert all(d.role_name.startswith("stacksets-exec-") for d in stackset)


def test_zero_denials_for_every_handler_action_of_every_member_template(synthesized):
    synth = synthesized["example"]
    documents = scp_documents(synth.config)
    actual = {key: sorted(types_of(t)) for key, t in member_templates(synth).items()}
    checked = sum(len(deployers.handler_actions(t)) for types in actual.values() for t in types)
    assert checked > 300  # the evaluation really covers the templates' handlers
    assert deployers.denials(synth.config, documents, resource_types=actual) == []


def test_the_stackset_role_would_be_denied_without_its_exemption(synthesized):
    """The evaluation can fail: the stacksets-exec-* role on the path of shop-prod, without exemption."""
    config = synthesized["example"].config
    path = deployers.scp_path(config, next(a for a in config.accounts if a.name == "shop-prod"))
    exempt = ["cdk-*-cfn-exec-role-*", "OrganizationAccountAccessRole"]
    data = copy.deepcopy(EXAMPLE)
    data["service_control_policies"]["exempt_role_names"] = exempt
    with pytest.raises(ConfigError):
        parse_config(data)
    documents = scp_documents(config.model_copy(update={"service_control_policies": None}))
    levels = [[FULL_AWS_ACCESS, *(documents[n] for n in names)] for _, names in path]
    request = Request(
        action="config:PutConfigurationRecorder",
        principal_arn=f"arn:aws:iam::444444444444:role/{deployers.STACKSETS_EXEC_ROLE}",
        region="eu-west-1",
    )
    assert evaluate_path(levels, request).allowed  # with the default exemptions
    denied_levels = [[FULL_AWS_ACCESS, *(_without_stacksets(documents[n]) for n in names)] for _, names in path]
    assert evaluate_path(denied_levels, request).denied


def _without_stacksets(policy: dict[str, Any]) -> dict[str, Any]:
    policy = copy.deepcopy(policy)
    for statement in policy["Statement"]:
        arns = statement["Condition"]["ArnNotLike"]["aws:PrincipalARN"]
        statement["Condition"]["ArnNotLike"]["aws:PrincipalARN"] = [a for a in arns if "stacksets-exec" not in a]
    return policy


@pytest.mark.parametrize(
    ("dropped", "deployment"),
    [
        ("stacksets-exec-*", "the StackSet acme-workload-baseline"),
        ("cdk-*-cfn-exec-role-*", "`cdk deploy acme-log-archive`"),
    ],
)
def test_config_refuses_dropping_a_deployer(dropped, deployment):
    data = copy.deepcopy(EXAMPLE)
    names = data["service_control_policies"]["exempt_role_names"]
    data["service_control_policies"]["exempt_role_names"] = [n for n in names if n != dropped]
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    problems = [p for p in caught.value.problems if deployment in p]
    assert problems, caught.value.problems
    assert all(f"add {dropped!r} to exempt_role_names" in p for p in problems)
    assert any("protect-audit-logging" in p for p in problems)


def test_a_narrower_exemption_that_still_covers_the_deployers_is_accepted():
    data = copy.deepcopy(EXAMPLE)
    data["service_control_policies"]["exempt_role_names"] = [
        "cdk-hnb659fds-cfn-exec-role-*",
        "stacksets-exec-*",
        "BreakGlass",
    ]
    parse_config(data)


def test_denials_follow_each_accounts_own_path():
    """Accounts whose paths carry the same SCPs share one evaluation; a policy attached to one OU
    reaches only the deployers of the accounts below it, whatever order the accounts come in."""
    data = copy.deepcopy(EXAMPLE)
    data["service_control_policies"]["attachments"] = {
        "root": ["protect-audit-logging", "protect-monitoring"],
        "organizational_units": {"Production": ["guardrails"]},
    }
    config = parse_config(data)
    documents = dict(scp_documents(config))
    deny = {"Effect": "Deny", "Action": "logs:CreateLogGroup", "Resource": "*"}
    documents["guardrails"] = {"Version": "2012-10-17", "Statement": [deny]}
    denied = {(d.deployer.account.name, d.deployer.deployment, d.policy) for d in deployers.denials(config, documents)}
    assert {(account, deployment) for account, deployment, _ in denied} == {
        ("shop-prod", "example-workload"),
        ("shop-prod", "workload-baseline"),
    }
    assert {policy for _, _, policy in denied} == {"guardrails"}
    # The same SCPs at the root instead: every deployer of every account is denied.
    data["service_control_policies"]["attachments"] = {"root": ["protect-audit-logging", "guardrails"]}
    everywhere = parse_config(data)
    accounts = {d.deployer.account.name for d in deployers.denials(everywhere, documents)}
    assert accounts == {d.account.name for d in deployers.deployers(everywhere)}
