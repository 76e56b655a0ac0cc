"""Config validation: every bad input gives one clear line naming the path, the value and what is allowed."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import AccountRole, ConfigError, json_schema, load_config, parse_config
from tests.conftest import ROOT

EXAMPLE: dict[str, Any] = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
SINGLE: dict[str, Any] = yaml.safe_load((ROOT / "config" / "single-account.yaml").read_text())


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    return raised.value.problems


def changed(base: dict[str, Any], **paths: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with dotted paths (``accounts.1.id``) set; a value of ``...`` deletes the key."""
    data = copy.deepcopy(base)
    for dotted, value in paths.items():
        *parents, last = dotted.split("__")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return data


class TestValidConfigs:
    def test_example_is_an_organization(self):
        config = load_config(ROOT / "config" / "example.yaml")
        assert not config.single_account
        assert config.account_with_role(AccountRole.LOG_ARCHIVE).id == "222222222222"
        assert config.regions == ["eu-west-1", "eu-central-1", "us-east-1"]
        assert [u.name for u in config.organization.all_units()] == [
            "Security",
            "Infrastructure",
            "Workloads",
            "Production",
            "NonProduction",
        ]

    def test_single_account_mode(self):
        config = load_config(ROOT / "config" / "single-account.yaml")
        assert config.single_account
        assert config.cloudtrail.exclude_kms_events is True

    def test_defaults_fill_what_is_left_out(self):
        config = parse_config(
            {
                "home_region": "eu-west-1",
                "accounts": [{"name": "solo", "id": "123456789012", "email": "a@b.example", "role": "workload"}],
            }
        )
        assert config.naming.prefix == "baseline"
        assert config.regions == ["eu-west-1"]
        assert config.cloudtrail.log_group_retention_days == 365
        assert config.log_archive.object_lock is None


