"""The ``health`` config section turned into constructs: the baseline watches itself.

Three places, each with alarms whose number does not grow with the number of accounts:

- every account and governed region (the StackSet template, the management account's and the
  single account's baseline stacks): the canary, four AWS Config failure alarms, one alarm on failed
  forwarding rules. Their state changes (alarms named ``<prefix>-health-*``) are forwarded to the
  central bus like every security event, which routes them to the ``health.severity`` topic;
- next to the trail log group (management or single-account stack): the trail heartbeat, the
  canary count (one metric filter, one alarm), the saved health queries and failed deliveries of the
  alert topics, notifying those topics directly (``<prefix>-trail-health-*``);
- next to the central bus (audit or single-account stack): failed deliveries of its topics, failed
  routing rules and its dead-letter queue, the forwarding heartbeat (one alarm when any account-region's
  forwarding path goes quiet) (``<prefix>-central-health-*``), and the dashboard row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib import (
    ApiCanary,
    CanaryMonitor,
    ConfigHealthAlarms,
    EventForwarding,
    EventRouting,
    ForwardingHeartbeatMonitor,
    HealthQueries,
    LogGroupHeartbeat,
    MonitoringDashboard,
    NotificationHealthAlarms,
    NotificationRoute,
    NotificationTopics,
    SecurityAlarms,
    Severity,
    _nag,
    baseline_health_widgets,
    health_alarm_state_changes,
)
from stacks.config import AccountRole, BaselineConfig
from stacks.landing_zone import trail_log_group_name
from stacks.parts import wants_canary, wants_health
from stacks.settings import severity_emails


def canary_parameter_name(config: BaselineConfig) -> str:
    return config.health.canary_parameter_name or f"/{config.naming.prefix}/baseline/canary"


def forwarded_alarm_prefix(config: BaselineConfig) -> str:
    """Prefix of the per-account health alarms whose state changes every account forwards."""
    return f"{config.naming.prefix}-health-"


def health_severity(config: BaselineConfig) -> Severity:
    return Severity(config.health.severity)


def expected_canary_sources(config: BaselineConfig) -> int:
    """Account-regions that run the canary: the config's accounts that get the baseline, times the
    governed regions (``health.expected_canary_sources`` overrides it for accounts the config does
    not list)."""
    if config.health.expected_canary_sources is not None:
        return config.health.expected_canary_sources
    if config.single_account:
        accounts = 1
    else:
        assert config.organization is not None
        targets = config.stacksets.target_organizational_units
        if targets:
            units = {u.name for top in config.organization.all_units() if top.name in targets for u in top.walk()}
            members = [a for a in config.accounts if a.role is not AccountRole.MANAGEMENT and a.ou in units]
        else:
            members = [a for a in config.accounts if a.role is not AccountRole.MANAGEMENT]
        # The management account runs it from its own baseline stacks (StackSets skip it).
        accounts = 1 + len(members)
    return accounts * len(config.regions)


def alert_topics(
    stack: cdk.Stack, config: BaselineConfig, security_alarms: SecurityAlarms | None
) -> dict[Severity, sns.ITopic]:
    """The security alarms' topics per severity, or (alarms switched off, health on) topics of their own."""
    if security_alarms is not None:
        return dict(security_alarms.topics)
    if not wants_health(config):
        return {}
    return dict(NotificationTopics(stack, "HealthTopics", emails=severity_emails(config)).topics)


def _fallback(topics: Mapping[Severity, sns.ITopic], severity: Severity) -> sns.ITopic:
    """Where failed deliveries of the health topic itself are reported: another severity's topic."""
    return topics[Severity.CRITICAL if severity is not Severity.CRITICAL else Severity.HIGH]


