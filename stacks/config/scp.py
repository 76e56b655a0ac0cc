"""The ``service_control_policies`` section: exemptions, attachments, guardrails, delegation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field

from constructs_lib import scp
from stacks.config._base import Model

if TYPE_CHECKING:
    from stacks.config.model import BaselineConfig


@dataclass(frozen=True)
class ScpDefinition:
    """One SCP of the baseline. Adding an SCP is one entry of ``SCP_REGISTRY`` (and its policy
    function in ``constructs_lib/scp.py``): the config's attachment names, the config check, the
    management stack (``stacks.org_settings``) and the generated SCP table of docs/organization.md follow from here."""

    name: str
    #: the policy's description in AWS Organizations
    description: str
    #: the policy document from the config, the baseline's guarded names and the exempt roles
    build: Callable[[BaselineConfig, scp.MonitoringResources, list[str]], dict[str, Any]]
    #: whether the config asks for this SCP at all; one that is off has no policy and may not be attached
    enabled: Callable[[BaselineConfig], bool] = lambda _config: True
    #: what switches it off, for the config error: (config key under service_control_policies, why)
    off_when: tuple[str, str] | None = None


def _section(config: BaselineConfig) -> ServiceControlPolicies:
    return config.service_control_policies or ServiceControlPolicies()


def _guardrails_on(config: BaselineConfig) -> bool:
    return any(_section(config).guardrails.model_dump().values())


def _guardrails(config: BaselineConfig, resources: scp.MonitoringResources, exempt: list[str]) -> dict[str, Any]:
    guard = _section(config).guardrails
    return scp.guardrails_policy(
        exempt_role_names=exempt,
        deny_leave_organization=guard.deny_leave_organization,
        deny_root_user=guard.deny_root_user,
        protect_security_services=guard.protect_security_services,
        allowed_regions=config.regions if guard.deny_ungoverned_regions else None,
    )


#: Every SCP the baseline builds, in attachment order of the defaults.
SCP_REGISTRY: tuple[ScpDefinition, ...] = (
    ScpDefinition(
        name="protect-audit-logging",
        description="Monitoring baseline: deny tampering with CloudTrail, AWS Config and the log archive",
        build=lambda _config, resources, exempt: scp.protect_audit_logging_policy(
            resources=resources, exempt_role_names=exempt
        ),
    ),
    ScpDefinition(
        name="protect-monitoring",
        description="Monitoring baseline: deny tampering with its log groups, alarms, topics, keys and roles",
        build=lambda _config, resources, exempt: scp.protect_monitoring_policy(
            resources=resources, exempt_role_names=exempt
        ),
    ),
    ScpDefinition(
        name="guardrails",
        description="Monitoring baseline: organization guardrails (leave org, root user, regions, security services)",
        build=_guardrails,
        enabled=_guardrails_on,
        off_when=("guardrails", "every guardrail is off"),
    ),
)
#: SCPs the baseline builds; attachments name them.
SCP_NAMES = tuple(definition.name for definition in SCP_REGISTRY)


def scp_definitions() -> dict[str, ScpDefinition]:
    """``SCP_REGISTRY`` by name, read when called (every user of the registry goes through here)."""
    return {definition.name: definition for definition in SCP_REGISTRY}


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
