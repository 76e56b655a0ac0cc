"""One registry entry per SCP: a new SCP is one ``ScpDefinition`` (plus its policy function), and
the config check, the management stack and the generated SCP table follow from it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

import stacks.config.scp as scp_section
from constructs_lib import scp
from stacks import org_doc
from stacks.config import SCP_NAMES, ConfigError, ScpDefinition, parse_config
from stacks.org_settings import organization_options, scp_documents
from tests.conftest import EXAMPLE_CONFIGS, ROOT

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def _deny_ram_sharing(config: Any, resources: scp.MonitoringResources, exempt: list[str]) -> dict[str, Any]:
    """A small real SCP for the test: members may not share resources outside the organization."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyExternalSharing",
                "Effect": "Deny",
                "Action": "ram:CreateResourceShare",
                "Resource": "*",
                "Condition": {
                    "Bool": {"ram:RequestedAllowsExternalPrincipals": "true"},
                    **scp.exemption(exempt),
                },
            }
        ],
    }


EXTRA = ScpDefinition(
    name="deny-external-sharing",
    description="Monitoring baseline test: deny sharing resources outside the organization",
    build=_deny_ram_sharing,
    enabled=lambda config: "deny-external-sharing" not in config.tags,
    off_when=("attachments", "the config's tags switch it off"),
)


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch) -> ScpDefinition:
    monkeypatch.setattr(scp_section, "SCP_REGISTRY", (*scp_section.SCP_REGISTRY, EXTRA))
    return EXTRA


def attached_at_root(*names: str) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    data["service_control_policies"]["attachments"] = {"root": list(names)}
    return data


def test_the_registry_names_every_scp_once_and_builds_each():
    definitions = scp_section.scp_definitions()
    assert tuple(definitions) == SCP_NAMES == ("protect-audit-logging", "protect-monitoring", "guardrails")
    documents = scp_documents(parse_config(EXAMPLE))
    assert set(documents) == set(SCP_NAMES)
    for name, document in documents.items():
        assert document["Statement"], name
        assert definitions[name].description.startswith("Monitoring baseline: ")


def test_the_app_names_no_scp_outside_the_registry():
    # Adding an SCP touches no other module of the app: no SCP name is written anywhere else.
    pattern = re.compile(r"[\"'](" + "|".join(map(re.escape, SCP_NAMES)) + r")[\"']")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "stacks").rglob("*.py"))
        if path != ROOT / "stacks" / "config" / "scp.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_an_unknown_name_is_refused_and_a_new_entry_is_enough_to_attach_it(extended: ScpDefinition):
    data = attached_at_root("protect-monitoring", extended.name)
    config = parse_config(data)  # the config check, the deployer proof included, accepts it
    options = organization_options(config)
    (policy,) = [p for p in options["service_control_policies"] if p.name == extended.name]
    assert policy.description == extended.description
    assert policy.document["Statement"][0]["Sid"] == "DenyExternalSharing"
    assert [t.kind for t in policy.targets] == ["root"]
    # The generated SCP table (docs/organization.md) lists it too.
    assert f"| `{extended.name}` | {extended.description} |" in org_doc.render(config)


def test_without_the_entry_the_name_is_refused():
    with pytest.raises(ConfigError) as caught:
        parse_config(attached_at_root("protect-monitoring", "deny-external-sharing"))
    assert caught.value.problems == [
        "service_control_policies.attachments.root[1]: 'deny-external-sharing' is not an SCP of the baseline; "
        "known: protect-audit-logging, protect-monitoring, guardrails"
    ]


def test_an_entry_switched_off_by_the_config_is_not_built_and_may_not_be_attached(extended: ScpDefinition):
    data = attached_at_root("protect-monitoring", extended.name)
    data["tags"]["deny-external-sharing"] = "off"
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.problems == [
        "service_control_policies.attachments: the config's tags switch it off, but the 'deny-external-sharing' "
        "SCP is attached; detach it"
    ]
    data["service_control_policies"]["attachments"] = {"root": ["protect-monitoring"]}
    assert extended.name not in scp_documents(parse_config(data))


def test_guardrails_all_off_keep_their_message():
    data = copy.deepcopy(EXAMPLE)
    data["service_control_policies"]["guardrails"] = dict.fromkeys(
        ("deny_leave_organization", "deny_root_user", "deny_ungoverned_regions", "protect_security_services"), False
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.problems == [
        "service_control_policies.guardrails: every guardrail is off, but the 'guardrails' SCP is attached; detach it"
    ]
