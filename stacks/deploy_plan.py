"""What a deploy of the config needs: the CDK environments to bootstrap, and the physical names the
stacks fix (which must not exist yet).

Both come from ``stacks.baseline.build_stacks`` on a fresh ``cdk.App()`` (no synthesis, no AWS
credentials), so they cannot drift from the app. ``stacks.preflight`` checks them against the live
organization; the deploy section of docs/organization.md ("Bootstrap, preflight, deploy") is generated
from them::

    python -m stacks.deploy_plan config/example.yaml                  # prints the section
    python -m stacks.deploy_plan --update-docs config/example.yaml    # rewrites it in docs/organization.md
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import cdk_stacksets as stacksets

from stacks.config import AccountRole, BaselineConfig, config_errors_exit_1, load_config

BEGIN = "<!-- BEGIN GENERATED: stacks/deploy_plan.py -->"
END = "<!-- END GENERATED: stacks/deploy_plan.py -->"

#: Resource type -> the L1 attribute holding its physical name, for every type whose name the stacks
#: fix and the preflight checks. A synthesized template holding a literal name of any other type
#: fails tests/stacks/test_deploy_plan.py until it is added here or to ``NOT_FIXED``.
NAME_ATTRIBUTES: dict[str, str] = {
    "AWS::CloudFormation::StackSet": "stack_set_name",
    "AWS::CloudTrail::Trail": "trail_name",
    "AWS::CloudWatch::Alarm": "alarm_name",
    "AWS::CloudWatch::CompositeAlarm": "alarm_name",
    "AWS::CloudWatch::Dashboard": "dashboard_name",
    "AWS::Config::ConfigRule": "config_rule_name",
    "AWS::Config::ConfigurationAggregator": "configuration_aggregator_name",
    "AWS::Config::ConfigurationRecorder": "name",
    "AWS::Config::DeliveryChannel": "name",
    "AWS::Events::EventBus": "name",
    "AWS::IAM::Role": "role_name",
    "AWS::KMS::Alias": "alias_name",
    "AWS::Logs::LogGroup": "log_group_name",
    "AWS::Oam::Sink": "name",
    "AWS::Organizations::Policy": "name",
    "AWS::S3::Bucket": "bucket_name",
    "AWS::SSM::Parameter": "name",
    "AWS::SecretsManager::Secret": "name",
}
#: Types with a literal name that is not a fixed physical name, and why.
NOT_FIXED: dict[str, str] = {
    "AWS::EC2::LaunchTemplate": "CDK generates the name from the construct path and a hash",
    "AWS::IAM::Policy": "an inline policy's name is local to the role it belongs to, which the stack creates",
    "AWS::Logs::MetricFilter": "a filter name is unique per log group, and the log group is the stack's own",
    "AWS::Logs::QueryDefinition": "saved query names need not be unique",
    "AWS::Logs::ResourcePolicy": "the name is generated from the construct path (unique per stack)",
    "AWS::Organizations::OrganizationalUnit": "OU names are checked by the preflight's OU check, per parent",
    "AWS::SSM::Association": "AssociationName is descriptive (the association id identifies it); Name is the document",
    "Custom::SsmHybridActivation": "DefaultInstanceName is the name registered servers get, not a resource's name",
}


@dataclass(frozen=True, kw_only=True)
class Environment:
    """One CDK environment (account and region) that gets at least one CDK stack."""

    account: str
    region: str
    stacks: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FixedName:
    """A physical name a stack fixes: creating the resource fails if the name exists already.

    :param accounts: the accounts it is created in (the StackSet's: every target account).
    :param regions: the regions it is created in; IAM roles and S3 buckets are global (home region here).
    :param stack: the stack (or ``StackSet <name>``) that creates it.
    """

    resource_type: str
    name: str
    stack: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]

    @property
    def is_global(self) -> bool:
        """IAM role names are unique per account, bucket names in the whole partition, SCP names per organization."""
        return self.resource_type in ("AWS::IAM::Role", "AWS::S3::Bucket", "AWS::Organizations::Policy")


@dataclass(frozen=True, kw_only=True)
class DeployPlan:
    environments: tuple[Environment, ...]
    fixed_names: tuple[FixedName, ...]
    stack_names: tuple[str, ...]


def stackset_target_accounts(config: BaselineConfig) -> tuple[str, ...]:
    """Accounts the workload-baseline StackSet deploys to (``stacks.roles.stackset_targets``)."""
    from stacks.roles import stackset_targets

    return tuple(a.id for a in stackset_targets(config))


def build_plan(config: BaselineConfig) -> DeployPlan:
    """Build the stacks on a fresh app (no synthesis) and read environments and fixed names off them."""
    from stacks.baseline import build_stacks
    from stacks.roles import stack_set_name

    stacks = build_stacks(cdk.App(), config)
    environments: dict[tuple[str, str], list[str]] = {}
    for name, stack in stacks.items():
        environments.setdefault((stack.account, stack.region), []).append(name)
    names: list[FixedName] = []
    for name, stack in stacks.items():
        for construct in stack.node.find_all():
            if not isinstance(construct, cdk.CfnResource):
                continue
            attribute = NAME_ATTRIBUTES.get(construct.cfn_resource_type)
            if attribute is None:
                continue
            value = getattr(construct, attribute)
            if not isinstance(value, str) or cdk.Token.is_unresolved(value):
                continue  # generated or derived from another resource: not fixed
            owner = cdk.Stack.of(construct)
            if isinstance(owner, stacksets.StackSetStack):
                accounts, regions = _stackset_scope(config, construct)
                where = f"StackSet {stack_set_name(config)}"
            else:
                accounts, regions, where = (owner.account,), (owner.region,), name
            names.append(
                FixedName(
                    resource_type=construct.cfn_resource_type,
                    name=value,
                    stack=where,
                    accounts=accounts,
                    regions=regions,
                )
            )
    return DeployPlan(
        environments=tuple(
            Environment(account=account, region=region, stacks=tuple(stack_names))
            for (account, region), stack_names in environments.items()
        ),
        fixed_names=tuple(names),
        stack_names=tuple(stacks),
    )


def _stackset_scope(config: BaselineConfig, resource: cdk.CfnResource) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Accounts and regions a StackSet template resource lands in, from its condition (home region
    only, or one account's home region)."""
    accounts = stackset_target_accounts(config)
    condition = resource.cfn_options.condition
    if condition is None:
        return accounts, tuple(config.regions)
    condition_id = condition.node.id
    if condition_id.startswith("IsAccount-"):
        account = next(a.id for a in config.accounts if a.name == condition_id.removeprefix("IsAccount-"))
        return (account,), (config.home_region,)
    return accounts, (config.home_region,)


def fixed_names(config: BaselineConfig) -> tuple[FixedName, ...]:
    """Every physical name the stacks of ``config`` fix, with where each is created."""
    return build_plan(config).fixed_names


def deploying_account(config: BaselineConfig) -> str:
    """The account the deploy runs from (and every other environment trusts): the management account,
    or the one account in single-account mode."""
    if config.single_account:
        return config.accounts[0].id
    return config.account_with_role(AccountRole.MANAGEMENT).id


#: The policy the CDK execution role gets in member accounts (docs/organization.md "Permissions of the deploying role").
EXECUTION_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def bootstrap_command(config: BaselineConfig, account: str, regions: list[str]) -> str:
    """The exact ``cdk bootstrap`` command for one account's environments."""
    targets = " ".join(f"aws://{account}/{region}" for region in regions)
    command = f"npx cdk bootstrap {targets}"
    if account != deploying_account(config):
        command += (
            f" --trust {deploying_account(config)} \\\n    --cloudformation-execution-policies {EXECUTION_POLICY}"
        )
    return command


def bootstrap_commands(config: BaselineConfig, plan: DeployPlan | None = None) -> list[str]:
    """One command per account, deploying account first."""
    plan = plan if plan is not None else build_plan(config)
    regions: dict[str, list[str]] = {}
    for env in plan.environments:
        regions.setdefault(env.account, [])
        if env.region not in regions[env.account]:
            regions[env.account].append(env.region)
    order = sorted(regions, key=lambda account: account != deploying_account(config))
    return [bootstrap_command(config, account, regions[account]) for account in order]


def render(config: BaselineConfig, config_path: str = "config/example.yaml", plan: DeployPlan | None = None) -> str:
    """Markdown: bootstrap commands, preflight, deploy, then the names that must not exist yet."""
    plan = plan if plan is not None else build_plan(config)
    deployer = deploying_account(config)
    lines = [
        f"Run from the deploying account `{deployer}` (credentials of that account), in this order:",
        "",
        f"1. Bootstrap every environment that gets a CDK stack ({len(plan.environments)} environments); other "
        "accounts trust the deploying account and let CloudFormation deploy with the execution policy:",
        "",
        "   ```sh",
    ]
    for command in bootstrap_commands(config, plan):
        lines.extend(f"   {line}" for line in command.splitlines())
    lines += [
        "   ```",
        "",
        "2. Check the live organization against the config (read-only; exit 1 on any blocker):",
        "",
        "   ```sh",
        f"   make preflight CONFIG={config_path}",
        "   ```",
        "",
        f"3. Deploy ({len(plan.stack_names)} stacks; dependencies order them):",
        "",
        "   ```sh",
        f"   npx cdk deploy --all -c config={config_path}",
        "   ```",
        "",
        "Physical names the stacks fix; each must not exist yet where it is created (the preflight checks them):",
        "",
        "| resource type | name | created by | account(s) | region(s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    groups: dict[tuple[str, str], list[FixedName]] = {}
    for fixed in _merged(plan.fixed_names):
        if fixed.resource_type in _GROUPED:
            groups.setdefault((fixed.resource_type, fixed.stack), []).append(fixed)
        else:
            lines.append(_row(fixed.resource_type, f"`{fixed.name}`", fixed))
    for (resource_type, stack), group in groups.items():
        # One row per type and creator: config rules and alarms come in dozens sharing a prefix.
        prefix = _common_prefix([f.name for f in group])
        home_only = sum(1 for f in group if f.regions == (config.home_region,) != _union_regions(group))
        label = f"{len(group)} names `{prefix}*`" + (
            f" ({home_only} in {config.home_region} only)" if home_only else ""
        )
        union = FixedName(
            resource_type=resource_type,
            name=prefix,
            stack=stack,
            accounts=tuple(dict.fromkeys(a for f in group for a in f.accounts)),
            regions=_union_regions(group),
        )
        lines.append(_row(resource_type, label, union))
    return "\n".join(lines) + "\n"


#: Types shown as one row per creator in the generated section.
_GROUPED = ("AWS::CloudWatch::Alarm", "AWS::Config::ConfigRule")


def _common_prefix(names: list[str]) -> str:
    """The characters every name starts with (names here share ``<prefix>-``, not path components)."""
    first, last = min(names), max(names)
    length = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(first))
    return first[:length]


def _union_regions(group: list[FixedName]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for f in group for r in f.regions))


