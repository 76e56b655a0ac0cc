"""The organization config: one YAML file validated into typed models.

``load_config(path)`` returns a ``BaselineConfig`` or raises ``ConfigError`` whose lines each name
a field path, the value received and what is allowed. ``python -m stacks.config schema`` prints
the JSON Schema that ``config/schema.json`` holds.
"""

from __future__ import annotations

import enum
import json
import re
import reprlib
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from constructs_lib.detections import builtin_detections
from constructs_lib.filter_pattern import FilterPatternError
from constructs_lib.filter_pattern import parse as parse_filter_pattern
from constructs_lib.retention import RETENTION_DAYS

#: Regions a config may name (commercial partition; the baseline's services exist in each).
AWS_REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

ACCOUNT_ID = re.compile(r"^\d{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
OU_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
#: AWS Organizations: "OU maximum nesting in a root: five levels of OUs deep under a root".
MAX_OU_DEPTH = 5
OU_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$")
DETECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 -]{1,62}[A-Za-z0-9]$")


def _check_email(value: str) -> str:
    if not EMAIL.match(value) or len(value) > 254:
        raise ValueError("is not an email address")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


def _check_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"is not an AWS region; allowed: {', '.join(AWS_REGIONS)}")
    return value


Region = Annotated[str, AfterValidator(_check_region)]


def _section_problem(field: str, message: str) -> PydanticCustomError:
    """A cross-field problem inside one section, reported as ``<section>.<field>: <message>``."""
    return PydanticCustomError("section", "{field}: {message}", {"field": field, "message": message})


# --- AWS rules for values that end up in names, ARNs, tags and policies -----------------------

#: IAM role names (IAM User Guide, "IAM object quotas"): 1-64 letters, digits and ``+=,.@_-``.
IAM_ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
IAM_ROLE_NAME_RULE = "an IAM role name is 1-64 letters, digits or '+=,.@_-'"
#: Tag keys: the StackSet tag pattern is the strictest among the resources the baseline tags.
TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+-]{1,128}$")
TAG_VALUE = re.compile(r"^[\w .:/=+@-]{1,256}$")
TAG_KEY_RULE = "an AWS tag key is 1-128 letters, digits, spaces or '_.:/=+-' and does not start with 'aws:'"
TAG_VALUE_RULE = "an AWS tag value is 1-256 letters, digits, spaces or '_.:/=+-@'"
#: AWS allows 50 tags per resource; the baseline adds up to 3 of its own (Name, monitoring, agent).
MAX_TAGS = 47
#: AWS Organizations: organizational units per organization (default quota).
MAX_OUS = 1000
#: S3 Object Lock: "the maximum retention period is 100 years".
MAX_OBJECT_LOCK_DAYS = 36500
#: S3 lifecycle ``Days`` is a 32-bit integer in the S3 API.
MAX_LIFECYCLE_DAYS = 2_147_483_647
LAMBDA_FUNCTION_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
LAMBDA_FUNCTION_ARN_RULE = (
    "a Lambda function ARN is arn:<partition>:lambda:<region>:<12-digit account>:function:<name>[:<version or alias>], "
    "the name 1-64 letters, digits, '-' or '_'"
)
#: KMS: alias names may not begin with ``alias/aws/`` (reserved for AWS managed keys).
RESERVED_PREFIXES = ("aws",)
#: S3 general purpose bucket naming rules (S3 User Guide, "Bucket naming rules").
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_NAME_RULE = (
    "an S3 bucket name is 3-63 lower-case letters, digits, '.' or '-', starts and ends with a letter or digit, "
    "has no '..', is no IP address, does not start with 'xn--', 'sthree-' or 'amzn-s3-demo-' and does not end "
    "with '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3'"
)
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def is_bucket_name(name: str) -> bool:
    """True if ``name`` follows the S3 naming rules for general purpose buckets."""
    return (
        bool(BUCKET_NAME.match(name))
        and ".." not in name
        and not re.match(r"^\d+\.\d+\.\d+\.\d+$", name)
        and not name.startswith(_BUCKET_PREFIXES)
        and not name.endswith(_BUCKET_SUFFIXES)
    )


def tag_problems(path: str, tags: dict[str, str]) -> list[str]:
    """Tags that AWS would refuse (reserved ``aws:`` prefix, length, characters, count)."""
    problems: list[str] = []
    for key, value in tags.items():
        if not TAG_KEY.match(key) or key.lower().startswith("aws:"):
            problems.append(f"{path}: key {_shown(key)} is not allowed: {TAG_KEY_RULE}")
        if not TAG_VALUE.match(value):
            problems.append(f"{path}.{key}: {_shown(value)} is not allowed: {TAG_VALUE_RULE}")
    if len(tags) > MAX_TAGS:
        problems.append(
            f"{path}: {len(tags)} tags; at most {MAX_TAGS} (AWS allows 50 per resource and the baseline adds up to 3)"
        )
    return problems


class ConfigError(Exception):
    """The config is invalid; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"config error: {p}" for p in problems))


class Model(BaseModel):
    """Strict base: unknown keys are errors that list the allowed keys (typos must not pass)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(k) for k in data if k not in cls.model_fields)
            if unknown:
                raise PydanticCustomError(
                    "unknown_key",
                    "unknown key(s) {unknown}; allowed: {allowed}",
                    {"unknown": ", ".join(repr(k) for k in unknown), "allowed": ", ".join(cls.model_fields)},
                )
        return data


class AccountRole(enum.StrEnum):
    MANAGEMENT = "management"
    LOG_ARCHIVE = "log-archive"
    AUDIT = "audit"
    WORKLOAD = "workload"


class OrganizationalUnit(Model):
    """An OU; ``children`` nest. With ``id`` it exists already and is referenced, else it is created."""

    name: str = Field(description="OU name, unique in the whole tree")
    id: str | None = Field(
        default=None, description="id of an existing OU (ou-xxxx-xxxxxxxx): referenced, not created; absent: created"
    )
    children: list[OrganizationalUnit] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not OU_NAME.match(value):
            raise ValueError("is not an OU name (1-128 letters, digits, space, '_', '.', '-')")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not OU_ID.match(value):
            raise ValueError(
                "is not an OU id like 'ou-ab12-cd34ef56' (Organizations: ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)"
            )
        return value

    def walk(self) -> Iterator[OrganizationalUnit]:
        yield self
        for child in self.children:
            yield from child.walk()


class Organization(Model):
    """AWS Organizations settings; absent means single-account mode.

    The organization exists (the management account runs it): the stacks reference it by ``id``.
    ``create: true`` makes the management stack create it instead (see README "A new organization").
    """

    id: str | None = Field(
        default=None,
        description="organization id, o-xxxxxxxxxx (used in trail, bucket and key policies); "
        "required unless create is true and the organization is yet to be created",
    )
    create: bool = Field(
        default=False,
        description="create the organization in the management stack (only for an account that has none yet); "
        "default: reference the existing organization by id",
    )
    root_id: str | None = Field(
        default=None,
        description="id of the organization's root (r-xxxx); absent: read at deploy time (organizations:ListRoots)",
    )
    organizational_units: list[OrganizationalUnit] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not ORGANIZATION_ID.match(value):
            raise ValueError("is not an organization id like 'o-a1b2c3d4e5'")
        return value

    @field_validator("root_id")
    @classmethod
    def _root_id(cls, value: str | None) -> str | None:
        if value is not None and not ROOT_ID.match(value):
            raise ValueError("is not a root id like 'r-ab12' (Organizations: ^r-[0-9a-z]{4,32}$)")
        return value

    @property
    def pending_creation(self) -> bool:
        """``create: true`` without an id yet: only the organization itself can be deployed."""
        return self.id is None

    def all_units(self) -> list[OrganizationalUnit]:
        return [unit for top in self.organizational_units for unit in top.walk()]


class Account(Model):
    name: str = Field(description="short lower-case name, used in stack names")
    id: str = Field(description="12-digit AWS account id (quote it in YAML)")
    email: str = Field(description="root user email of the account")
    role: AccountRole
    ou: str | None = Field(default=None, description="name of the OU it belongs to; absent: the root")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("is not an account name (2-32 lower-case letters, digits or '-', starting with a letter)")
        return value

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if not isinstance(value, str) or not ACCOUNT_ID.match(value):
            raise ValueError("is not a 12-digit AWS account id (quote it in YAML so leading zeros survive)")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("is not an email address")
        if not 6 <= len(value) <= 64:
            raise ValueError("is not an AWS account email: AWS Organizations takes 6-64 characters")
        return value


