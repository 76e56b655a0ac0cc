"""Any valid config synthesizes with the CDK CLI and no AWS credentials: no context lookups, even for
accounts and regions that cdk.json has never heard of."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_CONFIGS, ROOT, jsii_package_cache, module_code_cache

CDK = ROOT / "node_modules" / ".bin" / "cdk"
#: Every way the AWS SDKs find credentials or a profile, removed or pointed at nothing.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
)


#: What `cdk synth --quiet` says on stderr about a synthesis that succeeded.
SYNTH_LINES = ("Successfully synthesized to ", "Supply a stack id ")


def unknown_accounts_config(tmp_path: Path) -> Path:
    """The example with every account id and the regions replaced by ones cdk.json does not name."""
    data = yaml.safe_load(EXAMPLE_CONFIGS["example"].read_text())
    for index, account in enumerate(data["accounts"]):
        account["id"] = f"{index + 5}" * 12
    data["home_region"] = "ap-northeast-1"
    data["governed_regions"] = ["ap-northeast-1", "sa-east-1"]
    path = tmp_path / "unknown.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_cdk_json_pins_no_account_or_region():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert not [key for key in context if ":account=" in key or ":region=" in key]


def test_cdk_json_holds_no_context_key_the_cli_reserves():
    """The CDK CLI warns on every command about an ``aws:`` key in cdk.json's context: app.py sets the one
    it needs (``APP_CONTEXT``) on its App instead."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert [key for key in context if key.startswith("aws:")] == []


def test_cli_synth_needs_no_credentials_for_accounts_cdk_json_does_not_know(tmp_path: Path):
    if not CDK.exists():
        pytest.fail("the CDK CLI is not installed: run `make test`, which runs `npm ci` first")
    config = unknown_accounts_config(tmp_path)
    home = tmp_path / "home"  # no ~/.aws: no shared config or credentials file
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "none"),
        AWS_EC2_METADATA_DISABLED="true",  # no instance-profile credentials either
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        NODE_NO_WARNINGS="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        # app.py quiets jsii's deprecation warnings (cdk-nag reads a deprecated property); without
        # cdk-nag, a deprecated aws-cdk API the library calls fails the synth.
        JSII_DEPRECATED="fail",
        # jsii keeps the packages it has unpacked under the home directory: the real one, or this run
        # would unpack aws-cdk-lib anew, some 12 s of CPU (no credentials are looked for there).
        JSII_RUNTIME_PACKAGE_CACHE_ROOT=jsii_package_cache(),
        MODULE_CODE_CACHE_DIR=module_code_cache(),  # and V8's code cache of its modules (scripts/)
        # aws-cdk's CloudFormation validation looks nothing up either, and the example's templates are
        # validated where it is tested (tests/stacks/test_gates.py): skipping it spares this process
        # the validation engine, about 1.5 s of CPU.
        CDK_VALIDATION="false",
    )
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        # cdk-nag adds no lookups; without it the test spends its time on what it proves.
        [str(CDK), "synth", "--no-notices", "--no-version-reporting", "--quiet", "-o", str(out),
         "-c", f"config={config}", "-c", "compliance=false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # Nothing but the CLI's two lines of a synthesis: no warning (such as the one on a context key cdk.json
    # must not hold) and no deprecation.
    said = [line for line in result.stderr.splitlines() if line.strip()]
    assert [line for line in said if not line.startswith(SYNTH_LINES)] == [], result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "missing" not in manifest, manifest.get("missing")  # a context lookup would be listed here
    workload = json.loads((out / "acme-example-workload.template.json").read_text())
    zones = [
        r["Properties"]["AvailabilityZone"] for r in workload["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"
    ]
    assert zones == [{"Fn::Select": [index, {"Fn::GetAZs": ""}]} for index in range(2)]
    # app.py spares the stack trace aws-cdk would capture at each resource's creation (from Python it
    # shows only jsii's and node's frames): the cloud assembly records none.
    entries = [entry["type"] for path in out.glob("*.metadata.json") for entries in
               json.loads(path.read_text()).values() for entry in entries]  # fmt: skip
    assert "aws:cdk:logicalId" in entries and "aws:cdk:creationStack" not in entries
