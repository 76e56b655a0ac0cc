"""Every stack the config asks for, per account role."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from constructs import Construct

from stacks.config import AccountRole, BaselineConfig
from stacks.log_archive import LogArchiveStack
from stacks.management import ManagementStack
from stacks.naming import Names
from stacks.observability import (
    add_audit_observability,
    add_workload_observability,
    central_account_id,
    wants_audit_stack,
)
from stacks.single_account import SingleAccountStack


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

    # Last, so every stack built above (whoever added it) gets forwarding rules and the OAM link.
    _add_observability(scope, config, names, stacks, env)

    for stack in stacks.values():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return stacks


def _add_observability(
    scope: Construct,
    config: BaselineConfig,
    names: Names,
    stacks: dict[str, cdk.Stack],
    env: Callable[[str], cdk.Environment],
) -> None:
    """Audit-account observability in the central account's home-region stack (created here only if
    none exists yet), then forwarding rules and OAM links in every stack."""
    central = central_account_id(config)
    if central is None:
        return
    if config.single_account or wants_audit_stack(config):
        audit = next(
            (s for s in stacks.values() if s.account == central and s.region == config.home_region),
            None,
        )
        if audit is None:
            audit_name = names.stack_name("audit")
            audit = cdk.Stack(
                scope,
                audit_name,
                env=env(central),
                description="Monitoring baseline: central security event bus, dashboard and OAM sink in the audit account",
            )
            stacks[audit_name] = audit
        add_audit_observability(audit, config)
    # No stack dependency on the audit stack: EventBridge accepts a target bus that does not exist
    # yet, and the OAM link takes the sink ARN from the config, known only after the audit deploy.
    for stack in stacks.values():
        add_workload_observability(stack, config)
