"""AWS Config's managed rules as plain data: the curated rules, the spec of a rule, and what AWS Config
accepts as resource types, recorder names and conformance pack templates.

No aws_cdk import: the config check (``python -m stacks.config check``) reads these without starting
jsii. ``constructs_lib.config_rules`` and ``constructs_lib.config_recorder`` build the constructs from
them and export the same names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from constructs_lib._errors import Problems

RESOURCE_TYPE_PATTERN = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")
RECORDER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")

#: Resource types AWS Config always records continuously (daily recording is refused for them).
CONTINUOUS_ONLY_RESOURCE_TYPES = (
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::ConformancePackCompliance",
    "AWS::Config::ResourceCompliance",
)

IDENTIFIER_PATTERN = re.compile(r"^[A-Z0-9_]{3,128}$")
RULE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
PACK_NAME_PATTERN = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,255}$")

#: Conformance pack templates shipped with the library (``ConformancePackTemplate.bundled``).
BUNDLED_PACKS_DIR = Path(__file__).resolve().parent / "conformance_packs"

#: AWS Config refuses conformance pack template bodies above this size.
MAX_TEMPLATE_BODY_BYTES = 51_200

#: Periodic frequencies of managed rules: the values of ``aws_config.MaximumExecutionFrequency``.
EXECUTION_FREQUENCY_NAMES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")


@dataclass(frozen=True, kw_only=True)
class ManagedRuleSpec:
    """An AWS managed rule as data.

    :param identifier: the managed rule's source identifier, like ``CLOUD_TRAIL_ENABLED``.
    :param description: what a NON_COMPLIANT result means.
    :param input_parameters: the rule's parameters (strings, as Config takes them). Default: none.
    :param resource_types: evaluate only these types (configuration-change rules). Default: all
        the rule supports.
    :param maximum_execution_frequency: for periodic rules, one of ``EXECUTION_FREQUENCY_NAMES``.
        Default: the rule's own (24 hours).
    :param home_region_only: the rule checks something account-wide or global (root user,
        IAM, trails): evaluate it in the home region only, not once per region. Default: False.
    """

    identifier: str
    description: str
    input_parameters: Mapping[str, str] = field(default_factory=dict)
    resource_types: Sequence[str] = ()
    maximum_execution_frequency: str | None = None
    home_region_only: bool = False

    def problems(self, owner: str) -> list[str]:
        types = Problems(owner)
        types.check_type(f"{owner}.description", self.description, str)
        types.check_mapping(f"{owner}.input_parameters", self.input_parameters)
        types.check_sequence(f"{owner}.resource_types", self.resource_types)
        types.check_type(f"{owner}.home_region_only", self.home_region_only, bool)
        if types.items:
            return types.items
        found = []
        if not isinstance(self.identifier, str) or not IDENTIFIER_PATTERN.match(self.identifier):
            found.append(
                f"{owner}.identifier: {self.identifier!r} is not a managed rule identifier like 'CLOUD_TRAIL_ENABLED'"
            )
        found += [
            f"{owner}.resource_types: {t!r} is not a resource type like 'AWS::EC2::Instance'"
            for t in self.resource_types
            if not isinstance(t, str) or not RESOURCE_TYPE_PATTERN.match(t)
        ]
        if (
            self.maximum_execution_frequency is not None
            and self.maximum_execution_frequency not in EXECUTION_FREQUENCY_NAMES
        ):
            found.append(
                f"{owner}.maximum_execution_frequency: {self.maximum_execution_frequency!r} is not one of "
                f"{', '.join(EXECUTION_FREQUENCY_NAMES)}"
            )
        found += [
            f"{owner}.input_parameters[{key!r}]: {value!r} is not a string (Config takes parameters as strings)"
            for key, value in self.input_parameters.items()
            if not isinstance(value, str)
        ]
        return found


_DAILY = "TwentyFour_Hours"

#: The curated managed rules, by the rule name they get (after ``rule_name_prefix``).
#: Identifiers are values of ``aws_cdk.aws_config.ManagedRuleIdentifiers`` (the documented ones; a test holds
#: them to it), written out so that reading them needs no jsii.
CURATED_RULES: Mapping[str, ManagedRuleSpec] = {
    "cloudtrail-enabled": ManagedRuleSpec(
        identifier="CLOUD_TRAIL_ENABLED",
        description="No CloudTrail trail logs this account (CIS 3.1).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "multi-region-cloudtrail-enabled": ManagedRuleSpec(
        identifier="MULTI_REGION_CLOUD_TRAIL_ENABLED",
        description="No multi-region trail records management events (CIS 3.1).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "cloudtrail-log-file-validation-enabled": ManagedRuleSpec(
        identifier="CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
        description="A trail does not validate its log files (CIS 3.2).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "cloud-trail-encryption-enabled": ManagedRuleSpec(
        identifier="CLOUD_TRAIL_ENCRYPTION_ENABLED",
        description="A trail does not encrypt its log files with a KMS key (CIS 3.5).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "cloud-trail-cloud-watch-logs-enabled": ManagedRuleSpec(
        identifier="CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED",
        description="A trail does not deliver to CloudWatch Logs, so metric-filter alarms see nothing (CIS 3.4).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "cloudwatch-alarm-action-check": ManagedRuleSpec(
        identifier="CLOUDWATCH_ALARM_ACTION_CHECK",
        description="An alarm notifies nobody when it fires.",
        input_parameters={
            "alarmActionRequired": "true",
            "insufficientDataActionRequired": "false",
            "okActionRequired": "false",
        },
        resource_types=("AWS::CloudWatch::Alarm",),
    ),
    "vpc-flow-logs-enabled": ManagedRuleSpec(
        identifier="VPC_FLOW_LOGS_ENABLED",
        description="A VPC has no flow log (CIS 3.7).",
        maximum_execution_frequency=_DAILY,
    ),
    "cw-loggroup-retention-period-check": ManagedRuleSpec(
        identifier="CW_LOGGROUP_RETENTION_PERIOD_CHECK",
        description="A log group keeps its events for less than a year.",
        input_parameters={"MinRetentionTime": "365"},
    ),
    "s3-account-level-public-access-blocks-periodic": ManagedRuleSpec(
        identifier="S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC",
        description="The account does not block public access to S3 (CIS 2.1.4).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "s3-bucket-level-public-access-prohibited": ManagedRuleSpec(
        identifier="S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
        description="A bucket does not block public access.",
        resource_types=("AWS::S3::Bucket",),
    ),
    "s3-bucket-ssl-requests-only": ManagedRuleSpec(
        identifier="S3_BUCKET_SSL_REQUESTS_ONLY",
        description="A bucket accepts requests without TLS (CIS 2.1.1).",
        resource_types=("AWS::S3::Bucket",),
    ),
    "cmk-backing-key-rotation-enabled": ManagedRuleSpec(
        identifier="CMK_BACKING_KEY_ROTATION_ENABLED",
        description="A customer managed KMS key does not rotate (CIS 3.6).",
        maximum_execution_frequency=_DAILY,
    ),
    "iam-root-access-key-check": ManagedRuleSpec(
        identifier="IAM_ROOT_ACCESS_KEY_CHECK",
        description="The root user has an access key (CIS 1.4).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "root-account-mfa-enabled": ManagedRuleSpec(
        identifier="ROOT_ACCOUNT_MFA_ENABLED",
        description="The root user has no MFA device (CIS 1.5).",
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "iam-password-policy": ManagedRuleSpec(
        identifier="IAM_PASSWORD_POLICY",
        description="The IAM password policy is weaker than CIS asks (length 14, no reuse of the last 24).",
        input_parameters={"MinimumPasswordLength": "14", "PasswordReusePrevention": "24"},
        maximum_execution_frequency=_DAILY,
        home_region_only=True,
    ),
    "restricted-ssh": ManagedRuleSpec(
        identifier="INCOMING_SSH_DISABLED",
        description="A security group allows SSH from 0.0.0.0/0 (CIS 5.2).",
        resource_types=("AWS::EC2::SecurityGroup",),
    ),
    "encrypted-volumes": ManagedRuleSpec(
        identifier="ENCRYPTED_VOLUMES",
        description="An attached EBS volume is not encrypted (CIS 2.2.1).",
        resource_types=("AWS::EC2::Volume",),
    ),
    "ec2-ebs-encryption-by-default": ManagedRuleSpec(
        identifier="EC2_EBS_ENCRYPTION_BY_DEFAULT",
        description="New EBS volumes in this region are not encrypted by default (CIS 2.2.1).",
        maximum_execution_frequency=_DAILY,
    ),
    "cloudwatch-log-group-encrypted": ManagedRuleSpec(
        identifier="CLOUDWATCH_LOG_GROUP_ENCRYPTED",
        description="A log group is not encrypted with a KMS key.",
    ),
}
