"""Physical names: unique by default, fixed only when asked, and never asked twice in one app.

A construct used twice in one app or account must not collide, so a name the caller does not
give is derived from the construct path (or from ``name_prefix``). A name the caller gives is
registered per app, account and region (account only for global kinds such as IAM roles): a
second construct asking for the same one fails at synth, naming both construct paths, where
CloudFormation would otherwise fail at deploy (or, for some kinds, silently replace).
"""

from __future__ import annotations

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


def _where(scope: IConstruct, *, global_kind: bool) -> str:
    """The account (and region) a name is unique in; a stack without a concrete environment is its own."""
    stack = cdk.Stack.of(scope)
    account, region = stack.account, stack.region
    if cdk.Token.is_unresolved(account) or (not global_kind and cdk.Token.is_unresolved(region)):
        return f"stack {stack.node.path}"
    return account if global_kind else f"{account}/{region}"


def claim(scope: IConstruct, kind: str, name: str, *, global_kind: bool = False) -> str:
    """Register ``name`` of ``kind`` for ``scope``; ``ValueError`` naming both paths if another construct has it."""
    if cdk.Token.is_unresolved(name):
        return name
    key = (kind, _where(scope, global_kind=global_kind), name)
    claimed = _registry(scope).claimed
    other = claimed.get(key)
    if other is not None and other != scope.node.path:
        raise ValueError(
            f"{kind} {name!r} is asked for twice in {key[1]}: by {other} and by {scope.node.path}; "
            "give one of them another name (or leave it out: names are unique by default)"
        )
    claimed[key] = scope.node.path
    return name


def unique(scope: IConstruct, *, name_prefix: str | None, suffix: str, max_length: int) -> str:
    """``<name_prefix>-<suffix>`` when a prefix is given, else a name derived from ``scope``'s path
    (``<stack>-<path>-<hash>``, at most ``max_length`` characters, letters, digits and '-')."""
    if name_prefix is not None:
        return f"{name_prefix}-{suffix}"[:max_length]
    return cdk.Names.unique_resource_name(scope, max_length=max_length, separator="-")
