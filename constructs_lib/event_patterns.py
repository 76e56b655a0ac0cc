"""EventBridge event patterns for security-relevant events, built from typed inputs.

Each factory returns a ``SecurityEventPattern``: a name (stable, used in rule ids), a
description and the pattern itself. ``to_json()`` gives the pattern exactly as EventBridge
reads it; ``to_cdk()`` gives the ``events.EventPattern`` a rule takes.

Example::

    from constructs_lib import event_patterns

    patterns = [
        event_patterns.root_sign_in(),
        event_patterns.guardduty_findings(min_severity=7.0),
        event_patterns.security_hub_findings(severities=[event_patterns.FindingSeverity.CRITICAL]),
    ]

Global services (IAM, console sign-in of the root user) send their CloudTrail events to
EventBridge in ``us-east-1`` only: forward from that region too.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import aws_events as events

from constructs_lib._errors import Problems

API_CALL_DETAIL_TYPE = "AWS API Call via CloudTrail"
SIGN_IN_DETAIL_TYPE = "AWS Console Sign In via CloudTrail"

_PATTERN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,39}$")
_EVENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,127}$")
_SERVICE = re.compile(r"^[a-z][a-z0-9-]{1,40}$")

#: IAM calls that change who may do what (CIS 4.4 plus users, roles, keys and login profiles).
IAM_CHANGE_EVENTS: tuple[str, ...] = (
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "CreateAccessKey",
    "CreateLoginProfile",
    "CreatePolicy",
    "CreatePolicyVersion",
    "CreateRole",
    "CreateUser",
    "DeleteGroupPolicy",
    "DeletePolicy",
    "DeletePolicyVersion",
    "DeleteRolePolicy",
    "DeleteUserPolicy",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "PutUserPolicy",
    "UpdateAssumeRolePolicy",
    "UpdateLoginProfile",
)

#: EC2 calls that change security groups (CIS 4.10 plus ModifySecurityGroupRules).
SECURITY_GROUP_CHANGE_EVENTS: tuple[str, ...] = (
    "AuthorizeSecurityGroupEgress",
    "AuthorizeSecurityGroupIngress",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "ModifySecurityGroupRules",
    "RevokeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
)

#: CloudTrail calls that stop, remove or narrow the audit trail.
CLOUDTRAIL_TAMPERING_EVENTS: tuple[str, ...] = (
    "DeleteTrail",
    "PutEventSelectors",
    "StopLogging",
    "UpdateTrail",
)

#: AWS Config calls that stop or remove recording and delivery.
CONFIG_TAMPERING_EVENTS: tuple[str, ...] = (
    "DeleteConfigurationRecorder",
    "DeleteDeliveryChannel",
    "DeleteRetentionConfiguration",
    "StopConfigurationRecorder",
)


class FindingSeverity(enum.Enum):
    """Security Hub (ASFF) severity labels."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFORMATIONAL = "INFORMATIONAL"


class WorkflowStatus(enum.Enum):
    """Security Hub finding workflow states."""

    NEW = "NEW"
    NOTIFIED = "NOTIFIED"
    RESOLVED = "RESOLVED"
    SUPPRESSED = "SUPPRESSED"


@dataclass(frozen=True, kw_only=True)
class SecurityEventPattern:
    """One EventBridge pattern with the stable name rules are derived from.

    :param name: 1-40 letters, digits or '-', starting with a letter; rule ids come from it.
    :param description: what the pattern catches (becomes the rule description).
    :param source: values of the event's ``source``.
    :param detail_type: values of the event's ``detail-type``.
    :param detail: the ``detail`` part of the pattern. Default: none.
    """

    name: str
    description: str
    source: Sequence[str]
    detail_type: Sequence[str]
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = Problems(f"SecurityEventPattern({self.name!r})")
        problems.check(
            isinstance(self.name, str) and bool(_PATTERN_NAME.match(self.name)),
            f"name {self.name!r} is not a pattern name: 1-40 letters, digits or '-', starting with a letter",
        )
        problems.check(bool(self.source), f"source is empty (got {list(self.source)!r}): name at least one source")
        problems.check(
            bool(self.detail_type),
            f"detail_type is empty (got {list(self.detail_type)!r}): name at least one detail-type",
        )
        problems.check(len(self.description) <= 512, f"description has {len(self.description)} characters; at most 512")
        problems.raise_if_any()

    def to_json(self) -> dict[str, Any]:
        """The pattern as EventBridge reads it (``detail-type`` spelled with a dash)."""
        pattern: dict[str, Any] = {"source": list(self.source), "detail-type": list(self.detail_type)}
        if self.detail:
            pattern["detail"] = json.loads(json.dumps(self.detail))
        return pattern

    def to_cdk(self) -> events.EventPattern:
        """The pattern as the ``events.Rule`` ``event_pattern`` prop."""
        return events.EventPattern(
            source=list(self.source),
            detail_type=list(self.detail_type),
            detail=json.loads(json.dumps(self.detail)) if self.detail else None,
        )