def add_account_health(
    scope: Construct, config: BaselineConfig, *, forwarding: EventForwarding | None, config_recorded: bool = True
) -> None:
    """Canary, AWS Config failure alarms and failed-forwarding alarm of one account and region.

    :param config_recorded: AWS Config records here; False (the management account on Control
        Tower, which records nothing there): no Config failure alarms, their metrics never come.

    No SNS action: their state changes reach the central bus through ``forwarding`` (the health
    pattern is among the forwarded ones), which routes them to the ``health.severity`` topic.
    """
    if not wants_health(config):
        return
    prefix = forwarded_alarm_prefix(config)
    if wants_canary(config):
        ApiCanary(
            scope,
            "HealthCanary",
            parameter_name=canary_parameter_name(config),
            rate=cdk.Duration.minutes(config.health.canary_rate_minutes),
        )
    if forwarding is None:
        # Without forwarding nobody would hear these alarms: the central bus is their only path.
        return
    alarms: list[cloudwatch.Alarm] = []
    if config.aws_config.enabled and config_recorded:
        alarms.extend(ConfigHealthAlarms(scope, "ConfigHealth", alarm_name_prefix=f"{prefix}config").alarms.values())
    alarms.extend(
        NotificationHealthAlarms(
            scope,
            "ForwardingHealth",
            alarm_name_prefix=f"{prefix}forwarding",
            rules=dict(forwarding.rules),
        ).alarms.values()
    )
    for alarm in alarms:
        _nag.acknowledge(
            alarm,
            "Notified through EventBridge, not an alarm action: the account's forwarding rule "
            f"'baseline-health-alarms' sends this alarm's state changes ({prefix}*) to the central "
            "security bus, which routes them to the health.severity SNS topic, as for every "
            "security event of a member account.",
            "NIST.800.53.R5-CloudWatchAlarmAction",
            "HIPAA.Security-CloudWatchAlarmAction",
        )


@dataclass
class TrailHealth:
    """What ``add_trail_health`` created."""

    heartbeat: LogGroupHeartbeat
    canaries: CanaryMonitor | None = None
    #: Alarm name -> alarm.
    alarms: dict[str, cloudwatch.Alarm] = field(default_factory=dict)


def add_trail_health(
    stack: cdk.Stack,
    config: BaselineConfig,
    *,
    log_group: logs.ILogGroup,
    topics: Mapping[Severity, sns.ITopic],
) -> TrailHealth | None:
    """Heartbeat, canary count, saved health queries and alert-topic delivery alarms next to the trail."""
    if not wants_health(config):
        return None
    prefix = f"{config.naming.prefix}-trail-health"
    severity = health_severity(config)
    topic = topics[severity]
    heartbeat = LogGroupHeartbeat(
        stack,
        "TrailHeartbeat",
        log_group=log_group,
        alarm_name=f"{prefix}-heartbeat",
        window=cdk.Duration.minutes(config.health.heartbeat_minutes),
        topic=topic,
    )
    created = TrailHealth(heartbeat=heartbeat, alarms={f"{prefix}-heartbeat": heartbeat.alarm})
    if wants_canary(config):
        created.canaries = CanaryMonitor(
            stack,
            "CanaryMonitor",
            log_group=log_group,
            parameter_name=canary_parameter_name(config),
            expected_sources=expected_canary_sources(config),
            rate=cdk.Duration.minutes(config.health.canary_rate_minutes),
            alarm_name=f"{prefix}-canaries",
            topic=topic,
        )
        created.alarms[f"{prefix}-canaries"] = created.canaries.alarm
    if config.observability.queries:
        HealthQueries(
            stack,
            "HealthQueries",
            log_group=log_group,
            canary_parameter_name=canary_parameter_name(config) if wants_canary(config) else None,
        )
    alerts = NotificationHealthAlarms(
        stack,
        "AlertTopicHealth",
        alarm_name_prefix=f"{prefix}-alerts",
        topics={s.value: t for s, t in topics.items()},
        topic=topic,
        fallback_topic=_fallback(topics, severity),
    )
    created.alarms.update({f"{prefix}-alerts-{key}": alarm for key, alarm in alerts.alarms.items()})
    return created


def health_route(config: BaselineConfig, topics: Mapping[Severity, sns.ITopic]) -> list[NotificationRoute]:
    """The central bus route of forwarded health alarm state changes to the ``health.severity`` topic."""
    if not wants_health(config):
        return []
    return [
        NotificationRoute(
            name="baseline-health",
            topic=topics[health_severity(config)],
            patterns=[health_alarm_state_changes(alarm_name_prefix=forwarded_alarm_prefix(config))],
        )
    ]