def _row(resource_type: str, name: str, fixed: FixedName) -> str:
    regions = "global" if fixed.is_global else ", ".join(fixed.regions)
    return f"| `{resource_type}` | {name} | {fixed.stack} | {', '.join(fixed.accounts)} | {regions} |"


def _merged(names: tuple[FixedName, ...]) -> list[FixedName]:
    """One row per type, name and creator: the per-region stacks of one account merged."""
    merged: dict[tuple[str, str, str], FixedName] = {}
    for fixed in names:
        stack = fixed.stack
        if "-baseline-" in stack and len(fixed.regions) == 1 and stack.endswith(f"-{fixed.regions[0]}"):
            stack = stack.removesuffix(fixed.regions[0]) + "<region>"  # <prefix>-baseline-<account>-<region>
        key = (fixed.resource_type, fixed.name, stack)
        if key in merged:
            old = merged[key]
            merged[key] = FixedName(
                resource_type=old.resource_type,
                name=old.name,
                stack=stack,
                accounts=tuple(dict.fromkeys(old.accounts + fixed.accounts)),
                regions=tuple(dict.fromkeys(old.regions + fixed.regions)),
            )
        else:
            merged[key] = FixedName(
                resource_type=fixed.resource_type,
                name=fixed.name,
                stack=stack,
                accounts=fixed.accounts,
                regions=fixed.regions,
            )
    return sorted(merged.values(), key=lambda f: (f.resource_type, f.name, f.stack))


def section(config: BaselineConfig, config_path: str = "config/example.yaml", plan: DeployPlan | None = None) -> str:
    return f"{BEGIN}\n{render(config, config_path, plan)}{END}\n"


#: The page that holds the generated deploy section.
DOC = Path(__file__).resolve().parent.parent / "docs" / "organization.md"


def update_doc(doc: Path, config: BaselineConfig) -> bool:
    """Replace the deploy section of ``doc``; True if it changed."""
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: deploy-section markers missing; add the lines\n{BEGIN}\n{END}")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END + "\n", 1)
    new = before + section(config) + after
    if new != text:
        doc.write_text(new)
    return new != text


@config_errors_exit_1
def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--update-docs":
        if argv[2] != "config/example.yaml":
            raise SystemExit("docs/organization.md documents config/example.yaml only")
        changed = update_doc(DOC, load_config(argv[2]))
        print("docs/organization.md deploy section " + ("updated" if changed else "already current"))
        return 0
    if len(argv) == 2:
        print(section(load_config(argv[1]), argv[1]), end="")
        return 0
    print("usage: python -m stacks.deploy_plan CONFIG | --update-docs CONFIG", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
