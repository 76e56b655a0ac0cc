"""Acknowledging cdk-nag findings that are by design, with the reason an auditor reads.

Constructs acknowledge on themselves only what their design requires, so an app that runs the
cdk-nag packs over them sees zero findings without copying our reasons.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

#: Rule-id prefixes of the compliance packs that share rule names.
COMPLIANCE_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def in_compliance_packs(rule: str) -> list[str]:
    """``rule`` (say ``S3BucketReplicationEnabled``) as named in NIST 800-53 R5, HIPAA and PCI DSS."""
    return [f"{pack}-{rule}" for pack in COMPLIANCE_PACKS]


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge each of ``rule_ids`` on ``construct`` with ``reason``."""
    cdk.Validations.of(construct).acknowledge(*(cdk.Acknowledgment(id=rule, reason=reason) for rule in rule_ids))


def rendered(scope: IConstruct, value: str) -> str:
    """``value`` as cdk-nag writes it in a finding id: ``Ref`` as ``<Name>``, ``GetAtt`` as ``<Id.Attr>``."""
    return _render(cdk.Stack.of(scope).resolve(value))


def _render(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            separator, parts = arg
            return separator.join(_render(part) for part in parts)
    raise ValueError(f"cannot render {node!r} as a cdk-nag finding id")
