"""The one table of what each account role gets: its stacks per mode, who deploys each, in which regions.

``ROLE_STACKS`` is the single source: ``stacks.baseline.build_stacks`` builds from it, ``stacks.deployers``
proves from it that the SCPs let each deployer through, ``stacks.deploy_plan`` (bootstrap environments,
fixed names) and ``stacks.diagram`` read the stacks built from it, and the README's "Stacks per account
role" table is generated from it (``python -m stacks.roles --update-readme``). Giving a role a stack is
one entry here (plus the stack class); a new role is a member of ``AccountRole`` with its config rules,
then its entries here. Stack classes stay in their modules; an entry names the stack kind and a builder.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stacks.config import Account, AccountRole, BaselineConfig, config_errors_exit_1, load_config
from stacks.deployers import AUDIT_TYPES, EXAMPLE_WORKLOAD_TYPES, LOG_ARCHIVE_TYPES, STACKSET_TYPES
from stacks.landing_zone import wants_aggregator
from stacks.naming import Names
from stacks.parts import wants_audit_stack, wants_workload_baseline

if TYPE_CHECKING:
    import aws_cdk as cdk
    from constructs import Construct


class Mode(enum.StrEnum):
    ORGANIZATION = "organization"
    #: ``organization.create`` without an id: the first deploy creates the organization alone.
    NEW_ORGANIZATION = "new organization"
    CONTROL_TOWER = "Control Tower"
    SINGLE_ACCOUNT = "single account"


class DeployedBy(enum.StrEnum):
    #: ``cdk deploy`` from the deploying account, through the target environment's CDK execution role.
    CDK = "cdk deploy"
    #: the management stack's service-managed StackSet, through ``stacksets-exec-*`` in each account.
    STACKSET = "StackSet"


class Regions(enum.StrEnum):
    HOME = "home region"
    GOVERNED = "every governed region"
    #: single-account mode: the single-account stack holds the home region.
    OTHER = "every other governed region"


class Part(enum.Enum):
    """What other stacks are wired to, found through the table instead of by attribute probing."""

    #: the trail's security alarms and health alarms (a ``ManagementStack`` or ``SingleAccountStack``)
    TRAIL = "trail"
    #: the central bus, dashboard and OAM sink
    CENTRAL = "central"


#: (scope, stack name, config, account, region) -> the stack
Builder = Callable[["Construct", str, BaselineConfig, Account, str], "cdk.Stack"]


def _environment(account: Account, region: str) -> cdk.Environment:
    # Imported here: the config check reads the role table (``stacks.deployers``) without aws_cdk.
    import aws_cdk as cdk

    return cdk.Environment(account=account.id, region=region)


@dataclass(frozen=True, kw_only=True)
class RoleStack:
    """One stack kind an account role gets.

    :param kind: the stack is named ``<prefix>-<kind>`` (``<prefix>-<kind>-<account>-<region>`` when in more regions).
    :param role: the account it goes to: the first account with the role, else ``or_role``'s; in
        single-account mode the one account. None: every member account the StackSet targets.
    :param build: None: not a CDK stack of its own (the StackSet, built inside the management stack).
    :param wanted: whether the config asks for it (beyond its modes). Default: always.
    :param after: (kind, why) of stacks it deploys after, where built.
    :param resource_types: every resource type its template may hold in a member account, for the
        deployer proof (``stacks.deployers``); empty for stacks in the management or single account.
    """

    kind: str
    role: AccountRole | None
    modes: frozenset[Mode]
    what: str
    build: Builder | None
    deployed_by: DeployedBy = DeployedBy.CDK
    regions: Regions = Regions.HOME
    or_role: AccountRole | None = None
    wanted: Callable[[BaselineConfig], bool] = lambda _config: True
    after: tuple[tuple[str, str], ...] = ()
    holds: frozenset[Part] = frozenset()
    resource_types: frozenset[str] = frozenset()


def _log_archive(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    from stacks.log_archive import LogArchiveStack

    return LogArchiveStack(
        scope,
        name,
        config=config,
        env=_environment(account, region),
        description="Monitoring baseline: central log buckets and key in the log-archive account",
    )


def _management(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    from stacks.management import ManagementStack

    assert config.organization is not None
    if config.organization.pending_creation:
        description = "Monitoring baseline: a new organization (first deploy; then set organization.id)"
    elif config.on_control_tower:
        description = (
            "Monitoring baseline on AWS Control Tower: SCPs, security alarms and health checks on "
            "Control Tower's trail log group, the workload-baseline StackSet"
        )
    else:
        description = "Monitoring baseline: organization trail, its log group, topic and role"
    return ManagementStack(scope, name, config=config, env=_environment(account, region), description=description)


def _single_account(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    from stacks.single_account import SingleAccountStack

    return SingleAccountStack(
        scope,
        name,
        config=config,
        env=_environment(account, region),
        description=f"Monitoring baseline for account {account.name}: trail, log buckets, key, topic, log group",
    )


def _baseline(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    from stacks.workload import WorkloadBaselineStack

    return WorkloadBaselineStack(
        scope,
        name,
        config=config,
        account=account,
        env=_environment(account, region),
        description=f"Monitoring baseline: AWS Config recorder and rules for {account.name} in {region}",
    )


def _audit(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    from stacks.audit import AuditStack

    aggregator = wants_aggregator(config)
    return AuditStack(
        scope,
        name,
        config=config,
        aggregator=aggregator,
        env=_environment(account, region),
        description="Monitoring baseline: organization-wide AWS Config aggregator"
        if aggregator
        else "Monitoring baseline: central security event bus, dashboard and OAM sink in the audit account",
    )


def _example_workload(scope: Construct, name: str, config: BaselineConfig, account: Account, region: str) -> cdk.Stack:
    from stacks.example_workload import ExampleWorkloadStack

    return ExampleWorkloadStack(
        scope,
        name,
        config=config,
        env=_environment(account, region),
        description=f"Example workload in {account.name}: VPC flow logs, CloudWatch agent, CloudFront access logs",
    )


_ORGANIZATION = frozenset({Mode.ORGANIZATION, Mode.CONTROL_TOWER})
_CONFIG_BUCKET = "AWS Config delivers to the Config bucket of that stack"

#: Every stack of every account role, in build (and deploy) order.
ROLE_STACKS: tuple[RoleStack, ...] = (
    RoleStack(kind="log-archive", role=AccountRole.LOG_ARCHIVE, modes=frozenset({Mode.ORGANIZATION}),
              build=_log_archive, resource_types=LOG_ARCHIVE_TYPES,
              what="KMS key `alias/<prefix>/log-archive`, CloudTrail bucket `<prefix>-cloudtrail-<account>-<region>` "
              "(policy for the organization trail), AWS Config bucket, access-log bucket"),
    RoleStack(kind="management", role=AccountRole.MANAGEMENT, modes=_ORGANIZATION | {Mode.NEW_ORGANIZATION},
              build=_management, holds=frozenset({Part.TRAIL}),
              after=(("log-archive", "the trail writes into the log-archive bucket and key"),),
              what="the organization, OUs and SCPs; the organization trail writing into the log archive (on Control "
              "Tower: its trail's log group), security alarms, saved queries, trail health; the StackSet"),
    RoleStack(kind="single-account", role=None, modes=frozenset({Mode.SINGLE_ACCOUNT}), build=_single_account,
              holds=frozenset({Part.TRAIL, Part.CENTRAL}),
              what="everything the roles above get that fits one account, buckets included"),
    RoleStack(kind="baseline", role=AccountRole.MANAGEMENT, modes=_ORGANIZATION, regions=Regions.GOVERNED,
              build=_baseline, wanted=wants_workload_baseline, after=(("log-archive", _CONFIG_BUCKET),),
              what="AWS Config, event forwarding and OAM link of the management account (StackSets skip it)"),
    RoleStack(kind="baseline", role=None, modes=frozenset({Mode.SINGLE_ACCOUNT}), regions=Regions.OTHER,
              build=_baseline, wanted=wants_workload_baseline, after=(("single-account", _CONFIG_BUCKET),),
              what="AWS Config and event forwarding in each further governed region"),
    RoleStack(kind="audit", role=AccountRole.AUDIT, or_role=AccountRole.MANAGEMENT, modes=_ORGANIZATION,
              build=_audit, wanted=lambda c: wants_aggregator(c) or wants_audit_stack(c),
              holds=frozenset({Part.CENTRAL}), resource_types=AUDIT_TYPES,
              after=(("management", "the organization and the delegated administrator for AWS Config"),),
              what="AWS Config aggregator, central security event bus, dashboard, OAM sink"),
    RoleStack(kind="example-workload", role=AccountRole.WORKLOAD, modes=_ORGANIZATION | {Mode.SINGLE_ACCOUNT},
              build=_example_workload, wanted=lambda c: c.telemetry.example_workload,
              resource_types=EXAMPLE_WORKLOAD_TYPES,
              what="optional (`telemetry.example_workload`): a small VPC with flow logs, an instance with the "
              "CloudWatch agent, a CloudFront distribution with access logs"),
    RoleStack(kind="workload-baseline", role=None, modes=_ORGANIZATION, deployed_by=DeployedBy.STACKSET,
              regions=Regions.GOVERNED, build=None, wanted=wants_workload_baseline, resource_types=STACKSET_TYPES,
              what="AWS Config recorder, rules and alerts, event forwarding, OAM link; new accounts get it automatically"),
)  # fmt: skip


def mode_of(config: BaselineConfig) -> Mode:
    if config.organization is None:
        return Mode.SINGLE_ACCOUNT
    if config.organization.pending_creation:
        return Mode.NEW_ORGANIZATION
    return Mode.CONTROL_TOWER if config.on_control_tower else Mode.ORGANIZATION


def role_stacks(config: BaselineConfig) -> list[RoleStack]:
    """The entries the config asks for: of its mode, and wanted."""
    mode = mode_of(config)
    return [entry for entry in ROLE_STACKS if mode in entry.modes and entry.wanted(config)]


def accounts(config: BaselineConfig, entry: RoleStack) -> list[Account]:
    """The accounts ``entry`` goes to (see ``RoleStack.role``)."""
    if config.single_account:
        return [config.accounts[0]]
    if entry.role is None:
        return stackset_targets(config)
    holders = config.accounts_with_role(entry.role)
    if not holders and entry.or_role is not None:
        holders = config.accounts_with_role(entry.or_role)
    return holders[:1]


def regions(config: BaselineConfig, entry: RoleStack) -> list[str]:
    """The regions ``entry`` goes to (``config.regions`` lists the home region first)."""
    return {
        Regions.HOME: config.regions[:1],
        Regions.GOVERNED: config.regions,
        Regions.OTHER: config.regions[1:],
    }[entry.regions]


def stack_name(config: BaselineConfig, entry: RoleStack, account: Account, region: str) -> str:
    """``<prefix>-<kind>`` for a home-region stack, ``<prefix>-<kind>-<account>-<region>`` otherwise;
    the StackSet's name for a StackSet entry."""
    names = Names(config)
    if entry.regions is Regions.HOME or entry.deployed_by is DeployedBy.STACKSET:
        return names.stack_name(entry.kind)
    return names.stack_name(f"{entry.kind}-{account.name}-{region}")