class Notifications(Model):
    """Email recipients per alarm severity."""

    critical: list[Email] = Field(default_factory=list)
    high: list[Email] = Field(default_factory=list)
    medium: list[Email] = Field(default_factory=list)
    low: list[Email] = Field(default_factory=list)

    @field_validator("critical", "high", "medium", "low")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        duplicates = sorted({a for a in value if value.count(a) > 1})
        if duplicates:
            raise ValueError(f"lists {duplicates!r} more than once (SNS subscribes an address once)")
        return value


def _retention_days(value: int) -> int:
    if value not in RETENTION_DAYS:
        raise ValueError(
            f"is not a CloudWatch Logs retention period; allowed days: {', '.join(map(str, RETENTION_DAYS))}"
        )
    return value


def _check_bucket_name(value: str) -> str:
    if not is_bucket_name(value):
        raise ValueError(f"is not a bucket name: {BUCKET_NAME_RULE}")
    return value


def _check_lambda_arn(value: str) -> str:
    if not LAMBDA_FUNCTION_ARN.match(value):
        raise ValueError(f"is not a Lambda function ARN: {LAMBDA_FUNCTION_ARN_RULE}")
    return value


BucketName = Annotated[str, AfterValidator(_check_bucket_name)]
LambdaFunctionArn = Annotated[str, AfterValidator(_check_lambda_arn)]


def _check_lifecycle_days(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_LIFECYCLE_DAYS:
        raise ValueError(
            f"is not a number of days from 1 to {MAX_LIFECYCLE_DAYS} (S3 lifecycle rules take 32-bit days)"
        )
    return value


LifecycleDays = Annotated[
    int,
    AfterValidator(_check_lifecycle_days),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_LIFECYCLE_DAYS}),
]


class DataEvents(Model):
    s3_bucket_names: list[BucketName] = Field(default_factory=list, description="object-level events of these buckets")
    all_s3_buckets: bool = False
    lambda_function_arns: list[LambdaFunctionArn] = Field(default_factory=list)
    all_lambda_functions: bool = False

    @field_validator("s3_bucket_names")
    @classmethod
    def _buckets(cls, value: list[str]) -> list[str]:
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"lists {duplicates!r} more than once")
        return value

    @field_validator("lambda_function_arns")
    @classmethod
    def _functions(cls, value: list[str]) -> list[str]:
        duplicates = sorted({n for n in value if value.count(n) > 1})
        if duplicates:
            raise ValueError(f"lists {duplicates!r} more than once")
        return value


class Insights(Model):
    api_call_rate: bool = False
    api_error_rate: bool = False


class CloudTrailSettings(Model):
    trail_name: str = Field(default="organization-trail", description="fixed trail name (policies are built from it)")
    management_events: Literal["all", "write-only", "read-only", "none"] = "all"
    exclude_kms_events: bool = False
    exclude_rds_data_events: bool = False
    data_events: DataEvents = Field(default_factory=DataEvents)
    insights: Insights = Field(default_factory=Insights)
    log_group_retention_days: int = Field(default=365, description="one of the CloudWatch Logs retention periods")
    cloudwatch_logs_role_name: str = "CloudTrail_CloudWatchLogs_Role"

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)

    @field_validator("cloudwatch_logs_role_name")
    @classmethod
    def _role_name(cls, value: str) -> str:
        if not IAM_ROLE_NAME.match(value):
            raise ValueError(f"is not a role name: {IAM_ROLE_NAME_RULE}")
        return value


class ObjectLock(Model):
    mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = None
    days: Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_OBJECT_LOCK_DAYS})] | None = (
        Field(default=None, description="retention of each new object version, 1-36500 days")
    )

    @field_validator("days")
    @classmethod
    def _days(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_OBJECT_LOCK_DAYS:
            raise ValueError(
                f"is not a retention from 1 to {MAX_OBJECT_LOCK_DAYS} days (S3 Object Lock allows at most 100 years)"
            )
        return value

    @model_validator(mode="after")
    def _both(self) -> ObjectLock:
        if self.mode is None:
            raise _section_problem("mode", f"missing (days is {self.days!r}); allowed: GOVERNANCE, COMPLIANCE")
        if self.days is None:
            raise _section_problem("days", f"missing (mode is {self.mode!r}); give the retention in days (>= 1)")
        return self


class LogArchiveSettings(Model):
    transition_days: LifecycleDays | None = Field(
        default=90, description="days before log objects move to Glacier; null keeps them in Standard"
    )
    retention_days: LifecycleDays | None = Field(
        default=2557, description="days before log objects expire; null keeps them forever"
    )
    access_log_retention_days: LifecycleDays = Field(default=365, description="S3 server access logs expire after")
    object_lock: ObjectLock | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LogArchiveSettings:
        if (
            self.transition_days is not None
            and self.retention_days is not None
            and self.retention_days <= self.transition_days
        ):
            raise _section_problem(
                "retention_days",
                f"{self.retention_days} is not longer than log_archive.transition_days ({self.transition_days}); "
                "objects would expire before they are archived: make it greater or null",
            )
        lock = self.object_lock
        if (
            lock is not None
            and lock.days is not None
            and self.retention_days is not None
            and lock.days > self.retention_days
        ):
            raise _section_problem(
                "object_lock.days",
                f"{lock.days} exceeds log_archive.retention_days ({self.retention_days}); "
                "objects would be due to expire while still locked",
            )
        return self


class Naming(Model):
    prefix: str = Field(default="baseline", description="lower-case prefix of every physical name")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9-]{1,19}$", value):
            raise ValueError("is not a name prefix (2-20 lower-case letters, digits or '-', starting with a letter)")
        if value in RESERVED_PREFIXES:
            raise ValueError(
                "is reserved: KMS refuses alias names beginning with 'alias/aws/', and the baseline's are 'alias/<prefix>/...'"
            )
        if f"{value}-".startswith(_BUCKET_PREFIXES):
            raise ValueError(f"would start the baseline's bucket names with a reserved prefix: {BUCKET_NAME_RULE}")
        return value


# --- AWS Config (issue 4) ---------------------------------------------------------------------

RESOURCE_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")
SNAPSHOT_FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")


def _resource_types(value: list[str]) -> list[str]:
    for resource_type in value:
        if not RESOURCE_TYPE.match(resource_type):
            raise ValueError(f"{resource_type!r} is not a resource type like 'AWS::EC2::Instance'")
    duplicates = sorted({t for t in value if value.count(t) > 1})
    if duplicates:
        raise ValueError(f"lists {duplicates!r} more than once")
    return value


class ConfigFrequencyOverride(Model):
    """Resource types recorded at another frequency than ``aws_config.recording_frequency``."""

    resource_types: list[str] = Field(min_length=1)
    frequency: Literal["CONTINUOUS", "DAILY"]
    description: str | None = None

    @field_validator("resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _resource_types(value)


class ConfigCustomRule(Model):
    """An AWS managed rule of your choice, next to the curated ones."""

    name: str = Field(description="rule name (after the naming prefix), 1-64 letters, digits, '-' or '_'")
    identifier: str = Field(description="managed rule source identifier, like RDS_STORAGE_ENCRYPTED")
    parameters: dict[str, str] = Field(default_factory=dict)
    resource_types: list[str] = Field(default_factory=list, description="scope; empty: all the rule supports")
    maximum_execution_frequency: Literal[SNAPSHOT_FREQUENCIES] | None = None  # type: ignore[valid-type]
    home_region_only: bool = Field(default=False, description="evaluate only in the home region (global checks)")

    @field_validator("resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _resource_types(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", value):
            raise ValueError("is not a rule name (1-64 letters, digits, '-' or '_')")
        return value

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.match(r"^[A-Z0-9_]{3,128}$", value):
            raise ValueError("is not a managed rule identifier like 'RDS_STORAGE_ENCRYPTED'")
        return value


class ConfigConformancePack(Model):
    name: str = Field(description="pack name: a letter, then letters, digits or '-'")
    template: str = Field(description="a bundled pack name (logging-and-monitoring) or the path of a template file")
    parameters: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z][-A-Za-z0-9]{0,255}$", value):
            raise ValueError("is not a conformance pack name (a letter, then letters, digits or '-')")
        return value


