"""Every stack the config asks for, per account role."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import (
    IMPORTED_WARNING_ID,
    NotificationRoute,
    NotificationTopics,
    SecurityAlarms,
    Severity,
    routes_by_severity,
)
from stacks.config import AccountRole, BaselineConfig
from stacks.example_workload import ExampleWorkloadStack
from stacks.health import add_central_health, add_forwarding_heartbeat, add_health_dashboard_row, health_route
from stacks.log_archive import LogArchiveStack
from stacks.management import ManagementStack
from stacks.naming import Names
from stacks.observability import add_audit_observability, central_account_id, wants_audit_stack
from stacks.settings import severity_emails
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
    elif config.organization is not None and config.organization.pending_creation:
        # organization.create without an id: only the organization can be deployed yet
        # (docs/organization.md "Deploying into your organization"); every other stack's policies name the organization id.
        name = names.stack_name("management")
        stacks[name] = ManagementStack(
            scope,
            name,
            config=config,
            env=env(config.account_with_role(AccountRole.MANAGEMENT).id),
            description="Monitoring baseline: a new organization (first deploy; then set organization.id)",
        )
        return _tagged(stacks, config)
    elif config.on_control_tower:
        # Control Tower owns the trail and the log archive's buckets: no log-archive stack
        # (docs/control-tower.md "With AWS Control Tower").
        management_name = names.stack_name("management")
        stacks[management_name] = ManagementStack(
            scope,
            management_name,
            config=config,
            env=env(config.account_with_role(AccountRole.MANAGEMENT).id),
            description="Monitoring baseline on AWS Control Tower: SCPs, security alarms and health checks on "
            "Control Tower's trail log group, the workload-baseline StackSet",
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
        # The trail's bucket and key are imported by name; the log-archive stack gives them
        # policies.cloudtrail_bucket_statements and cloudtrail_key_statements for this trail.
        cdk.Annotations.of(management.trail).acknowledge_warning(
            IMPORTED_WARNING_ID, "the log-archive stack adds the CloudTrail bucket and key statements"
        )
        stacks[management_name] = management

    # AWS Config delivers to the bucket of the log-archive (or single-account) stack; on Control
    # Tower, Control Tower's recorders deliver to its own bucket.
    config_bucket_stack = stacks.get(names.stack_name("single-account" if config.single_account else "log-archive"))
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
    return _tagged(stacks, config)


def _tagged(stacks: dict[str, cdk.Stack], config: BaselineConfig) -> dict[str, cdk.Stack]:
    for stack in stacks.values():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return stacks


def _add_central_observability(
    scope: Construct, config: BaselineConfig, stacks: dict[str, cdk.Stack], env: Callable[[str], cdk.Environment]
) -> None:
    """The central bus, dashboard and OAM sink in the audit account's home-region stack (the single
    account's in single-account mode), created here only if no such stack exists yet.

    The central bus routes to notification topics per severity (the security alarms' own topics
    where they live in the same stack, new ones otherwise); the dashboard shows the security alarms
    and detection counts, across accounts through the OAM sink in organization mode. Forwarding
    rules and OAM links go elsewhere, once per account and region: into the baseline stacks and the
    StackSet template.
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
    security = next(
        (s.security_alarms for s in stacks.values() if getattr(s, "security_alarms", None) is not None), None
    )
    routes: list[NotificationRoute] = []
    topics: dict[Severity, sns.ITopic] = {}
    # The trail's health alarms already watch the security alarms' topics; other topics are watched here.
    watch_topics = False
    if config.observability.central_bus:
        if security is not None and cdk.Stack.of(security) is audit:
            topics = dict(security.topics)
        else:
            topics = dict(NotificationTopics(audit, "NotificationTopics", emails=severity_emails(config)).topics)
            watch_topics = True
        # Config NON_COMPLIANT results go to the topic of aws_config.alert_severity.
        routes = routes_by_severity(
            critical=topics[Severity.CRITICAL],
            high=topics[Severity.HIGH],
            medium=topics[Severity.MEDIUM],
            config_compliance=topics[Severity(config.aws_config.alert_severity)] if config.aws_config.enabled else None,
        )
        # Forwarded health alarm state changes of every account and region (stacks/health.py).
        routes += health_route(config, topics)
    alarms, metrics = _security_alarms_seen_from(audit, security)
    created = add_audit_observability(
        audit, config, notification_routes=routes, alarms=alarms, detection_metrics=metrics
    )
    central_alarms = add_central_health(
        audit, config, routing=created.routing, topics=topics, watch_topics=watch_topics
    )
    heartbeat = add_forwarding_heartbeat(audit, config, routing=created.routing, topics=topics)
    if heartbeat is not None:
        central_alarms.append(heartbeat.alarm)
    if created.dashboard is not None:
        trail_stack = next((s for s in stacks.values() if getattr(s, "trail_health", None) is not None), None)
        add_health_dashboard_row(
            created.dashboard,
            config,
            trail_stack=trail_stack,
            trail_health=getattr(trail_stack, "trail_health", None),
            central_alarms=central_alarms,
            forwarding_heartbeat=heartbeat,
        )


def _security_alarms_seen_from(
    stack: cdk.Stack, security: SecurityAlarms | None
) -> tuple[list[cloudwatch.IAlarm], dict[str, cloudwatch.IMetric]]:
    """The security alarms and detection metrics for a dashboard in ``stack``; from another account
    (the management account's trail alarms), by ARN and account, which the dashboard reads through
    cross-account observability."""
    if security is None:
        return [], {}
    source = cdk.Stack.of(security)
    if source is stack:
        return list(security.alarms.values()), {d.name: security.metric(key) for key, d in security.detections.items()}
    alarms: list[cloudwatch.IAlarm] = [
        cloudwatch.Alarm.from_alarm_arn(
            stack,
            f"SecurityAlarm-{key}",
            f"arn:{stack.partition}:cloudwatch:{source.region}:{source.account}:alarm:{security.alarm_name_prefix}-{key}",
        )
        for key in security.alarms
    ]
    metrics: dict[str, cloudwatch.IMetric] = {
        detection.name: cloudwatch.Metric(
            namespace=security.metric_namespace,
            metric_name=detection.construct_id,
            statistic="Sum",
            period=detection.period,
            account=source.account,
            region=source.region,
        )
        for detection in security.detections.values()
    }
    return alarms, metrics
