"""A small evaluator of service control policy semantics, to prove what an SCP denies and allows.

It implements the parts of the IAM policy language that SCPs use: ``Action``/``NotAction`` with
``*``/``?`` wildcards (case-insensitive), ``Resource``/``NotResource`` wildcards (case-sensitive),
and the condition operators ``String*``, ``Arn*``, ``Bool``, ``Null``, with ``...IfExists`` and the
``ForAnyValue:``/``ForAllValues:`` set qualifiers. Condition keys are case-insensitive.

SCP evaluation: a request passes the SCPs of one target when no statement denies it and at least
one statement allows it (``FullAWSAccess`` does). It is not a full IAM simulator: identity
policies, resource policies, permission boundaries and session policies are out of scope.

Example::

    from constructs_lib.scp_evaluator import Request, evaluate, FULL_AWS_ACCESS

    request = Request(action="cloudtrail:StopLogging",
                      resource="arn:aws:cloudtrail:eu-west-1:444444444444:trail/org-trail",
                      principal_arn="arn:aws:iam::444444444444:role/app", region="eu-west-1")
    assert evaluate([FULL_AWS_ACCESS, my_scp], request).denied
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

#: The AWS-managed policy attached to every root, OU and account when SCPs are enabled.
FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

#: Operators this evaluator decides (without qualifier or IfExists suffix).
SUPPORTED_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
    "Bool",
    "Null",
)
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}

ContextValue = str | bool | Sequence[str]


@dataclass(frozen=True, kw_only=True)
class Request:
    """One API request as SCPs see it.

    :param action: ``service:Action``, say ``cloudtrail:StopLogging``.
    :param resource: ARN of the resource acted on. Default: ``*`` (actions without resource types).
    :param principal_arn: becomes ``aws:PrincipalArn``. Default: absent.
    :param region: becomes ``aws:RequestedRegion``. Default: absent.
    :param context: any other condition keys and their values (a list for multi-valued keys).
    """

    action: str
    resource: str = "*"
    principal_arn: str | None = None
    region: str | None = None
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def context_keys(self) -> dict[str, ContextValue]:
        """Every condition key of the request, lower-cased (condition keys are case-insensitive)."""
        keys = {key.lower(): value for key, value in self.context.items()}
        if self.principal_arn is not None:
            keys["aws:principalarn"] = self.principal_arn
        if self.region is not None:
            keys["aws:requestedregion"] = self.region
        return keys


@dataclass(frozen=True)
class Decision:
    """The outcome of evaluating the SCPs of one target.

    :param allowed: no statement denies and at least one allows.
    :param denied_by: ``policy#Sid`` (or ``policy#index``) of every matching Deny statement.
    :param allowed_by: likewise for the matching Allow statements.
    """

    allowed: bool
    denied_by: tuple[str, ...]
    allowed_by: tuple[str, ...]

    @property
    def denied(self) -> bool:
        """Explicitly denied by a statement (not merely without an Allow)."""
        return bool(self.denied_by)


def evaluate(policies: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    """Evaluate ``request`` against the SCPs attached to one target (include ``FULL_AWS_ACCESS``)."""
    denied: list[str] = []
    allowed: list[str] = []
    for index, policy in enumerate(policies):
        for position, statement in enumerate(_statements(policy)):
            if not statement_matches(statement, request):
                continue
            label = f"{index}#{statement.get('Sid', position)}"
            (denied if statement.get("Effect") == "Deny" else allowed).append(label)
    return Decision(allowed=not denied and bool(allowed), denied_by=tuple(denied), allowed_by=tuple(allowed))


def evaluate_path(levels: Sequence[Sequence[Mapping[str, Any]]], request: Request) -> Decision:
    """Evaluate through the hierarchy: root, each OU, the account; every level must allow."""
    decisions = [evaluate(level, request) for level in levels]
    return Decision(
        allowed=all(d.allowed for d in decisions),
        denied_by=tuple(label for d in decisions for label in d.denied_by),
        allowed_by=tuple(label for d in decisions for label in d.allowed_by),
    )


def denies(policy: Mapping[str, Any], request: Request) -> bool:
    """Whether any Deny statement of ``policy`` matches ``request``."""
    return any(
        statement.get("Effect") == "Deny" and statement_matches(statement, request) for statement in _statements(policy)
    )


def statement_matches(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether the statement applies: action, resource and every condition match."""
    if "Action" in statement:
        if not any(action_matches(p, request.action) for p in _as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(action_matches(p, request.action) for p in _as_list(statement["NotAction"])):
            return False
    else:
        return False
    if "Resource" in statement:
        if not any(wildcard_match(p, request.resource) for p in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(
        wildcard_match(p, request.resource) for p in _as_list(statement["NotResource"])
    ):
        return False
    return conditions_match(statement.get("Condition", {}), request)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: wildcards, case-insensitive."""
    return wildcard_match(pattern, action, ignore_case=True)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """``*`` matches any run of characters, ``?`` exactly one; everything else literally."""
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, arn: str) -> bool:
    """``ArnLike``: the six colon-separated parts match one by one (a ``*`` does not cross a colon
    of the first five parts); case-sensitive."""
    compiled = _compiled_arn(pattern)
    return compiled is not None and compiled.fullmatch(arn) is not None


def conditions_match(condition: Mapping[str, Mapping[str, Any]], request: Request) -> bool:
    """Every operator block and every key in it must hold (logical AND)."""
    keys = request.context_keys()
    for operator, block in condition.items():
        for key, expected in block.items():
            if not condition_holds(operator, keys.get(key.lower()), _as_list(expected)):
                return False
    return True


def condition_holds(operator: str, value: ContextValue | None, expected: Sequence[Any]) -> bool:
    """One ``operator: {key: expected}`` test against the request's value of the key (``None``: absent)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in SUPPORTED_OPERATORS:
        raise ValueError(
            f"condition operator {operator!r} is not supported; supported: {', '.join(SUPPORTED_OPERATORS)}"
        )
    if base == "Null":
        want_absent = str(expected[0]).lower() == "true"
        return (value is None) == want_absent
    if value is None:
        # IAM: an absent key fails every operator except the negated ones, IfExists, and ForAllValues.
        return if_exists or base in _NEGATED or qualifier == "ForAllValues"
    values = [value] if isinstance(value, str | bool) else list(value)
    if qualifier == "ForAnyValue":
        return any(_single(base, v, expected) for v in values)
    if qualifier == "ForAllValues":
        return all(_single(base, v, expected) for v in values)
    if qualifier:
        raise ValueError(f"condition operator {operator!r}: unknown set qualifier {qualifier!r}")
    if len(values) != 1:
        raise ValueError(f"condition operator {operator!r} needs ForAnyValue/ForAllValues for multi-valued keys")
    return _single(base, values[0], expected)


def _single(base: str, value: str | bool, expected: Sequence[Any]) -> bool:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if base == "Bool":
        return any(text.lower() == str(e).lower() for e in expected)
    positive = base.replace("Not", "", 1) if base in _NEGATED else base
    if positive == "StringEquals":
        hit = any(text == str(e) for e in expected)
    elif positive == "StringEqualsIgnoreCase":
        hit = any(text.lower() == str(e).lower() for e in expected)
    elif positive == "StringLike":
        hit = any(wildcard_match(str(e), text) for e in expected)
    else:  # ArnEquals and ArnLike both accept wildcards in IAM
        hit = any(arn_like(str(e), text) for e in expected)
    # Negated operators with several values: the value must match none of them (logical AND).
    return not hit if base in _NEGATED else hit


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statement = policy.get("Statement", [])
    return [statement] if isinstance(statement, Mapping) else list(statement)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_regex(pattern), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _regex(pattern: str, *, any_char: str = ".") -> str:
    """``pattern`` with ``*`` as any run and ``?`` as one of ``any_char``, the rest literal."""
    return "".join(f"{any_char}*" if c == "*" else any_char if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=4096)
def _compiled_arn(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` as one regex matching ARNs part by part: the wildcards of the first five parts stay
    within their part (an ARN's first five parts hold no colon), those of the sixth match anything.
    None if ``pattern`` has fewer than six parts (it then matches no ARN)."""
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return None
    head = ":".join(_regex(part, any_char="[^:]") for part in parts[:5])
    return re.compile(f"{head}:{_regex(parts[5])}", re.DOTALL)