class TestBadInput:
    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ({"accounts__2__id": "12345"}, "accounts[2].id: '12345' is not a 12-digit AWS account id"),
            (
                {"accounts__2__id": 333333333333},
                "accounts[2].id: 333333333333 is not a 12-digit AWS account id (quote it",
            ),
            ({"accounts__3__id": "333333333333"}, "accounts[3].id: '333333333333' is already used by accounts[2]"),
            ({"accounts__4__name": "shop-prod"}, "accounts[4].name: 'shop-prod' is already used by accounts[3]"),
            ({"accounts__1__email": "not-an-email"}, "accounts[1].email: 'not-an-email' is not an email address"),
            (
                {"accounts__1__role": "logging"},
                "accounts[1].role: Input should be 'management', 'log-archive', 'audit' or 'workload' (got 'logging')",
            ),
            ({"home_region": "eu-west-9"}, "home_region: 'eu-west-9' is not an AWS region; allowed: af-south-1"),
            ({"governed_regions": ["eu-west-1", "mars-1"]}, "governed_regions[1]: 'mars-1' is not an AWS region"),
            (
                {"governed_regions": ["eu-central-1"]},
                "governed_regions: ['eu-central-1'] does not include home_region 'eu-west-1'",
            ),
            (
                {"accounts__3__ou": "Prod"},
                "accounts[3].ou: 'Prod' is not a declared OU; declared: Infrastructure, NonProduction, Production, Security, Workloads",
            ),
            (
                {"accounts__0__ou": "Security"},
                "accounts[0].ou: the management account always sits in the root (got 'Security')",
            ),
            (
                {"accounts__1__role": "workload"},
                "accounts: organization mode needs exactly one account with role 'log-archive' (got none)",
            ),
            (
                {"accounts__2__role": "management"},
                "accounts: organization mode needs exactly one account with role 'management' (got management, audit)",
            ),
            (
                {"log_archive__retention_days": 30},
                "log_archive.retention_days: 30 is not longer than log_archive.transition_days (90)",
            ),
            (
                {"log_archive__object_lock": {"days": 30}},
                "log_archive.object_lock.mode: missing (days is 30); allowed: GOVERNANCE, COMPLIANCE",
            ),
            (
                {"log_archive__object_lock": {"mode": "GOVERNANCE"}},
                "log_archive.object_lock.days: missing (mode is 'GOVERNANCE')",
            ),
            (
                {"log_archive__object_lock": {"mode": "LEGAL", "days": 5}},
                "log_archive.object_lock.mode: Input should be 'GOVERNANCE' or 'COMPLIANCE' (got 'LEGAL')",
            ),
            (
                {"log_archive__object_lock": {"mode": "COMPLIANCE", "days": 4000}},
                "log_archive.object_lock.days: 4000 exceeds log_archive.retention_days (2557)",
            ),
            (
                {"cloudtrail__log_group_retention_days": 100},
                "cloudtrail.log_group_retention_days: 100 is not a CloudWatch Logs retention period; allowed days: 1, 3, 5",
            ),
            (
                {"cloudtrail__retension_days": 365},
                "cloudtrail: unknown key(s) 'retension_days'; allowed: trail_name, management_events",
            ),
            ({"acounts": []}, "(top level): unknown key(s) 'acounts'; allowed: naming, home_region"),
            (
                {"accounts__0__emial": "x@y.example"},
                "accounts[0]: unknown key(s) 'emial'; allowed: name, id, email, role, ou",
            ),
            (
                {"cloudtrail__management_events": "some"},
                "cloudtrail.management_events: Input should be 'all', 'write-only', 'read-only' or 'none' (got 'some')",
            ),
            ({"cloudtrail__trail_name": "bad name"}, "cloudtrail.trail_name: 'bad name' is not a trail name"),
            ({"organization__id": "o-1"}, "organization.id: 'o-1' is not an organization id like 'o-a1b2c3d4e5'"),
            ({"naming__prefix": "ACME"}, "naming.prefix: 'ACME' is not a name prefix"),
            ({"home_region": ...}, "home_region: required key is missing"),
        ],
    )
    def test_each_problem_names_path_value_and_what_is_allowed(self, change, expected):
        problems = problems_of(changed(EXAMPLE, **change))
        assert any(p.startswith(expected) for p in problems), problems

    def test_duplicate_ou_names(self):
        data = changed(EXAMPLE, organization__organizational_units=[{"name": "A", "children": [{"name": "A"}]}])
        data["accounts"] = [a for a in data["accounts"] if "ou" not in a or a["role"] != "workload"]
        for account in data["accounts"]:
            account.pop("ou", None)
        assert (
            "organization.organizational_units: OU name 'A' is declared 2 times; OU names must be unique"
            in problems_of(data)
        )

    def test_single_account_mode_takes_one_account(self):
        data = changed(SINGLE)
        data["accounts"].append({"name": "other", "id": "123456789012", "email": "o@solo.example", "role": "workload"})
        assert any(
            p.startswith("accounts: single-account mode (no 'organization' section) takes exactly one account, got 2")
            for p in problems_of(data)
        )

    def test_single_account_mode_has_no_ous(self):
        data = changed(SINGLE, accounts__0__ou="Workloads")
        assert any(
            p.startswith("accounts[0].ou: 'Workloads' needs an 'organization' section") for p in problems_of(data)
        )

    def test_all_problems_are_reported_together(self):
        problems = problems_of(changed(EXAMPLE, accounts__2__id="1", accounts__3__email="x", home_region="nowhere-1"))
        assert len(problems) == 3

    def test_not_a_mapping(self):
        assert problems_of(["a"]) == ["(top level): expected a mapping of keys, got list"]  # type: ignore[arg-type]

    def test_file_errors_name_the_file(self, tmp_path: Path):
        broken = tmp_path / "broken.yaml"
        broken.write_text("accounts: [\n")
        with pytest.raises(ConfigError, match=r"broken.yaml: is not valid YAML"):
            load_config(broken)
        with pytest.raises(ConfigError, match=r"missing.yaml: cannot be read"):
            load_config(tmp_path / "missing.yaml")


class TestCommandLine:
    def test_app_exits_1_with_one_line_per_problem_and_writes_nothing(self, tmp_path: Path):
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(changed(EXAMPLE, accounts__2__id="12345", log_archive__retention_days=30)))
        outdir = tmp_path / "out"
        env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({"config": str(bad)})}
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines == [
            f"config error: {bad}: accounts[2].id: '12345' is not a 12-digit AWS account id (quote it in YAML so leading zeros survive)",
            f"config error: {bad}: log_archive.retention_days: 30 is not longer than log_archive.transition_days (90); "
            "objects would expire before they are archived: make it greater or null",
        ]
        assert "Traceback" not in result.stderr
        assert not outdir.exists() or not any(outdir.iterdir())

    def test_check_command(self):
        result = subprocess.run(
            [sys.executable, "-m", "stacks.config", "check", "config/example.yaml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "config/example.yaml: valid"


class TestSchema:
    def test_committed_schema_is_current(self):
        committed = json.loads((ROOT / "config" / "schema.json").read_text())
        assert committed == json_schema(), "config/schema.json is stale: run `make schema`"

    def test_example_configs_reference_the_schema(self):
        for name in ("example.yaml", "single-account.yaml"):
            assert (ROOT / "config" / name).read_text().startswith("# yaml-language-server: $schema=./schema.json")

    def test_schema_forbids_unknown_keys(self):
        schema = json_schema()
        assert schema["additionalProperties"] is False
        assert schema["$defs"]["Account"]["additionalProperties"] is False
