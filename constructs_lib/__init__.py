"""Constructs that deploy an organization's AWS monitoring and audit stack.

Import what you need into your own CDK app::

    from constructs_lib import AuditTrail, LogBucket
"""

from constructs_lib import event_patterns
from constructs_lib.audit_trail import (
    DEFAULT_ROLE_NAME,
    AuditTrail,
    DataEventSelection,
    InsightType,
    ManagementEvents,
)
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
from constructs_lib.event_patterns import FindingSeverity, SecurityEventPattern, WorkflowStatus
from constructs_lib.event_routing import (
    DEFAULT_BUS_NAME,
    EventForwarding,
    EventRouting,
    NotificationRoute,
    central_bus_arn,
    routes_by_severity,
)
from constructs_lib.insights_aspects import (
    DEFAULT_LAMBDA_INSIGHTS_VERSION,
    CloudWatchObservabilityAddon,
    ContainerInsights,
    LambdaInsights,
)
from constructs_lib.insights_queries import FLOW_LOG_QUERIES, TRAIL_QUERIES, InsightsQueries, SavedQuery
from constructs_lib.log_bucket import LifecycleOptions, LogBucket, ObjectLockMode, ObjectLockOptions
from constructs_lib.retention import RETENTION_DAYS, retention_from_days

__all__ = [
    "DEFAULT_BUS_NAME",
    "DEFAULT_LAMBDA_INSIGHTS_VERSION",
    "DEFAULT_ROLE_NAME",
    "FLOW_LOG_QUERIES",
    "RETENTION_DAYS",
    "TRAIL_QUERIES",
    "AuditTrail",
    "CloudWatchObservabilityAddon",
    "ContainerInsights",
    "DashboardSections",
    "DataEventSelection",
    "EventForwarding",
    "EventRouting",
    "FindingSeverity",
    "HostMetricNames",
    "InsightType",
    "InsightsQueries",
    "LambdaInsights",
    "LifecycleOptions",
    "Location",
    "LogBucket",
    "LogGroupLocation",
    "ManagementEvents",
    "MonitoringDashboard",
    "NotificationRoute",
    "OamResourceType",
    "ObjectLockMode",
    "ObjectLockOptions",
    "ObservabilityLink",
    "ObservabilitySink",
    "SavedQuery",
    "SecurityEventPattern",
    "WorkflowStatus",
    "central_bus_arn",
    "event_patterns",
    "retention_from_days",
    "routes_by_severity",
]
