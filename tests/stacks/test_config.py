"""Config validation: every bad input gives one clear line naming the path, the value and what is allowed."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.config import AccountRole, ConfigError, json_schema, load_config, parse_config
from tests.conftest import ROOT, WITHOUT_JSII

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


#: app.py's line for a ``compliance`` context that is neither true nor false.
COMPLIANCE_REFUSED = (
    "context error: compliance: {value} is not allowed: true or false (-c compliance=false skips the cdk-nag packs)"
)
#: `python app.py` with aws_cdk, constructs and jsii made unimportable.
_APP_WITHOUT_JSII = WITHOUT_JSII + 'import runpy\nrunpy.run_path("app.py", run_name="__main__")\n'

#: Prints the config path cdk.App reads from the environment, then the one app.py reads.
_CONTEXT_READ_BY_BOTH = """
import os, app, aws_cdk as cdk
print(cdk.App().node.try_get_context("config"))
print(app.context_from_environment(os.environ).get("config"))
"""


class TestCommandLine:
    def test_app_exits_1_with_one_line_per_problem_and_writes_nothing(self, tmp_path: Path):
        """Before aws-cdk starts: the run fails the same way with aws_cdk and jsii unimportable."""
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(changed(EXAMPLE, accounts__2__id="12345", log_archive__retention_days=30)))
        outdir = tmp_path / "out"
        env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({"config": str(bad)})}
        result = subprocess.run(
            [sys.executable, "-c", _APP_WITHOUT_JSII], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
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

    def test_app_reads_the_config_path_where_cdk_app_reads_it(self, tmp_path: Path):
        """The CLI's overflow file (for a context too large for the environment) wins over
        CDK_CONTEXT_JSON, on the installed aws-cdk-lib as in app.py; the early check follows it."""
        good, bad = ROOT / "config" / "single-account.yaml", tmp_path / "bad.yaml"
        bad.write_text("home_region: eu-west-1\nhome_region: us-east-1\n")
        overflow = tmp_path / "context.json"
        overflow.write_text(json.dumps({"config": str(bad)}))
        env = {
            **os.environ,
            "CDK_CONTEXT_JSON": json.dumps({"config": str(good), "compliance": "false"}),
            "CONTEXT_OVERFLOW_LOCATION_ENV": str(overflow),
        }
        both = subprocess.run(
            [sys.executable, "-c", _CONTEXT_READ_BY_BOTH],
            cwd=ROOT,
            # No template is validated: CDK_VALIDATION=false spares the process the validation engine
            # that scripts/validation-engine-early.js would start creating (about 0.4 s of CPU).
            env={**env, "CDK_VALIDATION": "false"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert both.stdout.splitlines() == [str(bad), str(bad)], both.stderr
        early = subprocess.run(
            [sys.executable, "-c", _APP_WITHOUT_JSII], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert early.returncode == 1 and early.stderr.startswith(f"config error: {bad}: line 2: "), early.stderr
        unreadable = {**env, "CONTEXT_OVERFLOW_LOCATION_ENV": str(tmp_path / "missing.json")}
        import app

        assert app.context_from_environment(unreadable) == {}

    def test_a_compliance_context_neither_true_nor_false_is_refused_before_aws_cdk_starts(self, tmp_path: Path):
        """`-c compliance=off` would have run the cdk-nag packs (anything but "false" was "on")."""
        env = {
            **os.environ,
            "CDK_OUTDIR": str(tmp_path / "out"),
            "CDK_CONTEXT_JSON": json.dumps({"config": "config/single-account.yaml", "compliance": "off"}),
        }
        result = subprocess.run(
            [sys.executable, "-c", _APP_WITHOUT_JSII], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert (result.returncode, result.stderr) == (1, COMPLIANCE_REFUSED.format(value="'off'") + "\n")

    @pytest.mark.parametrize("value", ["", "  ", 7])
    def test_an_empty_config_context_is_refused_not_taken_for_the_example(self, value: Any, tmp_path: Path):
        """`-c config=$CONFIG` with the variable unset: not a synthesis of the example organization."""
        env = {
            **os.environ,
            "CDK_OUTDIR": str(tmp_path / "out"),
            "CDK_CONTEXT_JSON": json.dumps({"config": value}),
        }
        result = subprocess.run(
            [sys.executable, "-c", _APP_WITHOUT_JSII], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert (result.returncode, result.stderr) == (1, (
            f"context error: config: {value!r} is not allowed: the path of a config file "
            "(-c config=config/acme.yaml)\n"
        ))  # fmt: skip
        assert not (tmp_path / "out").exists()

    def test_a_compliance_context_is_true_or_false_in_either_case_and_on_when_absent(self):
        import aws_cdk as cdk

        import app

        wanted = {None: True, True: True, False: False, "true": True, "TRUE": True, "false": False, "False": False}
        assert {value: app.compliance_wanted(value) for value in wanted} == wanted
        for value in ("off", "0", "no", ""):
            with pytest.raises(ValueError, match=re.escape(COMPLIANCE_REFUSED.format(value=repr(value)))):
                app.compliance_wanted(value)
        # The same refusal in the synthesis itself (an App with that context), before any stack is built.
        refused = cdk.App(context={"compliance": "no"})
        with contextlib.redirect_stderr(io.StringIO()) as said:
            assert app.synth(refused, "config/single-account.yaml") == 1
        assert said.getvalue() == COMPLIANCE_REFUSED.format(value="'no'") + "\n"
        assert refused.node.children == []

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
        for name in ("example.yaml", "single-account.yaml", "control-tower.yaml"):
            assert (ROOT / "config" / name).read_text().startswith("# yaml-language-server: $schema=./schema.json")

    def test_schema_forbids_unknown_keys(self):
        schema = json_schema()
        assert schema["additionalProperties"] is False
        assert schema["$defs"]["Account"]["additionalProperties"] is False


def _deep_ous(depth: int) -> list[dict[str, Any]]:
    top: dict[str, Any] = {"name": "Level1"}
    node = top
    for level in range(2, depth + 1):
        child: dict[str, Any] = {"name": f"Level{level}"}
        node["children"] = [child]
        node = child
    return [top, {"name": "Security"}, {"name": "Production"}, {"name": "NonProduction"}]


class TestAwsRules:
    """Values that end up in names, ARNs, tags, policies and quotas follow the rule AWS documents."""

    @pytest.mark.parametrize("base", [EXAMPLE, SINGLE], ids=["organization", "single-account"])
    @pytest.mark.parametrize("name", ["my role", "r" * 65, ""])
    def test_cloudwatch_logs_role_name_is_an_iam_role_name(self, base, name):
        problems = problems_of(changed(base, cloudtrail__cloudwatch_logs_role_name=name))
        assert problems == [
            f"cloudtrail.cloudwatch_logs_role_name: {name!r} is not a role name: "
            "an IAM role name is 1-64 letters, digits or '+=,.@_-'"
        ]

    def test_a_64_character_role_name_is_fine(self):
        assert parse_config(changed(EXAMPLE, cloudtrail__cloudwatch_logs_role_name="r" * 64))

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (
                {"aws_config": {"existing_recorder_name": "my recorder/!!"}},
                "aws_config.existing_recorder_name: 'my recorder/!!' is not an AWS Config recorder name "
                "(1-256 letters, digits, '_', '.' or '-')",
            ),
            (
                {
                    "log_archive__retention_days": None,
                    "log_archive__object_lock": {"mode": "GOVERNANCE", "days": 10**9},
                },
                "log_archive.object_lock.days: 1000000000 is not a retention from 1 to 36500 days "
                "(S3 Object Lock allows at most 100 years)",
            ),
            (
                {"log_archive__retention_days": 2**31},
                "log_archive.retention_days: 2147483648 is not a number of days from 1 to 2147483647",
            ),
            (
                {"tags__aws:createdBy": "me"},
                "tags: key 'aws:createdBy' is not allowed: an AWS tag key is 1-128 letters, digits, spaces or "
                "'_.:/=+-' and does not start with 'aws:'",
            ),
            ({"tags__AWS:x": "me"}, "tags: key 'AWS:x' is not allowed"),
            ({"tags__owner": "x" * 257}, "tags.owner: 'xxxxx"),
            ({"tags__owner": ""}, "tags.owner: '' is not allowed: an AWS tag value is 1-256 letters"),
            ({"tags__owner": "a;b"}, "tags.owner: 'a;b' is not allowed"),
            (
                {"tags": {f"key{i}": "v" for i in range(48)}},
                "tags: 48 tags; at most 47 (AWS allows 50 per resource and the baseline adds up to 3)",
            ),
            (
                {"cloudtrail__data_events__s3_bucket_names": ["ok-bucket", "Not_A_Bucket"]},
                "cloudtrail.data_events.s3_bucket_names[1]: 'Not_A_Bucket' is not a bucket name: "
                "an S3 bucket name is 3-63 lower-case letters",
            ),
            (
                {"cloudtrail__data_events__s3_bucket_names": ["192.168.1.1"]},
                "cloudtrail.data_events.s3_bucket_names[0]: '192.168.1.1' is not a bucket name",
            ),
            (
                {"cloudtrail__data_events__s3_bucket_names": ["a..b"]},
                "cloudtrail.data_events.s3_bucket_names[0]: 'a..b' is not a bucket name",
            ),
            (
                {"cloudtrail__data_events__s3_bucket_names": ["xn--abc"]},
                "cloudtrail.data_events.s3_bucket_names[0]: 'xn--abc' is not a bucket name",
            ),
            (
                {"cloudtrail__data_events__s3_bucket_names": ["abc", "abc"]},
                "cloudtrail.data_events.s3_bucket_names: ['abc', 'abc'] lists ['abc'] more than once",
            ),
            (
                {"cloudtrail__data_events__lambda_function_arns": ["my-function"]},
                "cloudtrail.data_events.lambda_function_arns[0]: 'my-function' is not a Lambda function ARN: "
                "a Lambda function ARN is arn:<partition>:lambda:<region>:<12-digit account>:function:<name>",
            ),
            (
                {"cloudtrail__data_events__lambda_function_arns": ["arn:aws:lambda:eu-west-1:12345:function:f"]},
                "cloudtrail.data_events.lambda_function_arns[0]: 'arn:aws:lambda:eu-west-1:12345:function:f' is not",
            ),
            (
                {"notifications__high": ["ok@acme.example", "not-an-email"]},
                "notifications.high[1]: 'not-an-email' is not an email address",
            ),
            (
                {"notifications__high": ["ok@acme.example", "ok@acme.example"]},
                "notifications.high: ['ok@acme.example', 'ok@acme.example'] lists ['ok@acme.example'] more than once",
            ),
            (
                {"accounts__1__email": "a" * 60 + "@acme.example"},
                "accounts[1].email: 'aaaa",
            ),
            (
                {"naming__prefix": "aws"},
                "naming.prefix: 'aws' is reserved: KMS refuses alias names beginning with 'alias/aws/'",
            ),
            ({"naming__prefix": "xn--acme"}, "naming.prefix: 'xn--acme' would start the baseline's bucket names"),
            ({"naming__prefix": "sthree"}, "naming.prefix: 'sthree' would start the baseline's bucket names"),
            (
                {"cloudtrail__management_events": "none", "cloudtrail__insights": {}},
                "cloudtrail.management_events: 'none' with no cloudtrail.data_events: the trail would record nothing",
            ),
            (
                {"alarms__anomaly_detection__band_std_devs": 1e300},
                "alarms.anomaly_detection.band_std_devs: 1e+300 is not a band width from 0.0001 to 1000",
            ),
            (
                {"alarms__anomaly_detection__band_std_devs": float("nan")},
                "alarms.anomaly_detection.band_std_devs: nan is not a band width",
            ),
            (
                {"service_control_policies__flow_log_tag": {"key": "aws:flow", "value": "baseline"}},
                "service_control_policies.flow_log_tag: key 'aws:flow' is not allowed",
            ),
            (
                {"telemetry": {"cloudwatch_agent": {"tag_values": ["ok", "x" * 257]}}},
                "telemetry.cloudwatch_agent.tag_values[1]: 'xxx",
            ),
            (
                {"observability": {"custom_queries": [{"name": "q" * 240, "query": "fields @message"}]}},
                "observability.custom_queries[0].name: 'qqq",
            ),
            (
                {
                    "observability": {
                        "custom_queries": [
                            {"name": "Root logins", "query": "fields @message"},
                            {"name": "Root-logins", "query": "fields @message"},
                        ]
                    }
                },
                "observability.custom_queries[1].name: 'Root-logins' differs from 'Root logins' only in punctuation",
            ),
            (
                {
                    "observability": {
                        "custom_queries": [{"name": "Q", "query": "fields @message", "log_groups": ["/a b", "/x.y"]}]
                    }
                },
                "observability.custom_queries[0].log_groups[0]: '/a b' is not a log group name",
            ),
            (
                {
                    "observability": {
                        "custom_queries": [{"name": "Q", "query": "fields @message", "log_groups": ["/x.y", "/x_y"]}]
                    }
                },
                "observability.custom_queries[0].log_groups[1]: '/x_y' differs from '/x.y' only in punctuation",
            ),
            (
                {
                    "aws_config": {
                        "custom_rules": [{"name": "r", "identifier": "X_Y_Z", "parameters": {"p": "v" * 1100}}]
                    }
                },
                "aws_config.custom_rules[0].parameters: 1109 characters as JSON; AWS Config takes rule parameters of "
                "at most 1024 characters",
            ),
        ],
    )
    def test_refused_with_the_aws_rule(self, change, expected):
        problems = problems_of(changed(EXAMPLE, **change))
        assert any(p.startswith(expected) for p in problems), problems

    def test_ous_nested_deeper_than_aws_allows(self):
        assert parse_config(changed(EXAMPLE, organization__organizational_units=_deep_ous(5)))
        (problem,) = problems_of(changed(EXAMPLE, organization__organizational_units=_deep_ous(6)))
        assert problem.endswith("OU 'Level6' sits 6 levels below the root; AWS Organizations allows 5"), problem

    def test_data_events_that_aws_accepts(self):
        config = parse_config(
            changed(
                EXAMPLE,
                cloudtrail__data_events={
                    "s3_bucket_names": ["my.bucket-1", "abc"],
                    "lambda_function_arns": [
                        "arn:aws:lambda:eu-west-1:123456789012:function:my_fn-1",
                        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:$LATEST",
                        "arn:aws:lambda:eu-west-1:123456789012:function:f:live",
                    ],
                },
            )
        )
        assert len(config.cloudtrail.data_events.lambda_function_arns) == 3

    def test_tags_at_the_limits(self):
        tags = {f"key{i}": "v" for i in range(46)} | {"k" * 128: "é" * 256}
        assert parse_config(changed(EXAMPLE, tags=tags)).tags == tags

    def test_conformance_pack_template_files_are_checked_like_aws_config_does(self, tmp_path: Path):
        empty, large, binary = tmp_path / "empty.yaml", tmp_path / "large.yaml", tmp_path / "binary.yaml"
        empty.write_text("  \n")
        large.write_text("#" * 51_201)
        binary.write_bytes(b"\xff\xfe")
        packs = [{"name": f"p{i}", "template": str(path)} for i, path in enumerate((empty, large, binary))]
        packs.append(
            {"name": "many", "template": "logging-and-monitoring", "parameters": {f"k{i}": "v" for i in range(61)}}
        )
        problems = problems_of(changed(EXAMPLE, aws_config={"conformance_packs": packs}))
        assert problems == [
            f"aws_config.conformance_packs[0].template: {str(empty)!r} is neither a bundled pack "
            "(logging-and-monitoring) nor a usable template file: empty",
            f"aws_config.conformance_packs[1].template: {str(large)!r} is neither a bundled pack "
            "(logging-and-monitoring) nor a usable template file: 51201 bytes; AWS Config takes template bodies "
            "of at most 51200 bytes",
            f"aws_config.conformance_packs[2].template: {str(binary)!r} is neither a bundled pack "
            "(logging-and-monitoring) nor a usable template file: not UTF-8 text",
            "aws_config.conformance_packs[3].parameters: 61 parameters; a conformance pack takes at most 60",
        ]

    def test_a_huge_value_is_shown_shortened_on_one_line(self):
        (problem,) = problems_of(changed(EXAMPLE, home_region=["x" * 10_000] * 100))
        assert problem.startswith("home_region: Input should be a valid string (got ['xxx")
        assert len(problem) < 1000 and "\n" not in problem


class TestConfigFiles:
    """What can be wrong with the file itself: one clear line each, naming the file."""

    def load(self, tmp_path: Path, content: str | bytes) -> list[str]:
        path = tmp_path / "config.yaml"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        with pytest.raises(ConfigError) as raised:
            load_config(path)
        return [p.removeprefix(f"{path}: ") for p in raised.value.problems]

    def test_a_key_given_twice_names_both_lines(self, tmp_path: Path):
        text = (ROOT / "config" / "example.yaml").read_text()
        text = text.replace("home_region: eu-west-1\n", "home_region: eu-west-1\nhome_region: us-east-1\n")
        line = text.splitlines().index("home_region: eu-west-1") + 1
        assert self.load(tmp_path, text) == [
            f"line {line + 1}: key 'home_region' is given twice (lines {line} and {line + 1}); "
            "YAML would silently keep the last one: remove one"
        ]

    def test_duplicates_anywhere_are_all_reported(self, tmp_path: Path):
        text = "home_region: eu-west-1\naccounts:\n  - name: a\n    name: b\ntags:\n  owner: x\n  owner: y\n"
        assert self.load(tmp_path, text) == [
            "line 4: key 'name' is given twice (lines 3 and 4); YAML would silently keep the last one: remove one",
            "line 7: key 'owner' is given twice (lines 6 and 7); YAML would silently keep the last one: remove one",
        ]

    def test_merge_keys_may_override(self, tmp_path: Path):
        path = tmp_path / "merge.yaml"
        data = copy.deepcopy(SINGLE)
        path.write_text(
            yaml.safe_dump(data).replace(
                "tags:\n  owner: solo-team\n", "tags:\n  <<: {owner: base}\n  owner: solo-team\n"
            )
        )
        assert load_config(path).tags == {"owner": "solo-team"}

    def test_not_utf8(self, tmp_path: Path):
        assert self.load(tmp_path, "home_region: eu-west-1\nowner: Jos\xe9\n".encode("latin-1")) == [
            "is not UTF-8 text (byte 0xe9 at offset 33); save it as UTF-8"
        ]

    def test_a_utf8_byte_order_mark_is_fine(self, tmp_path: Path):
        path = tmp_path / "bom.yaml"
        path.write_bytes(b"\xef\xbb\xbf" + (ROOT / "config" / "single-account.yaml").read_bytes())
        assert load_config(path).single_account

    def test_binary(self, tmp_path: Path):
        assert self.load(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") == [
            "is a binary file (it holds NUL bytes), not YAML text"
        ]

    def test_oversized(self, tmp_path: Path):
        assert self.load(tmp_path, "# padding\n" * 100_001) == [
            "is larger than 1,000,000 bytes; a config file is a few kilobytes of YAML"
        ]

    def test_control_characters(self, tmp_path: Path):
        assert self.load(tmp_path, "home_region: eu-west-1\x07\n") == [
            "is not valid YAML: character #x0007 at offset 22 is not allowed in YAML (special characters are not allowed)"
        ]

    def test_yaml_syntax_errors_are_one_line(self, tmp_path: Path):
        (problem,) = self.load(tmp_path, "home_region: eu-west-1\naccounts: [\n")
        assert problem.startswith("is not valid YAML: line 3, column 1: ")
        assert "\n" not in problem

    def test_python_tags_are_refused(self, tmp_path: Path):
        (problem,) = self.load(tmp_path, "home_region: !!python/object/apply:os.system ['true']\n")
        assert problem.startswith("is not valid YAML: line 1, column 14: ")

    def test_alias_bombs_and_recursive_aliases(self, tmp_path: Path):
        bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
        )
        assert self.load(tmp_path, bomb) == [
            "expands to more than 100,000 values (YAML aliases?); a config is far smaller"
        ]
        assert self.load(tmp_path, "tags: &t {owner: *t}\n") == [
            "refers to itself (a recursive YAML alias); write the values out"
        ]

    def test_deeply_nested(self, tmp_path: Path):
        (problem,) = self.load(tmp_path, "tags: " + "[" * 5000 + "]" * 5000 + "\n")
        assert problem in ("is nested too deeply to be a config", "tags: Input should be a valid dictionary")

    def test_empty_and_several_documents(self, tmp_path: Path):
        assert self.load(tmp_path, "# nothing yet\n") == [
            "(top level): the file is empty; expected a mapping of keys (home_region, accounts, ...)"
        ]
        (problem,) = self.load(tmp_path, "home_region: eu-west-1\n---\nhome_region: us-east-1\n")
        assert problem.startswith("is not valid YAML: line 2, column 1: expected a single document in the stream")

    def test_a_directory(self, tmp_path: Path):
        with pytest.raises(ConfigError, match=r"cannot be read \(Is a directory\)"):
            load_config(tmp_path)


class TestCheckAndSynthAgree:
    """`python -m stacks.config check` refuses what synth refuses, with the same lines, and a failed
    synth writes nothing."""

    def run(self, *command: str, outdir: Path | None = None, config: Path | None = None):
        env = dict(os.environ)
        if outdir is not None:
            env["CDK_OUTDIR"] = str(outdir)
        if config is not None:
            env["CDK_CONTEXT_JSON"] = json.dumps({"config": str(config), "compliance": "false"})
        return subprocess.run(
            [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )

    def test_bad_files_get_the_same_lines_from_check_and_synth(self, tmp_path: Path):
        duplicate = tmp_path / "duplicate.yaml"
        duplicate.write_text((ROOT / "config" / "single-account.yaml").read_text() + "home_region: eu-west-1\n")
        latin1 = tmp_path / "latin1.yaml"
        latin1.write_bytes("tags: {owner: Jos\xe9}\n".encode("latin-1"))
        role = tmp_path / "role.yaml"
        role.write_text(yaml.safe_dump(changed(SINGLE, cloudtrail__cloudwatch_logs_role_name="my role")))
        expected = {
            duplicate: "key 'home_region' is given twice (lines 5 and",
            latin1: "is not UTF-8 text (byte 0xe9 at offset 17); save it as UTF-8",
            role: "cloudtrail.cloudwatch_logs_role_name: 'my role' is not a role name",
        }
        checks = {}
        for path, message in expected.items():
            checks[path] = check = self.run("-m", "stacks.config", "check", str(path))
            assert check.returncode == 1, check
            (line,) = check.stderr.strip().splitlines()
            assert line.startswith(f"config error: {path}: ") and message in line, line
            assert check.stdout == ""
        outdir = tmp_path / "cdk.out"
        synth = self.run("app.py", outdir=outdir, config=role)
        assert synth.returncode == 1
        assert synth.stderr.strip() == checks[role].stderr.strip()
        assert "Traceback" not in synth.stderr
        assert not outdir.exists(), "a failed synth must not create the output directory"

    def test_a_failed_synth_removes_the_empty_output_directory_the_cdk_cli_created(self, tmp_path: Path):
        outdir = tmp_path / "cdk.out"
        outdir.mkdir()  # as `cdk synth` does before it runs the app
        bad = tmp_path / "bad.yaml"
        bad.write_text("home_region: eu-west-1\nhome_region: us-east-1\n")
        synth = self.run("app.py", outdir=outdir, config=bad)
        assert synth.returncode == 1
        assert synth.stderr.strip().splitlines() == [
            f"config error: {bad}: line 2: key 'home_region' is given twice (lines 1 and 2); "
            "YAML would silently keep the last one: remove one"
        ]
        assert not outdir.exists()

    def test_a_failed_synth_leaves_an_existing_output_directory_alone(self, tmp_path: Path):
        outdir = tmp_path / "cdk.out"
        outdir.mkdir()
        (outdir / "manifest.json").write_text("{}")
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(changed(SINGLE, aws_config={"existing_recorder_name": "my recorder/!!"})))
        synth = self.run("app.py", outdir=outdir, config=bad)
        assert synth.returncode == 1
        assert synth.stderr.strip().splitlines() == [
            f"config error: {bad}: aws_config.existing_recorder_name: 'my recorder/!!' is not an AWS Config "
            "recorder name (1-256 letters, digits, '_', '.' or '-')"
        ]
        assert [p.name for p in outdir.iterdir()] == ["manifest.json"]
        assert (outdir / "manifest.json").read_text() == "{}"

    @pytest.mark.parametrize(
        ("name", "stack"), [("single-account", "solo-single-account"), ("control-tower", "northwind-audit")]
    )
    def test_a_successful_synth_writes_the_cloud_assembly_and_calls_no_deprecated_api(
        self, name: str, stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ):
        # app.py quiets jsii's deprecation warnings (cdk-nag reads a deprecated property of
        # CfnEventBusPolicy); without cdk-nag, any deprecated aws-cdk API the library calls fails.
        monkeypatch.setenv("JSII_DEPRECATED", "fail")
        monkeypatch.setenv("VALIDATION_ENGINE_EARLY_LOG", "1")
        outdir = tmp_path / "cdk.out"
        synth = self.run("app.py", outdir=outdir, config=ROOT / "config" / f"{name}.yaml")
        assert synth.returncode == 0, synth.stderr
        assert "deprecated" not in synth.stderr
        assert (outdir / "manifest.json").is_file()
        assert (outdir / f"{stack}.template.json").is_file()
        # aws-cdk asked for its validation engine as scripts/validation-engine-early.js expects, so the
        # synthesis used the engine created on a worker thread while the stacks were built (the log's
        # second line), and validated each stack template with the options the script guessed, so each
        # was answered from the validation the worker did ahead of the call (the other lines).
        # tests/stacks/test_validation_engine_early.py tests the script itself.
        prefix = "[validation-engine-early] "
        early = [line.removeprefix(prefix) for line in synth.stderr.splitlines() if line.startswith(prefix)]
        assert early[1] == "handing out the engine created on the worker thread", early
        templates = sorted(path.name for path in outdir.glob("*.template.json") if ".stackset." not in path.name)
        ahead = sorted(line.removeprefix("validated ahead of aws-cdk's call: ") for line in early[2:])
        assert ahead == templates, early


def test_docs_example_of_a_config_error_runs():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = doc.split("In Python, `load_config` raises `ConfigError`", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(example, "docs/configuration.md", "exec"), {})


def test_ou_names_that_the_organization_construct_cannot_tell_apart():
    units = [{"name": "Security"}, {"name": "Production"}, {"name": "NonProduction"}, {"name": "security"}]
    assert problems_of(changed(EXAMPLE, organization__organizational_units=units)) == [
        "organization.organizational_units: OU names ['Security', 'security'] differ only in punctuation, spaces "
        "or the case of a first letter; give names that letters or digits tell apart"
    ]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"resource_types": ["AWS::Config::ResourceCompliance"], "frequency": "DAILY"},
            "aws_config.frequency_overrides[0].resource_types: ['AWS::Config::ResourceCompliance'] are always "
            "recorded continuously; AWS Config refuses DAILY for them",
        ),
        (
            {"resource_types": ["AWS::EC2::Instance"], "frequency": "DAILY", "description": "d" * 257},
            "aws_config.frequency_overrides[0].description: 257 characters; AWS Config takes at most 256",
        ),
    ],
)
def test_recording_frequency_overrides_follow_aws_config(override, expected):
    assert problems_of(changed(EXAMPLE, aws_config={"frequency_overrides": [override]})) == [expected]


def test_a_bug_in_a_check_is_still_one_config_error_line(monkeypatch: pytest.MonkeyPatch):
    import stacks.config.loading

    def broken(config: Any) -> list[str]:
        raise KeyError("surprise")

    # parse_config looks the checks up in its own module.
    monkeypatch.setattr(stacks.config.loading, "_semantic_problems", broken)
    assert problems_of(changed(SINGLE)) == [
        "(top level): could not be checked (KeyError: 'surprise'); "
        "this is a bug in the baseline's config checks: please report it"
    ]


def test_an_anomaly_metric_listed_twice():
    # Found by synthesizing accepted mutants: SecurityAlarms refused it at synth with a traceback.
    metrics = ["unauthorized-api-calls", "console-authentication-failures", "unauthorized-api-calls"]
    assert problems_of(changed(EXAMPLE, alarms__anomaly_detection__metrics=metrics)) == [
        "alarms.anomaly_detection.metrics: ['unauthorized-api-calls'] listed more than once"
    ]


#: Every value at the edge of what the config accepts: each must synthesize, never raise.
AT_THE_LIMITS = {
    "cloudtrail__cloudwatch_logs_role_name": "a+=,.@_-" * 8,
    "cloudtrail__data_events": {
        "s3_bucket_names": ["a.b-c", "x" * 63],
        "lambda_function_arns": ["arn:aws:lambda:eu-west-1:123456789012:function:" + "f" * 64 + ":$LATEST"],
    },
    "log_archive": {
        "transition_days": None,
        "retention_days": None,
        "access_log_retention_days": 2_147_483_647,
        "object_lock": {"mode": "COMPLIANCE", "days": 36_500},
    },
    "tags": {**{f"key{i}": "v" * 256 for i in range(46)}, "k" * 128: "é" * 256},
    "alarms__anomaly_detection__band_std_devs": 0.0001,
    "alarms__thresholds": {"root-account-usage": 10**40},
    "aws_config": {"existing_recorder_name": "r" * 256},
    "observability__custom_queries": [
        {"name": "q" * 239, "query": "x" * 10_000, "log_groups": ["/" + "g" * 511, "/a.b#c"]}
    ],
}


@pytest.mark.parametrize("base", [SINGLE, EXAMPLE], ids=["single-account", "organization"])
def test_a_config_at_every_limit_synthesizes(base, tmp_path: Path):
    from tests.conftest import synthesize

    data = changed(base, **AT_THE_LIMITS)
    if base is EXAMPLE:
        data = changed(
            data,
            organization__organizational_units=_deep_ous(5),
            service_control_policies__flow_log_tag={"key": "k" * 128, "value": "v" * 256},
        )
        data["alarms"]["anomaly_detection"]["band_std_devs"] = 1000
    synthesized = synthesize(parse_config(data), tmp_path, compliance=False)
    assert synthesized.stacks


def _let_node_output_settle(capsys: pytest.CaptureFixture[str]) -> None:
    """Discard what node printed for earlier tests of this process and is still on its way.

    jsii's Python client prints node's console output from a thread of its own, so the validation
    report an earlier synth printed can reach ``sys.stderr`` well after that synth returned
    (seen on a loaded machine: in the next test's capture). Wait until nothing came for 0.3 s."""
    quiet_since = time.monotonic()
    deadline = quiet_since + 10
    while time.monotonic() - quiet_since < 0.3 and time.monotonic() < deadline:
        time.sleep(0.05)
        if capsys.readouterr().err:
            quiet_since = time.monotonic()


def test_a_value_the_constructs_refuse_is_still_config_error_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    """The safety net in app.py: a gap in the config checks must not become a traceback."""
    import aws_cdk as cdk

    import app

    def refused(scope: Any, config: Any) -> None:
        raise ValueError("AuditTrail(x): 2 problems:\n  - first\n  - second")

    monkeypatch.setattr(app, "build_stacks", refused)
    path = str(ROOT / "config" / "single-account.yaml")
    app_ = cdk.App(outdir=str(tmp_path))
    _let_node_output_settle(capsys)
    assert app.synth(app_, path) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"config error: {path}: AuditTrail(x): 2 problems:",
        f"config error: {path}: first",
        f"config error: {path}: second",
        f"config error: {path}: (the config check missed this problem: please report it)",
    ]