def stack_set_name(config: BaselineConfig) -> str:
    """The name of the workload-baseline StackSet of the management stack."""
    (entry,) = [e for e in ROLE_STACKS if e.deployed_by is DeployedBy.STACKSET]
    return Names(config).stack_name(entry.kind)


def stackset_targets(config: BaselineConfig) -> list[Account]:
    """Accounts the StackSet deploys to: the target OUs' accounts (nested OUs included), by default every
    account but the management account (service-managed StackSets skip it)."""
    if config.organization is None:
        return []
    targets = set(config.stacksets.target_organizational_units)
    in_scope: set[str] = set()
    for unit in config.organization.all_units():
        if not targets or unit.name in targets:
            in_scope.update(u.name for u in unit.walk())
    return [
        a
        for a in config.accounts
        if a.role is not AccountRole.MANAGEMENT and (not targets or (a.ou is not None and a.ou in in_scope))
    ]


# --- the README table ---

BEGIN = "<!-- roles:begin (generated by `python -m stacks.roles --update-readme` from stacks/roles.py) -->"
END = "<!-- roles:end -->"
README = Path(__file__).resolve().parent.parent / "README.md"


def render() -> str:
    """The README's "Stacks per account role" table, one row per entry."""
    lines = [
        "| account role | stack | modes | deployed by | regions | contents |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for entry in ROLE_STACKS:
        if entry.role is None:
            role = "the one account" if entry.modes == {Mode.SINGLE_ACCOUNT} else "every other account"
        else:
            role = entry.role.value + (f" (else {entry.or_role.value})" if entry.or_role is not None else "")
        name = f"<prefix>-{entry.kind}"
        if entry.deployed_by is DeployedBy.STACKSET:
            name = f"StackSet {name}"
        elif entry.regions is not Regions.HOME:
            name += "-<account>-<region>"
        modes = ", ".join(mode.value for mode in Mode if mode in entry.modes)
        lines.append(
            f"| {role} | `{name}` | {modes} | {entry.deployed_by.value} | {entry.regions.value} | {entry.what} |"
        )
    return "\n".join(lines)


def section() -> str:
    return f"{BEGIN}\n{render()}\n{END}"


def update_readme(readme: Path = README) -> bool:
    """Replace the table between the markers of ``readme``; True if it changed."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{readme}: role-table markers missing; add the lines\n{BEGIN}\n{END}")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    new = before + section() + after
    if new != text:
        readme.write_text(new)
    return new != text


@config_errors_exit_1
def main(argv: list[str]) -> int:
    if argv[1:] == ["--update-readme"]:
        print("README.md role table " + ("updated" if update_readme() else "already current"))
        return 0
    if len(argv) == 2:
        config = load_config(argv[1])
        for entry in role_stacks(config):
            for account in accounts(config, entry):
                for region in regions(config, entry):
                    print(f"{stack_name(config, entry, account, region)}  {account.name}  {region}")
        return 0
    print("usage: python -m stacks.roles CONFIG | --update-readme", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
