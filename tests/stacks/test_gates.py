"""Gates over every synthesized template: snapshots, cdk-nag (four packs) and cfn-lint."""

from __future__ import annotations

import ast
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.compliance import add_compliance_checks, packs
from tests.conftest import EXAMPLE_CONFIGS, ROOT, Synthesized, cfn_lint

STACKS = {
    "example": [
        "acme-log-archive",
        "acme-management",
        *(f"acme-baseline-management-{region}" for region in ("eu-west-1", "eu-central-1", "us-east-1")),
        "acme-audit",
        "acme-example-workload",
    ],
    "single-account": ["solo-single-account", "solo-baseline-sandbox-us-west-2"],
    # No log-archive stack: Control Tower owns the trail's and AWS Config's buckets.
    "control-tower": [
        "northwind-management",
        *(f"northwind-baseline-management-{region}" for region in ("eu-central-1", "eu-west-1")),
        "northwind-audit",
    ],
}
#: The StackSet template of the workload baseline (organization mode), deployed to every other account.
STACKSET_TEMPLATES = {
    "example": ["acmemanagementWorkloadBaselineTemplate83728206.stackset.template.json"],
    "single-account": [],
    "control-tower": ["northwindmanagementWorkloadBaselineTemplate0CC8598C.stackset.template.json"],
}


def test_every_config_and_stack_is_covered(synthesized: dict[str, Synthesized]):
    assert set(STACKS) == set(EXAMPLE_CONFIGS) == set(STACKSET_TEMPLATES)
    for name, stack_names in STACKS.items():
        assert list(synthesized[name].stacks) == stack_names
        assert list(synthesized[name].stackset_templates()) == STACKSET_TEMPLATES[name]


@pytest.mark.parametrize(("config", "stack"), [(c, s) for c, names in STACKS.items() for s in names])
def test_snapshot(synthesized: dict[str, Synthesized], snapshot, config: str, stack: str):
    # One reviewable JSON file per template under __snapshots__/test_gates/.
    assert synthesized[config].template_json(stack) == snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize(("config", "file_name"), [(c, f) for c, names in STACKSET_TEMPLATES.items() for f in names])
def test_stackset_template_snapshot(synthesized: dict[str, Synthesized], snapshot, config: str, file_name: str):
    assert synthesized[config].stackset_templates()[file_name] == snapshot.use_extension(JSONSnapshotExtension)


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
    assert len(packs()) == 4


def _top_level_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_cdk_nag_is_imported_only_when_the_packs_are_added():
    """A synth with ``-c compliance=false`` loads no cdk-nag: no module imports it at its top level
    (``stacks.compliance.packs`` imports it when called)."""
    sources = [ROOT / "app.py", *(ROOT / "stacks").rglob("*.py"), *(ROOT / "constructs_lib").rglob("*.py")]
    importing = sorted(
        path.relative_to(ROOT).as_posix()
        for path in sources
        if any(name.split(".")[0] == "cdk_nag" for name in _top_level_imports(path))
    )
    assert importing == []


@pytest.mark.parametrize("config", list(STACKS))
def test_cfn_lint_reports_no_error_and_no_warning(synthesized: dict[str, Synthesized], config: str):
    # Stack templates and StackSet templates (*.stackset.template.json) alike.
    templates = sorted(str(p) for p in synthesized[config].outdir.glob("*.template.json"))
    assert len(templates) == len(STACKS[config]) + len(STACKSET_TEMPLATES[config])
    result = cfn_lint(*templates)
    assert result.returncode == 0, result.stdout + result.stderr
