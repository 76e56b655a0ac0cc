"""The cdk-nag packs every stack must pass with zero unacknowledged findings."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

PACKS = (AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks)


def add_compliance_checks(app: cdk.App) -> None:
    """Register the four packs as validation plugins: any finding fails ``app.synth()``."""
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in PACKS))
