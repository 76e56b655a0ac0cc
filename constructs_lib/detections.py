"""The detections ``SecurityAlarms`` deploys: the 15 CIS monitoring controls and a few more.

A detection is data: a name (from which ids, metric and alarm names derive), a CloudWatch
Logs filter pattern, a threshold over a period and a severity that picks the SNS topic.
``Detection`` parses its pattern when it is created, so a malformed pattern fails synth.

The CIS patterns are kept exactly as Security Hub documents them for controls CloudWatch.1
to CloudWatch.14 (and CIS 4.15): Security Hub fails a control whose pattern was altered, even
to "improve" it. Do not reformat them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs_lib.filter_pattern import FilterPattern, FilterPatternError, parse

if TYPE_CHECKING:
    import aws_cdk as cdk

__all__ = [
    "CIS_DETECTIONS",
    "EXTRA_DETECTIONS",
    "Detection",
    "Severity",
    "builtin_detections",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 -]{1,62}[A-Za-z0-9]$")
#: The period of a detection that names none.
DEFAULT_PERIOD_MINUTES = 5


def _whole_minutes_up_to_a_day(period: object) -> bool:
    import aws_cdk as cdk  # already loaded where a Duration was made

    if not isinstance(period, cdk.Duration):
        return False
    seconds = period.to_seconds()
    return not cdk.Token.is_unresolved(seconds) and seconds % 60 == 0 and 60 <= seconds <= 86400


class Severity(enum.Enum):
    """How urgent a detection is; each severity has its own SNS topic and recipients."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, kw_only=True)
