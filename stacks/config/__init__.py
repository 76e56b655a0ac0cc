"""The organization config: one YAML file validated into typed models.

``load_config(path)`` returns a ``BaselineConfig`` or raises ``ConfigError`` whose lines each name
a field path, the value received and what is allowed. ``python -m stacks.config schema`` prints
the JSON Schema that ``config/schema.json`` holds.

Where things live (import from ``stacks.config``; the modules are the layout, not the API):

- ``_base``: the strict ``Model`` base, ``ConfigError``, AWS naming rules and shared validators;
- one module per section: ``organization`` (OUs, accounts, ``AccountRole``), ``cloudtrail``,
  ``log_archive``, ``aws_config``, ``scp``, ``alarms``, ``telemetry``, ``observability``,
  ``stacksets``, ``health``, ``control_tower``; ``model``: ``BaselineConfig``, the whole file;
- ``checks`` (with ``checks_aws_config``, ``checks_telemetry``, ``checks_scp``): checks across
  fields and sections, run once the models accept the data;
- ``loading``: YAML reading and ``parse_config`` / ``load_config``; ``cli``: ``python -m stacks.config``.

The package imports no other ``stacks`` module at import time (``stacks.naming``,
``stacks.org_settings`` and the stacks import it); only the SCP check of a config valid otherwise
calls up into ``stacks.org_settings`` and ``stacks.deployers``, from inside the function.
"""

from stacks.config._base import (
    ACCOUNT_ID,
    AWS_REGIONS,
    BUCKET_NAME,
    BUCKET_NAME_RULE,
    DETECTION_NAME,
    EMAIL,
    IAM_ROLE_NAME,
    IAM_ROLE_NAME_RULE,
    LAMBDA_FUNCTION_ARN,
    LAMBDA_FUNCTION_ARN_RULE,
    LOG_GROUP_NAME,
    MAX_LIFECYCLE_DAYS,
    MAX_OBJECT_LOCK_DAYS,
    MAX_OU_DEPTH,
    MAX_OUS,
    MAX_TAGS,
    NAME,
    ORGANIZATION_ID,
    OU_ID,
    OU_NAME,
    RESERVED_PREFIXES,
    ROOT_ID,
    TAG_KEY,
    TAG_KEY_RULE,
    TAG_VALUE,
    TAG_VALUE_RULE,
    BucketName,
    ConfigError,
    Email,
    LambdaFunctionArn,
    LifecycleDays,
    Model,
    Region,
    config_errors_exit_1,
    is_bucket_name,
    tag_problems,
)
from stacks.config.alarms import (
    AlarmSettings,
    AnomalyDetection,
    CustomDetection,
)
from stacks.config.aws_config import (
    SNAPSHOT_FREQUENCIES,
    AwsConfigSettings,
    ConfigConformancePack,
    ConfigCustomRule,
    ConfigFrequencyOverride,
)
from stacks.config.checks_aws_config import MAX_PACK_PARAMETERS, MAX_RULE_PARAMETERS_CHARS
from stacks.config.cli import (
    main,
)
from stacks.config.cloudtrail import (
    CloudTrailSettings,
    DataEvents,
    Insights,
)
from stacks.config.control_tower import (
    CONTROL_TOWER_AGGREGATOR_NAME,
    CONTROL_TOWER_EXECUTION_ROLE,
    CONTROL_TOWER_RECORDER_NAME,
    CONTROL_TOWER_TRAIL_LOG_GROUP,
    CONTROL_TOWER_TRAIL_NAME,
    ControlTower,
)
from stacks.config.health import (
    HealthSettings,
)
from stacks.config.loading import (
    INTERNAL,
    MAX_CONFIG_BYTES,
    MAX_CONFIG_VALUES,
    internal_problem,
    load_config,
    parse_config,
    read_config_data,
)
from stacks.config.log_archive import (
    LogArchiveSettings,
    ObjectLock,
)
from stacks.config.model import (
    BaselineConfig,
    Naming,
    Notifications,
    json_schema,
    on_premises_account,
)
from stacks.config.observability import (
    QUERY_FOLDER,
    CustomQuery,
    ObservabilitySettings,
)
from stacks.config.organization import (
    Account,
    AccountRole,
    Organization,
    OrganizationalUnit,
)
from stacks.config.scp import (
    DEFAULT_SCP_EXEMPT_ROLES,
    SCP_NAMES,
    SCP_REGISTRY,
    DelegatedAdministrators,
    FlowLogTag,
    Guardrails,
    ScpAttachments,
    ScpDefinition,
    ServiceControlPolicies,
)
from stacks.config.stacksets import (
    StackSetSettings,
)
from stacks.config.telemetry import (
    VPC_ID,
    CloudWatchAgentSettings,
    FlowLogsSettings,
    OnPremisesSettings,
    TelemetrySettings,
)

