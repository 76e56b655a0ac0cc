"""``control_tower``: checks of the Control Tower mode against the rest of the config."""

from __future__ import annotations

from stacks.config._base import _shown
from stacks.config.aws_config import changed_recording_settings
from stacks.config.model import BaselineConfig
from stacks.config.organization import AccountRole, OrganizationalUnit


def _control_tower_problems(config: BaselineConfig) -> list[str]:
    """``control_tower``: the landing zone governs an existing organization whose OUs it registered;
    its accounts, region and recorder agree with the rest of the config; settings of what Control
    Tower owns (the trail, the log-archive buckets, the aggregator) are refused, not ignored."""
    section = config.control_tower
    if section is None or not section.enabled:
        return []
    organization = config.organization
    if organization is None:
        return [
            "control_tower: a Control Tower landing zone governs an organization; single-account mode "
            "(no 'organization' section) cannot use it: add 'organization' with its id, or remove control_tower"
        ]
    problems: list[str] = []
    if organization.create:
        problems.append(
            "organization.create: true, but control_tower is on: Control Tower runs on an existing organization; "
            "remove create and set organization.id (o-...)"
        )
    elif organization.id is None:
        problems.append("organization.id: required in Control Tower mode: the landing zone's organization (o-...)")

    def walk(units: list[OrganizationalUnit], path: str) -> None:
        for index, unit in enumerate(units):
            where = f"{path}[{index}]"
            if unit.id is None:
                problems.append(
                    f"{where}.id: missing for OU {unit.name!r}: in Control Tower mode the baseline creates no OU "
                    "(an OU created outside Control Tower is not registered, so its accounts stay ungoverned: no "
                    "Control Tower recorder evaluates the baseline's rules); create or register it in Control Tower "
                    "and give its id (ou-...)"
                )
            walk(unit.children, f"{where}.children")

    walk(organization.organizational_units, "organization.organizational_units")
    for index, account in enumerate(config.accounts):
        if account.role is not AccountRole.MANAGEMENT and account.ou is None:
            problems.append(
                f"accounts[{index}].ou: missing for {account.name!r}: Control Tower enrolls accounts of registered "
                "OUs only (an account in the root is ungoverned); name its registered OU"
            )
    for field, role in (("log_archive_account", AccountRole.LOG_ARCHIVE), ("audit_account", AccountRole.AUDIT)):
        name = getattr(section, field)
        holders = config.accounts_with_role(role)
        if name is None:
            if len(holders) != 1:
                problems.append(
                    f"accounts: Control Tower mode needs exactly one account with role {role.value!r} (Control "
                    f"Tower's {field.removesuffix('_account').replace('_', ' ')} account), got "
                    f"{', '.join(a.name for a in holders) or 'none'}"
                )
            continue
        account = next((a for a in config.accounts if a.name == name), None)
        if account is None or account.role is not role:
            got = "no such account" if account is None else f"its role is {account.role.value!r}"
            allowed = ", ".join(a.name for a in holders) or f"none: give that account role {role.value!r}"
            problems.append(
                f"control_tower.{field}: {name!r} ({got}) must name the account of role {role.value!r}; allowed: "
                f"{allowed}"
            )
    if section.home_region is not None and section.home_region != config.home_region:
        problems.append(
            f"control_tower.home_region: {section.home_region!r} differs from home_region {config.home_region!r}: "
            "the security alarms read Control Tower's trail log group, which lives in the landing zone's home "
            f"region; set home_region to {section.home_region!r} (or remove control_tower.home_region)"
        )
    adopted = config.aws_config.existing_recorder_name
    if adopted is not None and adopted != section.config_recorder_name:
        problems.append(
            f"aws_config.existing_recorder_name: {adopted!r} conflicts with control_tower.config_recorder_name "
            f"{section.config_recorder_name!r}: on Control Tower the rules are evaluated by Control Tower's recorder; "
            "remove aws_config.existing_recorder_name"
        )
    recording = changed_recording_settings(config.aws_config)
    if recording:
        problems.append(
            f"aws_config: {', '.join(recording)} would configure a recorder, but in Control Tower mode the rules are "
            f"evaluated by Control Tower's {section.config_recorder_name!r} (its recording is set in the landing "
            "zone); remove them"
        )
    if (
        "aggregator" in config.aws_config.model_fields_set
        and config.aws_config.aggregator
        and section.config_aggregator
    ):
        problems.append(
            "aws_config.aggregator: true, but control_tower.config_aggregator is true (Control Tower's aggregator "
            "in the audit account is reused): remove aws_config.aggregator, or set control_tower.config_aggregator: "
            "false for the baseline's own organization aggregator"
        )
    owned = (
        ("cloudtrail", config.cloudtrail, f"Control Tower's trail {section.trail_name!r} records the organization"),
        ("log_archive", config.log_archive, "Control Tower's log archive buckets hold the logs (set their retention "
         "in the landing zone settings)"),
    )  # fmt: skip
    for name, settings, why in owned:
        for key in (k for k in type(settings).model_fields if k in settings.model_fields_set):
            problems.append(
                f"{name}.{key}: {_shown(getattr(settings, key))} configures what Control Tower owns in Control Tower "
                f"mode ({why}); the baseline creates no trail or log-archive bucket there: remove {name}.{key}"
            )
    scps = config.service_control_policies
    if scps is not None and scps.delegated_administrators.cloudtrail:
        problems.append(
            "service_control_policies.delegated_administrators.cloudtrail: true, but in Control Tower mode the only "
            "organization trail is Control Tower's, which Control Tower manages from the management account: "
            "set it to false"
        )
    return problems
