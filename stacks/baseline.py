"""Every stack the config asks for, per account role, from the role table (``stacks.roles``)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import (
    NotificationRoute,
    NotificationTopics,
    SecurityAlarms,
    Severity,
    routes_by_severity,
)
from stacks import roles
from stacks.config import BaselineConfig
from stacks.health import add_central_health, add_forwarding_heartbeat, add_health_dashboard_row, health_route
from stacks.management import ManagementStack
from stacks.observability import add_audit_observability
from stacks.parts import wants_audit_stack
from stacks.settings import severity_emails
from stacks.single_account import SingleAccountStack


def build_stacks(scope: Construct, config: BaselineConfig) -> dict[str, cdk.Stack]:
    """Create every stack the config asks for, from the role table (``stacks.roles.ROLE_STACKS``);
    returns them by stack name, in build order (organization mode: log archive, then management,
    which writes into the archive; single-account mode: one stack holding the whole baseline, plus
    one per further governed region).
    """
    stacks: dict[str, cdk.Stack] = {}
    by_kind: dict[str, list[cdk.Stack]] = {}
    trail_stack: ManagementStack | SingleAccountStack | None = None
    central: cdk.Stack | None = None
    for entry in roles.role_stacks(config):
        if entry.build is None:
            continue  # the StackSet: built inside the management stack
        for account in roles.accounts(config, entry):
            for region in roles.regions(config, entry):
                name = roles.stack_name(config, entry, account, region)
                stack = entry.build(scope, name, config, account, region)
                for kind, reason in entry.after:
                    for earlier in by_kind.get(kind, []):
                        stack.add_stack_dependency(earlier, reason)
                by_kind.setdefault(entry.kind, []).append(stack)
                stacks[name] = stack
                if roles.Part.TRAIL in entry.holds:
                    if not isinstance(stack, ManagementStack | SingleAccountStack):
                        raise TypeError(f"{name}: holds the trail but is a {type(stack).__name__}")
                    trail_stack = stack
                if roles.Part.CENTRAL in entry.holds and region == config.home_region:
                    central = stack
    # The central bus, dashboard and sink: in single-account mode always (each switched by the config);
    # in organization mode when the audit account holds one (not when the audit stack holds only the
    # aggregator, in the management account for want of an audit account).
    if central is not None and (config.single_account or wants_audit_stack(config)):
        _add_central_observability(central, config, trail_stack)
    return _tagged(stacks, config)


def _tagged(stacks: dict[str, cdk.Stack], config: BaselineConfig) -> dict[str, cdk.Stack]:
    for stack in stacks.values():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return stacks


def _add_central_observability(
    audit: cdk.Stack, config: BaselineConfig, trail_stack: ManagementStack | SingleAccountStack | None
) -> None:
    """The central bus, dashboard and OAM sink in ``audit``: the audit account's home-region stack (the
    single account's in single-account mode).

    The central bus routes to notification topics per severity (the security alarms' own topics
    where they live in the same stack, new ones otherwise); the dashboard shows the security alarms
    of ``trail_stack`` and detection counts, across accounts through the OAM sink in organization
    mode. Forwarding rules and OAM links go elsewhere, once per account and region: into the baseline
    stacks and the StackSet template.
    """
    security = trail_stack.security_alarms if trail_stack is not None else None
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
        add_health_dashboard_row(
            created.dashboard,
            config,
            trail_stack=trail_stack,
            trail_health=trail_stack.trail_health if trail_stack is not None else None,
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
    # Read once: each is a round trip to node, and the same for every alarm and metric.
    partition, account, region = stack.partition, source.account, source.region
    alarms: list[cloudwatch.IAlarm] = [
        cloudwatch.Alarm.from_alarm_arn(
            stack,
            f"SecurityAlarm-{key}",
            f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{security.alarm_name_prefix}-{key}",
        )
        for key in security.alarms
    ]
    metrics: dict[str, cloudwatch.IMetric] = {
        detection.name: cloudwatch.Metric(
            namespace=security.metric_namespace,
            metric_name=detection.construct_id,
            statistic="Sum",
            period=cdk.Duration.minutes(detection.period_minutes),
            account=account,
            region=region,
        )
        for detection in security.detections.values()
    }
    return alarms, metrics
