"""The ``organization`` and ``service_control_policies`` sections turned into ``Organization`` options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from constructs_lib import scp
from stacks.config import AccountRole, BaselineConfig, OrganizationalUnit, ServiceControlPolicies
from stacks.config.scp import scp_definitions
from stacks.naming import Names

if TYPE_CHECKING:
    from constructs_lib.organization import OrganizationalUnitSpec, PolicyTarget

# The config check builds the SCP documents with this module (``scp_documents``): the option classes
# of the ``Organization`` construct, whose module imports aws_cdk, are imported only where they are
# built, so that check runs without starting jsii.


def scp_description(name: str) -> str:
    """The description in AWS Organizations of the baseline's SCP ``name``."""
    return scp_definitions()[name].description


def scp_section(config: BaselineConfig) -> ServiceControlPolicies:
    """The section as given, or its defaults."""
    return config.service_control_policies or ServiceControlPolicies()


def monitoring_resources(config: BaselineConfig) -> scp.MonitoringResources:
    """The baseline's deterministic names, as the SCPs guard them."""
    names = Names(config)
    prefix = names.prefix
    tag = scp_section(config).flow_log_tag
    return scp.MonitoringResources(
        trail_names=[names.trail_name],
        log_group_names=[f"/aws/cloudtrail/{names.trail_name}", f"/{prefix}/*", f"{prefix}-*"],
        alarm_names=[f"{prefix}-*"],
        topic_names=[f"{prefix}-*"],
        key_aliases=[f"alias/{prefix}/*"],
        role_names=[config.cloudtrail.cloudwatch_logs_role_name, f"{prefix}-*"],
        bucket_names=[names.cloudtrail_bucket, names.access_logs_bucket],
        # The StackSet tags the baseline's rules in member accounts; teams keep their own rules.
        config_rule_tag=names.baseline_tag,
        flow_log_tag=(tag.key, tag.value) if tag is not None else None,
    )


def scp_documents(config: BaselineConfig) -> dict[str, dict[str, Any]]:
    """Every SCP of the baseline the config switches on, by name (``stacks.config.SCP_REGISTRY``)."""
    from stacks.control_tower import effective_exempt_role_names

    exempt = effective_exempt_role_names(config)
    resources = monitoring_resources(config)
    return {
        name: definition.build(config, resources, exempt)
        for name, definition in scp_definitions().items()
        if definition.enabled(config)
    }


def scp_targets(config: BaselineConfig) -> dict[str, list[PolicyTarget]]:
    """SCP name -> where it attaches, in config order (root, OUs, accounts)."""
    from constructs_lib.organization import PolicyTarget

    attachments = scp_section(config).attachments
    targets: dict[str, list[PolicyTarget]] = {}
    for name in attachments.root:
        targets.setdefault(name, []).append(PolicyTarget.root())
    for unit, names in attachments.organizational_units.items():
        for name in names:
            targets.setdefault(name, []).append(PolicyTarget.organizational_unit(unit))
    for account, names in attachments.accounts.items():
        for name in names:
            targets.setdefault(name, []).append(PolicyTarget.account(account))
    return targets


def _unit_spec(unit: OrganizationalUnit) -> OrganizationalUnitSpec:
    from constructs_lib.organization import OrganizationalUnitSpec

    return OrganizationalUnitSpec(
        name=unit.name, ou_id=unit.id, children=[_unit_spec(child) for child in unit.children]
    )


def organization_options(config: BaselineConfig) -> dict[str, Any]:
    """Keyword arguments of ``Organization`` for the management stack.

    The organization exists and is referenced by id, unless ``organization.create`` asks for a new
    one; OUs with an id are referenced, the others created. Accounts of the config exist already
    (they have ids), so they are referenced, never created; the management account is left out:
    SCPs never restrict it.
    """
    from constructs_lib.organization import AccountSpec, DelegatedService, ServiceControlPolicy
    from stacks.control_tower import effective_exempt_role_names

    assert config.organization is not None, "organization mode only"
    organization = config.organization
    section = scp_section(config)
    documents = scp_documents(config)
    targets = scp_targets(config)
    delegated: dict[DelegatedService, str] = {}
    audit = config.accounts_with_role(AccountRole.AUDIT)
    if audit and section.delegated_administrators.config:
        # Aggregators and organization rules / conformance packs have separate service principals.
        delegated[DelegatedService.CONFIG] = audit[0].name
        delegated[DelegatedService.CONFIG_RULES] = audit[0].name
    if audit and section.delegated_administrators.cloudtrail:
        delegated[DelegatedService.CLOUDTRAIL] = audit[0].name
    return {
        "organization_id": None if organization.create else organization.id,
        "root_id": organization.root_id,
        "organizational_units": [_unit_spec(unit) for unit in organization.organizational_units],
        "accounts": [
            AccountSpec(name=a.name, account_id=a.id) for a in config.accounts if a.role is not AccountRole.MANAGEMENT
        ],
        "service_control_policies": [
            ServiceControlPolicy(
                name=name, description=scp_description(name), document=documents[name], targets=targets.get(name, [])
            )
            for name in documents
        ],
        "exempt_role_names": effective_exempt_role_names(config),
        # The organization trail needs CloudTrail's trusted access (Control Tower's trail has it already).
        "trusted_access_services": [] if config.on_control_tower else ["cloudtrail.amazonaws.com"],
        "delegated_administrators": delegated,
    }
