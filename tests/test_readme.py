"""Every ```python block of README.md runs as written, on its own: a block that fails, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[tuple[int, str]]:
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def test_the_readme_has_python_examples():
    assert len(python_blocks()) >= 11


@pytest.mark.parametrize(("line", "code"), python_blocks(), ids=[f"README.md:{n}" for n, _ in python_blocks()])
def test_block_runs_on_its_own(line: int, code: str):
    if "cdk.App(" in code:
        # A block that builds an app synthesizes it, so what it shows is what CloudFormation gets.
        assert "app.synth()" in code, f"README.md:{line}: the block builds an app but never synthesizes it"
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": f"readme_{line}"})