class AwsConfigSettings(Model):
    """AWS Config in every account and governed region: recorder, delivery, rules, aggregator."""

    enabled: bool = True
    recording_frequency: Literal["CONTINUOUS", "DAILY"] = Field(
        default="CONTINUOUS", description="DAILY: at most one configuration item per resource and day (cheaper)"
    )
    frequency_overrides: list[ConfigFrequencyOverride] = Field(
        default_factory=list, description="at most one (an AWS Config limit)"
    )
    excluded_resource_types: list[str] = Field(default_factory=list, description="record all types but these")
    snapshot_delivery_frequency: Literal[SNAPSHOT_FREQUENCIES] = "TwentyFour_Hours"  # type: ignore[valid-type]
    existing_recorder_name: str | None = Field(
        default=None, description="adopt this recorder (Control Tower's, say): no recorder or channel is created"
    )
    use_service_linked_role: bool = Field(default=False, description="record with AWSServiceRoleForConfig")
    rules: dict[str, bool] = Field(default_factory=dict, description="curated rule name: on/off (default: all on)")
    rule_parameters: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="curated rule name: parameters replacing its defaults"
    )
    custom_rules: list[ConfigCustomRule] = Field(default_factory=list)
    conformance_packs: list[ConfigConformancePack] = Field(default_factory=list)
    alert_severity: Literal["critical", "high", "medium", "low"] = Field(
        default="high", description="notifications list that gets NON_COMPLIANT alerts"
    )
    aggregator: bool = Field(default=True, description="organization aggregator in the audit account")

    @field_validator("excluded_resource_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return _resource_types(value)

    @field_validator("existing_recorder_name")
    @classmethod
    def _recorder_name(cls, value: str | None) -> str | None:
        from constructs_lib.config_recorder import RECORDER_NAME_PATTERN

        if value is not None and not RECORDER_NAME_PATTERN.match(value):
            raise ValueError("is not an AWS Config recorder name (1-256 letters, digits, '_', '.' or '-')")
        return value


#: SCPs the baseline builds (stacks/org_settings.py); attachments name them.
SCP_NAMES = ("protect-audit-logging", "protect-monitoring", "guardrails")
#: Roles exempt from every SCP statement unless the config says otherwise: the CDK execution role
#: (any bootstrap qualifier: `cdk deploy` of the log-archive, audit and example stacks), the role
#: service-managed StackSets create in every target account (the workload baseline), and the role
#: Organizations creates for the management account (break-glass).
DEFAULT_SCP_EXEMPT_ROLES = ("cdk-*-cfn-exec-role-*", "stacksets-exec-*", "OrganizationAccountAccessRole")


class ScpAttachments(Model):
    """Which SCPs attach where: the root, OUs by name, accounts by name."""

    root: list[str] = Field(default_factory=lambda: list(SCP_NAMES), description="SCP names attached to the root")
    organizational_units: dict[str, list[str]] = Field(default_factory=dict, description="OU name -> SCP names")
    accounts: dict[str, list[str]] = Field(default_factory=dict, description="account name -> SCP names")


class Guardrails(Model):
    deny_leave_organization: bool = True
    deny_root_user: bool = Field(default=True, description="deny every action by member accounts' root users")
    deny_ungoverned_regions: bool = Field(default=True, description="deny regional actions outside governed_regions")
    protect_security_services: bool = Field(
        default=False, description="deny disabling GuardDuty, Security Hub and IAM Access Analyzer"
    )


class DelegatedAdministrators(Model):
    """Register the audit account as delegated administrator of these services."""

    config: bool = False
    cloudtrail: bool = False


class FlowLogTag(Model):
    key: str
    value: str


class ServiceControlPolicies(Model):
    """Service control policies of the organization (organization mode only)."""

    exempt_role_names: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SCP_EXEMPT_ROLES),
        description="role names (wildcards allowed) exempt from every SCP statement: deployment and break-glass",
    )
    attachments: ScpAttachments = Field(default_factory=ScpAttachments)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    delegated_administrators: DelegatedAdministrators = Field(default_factory=DelegatedAdministrators)
    flow_log_tag: FlowLogTag | None = Field(default=None, description="tag on the baseline's flow logs to protect")


class CustomDetection(Model):
    """A detection of your own: a CloudWatch Logs filter pattern on the trail's log group."""

    name: str = Field(description="3-64 letters, digits, spaces or '-'; alarm and metric names derive from it")
    pattern: str = Field(description="CloudWatch Logs filter pattern, parsed when the config is loaded")
    threshold: int = Field(default=1, ge=1, description="matching events within the period that raise the alarm")
    period_minutes: int = Field(default=5, ge=1, le=1440, description="alarm period in minutes")
    severity: Literal["critical", "high", "medium", "low"] = Field(default="high", description="picks the SNS topic")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DETECTION_NAME.match(value):
            raise ValueError("is not a detection name (3-64 letters, digits, spaces or '-', starting with a letter)")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            parse_filter_pattern(value)
        except FilterPatternError as error:
            # One line (a config error is one line per problem): the text up to the position stands
            # in for a caret under it.
            raise ValueError(
                f"is not a valid filter pattern: {error.reason} (position {error.position}, "
                f"after {value[: error.position][-40:]!r})"
            ) from None
        return value

    @property
    def key(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


class AnomalyDetection(Model):
    enabled: bool = Field(default=True, description="anomaly detector and band alarm on the metrics below")
    metrics: list[str] = Field(
        default_factory=lambda: ["unauthorized-api-calls"], description="detection keys to watch for unusual volume"
    )
    band_std_devs: float = Field(
        default=2,
        description="width of the expected band in standard deviations, 0.0001-1000",
        json_schema_extra={"minimum": 0.0001, "maximum": 1000},
    )

    @field_validator("band_std_devs")
    @classmethod
    def _band(cls, value: float) -> float:
        # The alarm's metric math is ANOMALY_DETECTION_BAND(m, <value>): CloudWatch reads Python's
        # exponent notation ('1e+300', '1e-05') as unknown identifiers, so keep to plain decimals.
        if not 0.0001 <= value <= 1000:
            raise ValueError("is not a band width from 0.0001 to 1000 standard deviations")
        return value


class AlarmSettings(Model):
    """Security alarms on the trail's log group: CIS controls, extra detections, your own."""

    enabled: bool = Field(default=True, description="deploy the security alarms next to the trail's log group")
    disabled: list[str] = Field(
        default_factory=list, description="keys of built-in detections to switch off, such as 'vpc-changes'"
    )
    thresholds: dict[str, int] = Field(default_factory=dict, description="alarm threshold per detection key")
    custom: list[CustomDetection] = Field(default_factory=list)
    insufficient_data_notifications: bool = Field(default=False, description="also notify on INSUFFICIENT_DATA")
    composite_alarm: bool = Field(default=True, description="a posture alarm in ALARM while any detection is")
    anomaly_detection: AnomalyDetection = Field(default_factory=AnomalyDetection)


def _alarm_problems(alarms: AlarmSettings) -> list[str]:
    """Detection keys named in the ``alarms`` section must exist and be switched on."""
    problems: list[str] = []
    builtins = list(builtin_detections())
    custom = [detection.key for detection in alarms.custom]
    for index, key in enumerate(alarms.disabled):
        if key not in builtins:
            problems.append(
                f"alarms.disabled[{index}]: {key!r} is not a built-in detection; allowed: {', '.join(builtins)}"
            )
    for index, detection in enumerate(alarms.custom):
        if detection.key in builtins:
            problems.append(
                f"alarms.custom[{index}].name: {detection.name!r} has the key {detection.key!r} of a built-in "
                "detection; choose another name"
            )
        elif custom.index(detection.key) != index:
            problems.append(
                f"alarms.custom[{index}].name: {detection.name!r} is already used by "
                f"alarms.custom[{custom.index(detection.key)}]"
            )
    enabled = [key for key in builtins if key not in alarms.disabled] + custom
    for key, threshold in alarms.thresholds.items():
        if key not in enabled:
            state = "disabled" if key in alarms.disabled else "not a detection"
            problems.append(f"alarms.thresholds: {key!r} is {state}; allowed: {', '.join(enabled)}")
        if threshold < 1:
            problems.append(f"alarms.thresholds.{key}: {threshold} is not a whole number of events >= 1")
    if alarms.anomaly_detection.enabled:
        metrics = alarms.anomaly_detection.metrics
        duplicates = sorted({key for key in metrics if metrics.count(key) > 1})
        if duplicates:
            problems.append(f"alarms.anomaly_detection.metrics: {duplicates!r} listed more than once")
        for index, key in enumerate(metrics):
            if key not in enabled:
                state = "disabled" if key in alarms.disabled else "not a detection"
                problems.append(
                    f"alarms.anomaly_detection.metrics[{index}]: {key!r} is {state}; allowed: {', '.join(enabled)}"
                )
    if alarms.enabled and not enabled:
        problems.append("alarms.disabled: every detection is disabled; set alarms.enabled to false instead")
    return problems


VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")


class FlowLogsSettings(Model):
    """VPC flow logs for VPCs the baseline did not create, listed by id."""

    vpc_ids: dict[str, list[str]] = Field(
        default_factory=dict, description="account name -> ids of existing VPCs (vpc-...) that get flow logs"
    )
    destination: Literal["cloudwatch-logs", "s3", "both"] = Field(
        default="cloudwatch-logs", description="s3: the baseline's central log bucket (Parquet, Hive, hourly)"
    )
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    aggregation_interval: Literal[60, 600] = Field(default=600, description="seconds")
    log_group_retention_days: int = Field(default=365, description="one of the CloudWatch Logs retention periods")

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)

    @field_validator("vpc_ids")
    @classmethod
    def _vpc_ids(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for account, ids in value.items():
            bad = [i for i in ids if not VPC_ID.match(i)]
            if bad:
                raise ValueError(f"{account}: {bad!r} are not VPC ids (vpc- followed by 8 or 17 hex digits)")
            if len(set(ids)) != len(ids):
                raise ValueError(f"{account}: a VPC id is listed twice")
        return value


class CloudWatchAgentSettings(Model):
    """The CloudWatch agent on EC2 instances selected by tag, through SSM State Manager."""

    enabled: bool = False
    platform: Literal["linux", "windows"] = "linux"
    tag_key: str = Field(default="CloudWatchAgent", description="instances with this tag get the agent")
    tag_values: list[str] = Field(default_factory=lambda: ["enabled"], description="... and one of these values")
    schedule: str = Field(default="rate(1 day)", description="how often State Manager re-applies the associations")
    log_group_retention_days: int = 365

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)


