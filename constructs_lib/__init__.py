"""Constructs that deploy an organization's AWS monitoring and audit stack.

Import what you need into your own CDK app::

    from constructs_lib import AuditTrail, LogBucket
"""

from constructs_lib.audit_trail import (
    DEFAULT_ROLE_NAME,
    AuditTrail,
    DataEventSelection,
    InsightType,
    ManagementEvents,
)
from constructs_lib.cloudfront_logs import (
    AccessLogsForEveryDistribution,
    CloudFrontAccessLogs,
    CloudFrontStandardLoggingV2,
    OutputFormat,
    enable_standard_logging,
)
from constructs_lib.cloudwatch_agent import (
    AgentConfig,
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
from constructs_lib.log_bucket import LifecycleOptions, LogBucket, ObjectLockMode, ObjectLockOptions
from constructs_lib.retention import RETENTION_DAYS, retention_from_days
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
    "RETENTION_DAYS",
    "AccessLogsForEveryDistribution",
    "AgentConfig",
    "AggregationInterval",
    "AppendDimension",
    "AuditTrail",
    "CloudFrontAccessLogs",
    "CloudFrontStandardLoggingV2",
    "CloudWatchAgent",
    "CpuMetrics",
    "DataEventSelection",
    "DiskMetrics",
    "EventLevel",
    "FlowLogDestination",
    "FlowLogField",
    "FlowLogResource",
    "FlowLogsForEveryVpc",
    "InsightType",
    "LifecycleOptions",
    "LogBucket",
    "LogFile",
    "ManagementEvents",
    "MemoryMetrics",
    "ObjectLockMode",
    "ObjectLockOptions",
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
    "retention_from_days",
]
