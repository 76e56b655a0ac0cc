"""Deploying into an organization that exists: the organization and OUs with ids are referenced,
a new organization is a deliberate two-step choice, and the config refuses what AWS would."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import ConfigError, parse_config
from stacks.org_settings import organization_options
from tests.conftest import EXAMPLE_CONFIGS, synthesize

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())


def with_organization(**organization: Any) -> dict[str, Any]:
    """The example with another organization section; accounts and StackSet targets leave OUs alone."""
    data = copy.deepcopy(EXAMPLE)
    data["organization"] = organization
    for account in data["accounts"]:
        account.pop("ou", None)
    data["stacksets"]["target_organizational_units"] = []
    return data


def errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


class TestConfig:
    def test_existing_organization_is_referenced_by_default(self):
        options = organization_options(parse_config(EXAMPLE))
        assert options["organization_id"] == "o-a1b2c3d4e5"
        assert options["root_id"] is None  # read at deploy time
        security = next(u for u in options["organizational_units"] if u.name == "Security")
        assert security.ou_id == "ou-a1b2-c3d4e5f6"

    def test_create_passes_no_id_to_the_construct(self):
        data = with_organization(create=True, organizational_units=[{"name": "Security"}])
        options = organization_options(parse_config(data))
        assert options["organization_id"] is None

    def test_missing_id_says_where_to_find_it(self):
        (problem,) = errors(with_organization(organizational_units=EXAMPLE["organization"]["organizational_units"]))
        assert problem.startswith("organization.id: required key is missing")
        assert "aws organizations describe-organization" in problem and "create: true" in problem

    @pytest.mark.parametrize(
        ("organization", "message"),
        [
            ({"id": "o-a1b2c3d4e5", "root_id": "root-1"}, "organization.root_id: 'root-1' is not a root id"),
            (
                {"id": "o-a1b2c3d4e5", "organizational_units": [{"name": "Security", "id": "ou-1"}]},
                "organization.organizational_units[0].id: 'ou-1' is not an OU id",
            ),
            (
                {"create": True, "root_id": "r-ab12"},
                "organization.root_id: 'r-ab12' names the root of an existing organization, but organization.create",
            ),
            (
                {"create": True, "organizational_units": [{"name": "Security", "id": "ou-a1b2-c3d4e5f6"}]},
                "organization.organizational_units[0].id: 'ou-a1b2-c3d4e5f6' references an existing OU, but "
                "organization.create is true",
            ),
            (
                {
                    "id": "o-a1b2c3d4e5",
                    "organizational_units": [
                        {"name": "Security", "id": "ou-a1b2-c3d4e5f6"},
                        {"name": "Infra", "id": "ou-a1b2-c3d4e5f6"},
                    ],
                },
                "organization.organizational_units[1].id: 'ou-a1b2-c3d4e5f6' is already the id of OU 'Security'",
            ),
        ],
    )
    def test_refused(self, organization, message):
        data = with_organization(**organization)
        assert any(p.startswith(message) for p in errors(data)), errors(data)

    def test_ou_depth_is_aws_quota(self):
        def chain(depth: int) -> dict[str, Any]:
            unit: dict[str, Any] = {"name": f"L{depth}"}
            for level in range(depth - 1, 0, -1):
                unit = {"name": f"L{level}", "children": [unit]}
            return unit

        data = with_organization(id="o-a1b2c3d4e5", organizational_units=[chain(5)])
        parse_config(data)  # five levels below the root: allowed
        data["organization"]["organizational_units"] = [chain(6)]
        problems = errors(data)
        assert any("OU 'L6' sits 6 levels below the root; AWS Organizations allows 5" in p for p in problems), problems


def test_new_organization_first_deploys_the_organization_alone(tmp_path: Path):
    """create: true without an id: every other stack's policies need the id, so the first deploy is the
    organization alone, with its id as an output to put into the config."""
    data = with_organization(create=True, organizational_units=[{"name": "Security"}])
    synth = synthesize(parse_config(data), tmp_path)
    assert list(synth.stacks) == ["acme-management"]
    template = synth.template_json("acme-management")
    types = sorted({r["Type"] for r in template["Resources"].values()})
    assert "AWS::Organizations::Organization" in types
    assert "AWS::CloudTrail::Trail" not in types and "AWS::CloudFormation::StackSet" not in types
    assert template["Outputs"]["OrganizationId"]["Value"] == {"Fn::GetAtt": ["Organization29A5FC3F", "Id"]}
