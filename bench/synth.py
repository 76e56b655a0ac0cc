"""Synthesis benchmark: `python app.py` against the CDK floor, in paired runs.

    .venv/bin/python bench/synth.py                 # 5 rounds, every case
    .venv/bin/python bench/synth.py --runs 3 --accounts 100

Every run is a fresh process with the app's cdk.json context (``CDK_CONTEXT_JSON``, as `cdk synth`
passes it) and cdk-nag on unless the case says otherwise, exactly as `make synth` runs the app.

The floor is a CDK app with one resource (``AWS::CloudFormation::WaitConditionHandle``): with this
aws-cdk-lib and the app's context an empty stack no longer synthesizes (the default validation rules
refuse a template without resources), so the floor is the least app that synthesizes cleanly with
the same context: jsii start-up, the aws-cdk-lib import, one stack, one synth.

One more case bounds what any implementation could reach: ``bench/templates_only.py`` re-emits the
example's finished templates (synthesized once, untimed, cdk-nag off) through ``CfnInclude``, with
the same context and validation, and nothing of the construct library.

app.py starts aws-cdk in node with V8's background work tuned, the validation engine built on a worker
thread, jsii's kernel run in that node rather than behind jsii's relay node and V8's code cache of the
modules kept on disk (``stacks/node_runtime.py``, ``scripts/jsii-node.sh``); the floor runs in plain
node, as any CDK app does. The lower bound runs in app.py's node (any implementation could), and one
more case times the floor itself in app.py's node: what that setting alone is worth.

Each case is measured against its baseline in pairs run back to back (A B, then B A in the next
round, and so on), and the table reports the median of the per-pair ratios. The machine is shared,
and a busy neighbour slows both runs of a pair alike; unpaired medians drift with the machine.

Besides wall time it reports CPU time (user + system of every process of the tree, every thread):
on a machine other jobs share, a run waits for a core but does not use more CPU, so the CPU ratio
moves much less with the neighbours than the wall ratio. Peak memory is the largest sum of the
resident set sizes of the process tree (python, the jsii runtime and, in plain node, its node child),
sampled every 20 ms. The app's own modules are byte-compiled first, as any run without PYTHONDONTWRITEBYTECODE
leaves them. This is a measurement, not a test: it prints a table and never fails on a number.

The large organization's pair ends with what it adds, measured apart: a 1,000-account synthesis
takes some 2 % longer, while its per-pair ratios move by 10 % and more either way on a shared
machine. Whether its templates hold the same resources as the one account's (only values that count
account-regions differ), and how long loading each config takes, alternately in fresh processes: with
the same resources the rest of the synthesis creates the same constructs, so the difference in loading
gives the ratio to expect on a quiet machine.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from stacks.node_runtime import jsii_node_environment  # noqa: E402  (bench/ is no package: the app's root first)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FLOOR_APP = (
    "import aws_cdk as cdk\n"
    "app = cdk.App()\n"
    "stack = cdk.Stack(app, 'Floor')\n"
    "cdk.CfnWaitConditionHandle(stack, 'Resource')\n"
    "app.synth()\n"
)


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc, without CONFIG_PROC_CHILDREN)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        stack.extend(_children(current))
    return pids


def _rss_kib_and_cpu(pid: int) -> tuple[int, float]:
    """Resident memory (KiB) and CPU seconds so far (user + system, all threads) of ``pid``."""
    rss = 0
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    break
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return rss, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return rss, 0.0


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MiB of the process tree of one run; raises if the command fails.

    The tree (python, the jsii runtime and its node child) is discovered every 0.5 s, its memory and
    CPU read every 20 ms: scanning all of /proc at 20 ms would take CPU from the run being measured.
    CPU is the last reading of each process (up to 20 ms short of its end).
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, pids, discovered = 0, [process.pid], 0.0
    cpu: dict[int, float] = {}
    while process.poll() is None:
        now = time.perf_counter()
        if now - discovered > 0.5:
            pids, discovered = _tree(process.pid), now
        total = 0
        for pid in pids:
            rss, seconds = _rss_kib_and_cpu(pid)
            total += rss
            cpu[pid] = max(cpu.get(pid, 0.0), seconds)
        peak = max(peak, total)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {stderr[-2000:]}")
    return wall, sum(cpu.values()), peak / 1024


def _env(context: dict[str, str], outdir: Path) -> dict[str, str]:
    """The environment of a run: cdk.json's context with ``context`` on top, output into ``outdir``."""
    cdk_context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "NODE_NO_WARNINGS": "1",
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps({**cdk_context, **context}),
    }