def _check_event_names(problems: Problems, prop: str, names: Sequence[str]) -> None:
    if isinstance(names, str):
        problems.add(f"{prop} must be a list of API names, got the string {names!r}")
        return
    problems.check(bool(names), f"{prop} is empty: name at least one API call (like 'StopLogging')")
    for name in names:
        problems.check(
            isinstance(name, str) and bool(_EVENT_NAME.match(name)),
            f"{prop}: {name!r} is not an API name (letters and digits, like 'DeleteTrail')",
        )


def api_calls(
    *,
    name: str,
    description: str,
    services: Sequence[str],
    event_names: Sequence[str],
    only_successful: bool = False,
) -> SecurityEventPattern:
    """Calls of the given APIs as CloudTrail records them ("AWS API Call via CloudTrail").

    :param name: pattern name (rule ids come from it).
    :param description: what the calls mean.
    :param services: service prefixes, like ``iam`` or ``ec2``: source ``aws.<service>``,
        eventSource ``<service>.amazonaws.com``.
    :param event_names: API names, like ``StopLogging``.
    :param only_successful: drop calls that failed (events with an ``errorCode``). Default: False,
        since a denied attempt to tamper is as telling as a successful one.
    """
    problems = Problems(f"api_calls({name!r})")
    if isinstance(services, str):
        problems.add(f"services must be a list of service prefixes, got the string {services!r}")
        services = ()
    else:
        problems.check(bool(services), "services is empty: name at least one service prefix (like 'iam')")
        for service in services:
            problems.check(
                isinstance(service, str) and bool(_SERVICE.match(service)),
                f"services: {service!r} is not a service prefix (lower-case, like 'iam' or 'ec2')",
            )
    _check_event_names(problems, "event_names", event_names)
    problems.raise_if_any()
    detail: dict[str, Any] = {
        "eventSource": [f"{service}.amazonaws.com" for service in services],
        "eventName": sorted(set(event_names)),
    }
    if only_successful:
        detail["errorCode"] = [{"exists": False}]
    return SecurityEventPattern(
        name=name,
        description=description,
        source=[f"aws.{service}" for service in services],
        detail_type=[API_CALL_DETAIL_TYPE],
        detail=detail,
    )


def root_sign_in(*, only_successful: bool = False) -> SecurityEventPattern:
    """Console sign-in by the root user (CIS 4.3 territory: root should never be used).

    :param only_successful: ignore failed root sign-in attempts. Default: False (failures
        hint at password guessing).
    """
    detail: dict[str, Any] = {"userIdentity": {"type": ["Root"]}, "eventName": ["ConsoleLogin"]}
    if only_successful:
        detail["responseElements"] = {"ConsoleLogin": ["Success"]}
    return SecurityEventPattern(
        name="root-sign-in",
        description="Console sign-in by the root user",
        source=["aws.signin"],
        detail_type=[SIGN_IN_DETAIL_TYPE],
        detail=detail,
    )


def iam_changes(
    *, event_names: Sequence[str] = IAM_CHANGE_EVENTS, only_successful: bool = False
) -> SecurityEventPattern:
    """IAM policy, user, role and credential changes (delivered in ``us-east-1``).

    :param event_names: Default: ``IAM_CHANGE_EVENTS``.
    :param only_successful: Default: False.
    """
    return api_calls(
        name="iam-changes",
        description="IAM policy, user, role or credential changes",
        services=["iam"],
        event_names=event_names,
        only_successful=only_successful,
    )


