"""The ``observability`` config section turned into constructs in the baseline stacks.

``add_audit_observability`` puts the central event bus, the dashboard and the OAM sink into the
audit account's stack (the single account's in single-account mode);
``add_workload_observability`` puts forwarding rules and the OAM link into any other stack;
``add_trail_queries`` saves the Logs Insights queries next to the trail log group.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs

from constructs_lib import (
    EventForwarding,
    EventRouting,
    InsightsQueries,
    Location,
    LogGroupLocation,
    MonitoringDashboard,
    NotificationRoute,
    ObservabilityLink,
    ObservabilitySink,
    SavedQuery,
    central_bus_arn,
    retention_from_days,
)
from constructs_lib.event_patterns import default_security_patterns
from constructs_lib.health import forwarded_health_events, forwarding_heartbeat_pattern
from stacks.config import AccountRole, BaselineConfig
from stacks.health import canary_parameter_name, forwarded_alarm_prefix
from stacks.landing_zone import trail_log_group_name  # Control Tower's group in that mode
from stacks.parts import central_account_id, wants_canary, wants_health


@dataclass
class AuditObservability:
    """What ``add_audit_observability`` created (None where switched off)."""

    routing: EventRouting | None = None
    dashboard: MonitoringDashboard | None = None
    sink: ObservabilitySink | None = None


def add_audit_observability(
    stack: cdk.Stack,
    config: BaselineConfig,
    *,
    notification_routes: Sequence[NotificationRoute] = (),
    alarms: Sequence[cloudwatch.IAlarm] = (),
    detection_metrics: Mapping[str, cloudwatch.IMetric] | None = None,
) -> AuditObservability:
    """Central bus, dashboard and (organization mode) OAM sink in ``stack``, as the config switches them.

    :param notification_routes: events of the bus to SNS topics (``routes_by_severity(...)`` with
        the alarm topics per severity). Default: none.
    :param alarms: security alarms for the dashboard's status section. Default: none.
    :param detection_metrics: label -> count metric for the dashboard's detections section. Default: none.
    """
    settings = config.observability
    organization_id = config.organization.id if config.organization is not None else None
    created = AuditObservability()
    if settings.central_bus:
        created.routing = EventRouting(
            stack,
            "SecurityEvents",
            bus_name=settings.bus_name,
            organization_id=organization_id,
            log_retention=retention_from_days(settings.event_log_retention_days),
            archive_retention_days=settings.archive_retention_days,
            notification_routes=notification_routes,
            # Forwarded heartbeats are counted by their own rule (stacks/health.py): at 1,000 accounts
            # x 17 regions, 149 million a month would otherwise fill the event log, queue and archive.
            all_events_exclusion=(
                forwarding_heartbeat_pattern(canary_parameter_name(config))
                if wants_canary(config) and settings.forwarding
                else None
            ),
        )
        cdk.CfnOutput(stack, "SecurityEventBusArn", value=created.routing.event_bus_arn)
    if settings.dashboard:
        trail_account = None if config.single_account else config.account_with_role(AccountRole.MANAGEMENT).id
        created.dashboard = MonitoringDashboard(
            stack,
            "SecurityDashboard",
            dashboard_name=settings.dashboard_name,
            alarms=alarms,
            detection_metrics=detection_metrics,
            trail_log_groups=[
                LogGroupLocation(
                    log_group_name=trail_log_group_name(config), region=config.home_region, account_id=trail_account
                )
            ],
            config_events_log_group=(
                LogGroupLocation(log_group_name=created.routing.log_group.log_group_name)
                if created.routing is not None
                else None
            ),
            host_metric_locations=[Location(region=region) for region in config.regions],
        )
    if settings.oam and organization_id is not None:
        created.sink = ObservabilitySink(stack, "ObservabilitySink", organization_id=organization_id)
    return created


def add_workload_observability(
    stack: cdk.Stack, config: BaselineConfig, *, home_region_condition: cdk.CfnCondition | None = None
) -> EventForwarding | None:
    """Forwarding rules to the central bus and (with ``oam_sink_arn``) the OAM link, in ``stack``.

    Call it once per account and region (the baseline stacks and the StackSet template), or events
    are forwarded twice.

    :param home_region_condition: for the account- and region-agnostic StackSet template: the OAM
        link (sink and links live in the home region) is then gated by conditions instead of being
        decided at synth. Default: decide from the stack's account and region.
    """
    settings = config.observability
    central = central_account_id(config)
    if central is None:
        return None
    forwarding: EventForwarding | None = None
    if settings.central_bus and settings.forwarding:
        # Health alarm state changes travel with the security events (stacks/health.py), and through
        # the same rule the canary's CloudTrail event, the forwarding heartbeat the central bus counts.
        health = (
            [
                forwarded_health_events(
                    alarm_name_prefix=forwarded_alarm_prefix(config),
                    heartbeat_parameter_name=canary_parameter_name(config) if wants_canary(config) else None,
                )
            ]
            if wants_health(config)
            else []
        )
        forwarding = EventForwarding(
            stack,
            "ForwardSecurityEvents",
            central_bus_arn=central_bus_arn(
                stack, bus_name=settings.bus_name, account=central, region=config.home_region
            ),
            patterns=[*default_security_patterns(), *health],
        )
    if config.single_account or not settings.oam or not settings.oam_sink_arn:
        return forwarding
    if home_region_condition is None:
        if stack.account != central and stack.region == config.home_region:
            ObservabilityLink(stack, "ObservabilityLink", sink_arn=settings.oam_sink_arn)
        return forwarding
    # The sink's own account links to nothing; every other account links in the sink's region.
    linked = cdk.CfnCondition(
        stack,
        "IsLinkedAccountInHomeRegion",
        expression=cdk.Fn.condition_and(
            home_region_condition, cdk.Fn.condition_not(cdk.Fn.condition_equals(cdk.Aws.ACCOUNT_ID, central))
        ),
    )
    link = ObservabilityLink(stack, "ObservabilityLink", sink_arn=settings.oam_sink_arn)
    for child in link.node.find_all():
        if isinstance(child, cdk.CfnResource):
            child.cfn_options.condition = linked
    return forwarding


def add_trail_queries(stack: cdk.Stack, config: BaselineConfig, trail_log_group: logs.ILogGroup) -> None:
    """Saved Logs Insights queries on the trail log group, plus the config's custom queries."""
    settings = config.observability
    if not settings.queries:
        return
    groups: dict[str, logs.ILogGroup] = {}

    def group(name: str) -> logs.ILogGroup:
        if name not in groups:
            # Construct ids from the log group name, never from a position in a list.
            slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "root"
            groups[name] = logs.LogGroup.from_log_group_name(stack, f"QueryLogGroup-{slug}", name)
        return groups[name]

    InsightsQueries(
        stack,
        "InsightsQueries",
        trail_log_group=trail_log_group,
        custom_queries=[
            SavedQuery(name=query.name, query_string=query.query, log_groups=[group(n) for n in query.log_groups])
            for query in settings.custom_queries
        ],
    )
