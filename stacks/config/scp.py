"""The ``service_control_policies`` section: exemptions, attachments, guardrails, delegation."""

from __future__ import annotations

from pydantic import Field

from stacks.config._base import Model

#: SCPs the baseline builds (stacks/org_settings.py); attachments name them.
SCP_NAMES = ("protect-audit-logging", "protect-monitoring", "guardrails")
#: Roles exempt from every SCP statement unless the config says otherwise: the CDK execution role
#: (any bootstrap qualifier: `cdk deploy` of the log-archive, audit and example stacks), the role
#: service-managed StackSets create in every target account (the workload baseline), and the role
#: Organizations creates for the management account (break-glass).
DEFAULT_SCP_EXEMPT_ROLES = ("cdk-*-cfn-exec-role-*", "stacksets-exec-*", "OrganizationAccountAccessRole")


class ScpAttachments(Model):
    """Which SCPs attach where: the root, OUs by name, accounts by name."""

    root: list[str] = Field(default_factory=lambda: list(SCP_NAMES), description="SCP names attached to the root")
    organizational_units: dict[str, list[str]] = Field(default_factory=dict, description="OU name -> SCP names")
    accounts: dict[str, list[str]] = Field(default_factory=dict, description="account name -> SCP names")


class Guardrails(Model):
    deny_leave_organization: bool = True
    deny_root_user: bool = Field(default=True, description="deny every action by member accounts' root users")
    deny_ungoverned_regions: bool = Field(default=True, description="deny regional actions outside governed_regions")
    protect_security_services: bool = Field(
        default=False, description="deny disabling GuardDuty, Security Hub and IAM Access Analyzer"
    )


class DelegatedAdministrators(Model):
    """Register the audit account as delegated administrator of these services."""

    config: bool = False
    cloudtrail: bool = False


class FlowLogTag(Model):
    key: str
    value: str


class ServiceControlPolicies(Model):
    """Service control policies of the organization (organization mode only)."""

    exempt_role_names: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SCP_EXEMPT_ROLES),
        description="role names (wildcards allowed) exempt from every SCP statement: deployment and break-glass",
    )
    attachments: ScpAttachments = Field(default_factory=ScpAttachments)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    delegated_administrators: DelegatedAdministrators = Field(default_factory=DelegatedAdministrators)
    flow_log_tag: FlowLogTag | None = Field(default=None, description="tag on the baseline's flow logs to protect")