def security_group_changes(
    *, event_names: Sequence[str] = SECURITY_GROUP_CHANGE_EVENTS, only_successful: bool = False
) -> SecurityEventPattern:
    """Security-group changes (CIS 4.10).

    :param event_names: Default: ``SECURITY_GROUP_CHANGE_EVENTS``.
    :param only_successful: Default: False.
    """
    return api_calls(
        name="security-group-changes",
        description="Security group created, deleted or its rules changed",
        services=["ec2"],
        event_names=event_names,
        only_successful=only_successful,
    )


def audit_tampering(
    *,
    cloudtrail_event_names: Sequence[str] = CLOUDTRAIL_TAMPERING_EVENTS,
    config_event_names: Sequence[str] = CONFIG_TAMPERING_EVENTS,
) -> SecurityEventPattern:
    """Attempts to stop or remove CloudTrail or AWS Config (failed attempts included).

    :param cloudtrail_event_names: Default: ``CLOUDTRAIL_TAMPERING_EVENTS``.
    :param config_event_names: Default: ``CONFIG_TAMPERING_EVENTS``.
    """
    problems = Problems("audit_tampering")
    _check_event_names(problems, "cloudtrail_event_names", cloudtrail_event_names)
    _check_event_names(problems, "config_event_names", config_event_names)
    problems.raise_if_any()
    # One pattern over both services: an event name is matched together with its own source
    # only through the $or below, so StopLogging from aws.config could never match.
    return SecurityEventPattern(
        name="audit-tampering",
        description="CloudTrail or AWS Config stopped, deleted or narrowed",
        source=["aws.cloudtrail", "aws.config"],
        detail_type=[API_CALL_DETAIL_TYPE],
        detail={
            "$or": [
                {"eventSource": ["cloudtrail.amazonaws.com"], "eventName": sorted(set(cloudtrail_event_names))},
                {"eventSource": ["config.amazonaws.com"], "eventName": sorted(set(config_event_names))},
            ]
        },
    )


def config_non_compliant(*, rule_name_prefixes: Sequence[str] = ()) -> SecurityEventPattern:
    """AWS Config rule evaluations that turned NON_COMPLIANT.

    :param rule_name_prefixes: only rules whose name starts with one of these. Default: every rule.
    """
    problems = Problems("config_non_compliant")
    if isinstance(rule_name_prefixes, str):
        problems.add(f"rule_name_prefixes must be a list, got the string {rule_name_prefixes!r}")
    else:
        for prefix in rule_name_prefixes:
            problems.check(
                isinstance(prefix, str) and 0 < len(prefix) <= 128,
                f"rule_name_prefixes: {prefix!r} is not a rule-name prefix (1-128 characters)",
            )
    problems.raise_if_any()
    detail: dict[str, Any] = {
        "messageType": ["ComplianceChangeNotification"],
        "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
    }
    if rule_name_prefixes:
        detail["configRuleName"] = [{"prefix": prefix} for prefix in rule_name_prefixes]
    return SecurityEventPattern(
        name="config-non-compliant",
        description="AWS Config rule evaluation changed to NON_COMPLIANT",
        source=["aws.config"],
        detail_type=["Config Rules Compliance Change"],
        detail=detail,
    )


def guardduty_findings(*, min_severity: float = 4.0) -> SecurityEventPattern:
    """GuardDuty findings at or above a severity (GuardDuty scores 1.0-10.0).

    :param min_severity: 7.0 is High, 4.0 Medium, 1.0 everything. Default: 4.0.
    """
    problems = Problems("guardduty_findings")
    problems.check(
        isinstance(min_severity, int | float) and not isinstance(min_severity, bool) and 1 <= min_severity <= 10,
        f"min_severity {min_severity!r} is outside GuardDuty's severity scale: give a number from 1.0 to 10.0",
    )
    problems.raise_if_any()
    return SecurityEventPattern(
        name="guardduty-findings",
        description=f"GuardDuty findings with severity >= {min_severity}",
        source=["aws.guardduty"],
        detail_type=["GuardDuty Finding"],
        detail={"severity": [{"numeric": [">=", min_severity]}]},
    )


