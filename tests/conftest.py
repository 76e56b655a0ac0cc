"""Shared fixtures: each example config is synthesized once per test process (jsii start-up is costly)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from stacks.baseline import build_stacks
from stacks.compliance import add_compliance_checks
from stacks.config import BaselineConfig, load_config

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("NODE_NO_WARNINGS", "1")

ROOT = Path(__file__).resolve().parent.parent
#: Feature flags and context exactly as `cdk synth` applies them from cdk.json.
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
EXAMPLE_CONFIGS = {
    "example": ROOT / "config" / "example.yaml",
    "single-account": ROOT / "config" / "single-account.yaml",
}


@dataclass
class Synthesized:
    config: BaselineConfig
    stacks: dict[str, cdk.Stack]
    outdir: Path

    def template(self, stack_name: str) -> assertions.Template:
        return assertions.Template.from_json(self.template_json(stack_name))

    def template_json(self, stack_name: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack_name}.template.json").read_text())

    def stackset_templates(self) -> dict[str, dict[str, Any]]:
        """StackSet templates (cdk-stacksets writes them beside the stack templates), by file name."""
        return {p.name: json.loads(p.read_text()) for p in sorted(self.outdir.glob("*.stackset.template.json"))}

    def stackset_template(self) -> dict[str, Any]:
        (template,) = self.stackset_templates().values()
        return template

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(config: BaselineConfig, outdir: Path, *, compliance: bool = True) -> Synthesized:
    app = cdk.App(outdir=str(outdir), context=dict(CDK_CONTEXT))
    stacks = build_stacks(app, config)
    if compliance:
        add_compliance_checks(app)
    app.synth()
    return Synthesized(config=config, stacks=stacks, outdir=outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Synthesized]]:
    """Both bundled configs, synthesized with the four cdk-nag packs (a finding fails the fixture)."""
    yield {name: synthesize(load_config(path), tmp_path_factory.mktemp(name)) for name, path in EXAMPLE_CONFIGS.items()}


#: cfn-lint of the virtualenv the tests run in.
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def cfn_lint(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint over templates (and any options); return code 0 means no error and no warning."""
    return subprocess.run(
        [str(CFN_LINT), "--format", "parseable", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stack_template(stack: cdk.Stack) -> assertions.Template:
    return assertions.Template.from_stack(stack)


def only(template: assertions.Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The one resource of ``resource_type`` in ``template``, as (logical id, resource)."""
    found = template.find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    return next(iter(found.items()))


def by_sid(items: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    """The one policy statement with Sid ``sid``."""
    matches = [s for s in items if s.get("Sid") == sid]
    assert len(matches) == 1, f"no single statement {sid}: {[s.get('Sid') for s in items]}"
    return matches[0]


def new_stack(account: str = "111111111111", region: str = "eu-west-1") -> cdk.Stack:
    """A stack in a plain App: constructs must work without our cdk.json feature flags."""
    app = cdk.App()
    return cdk.Stack(app, "TestStack", env=cdk.Environment(account=account, region=region))
