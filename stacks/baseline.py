"""Every stack the config asks for, per account role."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from constructs import Construct

from stacks.config import AccountRole, BaselineConfig
from stacks.example_workload import ExampleWorkloadStack
from stacks.log_archive import LogArchiveStack
from stacks.management import ManagementStack
from stacks.naming import Names
from stacks.observability import add_audit_observability, central_account_id, wants_audit_stack
from stacks.single_account import SingleAccountStack
from stacks.workload import build_config_stacks


def build_stacks(scope: Construct, config: BaselineConfig) -> dict[str, cdk.Stack]:
    """Create every stack the config asks for; returns them by stack name.

    Organization mode: log archive, then management (which writes into the archive).
    Single-account mode: one stack holding the whole baseline.
    """
    names = Names(config)
    stacks: dict[str, cdk.Stack] = {}

    def env(account_id: str) -> cdk.Environment:
        return cdk.Environment(account=account_id, region=config.home_region)

    if config.single_account:
        account = config.accounts[0]
        name = names.stack_name("single-account")
        stacks[name] = SingleAccountStack(
            scope,
            name,
            config=config,
            env=env(account.id),
            description=f"Monitoring baseline for account {account.name}: trail, log buckets, key, topic, log group",
        )
    else:
        archive_name = names.stack_name("log-archive")
        archive = LogArchiveStack(
            scope,
            archive_name,
            config=config,
            env=env(config.account_with_role(AccountRole.LOG_ARCHIVE).id),
            description="Monitoring baseline: central log buckets and key in the log-archive account",
        )
        stacks[archive_name] = archive
        management_name = names.stack_name("management")
        management = ManagementStack(
            scope,
            management_name,
            config=config,
            env=env(config.account_with_role(AccountRole.MANAGEMENT).id),
            description="Monitoring baseline: organization trail, its log group, topic and role",
        )
        management.add_stack_dependency(archive, "the trail writes into the log-archive bucket and key")
        stacks[management_name] = management

    # AWS Config delivers to the bucket of the log-archive (or single-account) stack.
    config_bucket_stack = stacks[names.stack_name("single-account" if config.single_account else "log-archive")]
    stacks.update(build_config_stacks(scope, config, depends_on=config_bucket_stack))
    audit = stacks.get(names.stack_name("audit"))
    if audit is not None:
        # The organization aggregator needs trusted access and the delegated administrator
        # that the management stack registers.
        audit.add_stack_dependency(stacks[names.stack_name("management")], "delegated administrator for AWS Config")

    if config.telemetry.example_workload:
        workload = config.accounts[0] if config.single_account else config.accounts_with_role(AccountRole.WORKLOAD)[0]
        example_name = names.stack_name("example-workload")
        stacks[example_name] = ExampleWorkloadStack(
            scope,
            example_name,
            config=config,
            env=env(workload.id),
            description=f"Example workload in {workload.name}: VPC flow logs, CloudWatch agent, CloudFront access logs",
        )

    _add_central_observability(scope, config, stacks, env)

    for stack in stacks.values():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return stacks


def _add_central_observability(
    scope: Construct, config: BaselineConfig, stacks: dict[str, cdk.Stack], env: Callable[[str], cdk.Environment]
) -> None:
    """The central bus, dashboard and OAM sink in the audit account's home-region stack (the single
    account's in single-account mode), created here only if no such stack exists yet.

    Forwarding rules and OAM links go elsewhere, once per account and region: into the baseline
    stacks (single account, the management account's per-region stacks) and the StackSet template.
    """
    central = central_account_id(config)
    if central is None or not (config.single_account or wants_audit_stack(config)):
        return
    audit = next((s for s in stacks.values() if s.account == central and s.region == config.home_region), None)
    if audit is None:
        name = Names(config).stack_name("audit")
        audit = cdk.Stack(
            scope,
            name,
            env=env(central),
            description="Monitoring baseline: central security event bus, dashboard and OAM sink in the audit account",
        )
        stacks[name] = audit
    add_audit_observability(audit, config)