def _synthesize(python: str, context: dict[str, str], outdir: Path) -> None:
    """app.py synthesized once, untimed, into ``outdir``."""
    subprocess.run([python, "app.py"], cwd=ROOT, env=_env(context, outdir), check=True, stdout=subprocess.DEVNULL)


def workload_name(index: int) -> str:
    return f"workload-{index:04d}"


def workload_unit(index: int) -> str:
    return "Production" if index % 2 else "NonProduction"


def with_workloads(data: dict[str, Any], accounts: int, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """``data`` (a config's) with its workload accounts replaced by ``accounts`` generated ones, spread
    over two OUs; their ids from ``ids`` by name, else made up."""
    data["accounts"] = [a for a in data["accounts"] if a["role"] != "workload"]
    for index in range(accounts):
        name = workload_name(index)
        data["accounts"].append(
            {
                "name": name,
                "id": ids[name] if ids is not None else f"{700000000000 + index:012d}",
                "email": f"aws-{name}@acme.example",
                "role": "workload",
                "ou": workload_unit(index),
            }
        )
    on_premises = data.get("telemetry", {}).get("on_premises", {})
    if "account" in on_premises:  # the example's servers register with a workload account
        on_premises["account"] = workload_name(0)
    return data


def generated_config(accounts: int, directory: Path) -> Path:
    """The example organization with ``accounts`` workload accounts spread over two OUs."""
    data = with_workloads(yaml.safe_load((ROOT / "config" / "example.yaml").read_text()), accounts)
    path = directory / f"workloads-{accounts}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass(frozen=True)
class Run:
    """One command to time: a label, the argv, the context on top of cdk.json's."""

    label: str
    command: list[str]
    context: dict[str, str] = field(default_factory=dict)
    #: environment variables on top of this process's (app.py sets its own JSII_NODE: none here)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Pair:
    """A case timed against its baseline, run back to back."""

    baseline: Run
    case: Run
    wall: dict[str, list[float]] = field(default_factory=lambda: {"baseline": [], "case": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"baseline": [], "case": []})

    def ratios(self, measure: dict[str, list[float]]) -> list[float]:
        return [case / base for base, case in zip(measure["baseline"], measure["case"], strict=True)]


def _median_and_range(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _report(
    pairs: list[Pair], peaks: dict[str, float], floor: Run, rounds: int, started: datetime.datetime, load: float
) -> None:
    print(
        f"\nsynthesis, {rounds} paired run(s) per case, {os.cpu_count()} cores, "
        f"{started:%Y-%m-%d %H:%M} UTC, load average {load:.1f} at start, "
        f"aws-cdk-lib {metadata.version('aws-cdk-lib')}, cdk-nag {metadata.version('cdk-nag')}\n"
    )
    print("ratio: median of the per-pair ratios (range); wall and CPU: medians in seconds, case / baseline\n")
    print(
        f"{'case':<34} {'against':<34} {'wall ratio':>17} {'CPU ratio':>17} {'wall s':>11} {'CPU s':>11} {'peak MiB':>8}"
    )
    for pair in pairs:
        wall = f"{statistics.median(pair.wall['case']):.1f}/{statistics.median(pair.wall['baseline']):.1f}"
        cpu = f"{statistics.median(pair.cpu['case']):.1f}/{statistics.median(pair.cpu['baseline']):.1f}"
        print(
            f"{pair.case.label:<34} {pair.baseline.label:<34} {_median_and_range(pair.ratios(pair.wall)):>17} "
            f"{_median_and_range(pair.ratios(pair.cpu)):>17} {wall:>11} {cpu:>11} {peaks[pair.case.label]:>8.0f}"
        )
    if floor.label in peaks:
        print(f"{floor.label:<34} {'':<34} {'':>17} {'':>17} {'':>11} {'':>11} {peaks[floor.label]:>8.0f}")
    sys.stdout.flush()


#: Times ``load_config`` on the file named by argv[1] in a fresh process, as app.py loads it: the first
#: call, with the collector off (app.py's setting while it loads the config).
_LOAD_CONFIG = (
    "import gc, sys, time\n"
    "gc.disable()\n"
    "from stacks.config import load_config\n"
    "start = time.perf_counter()\n"
    "load_config(sys.argv[1])\n"
    "print(time.perf_counter() - start)\n"
)


def resources(assembly: Path) -> dict[str, dict[str, str]]:
    """The resources of each template of a cloud assembly: file name -> logical id -> type."""
    return {
        path.name: {
            logical: resource["Type"] for logical, resource in json.loads(path.read_text())["Resources"].items()
        }
        for path in sorted(assembly.glob("*.template.json"))
    }


def assembly_bytes(assembly: Path) -> int:
    return sum(path.stat().st_size for path in assembly.rglob("*") if path.is_file())


def config_load_seconds(python: str, config: str) -> float:
    """Seconds ``load_config`` takes on ``config`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([python, "-c", _LOAD_CONFIG, config], cwd=ROOT, env=env, check=True, capture_output=True)
    return float(done.stdout)


def templates_line(outdirs: tuple[Path, Path]) -> str:
    """Whether the templates of two cloud assemblies (small organization first) hold the same resources,
    and the assemblies' sizes."""
    (small, large), sizes = map(resources, outdirs), [assembly_bytes(o) for o in outdirs]

    def counted(found: dict[str, dict[str, str]]) -> str:
        return f"{sum(len(r) for r in found.values())} resources in {len(found)} templates"

    held = f"the same {counted(large)}" if small == large else f"{counted(large)} against {counted(small)}"
    return f"templates: {held}; cloud assembly {sizes[1] / 1024:,.0f} KiB against {sizes[0] / 1024:,.0f} KiB"


def loading_line(python: str, configs: tuple[str, str], base_wall: float, repeats: int) -> str:
    """How long loading each config (small organization first) takes, alternately in fresh processes,
    and the ratio that difference alone gives a synthesis of ``base_wall`` seconds."""
    loads: tuple[list[float], list[float]] = ([], [])
    for index in range(repeats):
        for side in (0, 1) if index % 2 == 0 else (1, 0):
            loads[side].append(config_load_seconds(python, configs[side]))
    small, large = (statistics.median(times) for times in loads)
    return (
        f"loading the config: {large:.3f} s against {small:.3f} s (medians of {repeats} fresh processes each), "
        f"{large - small:+.3f} s: {1 + (large - small) / base_wall:.3f}x of the {base_wall:.1f} s synthesis "
        "from loading alone"
    )


def what_grows(
    python: str, pair: Pair, configs: tuple[str, str], outdirs: tuple[Path, Path], repeats: int = 9
) -> list[str]:
    """Lines on what the large organization adds to a synthesis, measured apart from the paired runs
    (whose per-pair ratios move by more than the difference): whether the templates hold the same
    resources (the values that count account-regions differ) and how long loading each config takes.
    With the same resources the build and synthesis create the same constructs, so one plus the
    difference in loading, over the small organization's wall time, is the ratio to expect on a quiet
    machine."""
    return [
        f"{pair.case.label} against {pair.baseline.label}:",
        f"  {templates_line(outdirs)}",
        f"  {loading_line(python, configs, statistics.median(pair.wall['baseline']), repeats)}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="rounds; each round runs every pair once (default 5)")
    parser.add_argument(
        "--accounts", type=int, default=1000, help="workload accounts of the large organization (default 1000)"
    )
    parser.add_argument("--only", nargs="*", help="run only the cases whose label contains one of these words")
    args = parser.parse_args()

    # Byte-compile the app's modules once, as any run without PYTHONDONTWRITEBYTECODE leaves them:
    # every measured run then starts from the same state (site-packages ship compiled already).
    compileall.compile_file(str(ROOT / "app.py"), quiet=1)
    for package in ("stacks", "constructs_lib"):
        compileall.compile_dir(str(ROOT / package), quiet=1)

    python = sys.executable
    peaks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        one = str(generated_config(1, directory))
        many = str(generated_config(args.accounts, directory))
        floor = Run("floor (one-resource app)", [python, "-c", FLOOR_APP])
        # The node app.py starts aws-cdk in (stacks/node_runtime.py): what that alone does to the floor.
        app_node = jsii_node_environment(os.environ)
        floor_app_node = Run("floor, in app.py's node", floor.command, env=app_node)
        app = [python, "app.py"]
        example_on = Run("example config, cdk-nag on", app, {"config": "config/example.yaml"})
        example_off = Run("example config, cdk-nag off", app, {"config": "config/example.yaml", "compliance": "false"})
        one_account = Run("1 workload account, cdk-nag on", app, {"config": one})
        many_accounts = Run(f"{args.accounts} workload accounts, cdk-nag on", app, {"config": many})
        # The lower bound of any app producing the example's templates (bench/templates_only.py):
        # the finished templates re-emitted, without cdk-nag (its acknowledgements live on constructs).
        templates = directory / "example-templates"
        _synthesize(python, {"config": "config/example.yaml", "compliance": "false"}, templates)
        templates_only = Run(
            "example's templates only, nag off",
            [python, str(ROOT / "bench" / "templates_only.py"), str(templates)],
            env=app_node,  # any implementation can run in the node app.py runs in
        )
        pairs = [
            Pair(floor, example_on),
            Pair(floor, example_off),
            Pair(floor, templates_only),
            # The library's own share: the example against the least any app emitting its templates does.
            Pair(templates_only, example_off),
            Pair(floor, floor_app_node),
            Pair(floor, one_account),
            Pair(one_account, many_accounts),
        ]
        if args.only:
            pairs = [p for p in pairs if any(word in p.case.label for word in args.only)]

        outdirs: dict[str, Path] = {}

        def timed(run: Run) -> tuple[float, float]:
            outdirs[run.label] = directory / "out" / str(time.monotonic_ns())
            env = _env(run.context, outdirs[run.label]) | run.env
            wall, cpu, peak = measure(run.command, env)
            peaks[run.label] = max(peaks.get(run.label, 0.0), peak)
            return wall, cpu

        started = datetime.datetime.now(datetime.UTC)
        load = os.getloadavg()[0]
        for round_ in range(args.runs):
            for pair in pairs:
                # A B in even rounds, B A in odd ones: neither side always runs first.
                if round_ % 2 == 0:
                    base, case = timed(pair.baseline), timed(pair.case)
                else:
                    case, base = timed(pair.case), timed(pair.baseline)
                for side, (wall, cpu) in (("baseline", base), ("case", case)):
                    pair.wall[side].append(wall)
                    pair.cpu[side].append(cpu)
            # The table so far after every round: a run cut short still reports what it measured.
            _report(pairs, peaks, floor, round_ + 1, started, load)
        accounts = next((p for p in pairs if p.case is many_accounts), None)
        if accounts is not None and args.runs:
            print("\nwhat the large organization adds, measured apart:")
            outputs = (outdirs[one_account.label], outdirs[many_accounts.label])
            print("\n".join(what_grows(python, accounts, (one, many), outputs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