class Detection:
    """A metric filter and the alarm on it.

    Example::

        from constructs_lib import Detection, Severity

        Detection(
            name="Break-glass role used",
            pattern='{ $.userIdentity.sessionContext.sessionIssuer.userName = "break-glass" }',
            severity=Severity.CRITICAL,
        )

    :param name: 3-64 letters, digits, spaces or '-'; the metric, alarm and construct ids
        derive from it, so renaming a detection replaces its alarm.
    :param pattern: CloudWatch Logs filter pattern, parsed here (``FilterPatternError`` if malformed).
    :param threshold: matching events within ``period`` that raise the alarm. Default: 1.
    :param period: a multiple of one minute, at most one day. Default: none, which is 5 minutes
        (``period_minutes``): the built-in detections need no aws_cdk object, so the config check
        (``python -m stacks.config check``) lists them without starting jsii.
    :param severity: picks the SNS topic. Default: HIGH.
    :param description: what triggers it, for the alarm description. Default: none.
    :param control: the benchmark control it implements, such as ``CIS 4.3``. Default: none.
    :param security_hub_control: the Security Hub control, such as ``CloudWatch.1``. Default: none.
    """

    name: str
    pattern: str
    threshold: int = 1
    period: cdk.Duration | None = None
    severity: Severity = Severity.HIGH
    description: str = ""
    control: str | None = None
    security_hub_control: str | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            problems.append(
                f"name {self.name!r} is not a detection name: 3-64 letters, digits, spaces or '-', "
                "starting with a letter"
            )
        try:
            parsed = parse(self.pattern)
        except FilterPatternError as error:
            problems.append(f"pattern: {error}")
        else:
            object.__setattr__(self, "_parsed", parsed)
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) or self.threshold < 1:
            problems.append(f"threshold {self.threshold!r} is not a whole number of events >= 1")
        if self.period is not None and not _whole_minutes_up_to_a_day(self.period):
            problems.append(
                f"period {self.period!r} is not a whole number of minutes from 1 minute to 1 day "
                "(metric filter metrics have one-minute resolution)"
            )
        if not isinstance(self.severity, Severity):
            problems.append(f"severity {self.severity!r} is not a Severity (CRITICAL, HIGH, MEDIUM or LOW)")
        if problems:
            owner = f"Detection({self.name!r})"
            if len(problems) == 1:
                raise ValueError(f"{owner}: {problems[0]}")
            raise ValueError(f"{owner}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems))

    @property
    def period_minutes(self) -> int:
        """The alarm's period in minutes: ``period``'s, or 5."""
        return DEFAULT_PERIOD_MINUTES if self.period is None else int(self.period.to_minutes())

    @property
    def key(self) -> str:
        """Kebab-case name, as config files and ``SecurityAlarms(disabled=...)`` refer to it."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")

    @property
    def construct_id(self) -> str:
        """PascalCase name: construct id and metric name."""
        return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", self.name) if word)

    @property
    def filter_pattern(self) -> FilterPattern:
        """The parsed pattern, to evaluate events offline."""
        parsed: FilterPattern = self.__dict__["_parsed"]
        return parsed

    def matches(self, event: object) -> bool:
        """Whether the metric filter would count ``event`` (a CloudTrail record or a log line)."""
        return self.filter_pattern.matches(event)  # type: ignore[arg-type]


#: CIS AWS Foundations Benchmark monitoring controls 4.1 to 4.15, patterns verbatim.
CIS_DETECTIONS: tuple[Detection, ...] = (
    Detection(
        name="Root account usage",
        control="CIS 4.3",
        security_hub_control="CloudWatch.1",
        severity=Severity.CRITICAL,
        description="the root user signs in or calls an API itself (not an AWS service acting for it)",
        pattern=(
            '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}'
        ),
    ),
    Detection(
        name="Unauthorized API calls",
        control="CIS 4.1",
        security_hub_control="CloudWatch.2",
        severity=Severity.MEDIUM,
        description="an API call fails with an error code ending in UnauthorizedOperation or starting with AccessDenied",
        pattern=('{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}'),
    ),
    Detection(
        name="Console sign-in without MFA",
        control="CIS 4.2",
        security_hub_control="CloudWatch.3",
        severity=Severity.HIGH,
        description="an IAM user signs in to the console successfully without MFA",
        pattern=(
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
        ),
    ),
    Detection(
        name="IAM policy changes",
        control="CIS 4.4",
        security_hub_control="CloudWatch.4",
        severity=Severity.HIGH,
        description="an IAM policy is created, changed, deleted, attached or detached",
        pattern=(
            "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}"
        ),
    ),
    Detection(
        name="CloudTrail configuration changes",
        control="CIS 4.5",
        security_hub_control="CloudWatch.5",
        severity=Severity.CRITICAL,
        description="a trail is created, updated or deleted, or logging is started or stopped",
        pattern=(
            "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}"
        ),
    ),
    Detection(
        name="Console authentication failures",
        control="CIS 4.6",
        security_hub_control="CloudWatch.6",
        severity=Severity.MEDIUM,
        description="a console sign-in fails authentication",
        pattern=('{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}'),
    ),
    Detection(
        name="Customer managed key disabling or deletion",
        control="CIS 4.7",
        security_hub_control="CloudWatch.7",
        severity=Severity.HIGH,
        description="a KMS key is disabled or scheduled for deletion",
        pattern=(
            "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}"
        ),
    ),
    Detection(
        name="S3 bucket policy changes",
        control="CIS 4.8",
        security_hub_control="CloudWatch.8",
        severity=Severity.MEDIUM,
        description="a bucket ACL, policy, CORS, lifecycle or replication configuration is changed",
        pattern=(
            "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}"
        ),
    ),
    Detection(
        name="AWS Config configuration changes",
        control="CIS 4.9",
        security_hub_control="CloudWatch.9",
        severity=Severity.HIGH,
        description="the Config recorder is stopped or changed, or a delivery channel is changed or deleted",
        pattern=(
            "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}"
        ),
    ),
    Detection(
        name="Security group changes",
        control="CIS 4.10",
        security_hub_control="CloudWatch.10",
        severity=Severity.MEDIUM,
        description="a security group or one of its rules is created, changed or deleted",
        pattern=(
            "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}"
        ),
    ),
    Detection(
        name="Network ACL changes",
        control="CIS 4.11",
        security_hub_control="CloudWatch.11",
        severity=Severity.MEDIUM,
        description="a network ACL, an entry or an association is created, replaced or deleted",
        pattern=(
            "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}"
        ),
    ),
    Detection(
        name="Network gateway changes",
        control="CIS 4.12",
        security_hub_control="CloudWatch.12",
        severity=Severity.MEDIUM,
        description="a customer or internet gateway is created, deleted, attached or detached",
        pattern=(
            "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}"
        ),
    ),
    Detection(
        name="Route table changes",
        control="CIS 4.13",
        security_hub_control="CloudWatch.13",
        severity=Severity.MEDIUM,
        description="a route or route table is created, replaced, deleted or disassociated",
        pattern=(
            "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}"
        ),
    ),
    Detection(
        name="VPC changes",
        control="CIS 4.14",
        security_hub_control="CloudWatch.14",
        severity=Severity.MEDIUM,
        description="a VPC, a peering connection or ClassicLink is created, changed or deleted",
        pattern=(
            "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}"
        ),
    ),
    Detection(
        name="AWS Organizations changes",
        control="CIS 4.15",
        security_hub_control=None,
        severity=Severity.HIGH,
        description="accounts, OUs, policies or handshakes of the organization are changed",
        pattern=(
            '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'
        ),
    ),
)

#: What the seed asks for beyond CIS; only successful calls count (no ``errorCode``), since
#: failed ones are what the unauthorized-API-calls detection counts.
EXTRA_DETECTIONS: tuple[Detection, ...] = (
    Detection(
        name="EC2 instance state changes",
        severity=Severity.LOW,
        description="an EC2 instance is launched, stopped, rebooted or terminated",
        pattern=(
            '{ ($.eventSource = "ec2.amazonaws.com") && (($.eventName = "RunInstances") || '
            '($.eventName = "StopInstances") || ($.eventName = "RebootInstances") || '
            '($.eventName = "TerminateInstances")) && ($.errorCode NOT EXISTS) }'
        ),
    ),
    Detection(
        name="Password policy and MFA changes",
        severity=Severity.HIGH,
        description="the account password policy is changed or deleted, or an MFA device is deactivated or deleted",
        pattern=(
            '{ ($.eventSource = "iam.amazonaws.com") && (($.eventName = "UpdateAccountPasswordPolicy") || '
            '($.eventName = "DeleteAccountPasswordPolicy") || ($.eventName = "DeactivateMFADevice") || '
            '($.eventName = "DeleteVirtualMFADevice")) && ($.errorCode NOT EXISTS) }'
        ),
    ),
    Detection(
        name="Security services disabled",
        severity=Severity.CRITICAL,
        description="a GuardDuty detector, Security Hub, its standards or an IAM Access Analyzer is switched off",
        pattern=(
            '{ ((($.eventSource = "guardduty.amazonaws.com") && (($.eventName = "DeleteDetector") || '
            '($.eventName = "DisassociateFromAdministratorAccount") || ($.eventName = "StopMonitoringMembers"))) || '
            '(($.eventSource = "securityhub.amazonaws.com") && (($.eventName = "DisableSecurityHub") || '
            '($.eventName = "BatchDisableStandards"))) || '
            '(($.eventSource = "access-analyzer.amazonaws.com") && ($.eventName = "DeleteAnalyzer"))) '
            "&& ($.errorCode NOT EXISTS) }"
        ),
    ),
)


def builtin_detections() -> dict[str, Detection]:
    """Every built-in detection by key, CIS first."""
    return {detection.key: detection for detection in (*CIS_DETECTIONS, *EXTRA_DETECTIONS)}
