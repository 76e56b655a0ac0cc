"""The cdk-nag packs every stack must pass with zero unacknowledged findings.

cdk-nag is imported when the packs are added, not with this module: a synth with
``-c compliance=false`` does not load it (0.14 s of Python import and its jsii package in node).
"""

from __future__ import annotations

import aws_cdk as cdk


def packs() -> tuple[type, ...]:
    """AwsSolutions, NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1, in the order they report."""
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

    return (AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks)


def add_compliance_checks(app: cdk.App) -> None:
    """Register the four packs as validation plugins: any finding fails ``app.synth()``."""
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in packs()))
