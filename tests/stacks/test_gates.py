"""Gates over every synthesized template: snapshots, cdk-nag (four packs) and cfn-lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.compliance import PACKS, add_compliance_checks
from tests.conftest import EXAMPLE_CONFIGS, Synthesized

STACKS = {
    "example": ["acme-log-archive", "acme-management", "acme-audit"],
    "single-account": ["solo-single-account"],
}


def test_every_config_and_stack_is_covered(synthesized: dict[str, Synthesized]):
    assert set(STACKS) == set(EXAMPLE_CONFIGS)
    for name, stack_names in STACKS.items():
        assert list(synthesized[name].stacks) == stack_names


@pytest.mark.parametrize(("config", "stack"), [(c, s) for c, names in STACKS.items() for s in names])
def test_snapshot(synthesized: dict[str, Synthesized], snapshot, config: str, stack: str):
    # One reviewable JSON file per template under __snapshots__/test_gates/.
    assert synthesized[config].template_json(stack) == snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("config", list(STACKS))
def test_compliance_packs_report_no_unacknowledged_findings(synthesized: dict[str, Synthesized], config: str):
    # The fixture synthesized with all four packs; a finding would have raised there. The report confirms it ran.
    report = synthesized[config].validation_report()
    assert report["title"] == "Validation Report"
    assert [p for p in report["pluginReports"] if p.get("violations")] == []


def test_compliance_packs_do_catch_a_non_compliant_bucket(tmp_path: Path):
    """Proves the gate can fail: an unencrypted, unlogged, unversioned bucket is reported by every pack."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    s3.Bucket(stack, "Plain")
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    for pack in ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"):
        assert f'"pluginName": "{pack}"' in report
    assert len(PACKS) == 4


@pytest.mark.parametrize("config", list(STACKS))
def test_cfn_lint_reports_no_error_and_no_warning(synthesized: dict[str, Synthesized], config: str):
    templates = sorted(str(p) for p in synthesized[config].outdir.glob("*.template.json"))
    assert templates
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