def security_hub_findings(
    *,
    severities: Sequence[FindingSeverity] = (FindingSeverity.CRITICAL, FindingSeverity.HIGH),
    workflow_states: Sequence[WorkflowStatus] = (WorkflowStatus.NEW,),
) -> SecurityEventPattern:
    """Security Hub findings imported (new or updated), active, of the given severities.

    :param severities: Default: CRITICAL and HIGH.
    :param workflow_states: Default: NEW (triaged findings do not page again).
    """
    problems = Problems("security_hub_findings")
    for prop, values, kind in (
        ("severities", severities, FindingSeverity),
        ("workflow_states", workflow_states, WorkflowStatus),
    ):
        allowed = ", ".join(member.name for member in kind)
        if not values:
            problems.add(f"{prop} is empty: give at least one of {allowed}")
        for value in values:
            problems.check(isinstance(value, kind), f"{prop}: {value!r} is not a {kind.__name__} ({allowed})")
    problems.raise_if_any()
    return SecurityEventPattern(
        name="securityhub-findings",
        description="Security Hub findings imported: " + ", ".join(s.value for s in severities),
        source=["aws.securityhub"],
        detail_type=["Security Hub Findings - Imported"],
        detail={
            "findings": {
                "Severity": {"Label": [s.value for s in severities]},
                "Workflow": {"Status": [s.value for s in workflow_states]},
                "RecordState": ["ACTIVE"],
            }
        },
    )


def default_security_patterns() -> list[SecurityEventPattern]:
    """Every pattern of this module with its defaults: what ``EventForwarding`` forwards by default."""
    return [
        root_sign_in(),
        iam_changes(),
        security_group_changes(),
        audit_tampering(),
        config_non_compliant(),
        guardduty_findings(),
        security_hub_findings(),
    ]


def check_unique_names(owner: str, patterns: Sequence[SecurityEventPattern]) -> None:
    """``ValueError`` if two patterns share a name (rule ids would clash)."""
    problems = Problems(owner)
    seen: set[str] = set()
    for pattern in patterns:
        if not isinstance(pattern, SecurityEventPattern):
            problems.add(f"patterns: {pattern!r} is not a SecurityEventPattern (build it with event_patterns.*)")
            continue
        problems.check(
            pattern.name not in seen, f"patterns: name {pattern.name!r} is used twice; rule ids come from it"
        )
        seen.add(pattern.name)
    problems.raise_if_any()


def everything_but(pattern: SecurityEventPattern) -> dict[str, Any]:
    """An EventBridge pattern matching every event that ``pattern`` does not match.

    ``pattern`` matches when every field holds one of its values; so an event it does not match has
    a field without one of them: ``source`` or ``detail-type`` not among the values (``anything-but``),
    a ``detail`` field with another value (``anything-but``) or missing (``exists: false``), a field
    ``pattern`` wants absent present (``exists: true``). One ``$or`` branch per field. Only plain
    values and ``{"exists": false}`` are negated: anything else raises ``ValueError``.
    """
    branches: list[dict[str, Any]] = [
        {"source": [{"anything-but": list(pattern.source)}]},
        {"detail-type": [{"anything-but": list(pattern.detail_type)}]},
    ]

    def walk(node: Mapping[str, Any], path: list[str]) -> None:
        for key, value in node.items():
            if isinstance(value, Mapping):
                walk(value, [*path, key])
                continue
            if value == [{"exists": False}]:
                negations = [[{"exists": True}]]
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                negations = [[{"anything-but": list(value)}], [{"exists": False}]]
            else:
                raise ValueError(
                    f"everything_but({pattern.name!r}): detail field {'.'.join([*path, key])} = {value!r} cannot be "
                    "negated: only lists of plain strings and [{'exists': False}]"
                )
            for negation in negations:
                leaf: dict[str, Any] = {key: negation}
                for parent in reversed(path):
                    leaf = {parent: leaf}
                branches.append({"detail": leaf})

    walk(pattern.detail, [])
    return {"$or": branches}
