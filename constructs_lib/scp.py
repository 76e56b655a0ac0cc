"""Service control policies (SCPs) that protect the monitoring stack, as plain data, with validation.

Every function returns a policy document as a ``dict`` in the IAM JSON grammar, ready for
``AWS::Organizations::Policy`` ``Content`` or any other tool. They need no construct, stack or
account: SCPs are plain JSON, so ARNs use ``*`` for account and region, and the partition is a
parameter (default ``aws``), never a CloudFormation token.

Every statement exempts the administrative roles (the deploying pipeline, break-glass) with
``ArnNotLike aws:PrincipalARN``, so the people who must repair the baseline can.

Example::

    from constructs_lib import scp

    resources = scp.MonitoringResources(
        trail_names=["acme-organization-trail"],
        log_group_names=["/aws/cloudtrail/acme-organization-trail"],
        bucket_names=["acme-cloudtrail-222222222222-eu-west-1"],
        role_names=["CloudTrail_CloudWatchLogs_Role"],
        key_aliases=["alias/acme/*"],
    )
    admins = ["cdk-hnb659fds-cfn-exec-role-*", "BreakGlass"]
    audit = scp.protect_audit_logging_policy(resources=resources, exempt_role_names=admins)
    monitoring = scp.protect_monitoring_policy(resources=resources, exempt_role_names=admins)
    guardrails = scp.guardrails_policy(exempt_role_names=admins, allowed_regions=["eu-west-1", "us-east-1"])
    scp.validate_policy(audit, name="protect-audit-logging", exempt_role_names=admins)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs_lib._errors import Problems
from constructs_lib.scp_evaluator import condition_holds

#: SCP size quota: bytes of the policy as sent (``minify`` removes the whitespace that would count).
MAX_POLICY_BYTES = 5120
#: SCPs directly attached to one root, OU or account, the AWS-managed FullAWSAccess included.
MAX_POLICIES_PER_TARGET = 5
DEFAULT_PARTITION = "aws"
VERSION = "2012-10-17"

#: Condition operators of the IAM policy grammar (each also takes ``IfExists``, except ``Null``).
CONDITION_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
)

#: Actions of global services, exempt from the region deny (AWS's documented example, extended with
#: the account and billing consoles); they are served from us-east-1 whatever region is governed.
GLOBAL_SERVICE_ACTIONS = (
    "a4b:*",
    "account:*",
    "acm:*",
    "aws-marketplace-management:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "budgets:*",
    "ce:*",
    "chime:*",
    "cloudfront:*",
    "config:*",
    "cur:*",
    "directconnect:*",
    "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways",
    "ec2:DescribeVpnGateways",
    "fms:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "importexport:*",
    "kms:*",
    "mobileanalytics:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublic*",
    "s3:ListAllMyBuckets",
    "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf-regional:*",
    "waf:*",
    "wafv2:*",
    "wellarchitected:*",
)

CLOUDTRAIL_ACTIONS = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)
#: The account's one recorder, delivery channel, retention and aggregation authorizations.
CONFIG_RECORDING_ACTIONS = (
    "config:DeleteAggregationAuthorization",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:DeleteRetentionConfiguration",
    "config:PutConfigurationRecorder",
    "config:PutDeliveryChannel",
    "config:PutRetentionConfiguration",
    "config:StopConfigurationRecorder",
)
#: Changes to a Config rule (all accept ``aws:ResourceTag``); tagging is included so the tag that
#: protects a rule cannot be changed or removed.
CONFIG_RULE_ACTIONS = (
    "config:DeleteConfigRule",
    "config:DeleteEvaluationResults",
    "config:PutConfigRule",
    "config:TagResource",
    "config:UntagResource",
)
#: Everything ``protect_config`` denies when the rules carry no protection tag.
CONFIG_ACTIONS = tuple(sorted((*CONFIG_RECORDING_ACTIONS, "config:DeleteConfigRule", "config:DeleteEvaluationResults")))
LOG_GROUP_ACTIONS = (
    "logs:DeleteLogGroup",
    "logs:DeleteMetricFilter",
    "logs:DeleteRetentionPolicy",
    "logs:DisassociateKmsKey",
    "logs:PutRetentionPolicy",
)
ALARM_ACTIONS = ("cloudwatch:DeleteAlarms", "cloudwatch:DisableAlarmActions")
TOPIC_ACTIONS = ("sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Unsubscribe")
KEY_ACTIONS = ("kms:DisableKey", "kms:DisableKeyRotation", "kms:ScheduleKeyDeletion")
KEY_ALIAS_ACTIONS = ("kms:DeleteAlias", "kms:UpdateAlias")
FLOW_LOG_ACTIONS = ("ec2:DeleteFlowLogs",)
#: Changes to a role; reading it (GetRole) stays allowed so tools and consoles keep working.
ROLE_ACTIONS = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
BUCKET_ACTIONS = (
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
)
SECURITY_SERVICE_ACTIONS = (
    "access-analyzer:DeleteAnalyzer",
    "guardduty:DeleteDetector",
    "guardduty:DeleteMembers",
    "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:DisassociateMembers",
    "guardduty:StopMonitoringMembers",
    "guardduty:UpdateDetector",
    "securityhub:BatchDisableStandards",
    "securityhub:DeleteMembers",
    "securityhub:DisableSecurityHub",
    "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount",
    "securityhub:DisassociateMembers",
)

_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_ROLE_NAME = re.compile(r"^[\w+=,.@*?-]{1,64}$")
_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
_SID = re.compile(r"^[A-Za-z0-9]*$")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")


@dataclass(frozen=True, kw_only=True)
class MonitoringResources:
    """The baseline's deterministic resource names that the protection policies guard.

    Names may use the ``*`` and ``?`` wildcards; each empty selection leaves its statement out.

    :param trail_names: CloudTrail trails. Default: none.
    :param log_group_names: CloudWatch log groups (their metric filters and retention). Default: none.
    :param alarm_names: CloudWatch alarms, say ``acme-*``. Default: none.
    :param topic_names: SNS topics. Default: none.
    :param key_aliases: KMS aliases, say ``alias/acme/*``; keys are matched by ``kms:ResourceAliases``
        because key ARNs carry generated ids. Default: none.
    :param role_names: IAM roles of the baseline (changes denied, reads allowed). Default: none.
    :param bucket_names: log archive buckets. Default: none.
    :param protect_config: deny stopping or deleting the AWS Config recorder, delivery channel,
        retention, aggregation authorizations and rules. The recorder is one per region, so these
        cover the whole account; so do the rules unless ``config_rule_tag`` narrows them. Default: True.
    :param config_rule_tag: ``(key, value)`` of the tag on the baseline's Config rules (see
        ``ConfigRuleTags``): only rules carrying it are protected (changes, deletion, re-tagging),
        so teams keep managing their own rules. Config rule ARNs carry generated ids, so a tag is
        the narrowest thing AWS supports. Default: None (every rule of the account is protected).
    :param flow_log_tag: ``(key, value)`` of the tag on the baseline's flow logs; deleting tagged flow
        logs is denied. Default: None (flow logs not protected).
    """

    trail_names: Sequence[str] = ()
    log_group_names: Sequence[str] = ()
    alarm_names: Sequence[str] = ()
    topic_names: Sequence[str] = ()
    key_aliases: Sequence[str] = ()
    role_names: Sequence[str] = ()
    bucket_names: Sequence[str] = ()
    protect_config: bool = True
    config_rule_tag: tuple[str, str] | None = None
    flow_log_tag: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        problems = Problems("MonitoringResources")
        for field_name in (
            "trail_names",
            "log_group_names",
            "alarm_names",
            "topic_names",
            "key_aliases",
            "role_names",
            "bucket_names",
        ):
            values = getattr(self, field_name)
            if isinstance(values, str):
                problems.add(f"{field_name}: expected a list of names, got the string {values!r}")
                continue
            if field_name == "role_names":
                continue  # checked below, against the IAM role name rules
            for value in values:
                problems.check(
                    isinstance(value, str) and bool(value) and not any(c.isspace() for c in value),
                    f"{field_name}: {value!r} is not a name (non-empty, no whitespace)",
                )
        for alias in self.key_aliases if not isinstance(self.key_aliases, str) else ():
            problems.check(
                isinstance(alias, str) and alias.startswith("alias/"),
                f"key_aliases: {alias!r} does not start with 'alias/'",
            )
        for role in self.role_names if not isinstance(self.role_names, str) else ():
            problems.check(
                isinstance(role, str) and bool(_ROLE_NAME.match(role)),
                f"role_names: {role!r} is not a role name (1-64 of letters, digits, '+=,.@_-', wildcards)",
            )
        for field_name in ("flow_log_tag", "config_rule_tag"):
            tag = getattr(self, field_name)
            if tag is not None:
                problems.check(
                    len(tag) == 2 and all(isinstance(p, str) and p for p in tag),
                    f"{field_name}: expected (key, value), got {tag!r}",
                )
        problems.raise_if_any()


def exempt_role_arns(role_names: Sequence[str], *, partition: str = DEFAULT_PARTITION) -> list[str]:
    """ARN patterns of the exempted roles in any account: ``arn:<partition>:iam::*:role/<name>``."""
    return [f"arn:{partition}:iam::*:role/{name}" for name in role_names]


def exemption(role_names: Sequence[str], *, partition: str = DEFAULT_PARTITION) -> dict[str, Any]:
    """The condition block that exempts the administrative roles from a Deny statement."""
    return {"ArnNotLike": {"aws:PrincipalARN": exempt_role_arns(role_names, partition=partition)}}


def protect_audit_logging_policy(
    *,
    resources: MonitoringResources,
    exempt_role_names: Sequence[str],
    partition: str = DEFAULT_PARTITION,
) -> dict[str, Any]:
    """Deny tampering with the audit evidence: CloudTrail trails, AWS Config and the log archive buckets.

    Uses ``trail_names``, ``protect_config`` and ``bucket_names`` of ``resources``.

    :param resources: what to protect, by the baseline's deterministic names.
    :param exempt_role_names: roles (names, wildcards allowed) that may still change these resources:
        the deploying role and break-glass. At least one.
    :param partition: ARN partition. Default: ``aws``.
    """
    _check_common("protect_audit_logging_policy", exempt_role_names, partition)
    arn = f"arn:{partition}"
    deny = _Denier(exempt_role_names, partition)
    if resources.trail_names:
        deny(
            "ProtectCloudTrail",
            CLOUDTRAIL_ACTIONS,
            [f"{arn}:cloudtrail:*:*:trail/{name}" for name in resources.trail_names],
        )
    if resources.protect_config and resources.config_rule_tag is None:
        deny("ProtectConfig", CONFIG_ACTIONS, "*")
    elif resources.protect_config:
        assert resources.config_rule_tag is not None
        deny("ProtectConfig", CONFIG_RECORDING_ACTIONS, "*")
        key, value = resources.config_rule_tag
        deny("ProtectConfigRules", CONFIG_RULE_ACTIONS, "*", StringEquals={f"aws:ResourceTag/{key}": value})
    if resources.bucket_names:
        deny("ProtectLogArchiveBuckets", BUCKET_ACTIONS, [f"{arn}:s3:::{name}" for name in resources.bucket_names])
    return deny.policy("protect_audit_logging_policy", "trail_names, bucket_names or protect_config")


def protect_monitoring_policy(
    *,
    resources: MonitoringResources,
    exempt_role_names: Sequence[str],
    partition: str = DEFAULT_PARTITION,
) -> dict[str, Any]:
    """Deny tampering with the monitoring stack: log groups and their metric filters, alarms, topics,
    KMS keys and aliases, flow logs and the baseline's roles.

    Uses ``log_group_names``, ``alarm_names``, ``topic_names``, ``key_aliases``, ``flow_log_tag`` and
    ``role_names`` of ``resources``.

    :param resources: what to protect, by the baseline's deterministic names.
    :param exempt_role_names: roles (names, wildcards allowed) that may still change these resources:
        the deploying role and break-glass. At least one.
    :param partition: ARN partition. Default: ``aws``.
    """
    _check_common("protect_monitoring_policy", exempt_role_names, partition)
    arn = f"arn:{partition}"
    deny = _Denier(exempt_role_names, partition)
    if resources.log_group_names:
        # Log group actions name the group with or without the ':*' suffix, depending on the API.
        deny(
            "ProtectLogGroups",
            LOG_GROUP_ACTIONS,
            [f"{arn}:logs:*:*:log-group:{name}{suffix}" for name in resources.log_group_names for suffix in ("", ":*")],
        )
    if resources.alarm_names:
        deny("ProtectAlarms", ALARM_ACTIONS, [f"{arn}:cloudwatch:*:*:alarm:{name}" for name in resources.alarm_names])
    if resources.topic_names:
        deny("ProtectTopics", TOPIC_ACTIONS, [f"{arn}:sns:*:*:{name}" for name in resources.topic_names])
    if resources.key_aliases:
        deny(
            "ProtectKeys",
            KEY_ACTIONS,
            "*",
            **{"ForAnyValue:StringLike": {"kms:ResourceAliases": list(resources.key_aliases)}},
        )
        # Deleting or moving the alias would otherwise lift the key's protection.
        deny("ProtectKeyAliases", KEY_ALIAS_ACTIONS, [f"{arn}:kms:*:*:{alias}" for alias in resources.key_aliases])
    if resources.flow_log_tag is not None:
        key, value = resources.flow_log_tag
        deny("ProtectFlowLogs", FLOW_LOG_ACTIONS, "*", StringEquals={f"aws:ResourceTag/{key}": value})
    if resources.role_names:
        deny("ProtectRoles", ROLE_ACTIONS, [f"{arn}:iam::*:role/{name}" for name in resources.role_names])
    return deny.policy(
        "protect_monitoring_policy",
        "log_group_names, alarm_names, topic_names, key_aliases, flow_log_tag or role_names",
    )


class _Denier:
    """Collects Deny statements, each with the exemption of the administrative roles."""

    def __init__(self, exempt_role_names: Sequence[str], partition: str) -> None:
        self._exempt = exemption(exempt_role_names, partition=partition)
        self.statements: list[dict[str, Any]] = []

    def __call__(self, sid: str, actions: Sequence[str], resource: Sequence[str] | str, **conditions: Any) -> None:
        self.statements.append(
            {
                "Sid": sid,
                "Effect": "Deny",
                "Action": list(actions),
                "Resource": resource if isinstance(resource, str) else list(resource),
                "Condition": {**conditions, **self._exempt},
            }
        )

    def policy(self, owner: str, fields: str) -> dict[str, Any]:
        if not self.statements:
            raise ValueError(f"{owner}: resources names nothing to protect; set {fields}")
        return {"Version": VERSION, "Statement": self.statements}


def guardrails_policy(
    *,
    exempt_role_names: Sequence[str],
    deny_leave_organization: bool = True,
    deny_root_user: bool = True,
    protect_security_services: bool = False,
    allowed_regions: Sequence[str] | None = None,
    global_actions: Sequence[str] = GLOBAL_SERVICE_ACTIONS,
    partition: str = DEFAULT_PARTITION,
) -> dict[str, Any]:
    """Organization guardrails in one policy (one slot of the 5-per-target quota).

    :param exempt_role_names: roles (names, wildcards allowed) exempt from every statement. At least one.
    :param deny_leave_organization: deny ``organizations:LeaveOrganization``. Default: True.
    :param deny_root_user: deny every action by the root user of member accounts. Default: True.
    :param protect_security_services: deny disabling GuardDuty, Security Hub and IAM Access Analyzer.
        Default: False (turn it on once those services are deployed).
    :param allowed_regions: add the statement of ``region_restriction_policy`` for these regions.
        Default: None (no region deny).
    :param global_actions: actions the region deny exempts. Default: ``GLOBAL_SERVICE_ACTIONS``.
    :param partition: ARN partition. Default: ``aws``.
    """
    _check_common("guardrails_policy", exempt_role_names, partition)
    exempt = exemption(exempt_role_names, partition=partition)
    statements: list[dict[str, Any]] = []
    if deny_leave_organization:
        statements.append(
            {
                "Sid": "DenyLeaveOrganization",
                "Effect": "Deny",
                "Action": "organizations:LeaveOrganization",
                "Resource": "*",
                "Condition": dict(exempt),
            }
        )
    if deny_root_user:
        statements.append(
            {
                "Sid": "DenyRootUser",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringLike": {"aws:PrincipalARN": f"arn:{partition}:iam::*:root"}, **exempt},
            }
        )
    if protect_security_services:
        statements.append(
            {
                "Sid": "ProtectSecurityServices",
                "Effect": "Deny",
                "Action": list(SECURITY_SERVICE_ACTIONS),
                "Resource": "*",
                "Condition": dict(exempt),
            }
        )
    if allowed_regions is not None:
        statements.extend(
            region_restriction_policy(
                allowed_regions=allowed_regions,
                exempt_role_names=exempt_role_names,
                global_actions=global_actions,
                partition=partition,
            )["Statement"]
        )
    if not statements:
        raise ValueError("guardrails_policy: every guardrail is turned off; the policy would be empty")
    return {"Version": VERSION, "Statement": statements}


def region_restriction_policy(
    *,
    allowed_regions: Sequence[str],
    exempt_role_names: Sequence[str],
    global_actions: Sequence[str] = GLOBAL_SERVICE_ACTIONS,
    partition: str = DEFAULT_PARTITION,
) -> dict[str, Any]:
    """Deny every regional action outside ``allowed_regions``; global services stay usable.

    :param allowed_regions: the governed regions, say ``["eu-west-1", "us-east-1"]``.
    :param exempt_role_names: roles (names, wildcards allowed) exempt from the deny. At least one.
    :param global_actions: actions exempt via ``NotAction``. Default: ``GLOBAL_SERVICE_ACTIONS``.
    :param partition: ARN partition. Default: ``aws``.
    """
    _check_common("region_restriction_policy", exempt_role_names, partition)
    if isinstance(allowed_regions, str) or not allowed_regions:
        raise ValueError(
            f"region_restriction_policy: allowed_regions needs at least one region, got {allowed_regions!r}"
        )
    bad = [r for r in allowed_regions if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", r)]
    if bad:
        raise ValueError(f"region_restriction_policy: allowed_regions {bad!r} are not region names like 'eu-west-1'")
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyUngovernedRegions",
                "Effect": "Deny",
                "NotAction": list(global_actions),
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": list(allowed_regions)},
                    **exemption(exempt_role_names, partition=partition),
                },
            }
        ],
    }


def minify(policy: Mapping[str, Any]) -> str:
    """The policy as sent to AWS Organizations: JSON without insignificant whitespace."""
    return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)


def size_in_bytes(policy: Mapping[str, Any]) -> int:
    """UTF-8 bytes of ``minify(policy)``: what the 5,120-byte quota counts."""
    return len(minify(policy).encode("utf-8"))


def policy_problems(
    policy: Any,
    *,
    exempt_role_names: Sequence[str] = (),
    partition: str = DEFAULT_PARTITION,
) -> list[str]:
    """Every problem of one SCP: grammar, size, and Deny statements that would lock out an exempted role.

    A Deny statement keeps an exempted role out only when one of its conditions on
    ``aws:PrincipalARN`` is false for that role (conditions are ANDed).
    """
    problems: list[str] = []
    if not isinstance(policy, Mapping):
        return [f"expected a JSON object, got {type(policy).__name__}"]
    unknown = sorted(set(policy) - {"Version", "Id", "Statement"})
    if unknown:
        problems.append(f"unknown top-level key(s) {unknown}; allowed: Version, Id, Statement")
    if policy.get("Version") != VERSION:
        problems.append(f"Version: {policy.get('Version')!r} must be {VERSION!r}")
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        problems.append(f"Statement: expected a non-empty list of statements, got {statements!r}")
        statements = []
    sids: set[str] = set()
    for index, statement in enumerate(statements):
        where = f"Statement[{index}]"
        if not isinstance(statement, Mapping):
            problems.append(f"{where}: expected an object, got {statement!r}")
            continue
        sid = statement.get("Sid")
        if sid is not None:
            where = f"Statement[{index}] ({sid})"
            if not isinstance(sid, str) or not _SID.match(sid):
                problems.append(f"{where}: Sid {sid!r} may hold only letters and digits")
            elif sid in sids:
                problems.append(f"{where}: Sid {sid!r} is used twice; Sids must be unique")
            sids.add(str(sid))
        problems.extend(f"{where}: {p}" for p in _statement_problems(statement))
        if statement.get("Effect") == "Deny":
            problems.extend(
                f"{where}: {p}" for p in _lockout_problems(statement, exempt_role_names, partition=partition)
            )
    size = size_in_bytes(policy) if not problems else None
    if size is not None and size > MAX_POLICY_BYTES:
        problems.append(
            f"is {size} bytes as sent (minified), over the {MAX_POLICY_BYTES}-byte SCP quota; "
            "split it into two policies or shorten its lists"
        )
    return problems


def validate_policy(
    policy: Any,
    *,
    name: str,
    exempt_role_names: Sequence[str] = (),
    partition: str = DEFAULT_PARTITION,
) -> None:
    """Raise ``ValueError`` listing every problem of ``policy`` (see ``policy_problems``)."""
    problems = Problems(f"SCP {name!r}")
    for problem in policy_problems(policy, exempt_role_names=exempt_role_names, partition=partition):
        problems.add(problem)
    problems.raise_if_any()


def attachment_problems(
    attachments: Mapping[str, Sequence[str]], *, full_aws_access_attached: bool = True
) -> list[str]:
    """Quota and duplicate problems of ``{target label: [policy names attached directly]}``.

    :param full_aws_access_attached: whether FullAWSAccess stays attached to each target (it counts
        towards the quota of 5). Default: True.
    """
    problems: list[str] = []
    room = MAX_POLICIES_PER_TARGET - (1 if full_aws_access_attached else 0)
    for target, names in attachments.items():
        duplicates = sorted({n for n in names if list(names).count(n) > 1})
        if duplicates:
            problems.append(f"{target}: {duplicates} attached more than once")
        count = len(set(names))
        if count > room:
            problems.append(
                f"{target}: {count} SCPs {sorted(set(names))} exceed the quota of {MAX_POLICIES_PER_TARGET} per target"
                + (" (FullAWSAccess takes one)" if full_aws_access_attached else "")
                + f"; attach at most {room}, for example by attaching some to a parent OU"
            )
    return problems


def _statement_problems(statement: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            problems.append(f"{key} is not supported in SCPs (they apply to every principal of the account)")
    unknown = sorted(set(statement) - set(_STATEMENT_KEYS) - {"Principal", "NotPrincipal"})
    if unknown:
        problems.append(f"unknown key(s) {unknown}; allowed: {', '.join(_STATEMENT_KEYS)}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        problems.append(f"Effect: {statement.get('Effect')!r} must be 'Allow' or 'Deny'")
    problems.extend(_one_of(statement, "Action", "NotAction", _ACTION, "'*' or 'service:Action' (wildcards allowed)"))
    problems.extend(
        _one_of(statement, "Resource", "NotResource", re.compile(r"^(\*|arn:.+)$"), "'*' or an ARN (wildcards allowed)")
    )
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        problems.append(f"Condition: expected an object of operators, got {condition!r}")
        return problems
    for operator, block in condition.items():
        if not _valid_operator(operator):
            problems.append(
                f"Condition: {operator!r} is not an IAM condition operator; allowed: {', '.join(CONDITION_OPERATORS)} "
                "(optionally ForAnyValue:/ForAllValues: and IfExists)"
            )
        if not isinstance(block, Mapping) or not block:
            problems.append(f"Condition.{operator}: expected an object of condition keys, got {block!r}")
            continue
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str | bool | int) for v in values):
                problems.append(f"Condition.{operator}.{key}: {value!r} must be a string, boolean or list of them")
    return problems


def _one_of(statement: Mapping[str, Any], key: str, not_key: str, pattern: re.Pattern[str], allowed: str) -> list[str]:
    present = [k for k in (key, not_key) if k in statement]
    if len(present) != 1:
        return [f"needs exactly one of {key} or {not_key}, got {present or 'neither'}"]
    value = statement[present[0]]
    values = value if isinstance(value, list) else [value]
    if not values:
        return [f"{present[0]}: is empty"]
    return [f"{present[0]}: {v!r} is not {allowed}" for v in values if not isinstance(v, str) or not pattern.match(v)]


def _valid_operator(operator: str) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return False
    if base.endswith("IfExists") and base != "NullIfExists":
        base = base.removesuffix("IfExists")
    return base in CONDITION_OPERATORS


def _lockout_problems(statement: Mapping[str, Any], exempt_role_names: Sequence[str], *, partition: str) -> list[str]:
    problems = []
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        return []
    for role in exempt_role_names:
        # A concrete ARN the role name (wildcards filled in) would have in some member account.
        sample = f"arn:{partition}:iam::123456789012:role/{role.replace('*', 'x').replace('?', 'x')}"
        kept_out = False
        for operator, block in condition.items():
            if not isinstance(block, Mapping):
                continue
            for key, expected in block.items():
                if key.lower() != "aws:principalarn":
                    continue
                try:
                    holds = condition_holds(operator, sample, expected if isinstance(expected, list) else [expected])
                except ValueError:
                    continue
                kept_out = kept_out or not holds
        if not kept_out:
            problems.append(
                f"denies the exempted role {role!r}; add {{'ArnNotLike': {{'aws:PrincipalARN': "
                f"['arn:{partition}:iam::*:role/{role}']}}}} to its Condition"
            )
    return problems


def _check_common(owner: str, exempt_role_names: Sequence[str], partition: str) -> None:
    problems = Problems(owner)
    if isinstance(exempt_role_names, str) or not exempt_role_names:
        problems.add(
            f"exempt_role_names needs at least one role (the deploying or break-glass role), got {exempt_role_names!r}"
        )
    else:
        for role in exempt_role_names:
            problems.check(
                isinstance(role, str) and bool(_ROLE_NAME.match(role)),
                f"exempt_role_names: {role!r} is not a role name (1-64 of letters, digits, '+=,.@_-', wildcards)",
            )
    problems.check(
        isinstance(partition, str) and bool(_PARTITION.match(partition)),
        f"partition {partition!r} is not an AWS partition like 'aws', 'aws-cn' or 'aws-us-gov'",
    )
    problems.raise_if_any()
