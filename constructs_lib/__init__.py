"""Constructs that deploy an organization's AWS monitoring and audit stack.

Import what you need into your own CDK app::

    from constructs_lib import AuditTrail, LogBucket

Each name is imported from its module on first use (PEP 562), so importing a part of the library
imports only the modules that part needs: ``python -m stacks.config check`` reads the policies,
patterns and rule data without importing aws_cdk (whose import starts jsii's node and loads
aws-cdk-lib into it, about two seconds), and an app loads the Python bindings of only the services
its constructs use.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type checkers and IDEs see every name as usual
    from constructs_lib import event_patterns, scp, scp_evaluator
    from constructs_lib._brought import IMPORTED_WARNING_ID
    from constructs_lib.audit_trail import (
        DEFAULT_ROLE_NAME,
        AuditTrail,
        DataEventSelection,
        InsightType,
        ManagementEvents,
    )
    from constructs_lib.cloudfront_logs import (
        CLOUDFRONT_LOGGING_NAG_FINDING,
        AccessLogsForEveryDistribution,
        CloudFrontAccessLogs,
        CloudFrontStandardLoggingV2,
        OutputFormat,
        enable_standard_logging,
    )
    from constructs_lib.cloudwatch_agent import (
        AgentConfig,
        AgentMode,
        AppendDimension,
        CloudWatchAgent,
        CpuMetrics,
        DiskMetrics,
        EventLevel,
        LogFile,
        MemoryMetrics,
        Platform,
        ProcstatMetrics,
        SwapMetrics,
        Timezone,
        WindowsCounters,
        WindowsEventLog,
    )
    from constructs_lib.config_aggregator import ConfigAggregator
    from constructs_lib.config_recorder import (
        GLOBAL_IAM_RESOURCE_TYPES,
        ConfigRecorder,
        RecordingFrequency,
        RecordingFrequencyOverride,
        SnapshotDeliveryFrequency,
    )
    from constructs_lib.config_rule_tags import ConfigRuleTags
    from constructs_lib.config_rules import (
        ConfigRules,
        ConformancePack,
        ConformancePackTemplate,
        CustomManagedRule,
    )
    from constructs_lib.control_tower import AccountFactoryRollout, lifecycle_event_pattern
    from constructs_lib.dashboard import (
        DashboardSections,
        HostMetricNames,
        Location,
        LogGroupLocation,
        MonitoringDashboard,
        OamResourceType,
        ObservabilityLink,
        ObservabilitySink,
    )
    from constructs_lib.detailed_monitoring import DetailedMonitoring
    from constructs_lib.detections import CIS_DETECTIONS, EXTRA_DETECTIONS, Detection, Severity
    from constructs_lib.event_patterns import FindingSeverity, SecurityEventPattern, WorkflowStatus
    from constructs_lib.event_routing import (
        EventForwarding,
        EventRouting,
        NotificationRoute,
        central_bus_arn,
        routes_by_severity,
    )
    from constructs_lib.filter_pattern import FilterPattern, FilterPatternError, matches
    from constructs_lib.health import (
        CONFIG_FAILURE_METRICS,
        CONFIG_METRICS_DOCUMENTATION,
        DELIVERY_LATENCY_QUERY,
        SILENT_FORWARDING_PATHS_QUERY,
        ApiCanary,
        CanaryMonitor,
        ConfigHealthAlarms,
        ForwardingHeartbeatMonitor,
        HealthQueries,
        LogGroupHeartbeat,
        NotificationHealthAlarms,
        baseline_health_widgets,
        canary_filter_pattern,
        config_failure_query,
        forwarded_health_events,
        forwarding_heartbeat_pattern,
        health_alarm_state_changes,
        heartbeat_filter_pattern,
        silent_sources_query,
    )
    from constructs_lib.hybrid_activation import HybridActivation, hybrid_service_role, on_premises_agent_config
    from constructs_lib.insights_aspects import (
        DEFAULT_LAMBDA_INSIGHTS_VERSION,
        CloudWatchObservabilityAddon,
        ContainerInsights,
        LambdaInsights,
    )
    from constructs_lib.insights_queries import FLOW_LOG_QUERIES, TRAIL_QUERIES, InsightsQueries, SavedQuery
    from constructs_lib.log_bucket import LifecycleOptions, LogBucket, ObjectLockMode, ObjectLockOptions
    from constructs_lib.managed_rules import CURATED_RULES, ManagedRuleSpec
    from constructs_lib.organization import (
        AccountSpec,
        DelegatedService,
        Organization,
        OrganizationalUnitSpec,
        PolicyTarget,
        ServiceControlPolicy,
    )
    from constructs_lib.retention import RETENTION_DAYS, retention_from_days
    from constructs_lib.security_alarms import NotificationTopics, SecurityAlarms
    from constructs_lib.vpc_flow_logs import (
        AggregationInterval,
        FlowLogDestination,
        FlowLogField,
        FlowLogResource,
        FlowLogsForEveryVpc,
        TrafficType,
        VpcFlowLogs,
        flow_logs_bucket_statements,
    )

__all__ = [
    "DEFAULT_ROLE_NAME",
    "IMPORTED_WARNING_ID",
    "RETENTION_DAYS",
    "AccountSpec",
    "AuditTrail",
    "ConfigRuleTags",
    "DataEventSelection",
    "DelegatedService",
    "InsightType",
    "LifecycleOptions",
    "LogBucket",
    "ManagementEvents",
    "ObjectLockMode",
    "ObjectLockOptions",
    "Organization",
    "OrganizationalUnitSpec",
    "PolicyTarget",
    "ServiceControlPolicy",
    "retention_from_days",
    "scp",
    "scp_evaluator",
]

# Security alarms
__all__ += [
    "CIS_DETECTIONS",
    "EXTRA_DETECTIONS",
    "Detection",
    "FilterPattern",
    "FilterPatternError",
    "NotificationTopics",
    "SecurityAlarms",
    "Severity",
    "matches",
]

# AWS Config
__all__ += [
    "CURATED_RULES",
    "GLOBAL_IAM_RESOURCE_TYPES",
    "ConfigAggregator",
    "ConfigRecorder",
    "ConfigRules",
    "ConformancePack",
    "ConformancePackTemplate",
    "CustomManagedRule",
    "ManagedRuleSpec",
    "RecordingFrequency",
    "RecordingFrequencyOverride",
    "SnapshotDeliveryFrequency",
]

# Network, edge and host telemetry
__all__ += [
    "CLOUDFRONT_LOGGING_NAG_FINDING",
    "AccessLogsForEveryDistribution",
    "AgentConfig",
    "AggregationInterval",
    "AppendDimension",
    "CloudFrontAccessLogs",
    "CloudFrontStandardLoggingV2",
    "CloudWatchAgent",
    "CpuMetrics",
    "DiskMetrics",
    "EventLevel",
    "FlowLogDestination",
    "FlowLogField",
    "FlowLogResource",
    "FlowLogsForEveryVpc",
    "LogFile",
    "MemoryMetrics",
    "OutputFormat",
    "Platform",
    "ProcstatMetrics",
    "SwapMetrics",
    "Timezone",
    "TrafficType",
    "VpcFlowLogs",
    "WindowsCounters",
    "WindowsEventLog",
    "enable_standard_logging",
    "flow_logs_bucket_statements",
]

# CloudWatch observability
__all__ += [
    "DEFAULT_LAMBDA_INSIGHTS_VERSION",
    "FLOW_LOG_QUERIES",
    "TRAIL_QUERIES",
    "CloudWatchObservabilityAddon",
    "ContainerInsights",
    "DashboardSections",
    "EventForwarding",
    "EventRouting",
    "FindingSeverity",
    "HostMetricNames",
    "InsightsQueries",
    "LambdaInsights",
    "Location",
    "LogGroupLocation",
    "MonitoringDashboard",
    "NotificationRoute",
    "OamResourceType",
    "ObservabilityLink",
    "ObservabilitySink",
    "SavedQuery",
    "SecurityEventPattern",
    "WorkflowStatus",
    "central_bus_arn",
    "event_patterns",
    "routes_by_severity",
]

# The baseline watches itself (issue 12)
__all__ += [
    "CONFIG_FAILURE_METRICS",
    "CONFIG_METRICS_DOCUMENTATION",
    "DELIVERY_LATENCY_QUERY",
    "SILENT_FORWARDING_PATHS_QUERY",
    "ApiCanary",
    "CanaryMonitor",
    "ConfigHealthAlarms",
    "ForwardingHeartbeatMonitor",
    "HealthQueries",
    "LogGroupHeartbeat",
    "NotificationHealthAlarms",
    "baseline_health_widgets",
    "canary_filter_pattern",
    "config_failure_query",
    "forwarded_health_events",
    "forwarding_heartbeat_pattern",
    "health_alarm_state_changes",
    "heartbeat_filter_pattern",
    "silent_sources_query",
]

# On-premises servers and detailed monitoring (issue 16)
__all__ += [
    "AgentMode",
    "DetailedMonitoring",
    "HybridActivation",
    "hybrid_service_role",
    "on_premises_agent_config",
]

# AWS Control Tower (issue 13)
__all__ += ["AccountFactoryRollout", "lifecycle_event_pattern"]


@cache
def _modules() -> dict[str, str]:
    """Each public name's module, read from the imports under ``if TYPE_CHECKING`` above: they are the
    one list (ruff holds ``__all__`` to it), and this reads them once, on the first lazy name."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    (block,) = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    return {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}


def __getattr__(name: str) -> object:
    import importlib

    module = _modules().get(name) if name in __all__ else None
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if module == __name__:  # a submodule exported as such: constructs_lib.scp
        value: object = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later reads find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