class OnPremisesSettings(Model):
    """The CloudWatch agent on on-premises (and other clouds') servers through Systems Manager hybrid activations."""

    enabled: bool = False
    account: str | None = Field(
        default=None,
        description="organization mode: name of the account the servers register with (home region); "
        "single-account mode: the one account",
    )
    platforms: list[Literal["linux", "windows"]] = Field(
        default_factory=lambda: ["linux"],
        description="one activation, secret, agent configuration and associations per platform",
    )
    tag_key: str = Field(
        default="CloudWatchAgent",
        description="tag each activation puts on its nodes (value on-premises-<platform>); the associations target it",
    )
    registration_limit: int = Field(default=10, ge=1, le=1000, description="servers per activation")
    expiration_days: int = Field(default=30, ge=1, le=30, description="days an activation accepts registrations")
    default_instance_name: str = Field(default="on-premises", description="managed node name in Systems Manager")
    renewal: str = Field(default="1", description="change it to replace the activations on the next deploy")
    create_activation: bool = Field(
        default=True,
        description="false: only the service role, agent configurations and associations (activate by hand)",
    )
    log_group_retention_days: int = 365

    @field_validator("log_group_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)


class TelemetrySettings(Model):
    """Network, edge and host telemetry: VPC flow logs, CloudFront access logs, the CloudWatch agent."""

    flow_logs: FlowLogsSettings = Field(default_factory=FlowLogsSettings)
    cloudwatch_agent: CloudWatchAgentSettings = Field(default_factory=CloudWatchAgentSettings)
    example_workload: bool = Field(
        default=False,
        description="add a small example workload stack (VPC, EC2 instance, CloudFront) showing all three",
    )
    on_premises: OnPremisesSettings = Field(default_factory=OnPremisesSettings)
    detailed_monitoring: bool = Field(
        default=False,
        description="1-minute EC2 monitoring (charged per metric) for the EC2 resources this app creates "
        "(the example workload)",
    )


#: Folder of the baseline's saved queries (``InsightsQueries``' default).
QUERY_FOLDER = "Baseline"
LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


class CustomQuery(Model):
    """A saved Logs Insights query of your own."""

    name: str = Field(description="display name (saved under <folder>/Custom/)")
    query: str = Field(description="the Logs Insights query string")
    log_groups: list[str] = Field(default_factory=list, description="log group names preselected with the query")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[^\s/][^\n]{0,254}$", value):
            raise ValueError("is not a query name (1-255 characters on one line, not starting with a space or '/')")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip() or len(value) > 10_000:
            raise ValueError("is not a Logs Insights query (1-10,000 characters)")
        return value


class ObservabilitySettings(Model):
    """CloudWatch observability: central event bus, dashboard, cross-account observability, saved queries."""

    central_bus: bool = Field(default=True, description="central security event bus in the audit account")
    forwarding: bool = Field(default=True, description="forward security events of the other stacks to the bus")
    bus_name: str = Field(default="security-events", description="fixed name of the central bus")
    archive_retention_days: int = Field(default=365, ge=0, le=36500, description="0 keeps archived events forever")
    event_log_retention_days: int = Field(default=365, description="retention of the log group keeping every event")
    dashboard: bool = Field(default=True, description="security dashboard in the audit account")
    dashboard_name: str = Field(default="security-overview")
    oam: bool = Field(default=True, description="OAM sink in the audit account (organization mode)")
    oam_sink_arn: str | None = Field(
        default=None,
        description="ARN of the audit account's sink (a stack output after its first deploy); links need it",
    )
    queries: bool = Field(default=True, description="saved Logs Insights queries on the trail log group")
    custom_queries: list[CustomQuery] = Field(default_factory=list)

    @field_validator("event_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _retention_days(value)

    @field_validator("bus_name")
    @classmethod
    def _bus_name(cls, value: str) -> str:
        if value == "default" or not re.match(r"^[A-Za-z0-9._-]{1,256}$", value):
            raise ValueError("is not a custom event bus name (1-256 letters, digits, '.', '_', '-'; not 'default')")
        return value

    @field_validator("dashboard_name")
    @classmethod
    def _dashboard_name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9_-]{1,255}$", value):
            raise ValueError("is not a dashboard name (1-255 letters, digits, '-' or '_')")
        return value

    @field_validator("oam_sink_arn")
    @classmethod
    def _sink_arn(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^arn:[a-z-]+:oam:[a-z0-9-]+:\d{12}:sink/[A-Za-z0-9-]+$", value):
            raise ValueError("is not an OAM sink ARN like 'arn:aws:oam:eu-west-1:333333333333:sink/<id>'")
        return value


class StackSetSettings(Model):
    """Organization mode: how the workload baseline rolls out as a service-managed StackSet."""

    target_organizational_units: list[str] = Field(
        default_factory=list,
        description="OU names whose accounts (nested OUs included) get the workload baseline; empty: the whole organization",
    )
    max_concurrent_percentage: int = Field(
        default=25, ge=1, le=100, description="accounts deployed at once, per region"
    )
    failure_tolerance_percentage: int = Field(
        default=10, ge=0, le=100, description="failed accounts tolerated per region"
    )
    region_concurrency: Literal["PARALLEL", "SEQUENTIAL"] = "PARALLEL"
    retain_stacks_on_account_removal: bool = Field(
        default=True, description="keep the baseline (and its audit data) in an account that leaves the target OUs"
    )


class HealthSettings(Model):
    """The baseline watches itself: trail heartbeat, canaries, delivery latency, Config and notification health."""

    enabled: bool = Field(default=True, description="health alarms, canaries, queries and the dashboard row")
    severity: Literal["critical", "high", "medium", "low"] = Field(
        default="high", description="notification topic of the health alarms"
    )
    heartbeat_minutes: int = Field(
        default=30, ge=5, le=1440, description="ALARM when the trail log group receives nothing for this long"
    )
    canary: bool = Field(default=True, description="a scheduled ssm:PutParameter in every account and governed region")
    canary_rate_minutes: Literal[5, 10, 15, 20, 30] = Field(default=5, description="how often each canary calls")
    canary_parameter_name: str | None = Field(
        default=None, description="SSM parameter the canaries write; default /<prefix>/baseline/canary"
    )
    expected_canary_sources: int | None = Field(
        default=None,
        ge=1,
        description="account-regions running the canary; default: the config's accounts (of the target OUs) x regions",
    )

    @field_validator("canary_parameter_name")
    @classmethod
    def _parameter(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){0,14}$", value):
            raise ValueError("is not an SSM parameter path like '/acme/baseline/canary'")
        return value


class BaselineConfig(Model):
    """The whole config file."""

    naming: Naming = Field(default_factory=Naming)
    home_region: Region
    governed_regions: list[Region] = Field(
        default_factory=list, description="regions the baseline covers; default: home"
    )
    organization: Organization | None = Field(default=None, description="absent: single-account mode")
    accounts: list[Account]
    notifications: Notifications = Field(default_factory=Notifications)
    cloudtrail: CloudTrailSettings = Field(default_factory=CloudTrailSettings)
    log_archive: LogArchiveSettings = Field(default_factory=LogArchiveSettings)
    tags: dict[str, str] = Field(default_factory=dict, description="tags on every taggable resource")
    service_control_policies: ServiceControlPolicies | None = Field(
        default=None, description="organization mode: SCPs and where they attach; absent: the defaults"
    )
    alarms: AlarmSettings = Field(default_factory=AlarmSettings, description="security alarms on CloudTrail events")
    aws_config: AwsConfigSettings = Field(default_factory=AwsConfigSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    stacksets: StackSetSettings = Field(default_factory=StackSetSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    health: HealthSettings = Field(default_factory=HealthSettings)

    @property
    def single_account(self) -> bool:
        return self.organization is None

    @property
    def regions(self) -> list[str]:
        """Governed regions, home region first."""
        rest = [r for r in self.governed_regions if r != self.home_region]
        return [self.home_region, *rest]

    def accounts_with_role(self, role: AccountRole) -> list[Account]:
        return [a for a in self.accounts if a.role is role]

    def account_with_role(self, role: AccountRole) -> Account:
        (account,) = self.accounts_with_role(role)
        return account


def _semantic_problems(config: BaselineConfig) -> list[str]:
    """Checks across fields, each naming the path, the value and what is allowed."""
    problems: list[str] = []

    for field in ("id", "name", "email"):
        first_use: dict[str, int] = {}
        for index, account in enumerate(config.accounts):
            value = getattr(account, field)
            if value in first_use:
                problems.append(
                    f"accounts[{index}].{field}: {value!r} is already used by accounts[{first_use[value]}]; "
                    f"each account needs its own {field}"
                )
            else:
                first_use[value] = index

    if config.governed_regions and config.home_region not in config.governed_regions:
        problems.append(
            f"governed_regions: {config.governed_regions!r} does not include home_region {config.home_region!r}; add it"
        )
    duplicates = [r for r, n in Counter(config.governed_regions).items() if n > 1]
    if duplicates:
        problems.append(f"governed_regions: {duplicates!r} listed more than once")

    if config.organization is None:
        if len(config.accounts) != 1:
            problems.append(
                f"accounts: single-account mode (no 'organization' section) takes exactly one account, got {len(config.accounts)}; "
                "add an 'organization' section for several accounts"
            )
        for index, account in enumerate(config.accounts):
            if account.ou is not None:
                problems.append(
                    f"accounts[{index}].ou: {account.ou!r} needs an 'organization' section (single-account mode has no OUs)"
                )
    else:
        problems.extend(_organization_problems(config.organization))
        units = config.organization.all_units()
        names = Counter(u.name for u in units)
        problems.extend(_construct_id_clashes(list(names)))
        if len(units) > MAX_OUS:
            problems.append(
                f"organization.organizational_units: {len(units)} OUs; an AWS organization holds at most {MAX_OUS}"
            )
        for name, count in names.items():
            if count > 1:
                problems.append(
                    f"organization.organizational_units: OU name {name!r} is declared {count} times; OU names must be unique"
                )
        for index, account in enumerate(config.accounts):
            if account.ou is not None and account.ou not in names:
                declared = ", ".join(sorted(names)) or "none"
                problems.append(f"accounts[{index}].ou: {account.ou!r} is not a declared OU; declared: {declared}")
            if account.role is AccountRole.MANAGEMENT and account.ou is not None:
                problems.append(
                    f"accounts[{index}].ou: the management account always sits in the root (got {account.ou!r}); remove 'ou'"
                )
        for role, allowed in (
            (AccountRole.MANAGEMENT, (1,)),
            (AccountRole.LOG_ARCHIVE, (1,)),
            (AccountRole.AUDIT, (0, 1)),
        ):
            found = config.accounts_with_role(role)
            if len(found) not in allowed:
                want = "exactly one" if allowed == (1,) else "at most one"
                got = ", ".join(a.name for a in found) or "none"
                problems.append(
                    f"accounts: organization mode needs {want} account with role {role.value!r} (got {got})"
                )

    trail = config.cloudtrail
    if trail.data_events.all_s3_buckets and trail.data_events.s3_bucket_names:
        problems.append(
            "cloudtrail.data_events.s3_bucket_names: all_s3_buckets is true already; drop the list or the flag"
        )
    if trail.data_events.all_lambda_functions and trail.data_events.lambda_function_arns:
        problems.append(
            "cloudtrail.data_events.lambda_function_arns: all_lambda_functions is true already; drop the list or the flag"
        )
    if trail.management_events == "none" and (trail.insights.api_call_rate or trail.insights.api_error_rate):
        problems.append("cloudtrail.insights: needs management events, but cloudtrail.management_events is 'none'")
    if trail.management_events == "read-only" and (trail.insights.api_call_rate or trail.insights.api_error_rate):
        problems.append("cloudtrail.insights: analyses write events, but cloudtrail.management_events is 'read-only'")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$", trail.trail_name):
        problems.append(
            f"cloudtrail.trail_name: {trail.trail_name!r} is not a trail name (3-128 letters, digits, '.', '_', '-')"
        )
    if trail.management_events == "none":
        events = trail.data_events
        if not (
            events.s3_bucket_names
            or events.all_s3_buckets
            or events.lambda_function_arns
            or events.all_lambda_functions
        ):
            problems.append(
                "cloudtrail.management_events: 'none' with no cloudtrail.data_events: the trail would record nothing"
            )
        for flag in ("exclude_kms_events", "exclude_rds_data_events"):
            if getattr(trail, flag):
                problems.append(
                    f"cloudtrail.{flag}: true filters management events, but cloudtrail.management_events is 'none'"
                )
    problems.extend(tag_problems("tags", config.tags))
    problems.extend(_alarm_problems(config.alarms))
    problems.extend(_aws_config_problems(config.aws_config))
    problems.extend(_telemetry_problems(config))
    problems.extend(_on_premises_problems(config))
    problems.extend(_stackset_problems(config))
    problems.extend(_observability_problems(config))
    problems.extend(_health_problems(config))
    problems.extend(_scp_problems(config, check_documents=not problems))
    return problems


def _organization_problems(organization: Organization) -> list[str]:
    """The organization exists unless ``create`` says otherwise; OU ids are unique; the tree fits AWS's depth."""
    problems: list[str] = []
    if organization.id is None and not organization.create:
        problems.append(
            "organization.id: required key is missing: the stacks reference your existing organization by its id "
            "(`aws organizations describe-organization --query Organization.Id`); for an account without an "
            "organization, set organization.create: true"
        )
    if organization.create and organization.root_id is not None:
        problems.append(
            f"organization.root_id: {organization.root_id!r} names the root of an existing organization, "
            "but organization.create is true; drop one of them"
        )
    ids: dict[str, str] = {}

    def walk(units: list[OrganizationalUnit], depth: int, path: str) -> None:
        for index, unit in enumerate(units):
            where = f"{path}[{index}]"
            if depth > MAX_OU_DEPTH:
                problems.append(
                    f"{where}: OU {unit.name!r} sits {depth} levels below the root; AWS Organizations allows "
                    f"{MAX_OU_DEPTH}"
                )
            if unit.id is not None:
                if organization.create:
                    problems.append(
                        f"{where}.id: {unit.id!r} references an existing OU, but organization.create is true "
                        "(a new organization has no OUs yet); drop the id"
                    )
                if unit.id in ids:
                    problems.append(f"{where}.id: {unit.id!r} is already the id of OU {ids[unit.id]!r}")
                ids.setdefault(unit.id, unit.name)
            walk(unit.children, depth + 1, f"{where}.children")

    walk(organization.organizational_units, 1, "organization.organizational_units")
    return problems


def _construct_id_clashes(ou_names: list[str]) -> list[str]:
    """OU names the ``Organization`` construct cannot tell apart: its construct ids keep only the
    letters and digits of a name, capitalising each word (``constructs_lib.organization``)."""
    by_id: dict[str, list[str]] = {}
    for name in ou_names:
        ident = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)
        by_id.setdefault(ident, []).append(name)
    return [
        f"organization.organizational_units: OU names {same!r} differ only in punctuation, spaces or the case "
        "of a first letter; give names that letters or digits tell apart"
        for same in by_id.values()
        if len(same) > 1
    ]


#: AWS Config: a rule's InputParameters is a JSON string of at most 1,024 characters.
MAX_RULE_PARAMETERS_CHARS = 1024
#: AWS Config: a conformance pack takes at most 60 input parameters, names of 1-255 and values of
#: at most 4,096 characters.
MAX_PACK_PARAMETERS = 60


def _rule_parameter_problems(where: str, parameters: dict[str, str]) -> list[str]:
    size = len(json.dumps(parameters))
    if size > MAX_RULE_PARAMETERS_CHARS:
        return [
            f"{where}: {size} characters as JSON; AWS Config takes rule parameters of at most "
            f"{MAX_RULE_PARAMETERS_CHARS} characters"
        ]
    return [f"{where}: parameter names must not be empty" for name in parameters if not name][:1]


def _aws_config_problems(settings: AwsConfigSettings) -> list[str]:
    """Cross-field checks of the ``aws_config`` section."""
    from constructs_lib.config_recorder import CONTINUOUS_ONLY_RESOURCE_TYPES
    from constructs_lib.config_rules import BUNDLED_PACKS_DIR, CURATED_RULES

    problems: list[str] = []
    known = ", ".join(CURATED_RULES)
    for name in settings.rules:
        if name not in CURATED_RULES:
            problems.append(f"aws_config.rules: {name!r} is not a curated rule; known: {known}")
    for name in settings.rule_parameters:
        if name not in CURATED_RULES:
            problems.append(f"aws_config.rule_parameters: {name!r} is not a curated rule; known: {known}")
        elif settings.rules.get(name) is False:
            problems.append(f"aws_config.rule_parameters: {name!r} is switched off in aws_config.rules")
        else:
            merged = {**CURATED_RULES[name].input_parameters, **settings.rule_parameters[name]}
            problems.extend(_rule_parameter_problems(f"aws_config.rule_parameters.{name}", merged))
    if len(settings.frequency_overrides) > 1:
        problems.append(
            f"aws_config.frequency_overrides: {len(settings.frequency_overrides)} overrides; AWS Config accepts one: "
            "put all types with the same frequency into it"
        )
    for index, override in enumerate(settings.frequency_overrides):
        if override.frequency == settings.recording_frequency:
            problems.append(
                f"aws_config.frequency_overrides[{index}].frequency: {override.frequency!r} is already "
                "aws_config.recording_frequency; drop the override or change the frequency"
            )
        refused = sorted(set(override.resource_types) & set(CONTINUOUS_ONLY_RESOURCE_TYPES))
        if override.frequency == "DAILY" and refused:
            problems.append(
                f"aws_config.frequency_overrides[{index}].resource_types: {refused!r} are always recorded "
                "continuously; AWS Config refuses DAILY for them"
            )
        if override.description is not None and len(override.description) > 256:
            problems.append(
                f"aws_config.frequency_overrides[{index}].description: {len(override.description)} characters; "
                "AWS Config takes at most 256"
            )
        excluded = sorted(set(override.resource_types) & set(settings.excluded_resource_types))
        if excluded:
            problems.append(
                f"aws_config.frequency_overrides[{index}].resource_types: {excluded!r} are also in "
                "aws_config.excluded_resource_types and would not be recorded at all"
            )
    if settings.existing_recorder_name is not None:
        defaults = AwsConfigSettings()
        ignored = [
            key
            for key in (
                "recording_frequency",
                "frequency_overrides",
                "excluded_resource_types",
                "snapshot_delivery_frequency",
                "use_service_linked_role",
            )
            if getattr(settings, key) != getattr(defaults, key)
        ]
        if ignored:
            problems.append(
                f"aws_config.existing_recorder_name: {settings.existing_recorder_name!r} adopts a recorder managed "
                f"elsewhere, so {', '.join(ignored)} would have no effect; configure that recorder where it is managed"
            )
    excluded_all = set(settings.excluded_resource_types)
    for name, spec in CURATED_RULES.items():
        if settings.rules.get(name, True) and spec.resource_types and set(spec.resource_types) <= excluded_all:
            problems.append(
                f"aws_config.excluded_resource_types: rule {name!r} evaluates only {list(spec.resource_types)!r}, "
                f"which would not be recorded; switch it off (aws_config.rules: {{{name}: false}}) or record the type"
            )
    names = [rule.name for rule in settings.custom_rules]
    for index, rule in enumerate(settings.custom_rules):
        if rule.name in CURATED_RULES:
            problems.append(
                f"aws_config.custom_rules[{index}].name: {rule.name!r} is a curated rule; use aws_config.rule_parameters"
            )
        if names.index(rule.name) != index:
            problems.append(f"aws_config.custom_rules[{index}].name: {rule.name!r} is used twice")
        problems.extend(_rule_parameter_problems(f"aws_config.custom_rules[{index}].parameters", rule.parameters))
    bundled = sorted(p.stem for p in BUNDLED_PACKS_DIR.glob("*.yaml"))
    pack_names = [pack.name for pack in settings.conformance_packs]
    for index, pack in enumerate(settings.conformance_packs):
        if pack_names.index(pack.name) != index:
            problems.append(f"aws_config.conformance_packs[{index}].name: {pack.name!r} is used twice")
        where = f"aws_config.conformance_packs[{index}]"
        if pack.template not in bundled:
            problem = _pack_template_problem(pack.template)
            if problem:
                problems.append(
                    f"{where}.template: {pack.template!r} is neither a bundled pack ({', '.join(bundled)}) "
                    f"nor a usable template file: {problem}"
                )
        if len(pack.parameters) > MAX_PACK_PARAMETERS:
            problems.append(
                f"{where}.parameters: {len(pack.parameters)} parameters; a conformance pack takes at most "
                f"{MAX_PACK_PARAMETERS}"
            )
        for key, value in pack.parameters.items():
            if not 1 <= len(key) <= 255 or len(value) > 4096:
                problems.append(
                    f"{where}.parameters: {key!r} is not allowed: AWS Config takes parameter names of 1-255 "
                    "and values of at most 4,096 characters"
                )
    return problems


def _pack_template_problem(template: str) -> str | None:
    """Why the conformance pack template file cannot be used as a template body, or None."""
    from constructs_lib.config_rules import MAX_TEMPLATE_BODY_BYTES

    try:
        path = Path(template)
        if not path.is_file():
            return "no such file"
        raw = path.read_bytes()
    except (OSError, ValueError) as error:
        return f"cannot be read ({getattr(error, 'strerror', None) or error})"
    if len(raw) > MAX_TEMPLATE_BODY_BYTES:
        return f"{len(raw)} bytes; AWS Config takes template bodies of at most {MAX_TEMPLATE_BODY_BYTES} bytes"
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if not body.strip():
        return "empty"
    return None


def _telemetry_problems(config: BaselineConfig) -> list[str]:
    problems: list[str] = []
    telemetry = config.telemetry
    names = [a.name for a in config.accounts]
    for account in telemetry.flow_logs.vpc_ids:
        if account not in names:
            problems.append(
                f"telemetry.flow_logs.vpc_ids: {account!r} is not an account name; declared: {', '.join(names)}"
            )
    if (
        not config.single_account
        and any(telemetry.flow_logs.vpc_ids.values())
        and telemetry.flow_logs.destination != "cloudwatch-logs"
    ):
        problems.append(
            f"telemetry.flow_logs.destination: {telemetry.flow_logs.destination!r} needs a bucket in each account; "
            "organization mode delivers flow logs of listed VPCs to 'cloudwatch-logs' only"
        )
    agent = telemetry.cloudwatch_agent
    if not TAG_KEY.match(agent.tag_key) or agent.tag_key.lower().startswith("aws:"):
        problems.append(f"telemetry.cloudwatch_agent.tag_key: {agent.tag_key!r} is not a tag key: {TAG_KEY_RULE}")
    if not agent.tag_values:
        problems.append("telemetry.cloudwatch_agent.tag_values: [] needs one or more tag values")
    for index, value in enumerate(agent.tag_values):
        if not TAG_VALUE.match(value):
            problems.append(
                f"telemetry.cloudwatch_agent.tag_values[{index}]: {value!r} is not a tag value: {TAG_VALUE_RULE}"
            )
    schedule = re.match(r"^(rate\((\d+) (minutes?|hours?|days?)\)|cron\(.+\))$", agent.schedule)
    if schedule is None or ((schedule.group(3) or "").startswith("minute") and int(schedule.group(2)) < 30):
        problems.append(
            f"telemetry.cloudwatch_agent.schedule: {agent.schedule!r} must be rate(N minutes|hours|days) "
            "of at least 30 minutes, or cron(...)"
        )
    if telemetry.example_workload and not (config.single_account or config.accounts_with_role(AccountRole.WORKLOAD)):
        problems.append("telemetry.example_workload: needs an account with role 'workload' to deploy into")
    return problems


def on_premises_account(config: BaselineConfig) -> Account:
    """The account on-premises servers register with (``telemetry.on_premises.account``)."""
    if config.single_account:
        return config.accounts[0]
    (account,) = [a for a in config.accounts if a.name == config.telemetry.on_premises.account]
    return account


def _on_premises_problems(config: BaselineConfig) -> list[str]:
    settings = config.telemetry.on_premises
    where = "telemetry.on_premises"
    problems: list[str] = []
    names = [a.name for a in config.accounts]
    if settings.account is not None and settings.account not in names:
        problems.append(f"{where}.account: {settings.account!r} is not an account name; declared: {', '.join(names)}")
    if settings.enabled and not config.single_account and settings.account is None:
        problems.append(f"{where}.account: organization mode needs the name of the account the servers register with")
    if not settings.platforms or len(set(settings.platforms)) != len(settings.platforms):
        problems.append(f"{where}.platforms: {settings.platforms!r} must list linux and/or windows, each once")
    if not re.match(r"^[\w.:/=+\-@ ]{1,128}$", settings.tag_key) or settings.tag_key.startswith("aws:"):
        problems.append(f"{where}.tag_key: {settings.tag_key!r} is not a tag key (1-128 characters, not 'aws:...')")
    if settings.tag_key == config.telemetry.cloudwatch_agent.tag_key and any(
        v.startswith("on-premises-") for v in config.telemetry.cloudwatch_agent.tag_values
    ):
        problems.append(
            f"telemetry.cloudwatch_agent.tag_values: {config.telemetry.cloudwatch_agent.tag_values!r} overlap the "
            f"on-premises tag values (on-premises-<platform>); EC2 associations would target hybrid nodes"
        )
    if not re.match(r"^[\w\s.:/=+\-@]{0,256}$", settings.default_instance_name):
        problems.append(
            f"{where}.default_instance_name: {settings.default_instance_name!r} must be up to 256 letters, digits, "
            "spaces and _.:/=+-@"
        )
    if not 0 < len(settings.renewal) <= 64:
        problems.append(f"{where}.renewal: {settings.renewal!r} must be 1-64 characters")
    return problems


def _observability_problems(config: BaselineConfig) -> list[str]:
    settings = config.observability
    problems: list[str] = []
    if config.single_account:
        if settings.oam_sink_arn is not None:
            problems.append(
                f"observability.oam_sink_arn: {settings.oam_sink_arn!r} is for cross-account observability, "
                "but single-account mode has one account; remove it"
            )
    elif not config.accounts_with_role(AccountRole.AUDIT):
        # Switched on explicitly without an account to hold them: say so rather than skip silently.
        for field in ("central_bus", "dashboard", "oam"):
            if field in settings.model_fields_set and getattr(settings, field):
                problems.append(
                    f"observability.{field}: true needs an account with role 'audit' to hold it; "
                    "add one or set it false"
                )
    names = [query.name for query in settings.custom_queries]
    slugs: dict[str, str] = {}
    group_slugs: dict[str, str] = {}
    for index, name in enumerate(names):
        where = f"observability.custom_queries[{index}]"
        if name in names[:index]:
            problems.append(f"{where}.name: {name!r} is used twice; names must be unique")
            continue
        # Saved as '<folder>/Custom/<name>'; the construct id is that path made of letters, digits and '-'.
        full_name = f"{QUERY_FOLDER}/Custom/{name}"
        if len(full_name) > 255:
            problems.append(
                f"{where}.name: {name!r} is {len(name)} characters; saved as {QUERY_FOLDER}/Custom/<name>, "
                f"it may have at most {255 - len(QUERY_FOLDER) - 8} (a query definition name is 1-255 characters)"
            )
        slug = re.sub(r"[^A-Za-z0-9]+", "-", full_name).strip("-")
        if slug in slugs:
            problems.append(
                f"{where}.name: {name!r} differs from {slugs[slug]!r} only in punctuation or spaces; "
                "give names that letters or digits tell apart"
            )
        slugs.setdefault(slug, name)
        for group_index, group in enumerate(settings.custom_queries[index].log_groups):
            if not LOG_GROUP_NAME.match(group):
                problems.append(
                    f"{where}.log_groups[{group_index}]: {group!r} is not a log group name "
                    "(1-512 letters, digits, '.', '-', '_', '/' or '#')"
                )
                continue
            group_slug = re.sub(r"[^A-Za-z0-9]+", "-", group).strip("-") or "root"
            if group_slugs.setdefault(group_slug, group) != group:
                problems.append(
                    f"{where}.log_groups[{group_index}]: {group!r} differs from {group_slugs[group_slug]!r} only in "
                    "punctuation; the baseline cannot tell them apart"
                )
    if settings.custom_queries and not settings.queries:
        problems.append("observability.custom_queries: given, but observability.queries is false; set it true")
    return problems


def _health_problems(config: BaselineConfig) -> list[str]:
    health = config.health
    if not (health.enabled and health.canary):
        return []
    events = config.cloudtrail.management_events
    if events in ("read-only", "none"):
        return [
            f"health.canary: the canary's ssm:PutParameter is a write management event, but "
            f"cloudtrail.management_events is {events!r}, so the trail would never record it; "
            "record 'all' or 'write-only' management events, or set health.canary false"
        ]
    return []


def _stackset_problems(config: BaselineConfig) -> list[str]:
    targets = config.stacksets.target_organizational_units
    if config.organization is None:
        return ["stacksets.target_organizational_units: single-account mode has no OUs; remove it"] if targets else []
    declared = {u.name for u in config.organization.all_units()}
    return [
        f"stacksets.target_organizational_units[{index}]: {name!r} is not a declared OU; "
        f"declared: {', '.join(sorted(declared)) or 'none'}"
        for index, name in enumerate(targets)
        if name not in declared
    ]


def _scp_problems(config: BaselineConfig, *, check_documents: bool) -> list[str]:
    """The ``service_control_policies`` section: known SCP names, declared targets, quotas, and (when
    the rest of the config is valid) the built policies' grammar, size and exemptions."""
    section = config.service_control_policies
    if section is None:
        return []
    if config.organization is None:
        return ["service_control_policies: needs an 'organization' section (single-account mode has no SCPs)"]
    problems: list[str] = []
    path = "service_control_policies"
    for index, role in enumerate(section.exempt_role_names):
        if not re.match(r"^[\w+=,.@*?-]{1,64}$", role):
            problems.append(
                f"{path}.exempt_role_names[{index}]: {role!r} is not a role name "
                "(1-64 letters, digits, '+=,.@_-', wildcards '*' '?')"
            )
    if not section.exempt_role_names:
        problems.append(f"{path}.exempt_role_names: needs at least one role (the deployment or break-glass role)")
    if section.flow_log_tag is not None:
        problems.extend(tag_problems(f"{path}.flow_log_tag", {section.flow_log_tag.key: section.flow_log_tag.value}))
    units = {u.name for u in config.organization.all_units()}
    accounts = {a.name: a for a in config.accounts}
    attachments = section.attachments
    targets: list[tuple[str, list[str]]] = [(f"{path}.attachments.root", attachments.root)]
    for name, names in attachments.organizational_units.items():
        where = f"{path}.attachments.organizational_units.{name}"
        if name not in units:
            problems.append(f"{where}: {name!r} is not a declared OU; declared: {', '.join(sorted(units)) or 'none'}")
        targets.append((where, names))
    for name, names in attachments.accounts.items():
        where = f"{path}.attachments.accounts.{name}"
        if name not in accounts:
            problems.append(f"{where}: {name!r} is not a declared account; declared: {', '.join(sorted(accounts))}")
        elif accounts[name].role is AccountRole.MANAGEMENT:
            problems.append(f"{where}: SCPs never restrict the management account; attach them elsewhere")
        targets.append((where, names))
    for where, names in targets:
        for index, name in enumerate(names):
            if name not in SCP_NAMES:
                problems.append(
                    f"{where}[{index}]: {name!r} is not an SCP of the baseline; known: {', '.join(SCP_NAMES)}"
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"{where}: {duplicates} listed more than once")
        if len(set(names)) > 4:
            problems.append(
                f"{where}: {len(set(names))} SCPs exceed the quota of 5 per target (FullAWSAccess takes one); "
                "attach at most 4"
            )
    guard = section.guardrails
    if not any(guard.model_dump().values()) and any("guardrails" in names for _, names in targets):
        problems.append(f"{path}.guardrails: every guardrail is off, but the 'guardrails' SCP is attached; detach it")
    delegated = section.delegated_administrators
    if (delegated.config or delegated.cloudtrail) and not config.accounts_with_role(AccountRole.AUDIT):
        problems.append(
            f"{path}.delegated_administrators: the delegated administrator is the account with role 'audit', "
            "but no account has it; add one or turn delegation off"
        )
    if check_documents and not problems:
        from constructs_lib import scp
        from stacks import config as canonical
        from stacks.org_settings import scp_documents  # late: org_settings builds on this module

        if canonical.BaselineConfig is not BaselineConfig:  # run as `python -m stacks.config`: two module copies
            config = canonical.BaselineConfig.model_validate(config.model_dump(mode="json"))
        from stacks import deployers

        documents = scp_documents(config)
        for name, document in documents.items():
            for problem in scp.policy_problems(document, exempt_role_names=section.exempt_role_names):
                problems.append(f"{path}: SCP {name!r} {problem}")
        # Every role that deploys into a member account may do what CloudFormation's handlers need.
        problems.extend(deployers.problems(config, documents))
    return problems


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not re.match(r"^[\w:@/+=-][\w.:@/+=-]*$", str(part)):
            path += f"[{_shown(part)}]"  # a key with spaces, line breaks or nothing at all
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _shown(value: Any) -> str:
    """``repr`` of a received value, cut short so one problem stays one readable line."""
    shortened = reprlib.Repr()
    shortened.maxlevel = 3
    shortened.maxdict = shortened.maxlist = shortened.maxtuple = shortened.maxset = 6
    shortened.maxstring = shortened.maxother = 120
    return shortened.repr(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        message = _one_line(item["msg"].removeprefix("Value error, "))
        if item["type"] == "unknown_key":
            problems.append(f"{_path(loc)}: {message}")
        elif item["type"] == "section":
            problems.append(f"{_path(loc)}.{message}")
        elif item["type"] == "missing":
            problems.append(f"{_path(loc)}: required key is missing")
        else:
            problems.append(
                f"{_path(loc)}: {_shown(item['input'])} {message}"
                if item["type"] == "value_error"
                else f"{_path(loc)}: {message} (got {_shown(item['input'])})"
            )
    return problems


def parse_config(data: Any) -> BaselineConfig:
    """Validate already-loaded YAML data; ``ConfigError`` lists every problem."""
    if data is None:
        raise ConfigError(["(top level): the file is empty; expected a mapping of keys (home_region, accounts, ...)"])
    if not isinstance(data, dict):
        raise ConfigError([f"(top level): expected a mapping of keys, got {type(data).__name__}"])
    try:
        config = BaselineConfig.model_validate(data)
        problems = _semantic_problems(config)
    except ValidationError as error:
        raise ConfigError(_pydantic_problems(error)) from None
    except Exception as error:  # a bug in a check, not in the file: one line all the same, never a traceback
        raise ConfigError([internal_problem(error)]) from error
    if problems:
        raise ConfigError([_one_line(p) for p in problems])
    return config


#: Ends the line of a problem that is a bug in the baseline's checks (tests assert it never shows).
INTERNAL = "this is a bug in the baseline's config checks: please report it"


def internal_problem(error: BaseException) -> str:
    return f"(top level): could not be checked ({type(error).__name__}: {_one_line(str(error))[:300]}); {INTERNAL}"


#: A config file is a few kilobytes; anything this large is the wrong file (a log, an archive).
MAX_CONFIG_BYTES = 1_000_000
#: Values after YAML aliases are expanded; beyond this an alias "bomb" would stall validation.
MAX_CONFIG_VALUES = 100_000


class _DuplicateKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that records keys given twice in one mapping (PyYAML keeps the last one
    silently, so ``home_region`` written twice would move the trail without a word)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            try:
                key = self.construct_object(key_node, deep=False)
                hash(key)
            except (yaml.YAMLError, TypeError):
                continue  # the SafeLoader reports bad keys itself
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(
                    (
                        line,
                        f"line {line}: key {key!r} is given twice (lines {seen[key]} and {line}); "
                        "YAML would silently keep the last one: remove one",
                    )
                )
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: where, and what."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = "; ".join(str(part) for part in (error.context, error.problem) if part)
        return f"line {mark.line + 1}, column {mark.column + 1}: {' '.join(what.split())}"
    if isinstance(error, yaml.reader.ReaderError):
        return f"character #x{error.character:04x} at offset {error.position} is not allowed in YAML ({error.reason})"
    return " ".join(str(error).split())


def _oversized(data: Any) -> str | None:
    """Why the loaded YAML is too large to validate (aliases expanding without bound, or referring
    to themselves), or None."""
    budget = MAX_CONFIG_VALUES
    stack: list[tuple[Any, tuple[int, ...]]] = [(data, ())]
    while stack:
        node, parents = stack.pop()
        budget -= 1
        if budget < 0:
            return f"expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases?); a config is far smaller"
        if isinstance(node, dict | list):
            if id(node) in parents:
                return "refers to itself (a recursive YAML alias); write the values out"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, (*parents, id(node))) for child in children)
    return None


def read_config_data(path: str | Path) -> Any:
    """The YAML data of the file at ``path``; ``ConfigError`` (one line, naming the file) if it
    cannot be read, is too large, binary, not UTF-8, not YAML or gives a key twice."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror or error})"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [f"{path}: is larger than {MAX_CONFIG_BYTES:,} bytes; a config file is a few kilobytes of YAML"]
        )
    if b"\x00" in raw:
        raise ConfigError([f"{path}: is a binary file (it holds NUL bytes), not YAML text"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [f"{path}: is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); save it as UTF-8"]
        ) from None
    loader = None
    try:
        loader = _DuplicateKeyLoader(text)  # reads the text: refuses control characters already
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: is not valid YAML: {_yaml_problem(error)}"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: is nested too deeply to be a config"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if loader is not None and loader.duplicates:
        raise ConfigError([f"{path}: {problem}" for _, problem in sorted(loader.duplicates)])
    oversized = _oversized(data)
    if oversized:
        raise ConfigError([f"{path}: {oversized}"])
    return data


def load_config(path: str | Path) -> BaselineConfig:
    """Read and validate the YAML config at ``path``."""
    data = read_config_data(path)
    try:
        return parse_config(data)
    except ConfigError as error:
        raise ConfigError([f"{path}: {p}" for p in error.problems]) from None


def json_schema() -> dict[str, Any]:
    schema = BaselineConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Monitoring baseline organization config"
    return schema


def main(argv: list[str]) -> int:
    if argv[1:] == ["schema"]:
        print(json.dumps(json_schema(), indent=2, sort_keys=True))
        return 0
    if len(argv) == 3 and argv[1] == "check":
        try:
            load_config(argv[2])
        except ConfigError as error:
            print(error, file=sys.stderr)
            return 1
        except Exception as error:  # a bug here, not in the file: still no traceback for the user
            print(f"config error: {argv[2]}: {internal_problem(error)}", file=sys.stderr)
            return 1
        print(f"{argv[2]}: valid")
        return 0
    print("usage: python -m stacks.config schema | check PATH", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
