"""Which parts of the baseline a config deploys: predicates over the config alone.

No aws_cdk import: the role table (``stacks.roles``) asks them to list the stacks of a config, and the
config check asks the role table which roles deploy into member accounts (``stacks.deployers``)
without starting jsii. The modules that build each part import them from here.
"""

from __future__ import annotations

from stacks.config import AccountRole, BaselineConfig


def central_account_id(config: BaselineConfig) -> str | None:
    """Account that holds the central bus, dashboard and sink: the audit account (or the single one)."""
    if config.single_account:
        return config.accounts[0].id
    audits = config.accounts_with_role(AccountRole.AUDIT)
    return audits[0].id if audits else None


def wants_audit_stack(config: BaselineConfig) -> bool:
    """Organization mode with an audit account and at least one audit-account piece switched on."""
    settings = config.observability
    return (
        not config.single_account
        and central_account_id(config) is not None
        and (settings.central_bus or settings.dashboard or settings.oam)
    )


def forwards_to_central_bus(config: BaselineConfig) -> bool:
    """Whether every account and region forwards its security events to the central bus."""
    settings = config.observability
    return central_account_id(config) is not None and settings.central_bus and settings.forwarding


def wants_workload_observability(config: BaselineConfig) -> bool:
    """Whether every account and region needs forwarding rules or an OAM link."""
    settings = config.observability
    if central_account_id(config) is None:
        return False
    forwarding = settings.central_bus and settings.forwarding
    link = not config.single_account and settings.oam and settings.oam_sink_arn is not None
    return bool(forwarding or link)


def wants_health(config: BaselineConfig) -> bool:
    return config.health.enabled


def wants_canary(config: BaselineConfig) -> bool:
    return config.health.enabled and config.health.canary


def wants_workload_baseline(config: BaselineConfig) -> bool:
    """Whether every account and governed region gets baseline content (AWS Config, forwarding, OAM,
    the CloudWatch agent, flow logs of listed VPCs)."""
    telemetry = config.telemetry
    return (
        config.aws_config.enabled
        or wants_workload_observability(config)
        or telemetry.cloudwatch_agent.enabled
        or any(telemetry.flow_logs.vpc_ids.values())
        or wants_canary(config)
        or telemetry.on_premises.enabled
    )