def add_central_health(
    stack: cdk.Stack,
    config: BaselineConfig,
    *,
    routing: EventRouting | None,
    topics: Mapping[Severity, sns.ITopic],
    watch_topics: bool,
) -> list[cloudwatch.Alarm]:
    """Failed deliveries of the central topics (when ``watch_topics``: not already watched next to
    the trail), failed routing rules and the dead-letter queue of the central bus."""
    if not wants_health(config) or not topics:
        return []
    severity = health_severity(config)
    rules: dict[str, events.IRule] = {}
    queues = {}
    if routing is not None:
        rules["all-events"] = routing.all_events_rule
        for route, route_rules in routing.notification_rules.items():
            for rule in route_rules:
                # Keys from the route and the rule's construct id: stable, never a list position.
                rules[f"{route}-{rule.node.id}"[:40].rstrip("-")] = rule
        queues["central-bus"] = routing.dead_letter_queue
    if not (rules or watch_topics):
        return []
    alarms = NotificationHealthAlarms(
        stack,
        "CentralHealth",
        alarm_name_prefix=f"{config.naming.prefix}-central-health",
        topics={s.value: t for s, t in topics.items()} if watch_topics else None,
        rules=rules,
        dead_letter_queues=queues,
        topic=topics[severity],
        fallback_topic=_fallback(topics, severity),
    )
    return list(alarms.alarms.values())


def add_forwarding_heartbeat(
    stack: cdk.Stack,
    config: BaselineConfig,
    *,
    routing: EventRouting | None,
    topics: Mapping[Severity, sns.ITopic],
) -> ForwardingHeartbeatMonitor | None:
    """The forwarding heartbeat next to the central bus: every account-region forwards its canary's
    CloudTrail event through the rule of its health alarms (``stacks/observability.py``); one alarm
    when fewer arrive than the account-regions running the canary send. In single-account mode the
    path is local (default bus to the central bus of the same account), and the heartbeat still
    proves that the rule forwards."""
    settings = config.observability
    if not wants_canary(config) or routing is None or not settings.forwarding or not topics:
        return None
    return ForwardingHeartbeatMonitor(
        stack,
        "ForwardingHeartbeat",
        bus=routing.bus,
        parameter_name=canary_parameter_name(config),
        expected_sources=expected_canary_sources(config),
        rate=cdk.Duration.minutes(config.health.canary_rate_minutes),
        alarm_name=f"{config.naming.prefix}-central-health-forwarding-heartbeat",
        # The central bus's key already encrypts its log group: no second key.
        key=routing.key,
        query_folder="Baseline" if settings.queries else None,
        topic=topics[health_severity(config)],
    )


def add_health_dashboard_row(
    dashboard: MonitoringDashboard,
    config: BaselineConfig,
    *,
    trail_stack: cdk.Stack | None,
    trail_health: TrailHealth | None,
    central_alarms: Sequence[cloudwatch.IAlarm],
    forwarding_heartbeat: ForwardingHeartbeatMonitor | None = None,
) -> None:
    """The "Baseline health" row of the dashboard; the trail's alarms and metric by ARN and account
    when they live in another account (read through cross-account observability)."""
    if not wants_health(config):
        return
    stack = cdk.Stack.of(dashboard)
    trail_account = trail_region = None
    alarms: list[cloudwatch.IAlarm] = list(central_alarms)
    canary_metric: cloudwatch.IMetric | None = None
    threshold = None
    if trail_health is not None and trail_stack is not None:
        remote = trail_stack is not stack
        if remote:
            trail_account, trail_region = trail_stack.account, trail_stack.region
        for name, alarm in trail_health.alarms.items():
            alarms.append(
                cloudwatch.Alarm.from_alarm_arn(
                    stack,
                    f"HealthAlarm-{name}",
                    f"arn:{stack.partition}:cloudwatch:{trail_stack.region}:{trail_stack.account}:alarm:{name}",
                )
                if remote
                else alarm
            )
        if trail_health.canaries is not None:
            canary_metric = trail_health.canaries.metric.with_(
                account=trail_account, region=trail_region, label="Canary events"
            )
            threshold = trail_health.canaries.threshold
    dashboard.add_widgets(
        *baseline_health_widgets(
            trail_log_group_name=trail_log_group_name(config),
            trail_account=trail_account,
            trail_region=trail_region,
            alarms=alarms,
            canary_metric=canary_metric,
            expected_canaries=threshold,
            canary_parameter_name=canary_parameter_name(config) if wants_canary(config) else None,
            regions=config.regions,
            heartbeat_metric=forwarding_heartbeat.metric if forwarding_heartbeat is not None else None,
            expected_heartbeats=forwarding_heartbeat.threshold if forwarding_heartbeat is not None else None,
            heartbeat_log_group_name=(
                forwarding_heartbeat.log_group.log_group_name if forwarding_heartbeat is not None else None
            ),
        )
    )
