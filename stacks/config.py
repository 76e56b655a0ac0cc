"""The organization config: one YAML file validated into typed models.

``load_config(path)`` returns a ``BaselineConfig`` or raises ``ConfigError`` whose lines each name
a field path, the value received and what is allowed. ``python -m stacks.config schema`` prints
the JSON Schema that ``config/schema.json`` holds.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

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
OU_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$")


def _check_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"is not an AWS region; allowed: {', '.join(AWS_REGIONS)}")
    return value


Region = Annotated[str, AfterValidator(_check_region)]


def _section_problem(field: str, message: str) -> PydanticCustomError:
    """A cross-field problem inside one section, reported as ``<section>.<field>: <message>``."""
    return PydanticCustomError("section", "{field}: {message}", {"field": field, "message": message})


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
    """An OU; ``children`` nest."""

    name: str = Field(description="OU name, unique in the whole tree")
    children: list[OrganizationalUnit] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not OU_NAME.match(value):
            raise ValueError("is not an OU name (1-128 letters, digits, space, '_', '.', '-')")
        return value

    def walk(self) -> Iterator[OrganizationalUnit]:
        yield self
        for child in self.children:
            yield from child.walk()


class Organization(Model):
    """AWS Organizations settings; absent means single-account mode."""

    id: str = Field(description="organization id, o-xxxxxxxxxx (used in trail and bucket policies)")
    organizational_units: list[OrganizationalUnit] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.match(r"^o-[a-z0-9]{10,32}$", value):
            raise ValueError("is not an organization id like 'o-a1b2c3d4e5'")
        return value

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
        return value


class Notifications(Model):
    """Email recipients per alarm severity."""

    critical: list[str] = Field(default_factory=list)
    high: list[str] = Field(default_factory=list)
    medium: list[str] = Field(default_factory=list)
    low: list[str] = Field(default_factory=list)

    @field_validator("critical", "high", "medium", "low")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL.match(address):
                raise ValueError(f"{address!r} is not an email address")
        return value


def _retention_days(value: int) -> int:
    if value not in RETENTION_DAYS:
        raise ValueError(
            f"is not a CloudWatch Logs retention period; allowed days: {', '.join(map(str, RETENTION_DAYS))}"
        )
    return value


class DataEvents(Model):
    s3_bucket_names: list[str] = Field(default_factory=list, description="object-level events of these buckets")
    all_s3_buckets: bool = False
    lambda_function_arns: list[str] = Field(default_factory=list)
    all_lambda_functions: bool = False


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


class ObjectLock(Model):
    mode: Literal["GOVERNANCE", "COMPLIANCE"] | None = None
    days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _both(self) -> ObjectLock:
        if self.mode is None:
            raise _section_problem("mode", f"missing (days is {self.days!r}); allowed: GOVERNANCE, COMPLIANCE")
        if self.days is None:
            raise _section_problem("days", f"missing (mode is {self.mode!r}); give the retention in days (>= 1)")
        return self


class LogArchiveSettings(Model):
    transition_days: int | None = Field(
        default=90, ge=1, description="days before log objects move to Glacier; null keeps them in Standard"
    )
    retention_days: int | None = Field(
        default=2557, ge=1, description="days before log objects expire; null keeps them forever"
    )
    access_log_retention_days: int = Field(default=365, ge=1, description="S3 server access logs expire after")
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
        return value


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
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

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
        units = config.organization.all_units()
        names = Counter(u.name for u in units)
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
    problems.extend(_observability_problems(config))
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
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append(f"observability.custom_queries[{index}].name: {name!r} is used twice; names must be unique")
    if settings.custom_queries and not settings.queries:
        problems.append("observability.custom_queries: given, but observability.queries is false; set it true")
    return problems


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "unknown_key":
            problems.append(f"{_path(loc)}: {message}")
        elif item["type"] == "section":
            problems.append(f"{_path(loc)}.{message}")
        elif item["type"] == "missing":
            problems.append(f"{_path(loc)}: required key is missing")
        else:
            problems.append(
                f"{_path(loc)}: {item['input']!r} {message}"
                if item["type"] == "value_error"
                else f"{_path(loc)}: {message} (got {item['input']!r})"
            )
    return problems


def parse_config(data: Any) -> BaselineConfig:
    """Validate already-loaded YAML data; ``ConfigError`` lists every problem."""
    if not isinstance(data, dict):
        raise ConfigError([f"(top level): expected a mapping of keys, got {type(data).__name__}"])
    try:
        config = BaselineConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_pydantic_problems(error)) from None
    problems = _semantic_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


def load_config(path: str | Path) -> BaselineConfig:
    """Read and validate the YAML config at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: is not valid YAML: {error}"]) from None
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
        print(f"{argv[2]}: valid")
        return 0
    print("usage: python -m stacks.config schema | check PATH", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
