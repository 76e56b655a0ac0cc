"""The organization's OU tree and SCP attachments as Markdown, generated from the config.

docs/organization.md embeds ``render(load_config("config/example.yaml"))``; a test fails when they
differ, so the page never goes stale. Regenerate with::

    .venv/bin/python -m stacks.org_doc config/example.yaml
"""

from __future__ import annotations

import sys

from stacks.config import AccountRole, BaselineConfig, OrganizationalUnit, config_errors_exit_1, load_config
from stacks.org_settings import scp_description, scp_documents, scp_section

BEGIN = "<!-- BEGIN GENERATED: stacks/org_doc.py -->"
END = "<!-- END GENERATED: stacks/org_doc.py -->"


def render(config: BaselineConfig) -> str:
    """Markdown of the OU tree (accounts, SCPs attached directly to each node) and the SCP table."""
    if config.organization is None:
        return "Single-account mode: no organization, no SCPs.\n"
    attachments = scp_section(config).attachments
    built = scp_documents(config)

    def scps(names: list[str]) -> str:
        return ", ".join(f"`{n}`" for n in names) if names else "none directly"

    def accounts_in(ou: str | None) -> list[str]:
        lines = []
        for account in config.accounts:
            if account.ou != ou:
                continue
            if account.role is AccountRole.MANAGEMENT:
                lines.append(f"account `{account.name}` ({account.id}, management): never restricted by SCPs")
            else:
                lines.append(
                    f"account `{account.name}` ({account.id}, {account.role.value}) — SCPs: "
                    f"{scps(attachments.accounts.get(account.name, []))}"
                )
        return lines

    organization = config.organization
    origin = (
        f"organization `{organization.id}`, referenced"
        if not organization.create
        else "a new organization, created by the management stack"
    )
    lines = [f"**Root** ({origin}) — SCPs: " + scps(attachments.root)]
    lines += [f"  - {line}" for line in accounts_in(None)]

    def unit(node: OrganizationalUnit, depth: int) -> None:
        indent = "  " * depth
        origin = f"exists, `{node.id}`" if node.id is not None else "created by the management stack"
        lines.append(
            f"{indent}- OU **{node.name}** ({origin}) — SCPs: "
            f"{scps(attachments.organizational_units.get(node.name, []))}"
        )
        lines.extend(f"{indent}  - {line}" for line in accounts_in(node.name))
        for child in node.children:
            unit(child, depth + 1)

    for top in config.organization.organizational_units:
        unit(top, 1)

    where: dict[str, list[str]] = {name: [] for name in built}
    for name in attachments.root:
        where.setdefault(name, []).append("root")
    for ou, names in attachments.organizational_units.items():
        for name in names:
            where.setdefault(name, []).append(f"OU {ou}")
    for account, names in attachments.accounts.items():
        for name in names:
            where.setdefault(name, []).append(f"account {account}")
    table = ["| SCP | Purpose | Statements | Attached to |", "| --- | --- | --- | --- |"]
    for name, document in built.items():
        sids = ", ".join(s["Sid"] for s in document["Statement"])
        table.append(f"| `{name}` | {scp_description(name)} | {sids} | {', '.join(where[name]) or 'not attached'} |")
    from stacks.control_tower import effective_exempt_role_names  # Control Tower's roles included

    exempt = ", ".join(f"`{r}`" for r in effective_exempt_role_names(config))
    return (
        "\n".join(lines)
        + "\n\nEvery account also keeps the AWS-managed `FullAWSAccess` (one of the 5 SCPs a target may have); "
        + "an account is bound by the SCPs of the root, of every OU above it and its own.\n\n"
        + "\n".join(table)
        + f"\n\nEvery statement exempts these roles (`ArnNotLike aws:PrincipalARN`): {exempt}.\n"
    )


def section(config: BaselineConfig) -> str:
    """``render`` between the markers docs/organization.md keeps it in."""
    return f"{BEGIN}\n{render(config)}{END}\n"


@config_errors_exit_1
def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m stacks.org_doc CONFIG.yaml", file=sys.stderr)
        return 2
    print(section(load_config(argv[1])), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
