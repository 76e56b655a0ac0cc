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
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
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


class LogArchiveSettings(Model):
    transition_days: int | None = Field(
        default=90, ge=1, description="days before log objects move to Glacier; null keeps them in Standard"
    )
    retention_days: int | None = Field(
        default=2557, ge=1, description="days before log objects expire; null keeps them forever"
    )
    access_log_retention_days: int = Field(default=365, ge=1, description="S3 server access logs expire after")
    object_lock: ObjectLock | None = None


class Naming(Model):
    prefix: str = Field(default="baseline", description="lower-case prefix of every physical name")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9-]{1,19}$", value):
            raise ValueError("is not a name prefix (2-20 lower-case letters, digits or '-', starting with a letter)")
        return value


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


class TelemetrySettings(Model):
    """Network, edge and host telemetry: VPC flow logs, CloudFront access logs, the CloudWatch agent."""

    flow_logs: FlowLogsSettings = Field(default_factory=FlowLogsSettings)
    cloudwatch_agent: CloudWatchAgentSettings = Field(default_factory=CloudWatchAgentSettings)
    example_workload: bool = Field(
        default=False,
        description="add a small example workload stack (VPC, EC2 instance, CloudFront) showing all three",
    )


class BaselineConfig(Model):
    """The whole config file."""

    naming: Naming = Field(default_factory=Naming)
    home_region: str
    governed_regions: list[str] = Field(default_factory=list, description="regions the baseline covers; default: home")
    organization: Organization | None = Field(default=None, description="absent: single-account mode")
    accounts: list[Account]
    notifications: Notifications = Field(default_factory=Notifications)
    cloudtrail: CloudTrailSettings = Field(default_factory=CloudTrailSettings)
    log_archive: LogArchiveSettings = Field(default_factory=LogArchiveSettings)
    tags: dict[str, str] = Field(default_factory=dict, description="tags on every taggable resource")
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)

    @field_validator("home_region")
    @classmethod
    def _home_region(cls, value: str) -> str:
        _check_region(value)
        return value

    @field_validator("governed_regions")
    @classmethod
    def _governed(cls, value: list[str]) -> list[str]:
        for region in value:
            _check_region(region)
        return value

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


def _check_region(value: str) -> None:
    if value not in AWS_REGIONS:
        raise ValueError(f"is not an AWS region; allowed: {', '.join(AWS_REGIONS)}")


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

    archive = config.log_archive
    if (
        archive.transition_days is not None
        and archive.retention_days is not None
        and archive.retention_days <= archive.transition_days
    ):
        problems.append(
            f"log_archive.retention_days: {archive.retention_days} is not longer than log_archive.transition_days "
            f"({archive.transition_days}); objects would expire before they are archived: make it greater or null"
        )
    lock = archive.object_lock
    if lock is not None:
        if lock.mode is None:
            problems.append(
                f"log_archive.object_lock.mode: missing (days is {lock.days!r}); allowed: GOVERNANCE, COMPLIANCE"
            )
        if lock.days is None:
            problems.append(
                f"log_archive.object_lock.days: missing (mode is {lock.mode!r}); give the retention in days (>= 1)"
            )
        if lock.days is not None and archive.retention_days is not None and lock.days > archive.retention_days:
            problems.append(
                f"log_archive.object_lock.days: {lock.days} exceeds log_archive.retention_days ({archive.retention_days}); "
                "objects would be due to expire while still locked"
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
    problems += _telemetry_problems(config)
    return problems


def _telemetry_problems(config: BaselineConfig) -> list[str]:
    problems: list[str] = []
    telemetry = config.telemetry
    names = [a.name for a in config.accounts]
    for account in telemetry.flow_logs.vpc_ids:
        if account not in names:
            problems.append(
                f"telemetry.flow_logs.vpc_ids: {account!r} is not an account name; declared: {', '.join(names)}"
            )
    if not config.single_account and any(telemetry.flow_logs.vpc_ids.values()):
        problems.append(
            "telemetry.flow_logs.vpc_ids: flow logs for existing VPCs are deployed in single-account mode only so "
            "far; apply constructs_lib.FlowLogsForEveryVpc or VpcFlowLogs in the workload accounts' apps"
        )
    if not config.single_account and telemetry.cloudwatch_agent.enabled:
        problems.append(
            "telemetry.cloudwatch_agent.enabled: deployed in single-account mode only so far; use "
            "constructs_lib.CloudWatchAgent in the workload accounts' apps"
        )
    agent = telemetry.cloudwatch_agent
    if not re.match(r"^[\w.:/=+\-@ ]{1,128}$", agent.tag_key) or agent.tag_key.startswith("aws:"):
        problems.append(f"telemetry.cloudwatch_agent.tag_key: {agent.tag_key!r} is not a tag key (1-128 characters)")
    if not agent.tag_values or any(not 0 < len(v) <= 256 for v in agent.tag_values):
        problems.append(
            f"telemetry.cloudwatch_agent.tag_values: {agent.tag_values!r} must be one or more values of 1-256 characters"
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
