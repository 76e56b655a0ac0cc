"""Checks of the ``service_control_policies`` section, and of the SCPs built from the whole config."""

from __future__ import annotations

import re

from stacks.config._base import tag_problems
from stacks.config.model import BaselineConfig
from stacks.config.organization import AccountRole
from stacks.config.scp import scp_definitions


def _scp_problems(config: BaselineConfig, *, check_documents: bool) -> list[str]:
    """The ``service_control_policies`` section: known SCP names, declared targets, quotas, and (when
    the rest of the config is valid) the built policies' grammar, size and exemptions."""
    section = config.service_control_policies
    if section is None:
        return []
    if config.organization is None:
        return ["service_control_policies: needs an 'organization' section (single-account mode has no SCPs)"]
    problems: list[str] = []
    path = "service_control_policies"
    for index, role in enumerate(section.exempt_role_names):
        if not re.match(r"^[\w+=,.@*?-]{1,64}$", role):
            problems.append(
                f"{path}.exempt_role_names[{index}]: {role!r} is not a role name "
                "(1-64 letters, digits, '+=,.@_-', wildcards '*' '?')"
            )
    if not section.exempt_role_names:
        problems.append(f"{path}.exempt_role_names: needs at least one role (the deployment or break-glass role)")
    from stacks.control_tower import exemption_problems  # Control Tower mode: its roles stay exempt

    problems.extend(exemption_problems(config))
    if section.flow_log_tag is not None:
        problems.extend(tag_problems(f"{path}.flow_log_tag", {section.flow_log_tag.key: section.flow_log_tag.value}))
    units = {u.name for u in config.organization.all_units()}
    accounts = {a.name: a for a in config.accounts}
    attachments = section.attachments
    targets: list[tuple[str, list[str]]] = [(f"{path}.attachments.root", attachments.root)]
    for name, names in attachments.organizational_units.items():
        where = f"{path}.attachments.organizational_units.{name}"
        if name not in units:
            problems.append(f"{where}: {name!r} is not a declared OU; declared: {', '.join(sorted(units)) or 'none'}")
        targets.append((where, names))
    for name, names in attachments.accounts.items():
        where = f"{path}.attachments.accounts.{name}"
        if name not in accounts:
            problems.append(f"{where}: {name!r} is not a declared account; declared: {', '.join(sorted(accounts))}")
        elif accounts[name].role is AccountRole.MANAGEMENT:
            problems.append(f"{where}: SCPs never restrict the management account; attach them elsewhere")
        targets.append((where, names))
    definitions = scp_definitions()
    for where, names in targets:
        for index, name in enumerate(names):
            if name not in definitions:
                problems.append(
                    f"{where}[{index}]: {name!r} is not an SCP of the baseline; known: {', '.join(definitions)}"
                )
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"{where}: {duplicates} listed more than once")
        if len(set(names)) > 4:
            problems.append(
                f"{where}: {len(set(names))} SCPs exceed the quota of 5 per target (FullAWSAccess takes one); "
                "attach at most 4"
            )
    for definition in definitions.values():
        attached = any(definition.name in names for _, names in targets)
        if attached and definition.off_when is not None and not definition.enabled(config):
            key, why = definition.off_when
            problems.append(f"{path}.{key}: {why}, but the {definition.name!r} SCP is attached; detach it")
    delegated = section.delegated_administrators
    if (delegated.config or delegated.cloudtrail) and not config.accounts_with_role(AccountRole.AUDIT):
        problems.append(
            f"{path}.delegated_administrators: the delegated administrator is the account with role 'audit', "
            "but no account has it; add one or turn delegation off"
        )
    if check_documents and not problems:
        # The config package's one call upwards, made only for a config valid otherwise: the SCPs
        # and the deploying roles are built from the whole config by modules that import this
        # package, so they are imported here, never at module level (no import cycle).
        from constructs_lib import scp
        from stacks import deployers
        from stacks.control_tower import effective_exempt_role_names
        from stacks.org_settings import scp_documents

        documents = scp_documents(config)
        for name, document in documents.items():
            for problem in scp.policy_problems(document, exempt_role_names=effective_exempt_role_names(config)):
                problems.append(f"{path}: SCP {name!r} {problem}")
        # Every role that deploys into a member account may do what CloudFormation's handlers need.
        problems.extend(deployers.problems(config, documents))
    return problems
