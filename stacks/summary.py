"""Print a short table of a synthesized cloud assembly: stack, account, region, resources, checks.

python -m stacks.summary cdk.out
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def summarize(outdir: Path) -> tuple[list[dict[str, Any]], str]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    rows = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        environment = artifact.get("environment", "aws://unknown/unknown").removeprefix("aws://")
        account, _, region = environment.partition("/")
        template = json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
        rows.append(
            {
                "stack": artifact_id,
                "account": account,
                "region": region,
                "resources": len(template.get("Resources", {})),
                "template": str(outdir / artifact["properties"]["templateFile"]),
            }
        )
    for template_file in sorted(outdir.glob("*.stackset.template.json")):
        template = json.loads(template_file.read_text())
        rows.append(
            {
                "stack": "StackSet template",
                "account": "every target account",
                "region": "every governed region",
                "resources": len(template.get("Resources", {})),
                "template": str(template_file),
            }
        )
    report_file = outdir / "validation-report.json"
    if not report_file.exists():
        validation = "not run (compliance=false)"
    else:
        report = json.loads(report_file.read_text())
        violations = sum(len(plugin.get("violations", [])) for plugin in report.get("pluginReports", []))
        validation = "passed: 0 unacknowledged findings" if violations == 0 else f"FAILED: {violations} findings"
    return rows, validation


def main(argv: list[str]) -> int:
    outdir = Path(argv[1] if len(argv) > 1 else "cdk.out")
    if not (outdir / "manifest.json").is_file():
        print(
            f"summary: {outdir}: no cloud assembly (no manifest.json): synthesize first (make synth)", file=sys.stderr
        )
        return 1
    rows, validation = summarize(outdir)
    headers = ("stack", "account", "region", "resources", "template")
    widths = [max([len(header), *(len(str(row[header])) for row in rows)]) for header in headers]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[h]).ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(f"cdk-nag (AwsSolutions, NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1): {validation}")
    return 0 if validation.startswith(("passed", "not run")) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
