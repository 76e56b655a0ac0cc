"""What every section shares: the strict ``Model`` base, ``ConfigError``, AWS naming rules as
regexes and the validators several sections use."""

from __future__ import annotations

import functools
import re
import reprlib
import sys
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema, model_validator
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


def config_errors_exit_1(main: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
    """A command's ``main(argv)``: a ``ConfigError`` it raises becomes its lines on stderr and exit code 1,
    never a traceback (every ``python -m stacks.*`` command that reads a config, and ``make deploy-local``)."""

    @functools.wraps(main)
    def run(argv: list[str]) -> int:
        try:
            return main(argv)
        except ConfigError as error:
            print(error, file=sys.stderr)
            return 1

    return run


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


LOG_GROUP_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")


def _shown(value: Any) -> str:
    """``repr`` of a received value, cut short so one problem stays one readable line."""
    shortened = reprlib.Repr()
    shortened.maxlevel = 3
    shortened.maxdict = shortened.maxlist = shortened.maxtuple = shortened.maxset = 6
    shortened.maxstring = shortened.maxother = 120
    return shortened.repr(value)
