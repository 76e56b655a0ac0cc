"""Control Tower mode: the roles the SCPs must leave alone, and the roll-out to vended accounts.

**Exemptions.** Control Tower manages every enrolled account through roles that live in those
accounts, and SCPs apply to them like to any IAM role (only service-linked roles and the
management account are out of their reach):

- ``AWSControlTowerExecution`` (``control_tower.execution_role_name``): Control Tower's StackSets
  (``AWSControlTowerBP-BASELINE-*``: Config recorder and delivery channel, aggregation
  authorization, notification forwarder, roles) and its detective controls (Config rules) deploy
  through it, assumed from the management account's ``AWSControlTowerStackSetRole``;
- ``aws-controltower-ConfigRecorderRole``, ``aws-controltower-ForwardSnsNotificationRole`` and
  ``AWSControlTower_VPCFlowLogsRole``: the service roles of Control Tower's recorder, notification
  forwarder and flow logs, which act in every region Control Tower governs. Control Tower's own
  region-deny control exempts exactly these four (Control Tower control reference, region deny).

Not exempted, on purpose: ``aws-controltower-AdministratorExecutionRole`` and
``-ReadOnlyExecutionRole`` are the audit account's way into member accounts for people and their
automation, not Control Tower's; exempting them would let the audit account bypass every guardrail.
``AWSControlTowerAdmin``, ``AWSControlTowerStackSetRole``, ``AWSControlTowerCloudTrailRole`` and
``AWSControlTowerConfigAggregatorRoleForOrganizations`` live in the management account, which SCPs
never restrict (an exemption there changes nothing).

**Roll-out.** See ``add_account_factory_rollout`` and docs/control-tower.md "Account Factory roll-out".
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aws_cdk as cdk

    from constructs_lib import Organization
    from constructs_lib.control_tower import AccountFactoryRollout
    from constructs_lib.security_alarms import SecurityAlarms
    from stacks.config import BaselineConfig
    from stacks.stackset import WorkloadBaselineStackSet

#: Service roles Control Tower's baseline creates in every enrolled account (exempt from its own region deny).
CONTROL_TOWER_SERVICE_ROLES = (
    "aws-controltower-ConfigRecorderRole",
    "aws-controltower-ForwardSnsNotificationRole",
    "AWSControlTower_VPCFlowLogsRole",
)


def control_tower_exempt_roles(config: BaselineConfig) -> list[str]:
    """Role names every SCP statement must exempt in Control Tower mode (empty otherwise)."""
    if not config.on_control_tower:
        return []
    assert config.control_tower is not None
    return [config.control_tower.execution_role_name, *CONTROL_TOWER_SERVICE_ROLES]


def effective_exempt_role_names(config: BaselineConfig) -> list[str]:
    """The exemptions the SCPs are built with: an explicit ``exempt_role_names`` as given (the config
    check refuses one that misses a Control Tower role), otherwise the defaults plus, in Control
    Tower mode, ``control_tower_exempt_roles``."""
    from stacks.org_settings import scp_section

    section = scp_section(config)
    names = list(section.exempt_role_names)
    if "exempt_role_names" in section.model_fields_set:
        return names
    return names + [role for role in control_tower_exempt_roles(config) if not _covered(role, names)]


def exemption_problems(config: BaselineConfig) -> list[str]:
    """Config errors: an explicit ``exempt_role_names`` that leaves a Control Tower role unexempted."""
    section = config.service_control_policies
    if section is None or "exempt_role_names" not in section.model_fields_set:
        return []
    missing = [role for role in control_tower_exempt_roles(config) if not _covered(role, section.exempt_role_names)]
    if not missing:
        return []
    return [
        f"service_control_policies.exempt_role_names: {section.exempt_role_names!r} leaves Control Tower's "
        f"role(s) {', '.join(missing)} subject to the SCPs, which would deny Control Tower managing its "
        f"baseline in enrolled accounts (control_tower is on); add {missing!r} or drop the key for the defaults"
    ]


def _covered(role: str, patterns: list[str]) -> bool:
    """Whether an exemption pattern (IAM wildcards ``*`` and ``?``) matches ``role``."""
    return any(fnmatchcase(role, pattern) for pattern in patterns)


def add_account_factory_rollout(
    management_stack: cdk.Stack,
    config: BaselineConfig,
    stack_set: WorkloadBaselineStackSet,
    *,
    organization: Organization | None = None,
    security_alarms: SecurityAlarms | None = None,
) -> AccountFactoryRollout | None:
    """The workload baseline reaches accounts Account Factory vends or moves, once Control Tower is done.

    In Control Tower mode the StackSet's automatic deployment is off (``stacks.stackset``): it would
    fire when Account Factory moves the new account into its OU, before Control Tower's baseline has
    created the account's Config recorder, and the baseline's Config rules would fail. Instead the
    lifecycle events ``CreateManagedAccount`` / ``UpdateManagedAccount`` (SUCCEEDED), which Control
    Tower sends in the management account's home region once its baseline is in place, add the
    account's stack instances. Accounts enrolled when the StackSet is deployed are covered by its
    deployment targets.

    :param organization: the management stack's organization, which knows the target OUs' ids.
        Default: none (target OUs cannot be named; the roll-out then covers every account).
    :param security_alarms: whose HIGH topic the roll-out's alarms notify. Default: the topics
        ``stacks.health.alert_topics`` makes.
    :return: the construct, or None when ``control_tower.account_factory_rollout`` is off (or not in
        Control Tower mode).
    """
    from constructs_lib.control_tower import AccountFactoryRollout
    from stacks.health import alert_topics
    from stacks.roles import stack_set_name

    if not config.on_control_tower:
        return None
    assert config.control_tower is not None
    if not config.control_tower.account_factory_rollout:
        return None
    home = config.control_tower.home_region or config.home_region
    if management_stack.region != home:
        raise ValueError(
            f"control_tower.home_region: lifecycle events reach EventBridge in Control Tower's home region {home!r}, "
            f"but the management stack deploys to {management_stack.region!r}; set control_tower.home_region "
            "to the landing zone's home region and deploy the management stack there"
        )
    units = list(config.stacksets.target_organizational_units)
    unit_ids = None
    if units and organization is not None:
        ids = organization.organizational_unit_ids
        unit_ids = [ids[name] for name in _with_descendants(config, units)]
    topics = alert_topics(management_stack, config, security_alarms)
    from constructs_lib.security_alarms import Severity

    rollout = AccountFactoryRollout(
        management_stack,
        "AccountFactoryRollout",
        stack_set_name=stack_set_name(config),
        regions=config.regions,
        organizational_unit_ids=unit_ids,
        alarm_topic=topics.get(Severity.HIGH),
    )
    rollout.node.add_dependency(stack_set.stack_set)
    return rollout


def _with_descendants(config: BaselineConfig, names: list[str]) -> list[str]:
    """``names`` and every OU below them, in config order (a StackSet on an OU reaches its children)."""
    assert config.organization is not None
    found: list[str] = []

    def walk(units: list, inside: bool) -> None:  # type: ignore[type-arg]
        for unit in units:
            here = inside or unit.name in names
            if here:
                found.append(unit.name)
            walk(unit.children, here)

    walk(config.organization.organizational_units, False)
    return found
