"""The test helpers themselves: a gate that cannot fail proves nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import cfn_lint


def _write(path: Path, resources: dict) -> Path:
    path.write_text(json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}))
    return path


def test_cfn_lint_passes_a_valid_template(tmp_path: Path):
    template = _write(tmp_path / "good.template.json", {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}})
    result = cfn_lint(template)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_an_error_and_a_warning(tmp_path: Path):
    template = _write(
        tmp_path / "bad.template.json",
        {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"NoSuchProperty": True}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "topic"}}},
        },
    )
    result = cfn_lint(template)
    assert result.returncode & 2, "an error sets bit 2 of the exit code, as the cfn-lint command does"
    assert result.returncode & 4, "a warning sets bit 4"
    assert f"{template}:" in result.stdout and "NoSuchProperty" in result.stdout
    # Options reach cfn-lint: ignoring the warning's rule leaves the error alone.
    warning_rule = re.search(r":(W\d+):", result.stdout).group(1)
    ignored = cfn_lint(template, "--ignore-checks", warning_rule)
    assert ignored.returncode & 2 and not ignored.returncode & 4, ignored.stdout
