"""The benchmark's generated organizations stay valid configs (a broken case only shows when the
benchmark is run, long after the change that broke it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from stacks.config import AccountRole, load_config
from tests.conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_synth", ROOT / "bench" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("accounts", [1, 3])
def test_generated_configs_are_valid(accounts: int, tmp_path: Path):
    config = load_config(_bench().generated_config(accounts, tmp_path))
    assert len(config.accounts_with_role(AccountRole.WORKLOAD)) == accounts
