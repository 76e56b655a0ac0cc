"""Acknowledging cdk-nag findings that are by design, with the reason an auditor reads.

Constructs acknowledge on themselves only what their design requires, so an app that runs the
cdk-nag packs over them sees zero findings without copying our reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    acknowledge_each(construct, [(reason, rule_ids)])


def acknowledge_each(construct: IConstruct, reasons: Sequence[tuple[str, Sequence[str]]]) -> None:
    """Acknowledge on ``construct``, for each (reason, rule ids), those rules with that reason, in order:
    one call into aws-cdk for all of them (the same metadata as one ``acknowledge`` per reason)."""
    cdk.Validations.of(construct).acknowledge(
        *(cdk.Acknowledgment(id=rule, reason=reason) for reason, rule_ids in reasons for rule in rule_ids)
    )


def acknowledge_deploy_time_function(function: IConstruct, calls: str) -> None:
    """The findings every custom-resource function of the library shares, with their reasons.

    ``function`` runs only while CloudFormation creates, updates or deletes its stack, and ``calls``
    says which public AWS APIs it calls (for example "the AWS Config tagging API").

    It also drops the redundant DependsOn aws-cdk renders on the function's role, which the
    function's GetAtt of the role already enforces (cfn-lint W3005).
    """
    resource = function.node.default_child if not isinstance(function, cdk.CfnResource) else function
    assert isinstance(resource, cdk.CfnResource)
    resource.add_deletion_override("DependsOn")
    acknowledge_each(
        resource,
        [
            (
                f"Runs only while CloudFormation deploys the stack and calls {calls} on public endpoints; it stores "
                "no data, so a VPC (with its endpoints) would add cost and nothing else",
                in_compliance_packs("LambdaInsideVPC"),
            ),
            (
                "CloudFormation invokes it synchronously and a failure fails the stack operation, which is the "
                "alert; there is no asynchronous event to dead-letter",
                in_compliance_packs("LambdaDLQ"),
            ),
            (
                "A handful of invocations per deployment; reserved concurrency would only withhold capacity from "
                "the account (and fails in accounts at the minimum unreserved concurrency)",
                in_compliance_packs("LambdaConcurrency"),
            ),
        ],
    )


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