__all__ = [
    "ACCOUNT_ID",
    "AWS_REGIONS",
    "BUCKET_NAME",
    "BUCKET_NAME_RULE",
    "CONTROL_TOWER_AGGREGATOR_NAME",
    "CONTROL_TOWER_EXECUTION_ROLE",
    "CONTROL_TOWER_RECORDER_NAME",
    "CONTROL_TOWER_TRAIL_LOG_GROUP",
    "CONTROL_TOWER_TRAIL_NAME",
    "DEFAULT_SCP_EXEMPT_ROLES",
    "DETECTION_NAME",
    "EMAIL",
    "IAM_ROLE_NAME",
    "IAM_ROLE_NAME_RULE",
    "INTERNAL",
    "LAMBDA_FUNCTION_ARN",
    "LAMBDA_FUNCTION_ARN_RULE",
    "LOG_GROUP_NAME",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_VALUES",
    "MAX_LIFECYCLE_DAYS",
    "MAX_OBJECT_LOCK_DAYS",
    "MAX_OUS",
    "MAX_OU_DEPTH",
    "MAX_PACK_PARAMETERS",
    "MAX_RULE_PARAMETERS_CHARS",
    "MAX_TAGS",
    "NAME",
    "ORGANIZATION_ID",
    "OU_ID",
    "OU_NAME",
    "QUERY_FOLDER",
    "RESERVED_PREFIXES",
    "ROOT_ID",
    "SCP_NAMES",
    "SCP_REGISTRY",
    "SNAPSHOT_FREQUENCIES",
    "TAG_KEY",
    "TAG_KEY_RULE",
    "TAG_VALUE",
    "TAG_VALUE_RULE",
    "VPC_ID",
    "Account",
    "AccountRole",
    "AlarmSettings",
    "AnomalyDetection",
    "AwsConfigSettings",
    "BaselineConfig",
    "BucketName",
    "CloudTrailSettings",
    "CloudWatchAgentSettings",
    "ConfigConformancePack",
    "ConfigCustomRule",
    "ConfigError",
    "ConfigFrequencyOverride",
    "ControlTower",
    "CustomDetection",
    "CustomQuery",
    "DataEvents",
    "DelegatedAdministrators",
    "Email",
    "FlowLogTag",
    "FlowLogsSettings",
    "Guardrails",
    "HealthSettings",
    "Insights",
    "LambdaFunctionArn",
    "LifecycleDays",
    "LogArchiveSettings",
    "Model",
    "Naming",
    "Notifications",
    "ObjectLock",
    "ObservabilitySettings",
    "OnPremisesSettings",
    "Organization",
    "OrganizationalUnit",
    "Region",
    "ScpAttachments",
    "ScpDefinition",
    "ServiceControlPolicies",
    "StackSetSettings",
    "TelemetrySettings",
    "config_errors_exit_1",
    "internal_problem",
    "is_bucket_name",
    "json_schema",
    "load_config",
    "main",
    "on_premises_account",
    "parse_config",
    "read_config_data",
    "tag_problems",
]
