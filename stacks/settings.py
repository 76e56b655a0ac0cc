"""Config sections turned into construct options: the one place where YAML meets constructs_lib."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from constructs_lib import (
    AgentConfig,
    AggregationInterval,
    DataEventSelection,
    FlowLogDestination,
    InsightType,
    LifecycleOptions,
    ManagementEvents,
    ObjectLockMode,
    ObjectLockOptions,
    TrafficType,
    retention_from_days,
)
from constructs_lib.detections import Detection, Severity
from stacks.config import BaselineConfig


def lifecycle_options(config: BaselineConfig) -> LifecycleOptions:
    archive = config.log_archive
    return LifecycleOptions(transition_after_days=archive.transition_days, expire_after_days=archive.retention_days)


def object_lock_options(config: BaselineConfig) -> ObjectLockOptions | None:
    lock = config.log_archive.object_lock
    if lock is None or lock.mode is None or lock.days is None:
        return None
    return ObjectLockOptions(mode=ObjectLockMode(lock.mode), days=lock.days)


def trail_options(config: BaselineConfig) -> dict[str, Any]:
    """Keyword arguments of ``AuditTrail`` that come from the ``cloudtrail`` section."""
    trail = config.cloudtrail
    insights = [
        kind
        for kind, on in (
            (InsightType.API_CALL_RATE, trail.insights.api_call_rate),
            (InsightType.API_ERROR_RATE, trail.insights.api_error_rate),
        )
        if on
    ]
    return {
        "trail_name": trail.trail_name,
        "role_name": trail.cloudwatch_logs_role_name,
        "log_retention": retention_from_days(trail.log_group_retention_days),
        "management_events": ManagementEvents(trail.management_events),
        "exclude_kms_events": trail.exclude_kms_events,
        "exclude_rds_data_events": trail.exclude_rds_data_events,
        "data_events": DataEventSelection(
            s3_bucket_names=tuple(trail.data_events.s3_bucket_names),
            all_s3_buckets=trail.data_events.all_s3_buckets,
            lambda_function_arns=tuple(trail.data_events.lambda_function_arns),
            all_lambda_functions=trail.data_events.all_lambda_functions,
        ),
        "insights": insights,
    }


def severity_emails(config: BaselineConfig) -> dict[Severity, list[str]]:
    """The ``notifications`` section: recipients per severity."""
    recipients = config.notifications
    return {
        Severity.CRITICAL: list(recipients.critical),
        Severity.HIGH: list(recipients.high),
        Severity.MEDIUM: list(recipients.medium),
        Severity.LOW: list(recipients.low),
    }


def security_alarm_options(config: BaselineConfig) -> dict[str, Any]:
    """Keyword arguments of ``SecurityAlarms`` from the ``alarms`` and ``notifications`` sections."""
    alarms = config.alarms
    anomaly = alarms.anomaly_detection
    return {
        "disabled": list(alarms.disabled),
        "thresholds": dict(alarms.thresholds),
        "custom_detections": [
            Detection(
                name=custom.name,
                pattern=custom.pattern,
                threshold=custom.threshold,
                period=cdk.Duration.minutes(custom.period_minutes),
                severity=Severity(custom.severity),
            )
            for custom in alarms.custom
        ],
        "emails": severity_emails(config),
        "alarm_name_prefix": f"{config.naming.prefix}-security",
        "insufficient_data_actions": alarms.insufficient_data_notifications,
        "composite_alarm": alarms.composite_alarm,
        "anomaly_detection": list(anomaly.metrics) if anomaly.enabled else [],
        "anomaly_band_std_devs": anomaly.band_std_devs,
    }


# --- AWS Config ---


def config_recorder_options(config: BaselineConfig, *, home_region: bool) -> dict[str, Any]:
    """Keyword arguments of ``ConfigRecorder`` from the ``aws_config`` section (bucket aside)."""
    from constructs_lib import RecordingFrequency, RecordingFrequencyOverride, SnapshotDeliveryFrequency
    from stacks.landing_zone import adopted_recorder_name

    settings = config.aws_config
    adopted = adopted_recorder_name(config)
    if adopted is not None:
        return {"existing_recorder_name": adopted}
    return {
        "include_global_resource_types": home_region,
        "recording_frequency": RecordingFrequency(settings.recording_frequency),
        "frequency_overrides": [
            RecordingFrequencyOverride(
                resource_types=list(o.resource_types),
                frequency=RecordingFrequency(o.frequency),
                description=o.description,
            )
            for o in settings.frequency_overrides
        ],
        "excluded_resource_types": list(settings.excluded_resource_types),
        "snapshot_delivery_frequency": SnapshotDeliveryFrequency(settings.snapshot_delivery_frequency),
        "use_service_linked_role": settings.use_service_linked_role,
    }


def config_rules_options(config: BaselineConfig, *, home_region: bool) -> dict[str, Any]:
    """Keyword arguments of ``ConfigRules`` from the ``aws_config`` section (recorder and topic aside)."""
    from constructs_lib import ConformancePack, ConformancePackTemplate, CustomManagedRule, ManagedRuleSpec
    from constructs_lib.config_rules import BUNDLED_PACKS_DIR

    settings = config.aws_config
    bundled = {p.stem for p in BUNDLED_PACKS_DIR.glob("*.yaml")}
    return {
        "home_region": home_region,
        "rule_name_prefix": f"{config.naming.prefix}-",
        "disabled_rules": [name for name, on in settings.rules.items() if not on],
        "parameter_overrides": {name: dict(params) for name, params in settings.rule_parameters.items()},
        "custom_rules": [
            CustomManagedRule(
                name=rule.name,
                spec=ManagedRuleSpec(
                    identifier=rule.identifier,
                    description=f"Custom managed rule {rule.identifier} from the config",
                    input_parameters=dict(rule.parameters),
                    resource_types=tuple(rule.resource_types),
                    maximum_execution_frequency=rule.maximum_execution_frequency,
                    home_region_only=rule.home_region_only,
                ),
            )
            for rule in settings.custom_rules
        ],
        "conformance_packs": [
            ConformancePack(
                name=pack.name,
                template=(
                    ConformancePackTemplate.bundled(pack.template)
                    if pack.template in bundled
                    else ConformancePackTemplate.from_file(pack.template)
                ),
                input_parameters=dict(pack.parameters),
            )
            for pack in settings.conformance_packs
        ],
    }


def flow_log_options(config: BaselineConfig, bucket: s3.IBucket | None) -> dict[str, Any]:
    """Keyword arguments of ``VpcFlowLogs`` / ``FlowLogsForEveryVpc`` from ``telemetry.flow_logs``.

    :param bucket: the central log bucket for the ``s3`` and ``both`` destinations.
    """
    settings = config.telemetry.flow_logs
    destinations = []
    if settings.destination in ("cloudwatch-logs", "both"):
        destinations.append(
            FlowLogDestination.cloudwatch_logs(retention=retention_from_days(settings.log_group_retention_days))
        )
    if settings.destination in ("s3", "both"):
        if bucket is None:
            raise ValueError("telemetry.flow_logs.destination needs the central log bucket, but none was given")
        destinations.append(FlowLogDestination.s3(bucket, key_prefix="vpc-flow-logs"))
    return {
        "destinations": destinations,
        "traffic_type": TrafficType(settings.traffic_type),
        "max_aggregation_interval": AggregationInterval(settings.aggregation_interval),
    }


def agent_options(config: BaselineConfig) -> dict[str, Any]:
    """Keyword arguments of ``CloudWatchAgent`` from ``telemetry.cloudwatch_agent``."""
    agent = config.telemetry.cloudwatch_agent
    prefix = f"/{config.naming.prefix}/ec2/{agent.platform}"
    agent_config = (
        AgentConfig.linux(log_group_prefix=prefix)
        if agent.platform == "linux"
        else AgentConfig.windows(log_group_prefix=prefix)
    )
    return {
        "config": agent_config,
        "name": f"{config.naming.prefix}-{agent.platform}",
        "target_tag_key": agent.tag_key,
        "target_tag_values": list(agent.tag_values),
        "schedule": agent.schedule,
        "log_retention": retention_from_days(agent.log_group_retention_days),
    }
