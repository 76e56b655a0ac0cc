"""Config sections turned into construct options: the one place where YAML meets constructs_lib."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from constructs_lib import (
    DataEventSelection,
    InsightType,
    LifecycleOptions,
    ManagementEvents,
    ObjectLockMode,
    ObjectLockOptions,
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


def security_alarm_options(config: BaselineConfig) -> dict[str, Any]:
    """Keyword arguments of ``SecurityAlarms`` from the ``alarms`` and ``notifications`` sections."""
    alarms = config.alarms
    recipients = config.notifications
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
        "emails": {
            Severity.CRITICAL: list(recipients.critical),
            Severity.HIGH: list(recipients.high),
            Severity.MEDIUM: list(recipients.medium),
            Severity.LOW: list(recipients.low),
        },
        "alarm_name_prefix": f"{config.naming.prefix}-security",
        "insufficient_data_actions": alarms.insufficient_data_notifications,
        "composite_alarm": alarms.composite_alarm,
        "anomaly_detection": list(anomaly.metrics) if anomaly.enabled else [],
        "anomaly_band_std_devs": anomaly.band_std_devs,
    }
