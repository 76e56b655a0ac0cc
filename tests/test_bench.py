"""The benchmark's generated organizations stay valid configs (a broken case only shows when the
benchmark is run, long after the change that broke it)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.config import AccountRole, load_config
from tests.conftest import CDK_CONTEXT, ROOT


def _bench(name: str = "synth"):
    """``bench/<name>.py`` as a module (bench/ is no package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("accounts", [1, 3])
def test_generated_configs_are_valid(accounts: int, tmp_path: Path):
    config = load_config(_bench().generated_config(accounts, tmp_path))
    assert len(config.accounts_with_role(AccountRole.WORKLOAD)) == accounts


def test_the_lower_bound_app_reemits_the_example_templates_resource_for_resource(synthesized, tmp_path: Path):
    """bench/templates_only.py bounds app.py only if it emits the same resources app.py does."""
    templates = sorted(synthesized["example"].outdir.glob("*.template.json"))
    assert len(templates) == 8  # seven stacks and the StackSet's template
    app = cdk.App(outdir=str(tmp_path), context=CDK_CONTEXT)
    _bench("templates_only").reemit(app, templates)
    app.synth()

    def resources(path: Path) -> dict:
        found = json.loads(path.read_text())["Resources"]
        for resource in found.values():  # aws-cdk sorts the DependsOn it writes; the order means nothing
            if isinstance(resource.get("DependsOn"), list):
                resource["DependsOn"] = sorted(resource["DependsOn"])
        return found

    for index, template in enumerate(templates):
        assert resources(tmp_path / f"Template{index}.template.json") == resources(template), template.name
