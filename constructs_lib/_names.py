"""Physical names: unique by default, fixed only when asked, and never asked twice in one app.

A construct used twice in one app or account must not collide, so a name the caller does not
give is derived from the construct path (or from ``name_prefix``). A name the caller gives is
registered per app, account and region (account only for global kinds such as IAM roles): a
second construct asking for the same one fails at synth, naming both construct paths, where
CloudFormation would otherwise fail at deploy (or, for some kinds, silently replace).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct, IConstruct

_REGISTRY_ID = "constructs_lib.PhysicalNames"


class _Registry(Construct):
    """Holds the names claimed in one app (a child of the app root, it synthesizes nothing)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.claimed: dict[tuple[str, str, str], str] = {}


def _registry(scope: IConstruct) -> _Registry:
    root = scope.node.root
    found = root.node.try_find_child(_REGISTRY_ID)
    if isinstance(found, _Registry):
        return found
    return _Registry(root, _REGISTRY_ID)  # type: ignore[arg-type]


def is_unresolved(value: str) -> bool:
    """``cdk.Token.is_unresolved`` for a string, asking node only when the string holds a token marker
    (aws-cdk encodes every string token as ``${Token[...]}``): most names are plain text."""
    return "${Token[" in value and cdk.Token.is_unresolved(value)


@dataclass(frozen=True)
class _Stack:
    """What claims need of a stack, read once per stack (each is a round trip to node)."""

    registry: _Registry
    account: str | None  # None: unresolved
    region: str | None
    path: str

    def where(self, *, global_kind: bool) -> str:
        """The account (and region) a name is unique in; a stack without a concrete environment is its own."""
        if self.account is None or (not global_kind and self.region is None):
            return f"stack {self.path}"
        return self.account if global_kind else f"{self.account}/{self.region}"


@dataclass(frozen=True)
class _Scope:
    stack: _Stack
    path: str


# Keyed by the jsii objects themselves (jsii hands out one Python object per construct), weakly, so
# an app's constructs and registry go when the app goes.
_STACKS: weakref.WeakKeyDictionary[cdk.Stack, _Stack] = weakref.WeakKeyDictionary()
_SCOPES: weakref.WeakKeyDictionary[IConstruct, _Scope] = weakref.WeakKeyDictionary()


def _scope(scope: IConstruct) -> _Scope:
    found = _SCOPES.get(scope)
    if found is None:
        stack = cdk.Stack.of(scope)
        seen = _STACKS.get(stack)
        if seen is None:
            account, region = stack.account, stack.region
            seen = _Stack(
                registry=_registry(stack),
                account=None if cdk.Token.is_unresolved(account) else account,
                region=None if cdk.Token.is_unresolved(region) else region,
                path=stack.node.path,
            )
            _STACKS[stack] = seen
        found = _Scope(stack=seen, path=scope.node.path)
        _SCOPES[scope] = found
    return found


def claim(scope: IConstruct, kind: str, name: str, *, global_kind: bool = False) -> str:
    """Register ``name`` of ``kind`` for ``scope``; ``ValueError`` naming both paths if another construct has it."""
    if is_unresolved(name):
        return name
    seen = _scope(scope)
    key = (kind, seen.stack.where(global_kind=global_kind), name)
    claimed = seen.stack.registry.claimed
    other = claimed.get(key)
    if other is not None and other != seen.path:
        raise ValueError(
            f"{kind} {name!r} is asked for twice in {key[1]}: by {other} and by {seen.path}; "
            "give one of them another name (or leave it out: names are unique by default)"
        )
    claimed[key] = seen.path
    return name


def unique(scope: IConstruct, *, name_prefix: str | None, suffix: str, max_length: int) -> str:
    """``<name_prefix>-<suffix>`` when a prefix is given, else a name derived from ``scope``'s path
    (``<stack>-<path>-<hash>``, at most ``max_length`` characters, letters, digits and '-')."""
    if name_prefix is not None:
        return f"{name_prefix}-{suffix}"[:max_length]
    return cdk.Names.unique_resource_name(scope, max_length=max_length, separator="-")
