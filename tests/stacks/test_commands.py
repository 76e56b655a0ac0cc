"""The commands under ``python -m stacks.*`` that read a config or a cloud assembly: bad input is the same
``config error:`` lines ``load_config`` gives (or one line for a missing assembly) and exit code 1, never a
traceback."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from stacks import summary
from stacks.config import ConfigError, load_config

#: Each command, and its arguments around the config's path.
COMMANDS = {
    "diagram": [],
    "diagram --update-readme": ["--update-readme"],
    "deploy_plan": [],
    "org_doc": [],
    "roles": [],
    "preflight": [],
}


def _config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return str(raised.value)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("problem", ["missing", "invalid"])
def test_a_config_that_does_not_load_is_its_config_error_lines_and_exit_1(
    command: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "acme.yaml"
    if problem == "invalid":
        path.write_text("home_region: x\n")
    module = importlib.import_module(f"stacks.{command.split()[0]}")
    assert module.main([command, *COMMANDS[command], str(path)]) == 1
    out, err = capsys.readouterr()
    assert (out, err.rstrip("\n")) == ("", _config_error(path))
    assert err.startswith(f"config error: {path}: ")


def test_the_summary_of_a_folder_without_a_cloud_assembly_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert summary.main(["summary", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        f"summary: {tmp_path}: no cloud assembly (no manifest.json): synthesize first (make synth)\n",
    )


def test_the_summary_of_an_assembly_without_stacks_is_the_header_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {}}))
    assert summary.main(["summary", str(tmp_path)]) == 0
    out, _ = capsys.readouterr()
    assert [line.split() for line in out.splitlines()] == [
        ["stack", "account", "region", "resources", "template"],
        ["cdk-nag", "(AwsSolutions,", "NIST", "800-53", "R5,", "HIPAA", "Security,", "PCI", "DSS", "3.2.1):", "not",
         "run", "(compliance=false)"],
    ]  # fmt: skip
