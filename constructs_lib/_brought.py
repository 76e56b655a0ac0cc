"""Resources a caller brings: wire what the service needs into them, or say what to add.

A key, bucket, topic or log group defined in the same app gets the policy statements the
service needs added here, so the first deploy works. An imported one (``Key.from_key_arn``,
``Bucket.from_bucket_name``, ...) cannot be changed from this app: the construct adds a
warning naming the statements and the ``constructs_lib.policies`` helper that builds them,
for whoever owns that resource. Acknowledge the warning where the statements are known to be
there: ``cdk.Annotations.of(construct).acknowledge_warning(IMPORTED_WARNING_ID)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: Id of the warning an imported resource gets (``Annotations.acknowledge_warning`` takes it).
IMPORTED_WARNING_ID = "constructs_lib:imported-resource-policy"


class _HasResourcePolicy(Protocol):
    @property
    def node(self) -> cdk.Node: ...  # pragma: no cover

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult: ...


def add_statements(
    scope: IConstruct,
    resource: _HasResourcePolicy,
    statements: Sequence[iam.PolicyStatement],
    *,
    prop: str,
    helper: str,
    consequence: str,
) -> bool:
    """Add ``statements`` to ``resource``'s policy; warn on ``scope`` if it is imported.

    :param prop: the prop that brought the resource, as the warning names it (``key``, ``bucket``).
    :param helper: the ``constructs_lib.policies`` function that builds the statements.
    :param consequence: what fails without them, as the warning says it.
    :return: whether the statements were added.
    """
    added = [resource.add_to_resource_policy(statement).statement_added for statement in statements]
    if all(added):
        return True
    sids = ", ".join(statement.sid or "(no Sid)" for statement in statements)
    cdk.Annotations.of(scope).add_warning_v2(
        IMPORTED_WARNING_ID,
        f"{prop}: {resource.node.path} is imported, so its policy cannot be changed here; add the "
        f"statements {sids} where it is defined (constructs_lib.policies.{helper} builds them), or "
        f"{consequence}. Acknowledge this warning once they are there.",
    )
    return False


def unique_sid(scope: IConstruct, base: str) -> str:
    """``base`` made unique to ``scope``: a Sid for a policy several constructs add to (Sids are unique per policy)."""
    return f"{base}{cdk.Names.unique_id(scope)}"[:100]
