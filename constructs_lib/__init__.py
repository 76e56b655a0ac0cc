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
from constructs_lib.config_aggregator import ConfigAggregator
from constructs_lib.config_recorder import (
    GLOBAL_IAM_RESOURCE_TYPES,
    ConfigRecorder,
    RecordingFrequency,
    RecordingFrequencyOverride,
    SnapshotDeliveryFrequency,
)
from constructs_lib.config_rules import (
    CURATED_RULES,
    ConfigRules,
    ConformancePack,
    ConformancePackTemplate,
    CustomManagedRule,
    ManagedRuleSpec,
)
from constructs_lib.log_bucket import LifecycleOptions, LogBucket, ObjectLockMode, ObjectLockOptions
from constructs_lib.retention import RETENTION_DAYS, retention_from_days

__all__ = [
    "DEFAULT_ROLE_NAME",
    "RETENTION_DAYS",
    "AuditTrail",
    "DataEventSelection",
    "InsightType",
    "LifecycleOptions",
    "LogBucket",
    "ManagementEvents",
    "ObjectLockMode",
    "ObjectLockOptions",
    "retention_from_days",
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
