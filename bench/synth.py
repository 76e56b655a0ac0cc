"""Synthesis benchmark: wall time and peak memory of `app.py`, against the jsii start-up floor.

    .venv/bin/python bench/synth.py            # 3 runs per case, median
    .venv/bin/python bench/synth.py --runs 1 --accounts 1 10

Each case runs in a fresh process (as `cdk synth` does). Peak memory is the largest sum of the
resident set sizes of the process tree (python + the jsii node runtime), sampled every 20 ms.
This is a measurement, not a test: it prints a table and never fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EMPTY_APP = "import aws_cdk as cdk; app = cdk.App(); cdk.Stack(app, 'Empty'); app.synth()"


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
        stack.extend(children.get(current, []))
    return total


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run; raises if the command fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kib(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read()[-2000:]}")
    return wall, peak / 1024


def generated_config(accounts: int, directory: Path) -> Path:
    """The example organization with ``accounts`` workload accounts spread over two OUs."""
    data = yaml.safe_load((ROOT / "config" / "example.yaml").read_text())
    data["accounts"] = [a for a in data["accounts"] if a["role"] != "workload"]
    for index in range(accounts):
        data["accounts"].append(
            {
                "name": f"workload-{index:04d}",
                "id": f"{700000000000 + index:012d}",
                "email": f"aws-workload-{index:04d}@acme.example",
                "role": "workload",
                "ou": "Production" if index % 2 else "NonProduction",
            }
        )
    path = directory / f"workloads-{accounts}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--accounts", type=int, nargs="*", default=[1, 10, 100, 1000])
    args = parser.parse_args()

    base_env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "NODE_NO_WARNINGS": "1"}
    python = sys.executable
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)

        def case(label: str, command: list[str], context: dict[str, str] | None = None) -> None:
            env = {**base_env, "CDK_OUTDIR": str(directory / "out" / label.replace(" ", "_"))}
            if context is not None:
                cdk_context = json.loads((ROOT / "cdk.json").read_text())["context"]
                env["CDK_CONTEXT_JSON"] = json.dumps({**cdk_context, **context})
            results = [measure(command, env) for _ in range(args.runs)]
            rows.append((label, statistics.median(r[0] for r in results), max(r[1] for r in results)))
            print(f"  measured {label}", file=sys.stderr)

        case("empty app (jsii floor)", [python, "-c", EMPTY_APP])
        case("example config, cdk-nag on", [python, "app.py"], {"config": "config/example.yaml"})
        case(
            "example config, cdk-nag off", [python, "app.py"], {"config": "config/example.yaml", "compliance": "false"}
        )
        for count in args.accounts:
            path = generated_config(count, directory)
            case(f"{count} workload accounts, cdk-nag on", [python, "app.py"], {"config": str(path)})

    floor = rows[0][1]
    one = next((r[1] for r in rows if r[0].startswith("1 workload")), None)
    print(f"\nsynthesis, median of {args.runs} run(s), {os.cpu_count()} cores\n")
    print(f"{'case':<36} {'wall s':>8} {'x floor':>8} {'x 1 acct':>9} {'peak MiB':>9}")
    for label, wall, peak in rows:
        versus_one = f"{wall / one:>9.2f}" if one and "workload" in label else f"{'':>9}"
        print(f"{label:<36} {wall:>8.2f} {wall / floor:>8.2f} {versus_one} {peak:>9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
