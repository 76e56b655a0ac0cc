"""One table maps each account role to its stacks (``stacks.roles.ROLE_STACKS``): the app builds
exactly what it lists, the deployer proof, the deploy plan, the diagram and the README read it, and a
new entry is enough for all of them (no other module names a stack kind)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import deploy_plan, deployers, diagram, roles
from stacks.baseline import build_stacks
from stacks.config import Account, AccountRole, BaselineConfig, load_config, parse_config
from stacks.org_settings import scp_documents
from tests.conftest import CDK_CONTEXT, EXAMPLE_CONFIGS, ROOT, Synthesized

AUDIT = "333333333333"


def expected_stacks(config: BaselineConfig) -> list[tuple[str, str, str]]:
    """(name, account, region) of every CDK stack, read off the table alone."""
    return [
        (roles.stack_name(config, entry, account, region), account.id, region)
        for entry in roles.role_stacks(config)
        if entry.build is not None
        for account in roles.accounts(config, entry)
        for region in roles.regions(config, entry)
    ]


def build(config: BaselineConfig) -> dict[str, cdk.Stack]:
    return build_stacks(cdk.App(context=dict(CDK_CONTEXT)), config)


@pytest.mark.parametrize("name", sorted(EXAMPLE_CONFIGS))
def test_each_bundled_config_builds_exactly_the_stacks_of_the_table(name: str, synthesized: dict[str, Synthesized]):
    # The run's shared synthesis of the bundled config: what app.py builds, in build_stacks' order.
    config = synthesized[name].config
    built = [(n, s.account, s.region) for n, s in synthesized[name].stacks.items()]
    assert built == expected_stacks(config)
    assert len(built) >= 2


def test_the_table_is_consistent():
    kinds = {entry.kind for entry in roles.ROLE_STACKS}
    for mode in roles.Mode:
        in_mode = [entry.kind for entry in roles.ROLE_STACKS if mode in entry.modes]
        assert len(in_mode) == len(set(in_mode)), f"{mode}: a kind twice"
    for entry in roles.ROLE_STACKS:
        assert {kind for kind, _ in entry.after} <= kinds, entry.kind
        # The StackSet is built inside the management stack; every other entry has a builder.
        assert (entry.build is None) is (entry.deployed_by is roles.DeployedBy.STACKSET), entry.kind
        # Whatever lands in member accounts names its resource types, or the SCP proof would skip it.
        in_member_accounts = entry.role is not AccountRole.MANAGEMENT and entry.modes != {roles.Mode.SINGLE_ACCOUNT}
        assert bool(entry.resource_types) is in_member_accounts, entry.kind
    assert sum(entry.deployed_by is roles.DeployedBy.STACKSET for entry in roles.ROLE_STACKS) == 1


def test_without_an_audit_account_the_aggregator_goes_to_the_management_account():
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
    data["accounts"] = [a for a in data["accounts"] if a["role"] != "audit"]
    data["observability"] = {"central_bus": False, "dashboard": False, "oam": False}
    data["service_control_policies"]["delegated_administrators"] = {"config": False, "cloudtrail": False}
    config = parse_config(data)
    (entry,) = [e for e in roles.role_stacks(config) if roles.Part.CENTRAL in e.holds]
    assert [a.role for a in roles.accounts(config, entry)] == [AccountRole.MANAGEMENT]
    # SCPs do not apply in the management account: no deployer to prove there.
    assert entry.kind not in {d.deployment for d in deployers.deployers(config)}


# --- a new entry is enough ---

TOOLING_LOG_GROUP = "/acme/security-tooling"


def _tooling(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    stack = cdk.Stack(scope, name, env=cdk.Environment(account=account.id, region=region))
    logs.LogGroup(stack, "Findings", log_group_name=TOOLING_LOG_GROUP, retention=logs.RetentionDays.ONE_YEAR)
    return stack


#: A stack kind the table does not have: security tooling in the audit account, every governed region.
TOOLING = roles.RoleStack(
    kind="security-tooling",
    role=AccountRole.AUDIT,
    modes=frozenset({roles.Mode.ORGANIZATION}),
    regions=roles.Regions.GOVERNED,
    what="a findings log group per region",
    build=_tooling,
    after=(("audit", "the central bus is in the audit stack"),),
    resource_types=frozenset({"AWS::Logs::LogGroup"}),
)


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch) -> roles.RoleStack:
    monkeypatch.setattr(roles, "ROLE_STACKS", (*roles.ROLE_STACKS, TOOLING))
    return TOOLING


@pytest.fixture(scope="module")
def example() -> BaselineConfig:
    return load_config(EXAMPLE_CONFIGS["example"])


def _deny_log_groups(config: BaselineConfig) -> dict[str, dict[str, Any]]:
    """Every SCP of the config replaced by one that denies creating log groups to everyone."""
    deny = {"Effect": "Deny", "Action": "logs:CreateLogGroup", "Resource": "*"}
    return {name: {"Version": "2012-10-17", "Statement": [deny]} for name in scp_documents(config)}


def test_without_the_entry_nothing_knows_the_kind(example: BaselineConfig):
    assert not any(name.startswith("acme-security-tooling") for name, _, _ in expected_stacks(example))
    assert "security-tooling" not in deployers.deployment_types()
    assert "security-tooling" not in {d.deployment for d in deployers.deployers(example)}
    assert "security-tooling" not in {
        d.deployer.deployment for d in deployers.denials(example, _deny_log_groups(example))
    }


def test_a_new_entry_is_built_deployed_planned_drawn_and_documented(extended: roles.RoleStack, example: BaselineConfig):
    names = [f"acme-security-tooling-audit-{region}" for region in example.regions]
    # build_stacks: one stack per governed region in the audit account, after the audit stack.
    stacks = build(example)
    for name, region in zip(names, example.regions, strict=True):
        assert (stacks[name].account, stacks[name].region) == (AUDIT, region)
        assert stacks[name].dependencies == [stacks["acme-audit"]]
    # The deployer proof: deployed by the CDK execution role of the audit account, its types evaluated.
    (deployer,) = [d for d in deployers.deployers(example) if d.deployment == extended.kind]
    assert deployer.account.id == AUDIT and deployer.role_name.startswith("cdk-hnb659fds-cfn-exec-role-333333333333")
    assert deployer.label == "`cdk deploy acme-security-tooling-audit-eu-west-1`"
    assert deployers.deployment_types()[extended.kind] == extended.resource_types
    denied = [d for d in deployers.denials(example, _deny_log_groups(example)) if d.deployer is not None]
    assert {(d.action, d.resource_type) for d in denied if d.deployer.deployment == extended.kind} == {
        ("logs:CreateLogGroup", "AWS::Logs::LogGroup")
    }
    assert deployers.denials(example, scp_documents(example)) == []  # the real SCPs let it through
    # The deploy plan: new environments to bootstrap, and the name the stacks fix.
    plan = deploy_plan.build_plan(example)
    environments = {(e.account, e.region): e.stacks for e in plan.environments}
    for name, region in zip(names, example.regions, strict=True):
        assert name in environments[(AUDIT, region)]
    assert any(f"aws://{AUDIT}/eu-central-1" in command for command in deploy_plan.bootstrap_commands(example, plan))
    fixed = [f for f in plan.fixed_names if f.name == TOOLING_LOG_GROUP]
    assert sorted(f.stack for f in fixed) == sorted(names)
    # The diagram and the README table.
    drawn = diagram.render(example, diagram.stacks_by_account_of(example))
    assert all(name in drawn for name in names)
    assert "| audit | `<prefix>-security-tooling-<account>-<region>` | organization | cdk deploy |" in roles.render()


# --- nothing else names a stack kind ---

#: Files that may hold a kind's spelling: the table, and the config's account roles (whose values
#: are config-visible and happen to share the spelling of some kinds).
ALLOWED = {ROOT / "stacks" / "roles.py", ROOT / "stacks" / "config" / "organization.py"}
#: (file, literal) that share a kind's spelling by coincidence: the default naming prefix.
ALLOWED_LITERALS = {("model.py", "baseline")}


def _offenders(kinds: set[str], paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            literal = isinstance(node, ast.Constant) and node.value in kinds
            # names.stack_name("...") with any literal argument names a stack outside the table
            named = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "stack_name"
                and any(isinstance(a, ast.Constant | ast.JoinedStr) for a in node.args)
            )
            allowed = literal and (path.name, node.value) in ALLOWED_LITERALS
            if (literal or named) and not allowed:
                found.append(f"{path.name}:{node.lineno}")
    return sorted(found)


def test_no_app_module_names_a_stack_kind_outside_the_table():
    kinds = {entry.kind for entry in roles.ROLE_STACKS}
    assert kinds >= {"log-archive", "audit", "example-workload", "management", "single-account"}
    paths = [p for p in sorted([*(ROOT / "stacks").rglob("*.py"), ROOT / "app.py"]) if p not in ALLOWED]
    assert len(paths) > 30
    assert _offenders(kinds, paths) == []


def test_the_check_finds_a_hard_coded_kind(tmp_path: Path):
    """The AST check can fail: the spellings of the code before the table are found."""
    module = tmp_path / "probe.py"
    module.write_text(
        'def f(names, config):\n    cdk_stack("audit", config)\n    return names.stack_name(f"baseline-{config}")\n'
    )
    assert _offenders({"audit", "baseline"}, [module]) == ["probe.py:2", "probe.py:3"]


def test_no_attribute_probing_for_the_trail_stack():
    """The central observability gets the trail stack from the table's TRAIL entry, not by getattr."""
    for path in (ROOT / "stacks").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
                attribute = node.args[1] if len(node.args) > 1 else None
                assert not (
                    isinstance(attribute, ast.Constant) and attribute.value in ("security_alarms", "trail_health")
                ), f"{path.name}:{node.lineno}"


def test_the_readme_table_is_generated_from_the_table():
    assert roles.section() in (ROOT / "README.md").read_text(), "run `python -m stacks.roles --update-readme`"
