"""`make test`'s time on this machine, next to the floor: the suite's target measured, not asserted.

    .venv/bin/python bench/test_suite.py              # 3 runs
    .venv/bin/python bench/test_suite.py --runs 5 --top 20

Each run is ``.ci/run`` (which runs exactly `make test`: ruff, the script lint, the whole suite on two
xdist workers), timed whole. Before each run the floor of bench/synth.py (a CDK app with one resource,
synthesized in a fresh process with cdk.json's context, as that bench runs it) is timed five times and
its median noted: the same suite took 66 s and 86 s on one machine within an hour, as its neighbours
came and went. A slower machine slows the floor too; a slower suite raises only the ratio. The floor
is a run of 2-3 s and moves by itself (medians of three from 2.4 s to 3.4 s between runs of a steady
suite): read the ratio as a rough guide, and the wall times over several runs.

For each run it prints the wall time, the seconds pytest reports, the CPU time of every process the
run waited for (user + system: ``getrusage`` of the children, so the xdist workers, their jsii nodes
and every subprocess of a test), the largest resident set of any one of them, the floor and the ratio.
Then the medians, the target (under 60 s on 2 cores, issue 17) and where the time goes: the test files
by their tests' seconds (setup, call and teardown, from pytest's JUnit report), summed over both
workers, median of the runs. The summed seconds are about twice the wall time less the start-up:
two workers, each about as busy as the other (``tests/conftest.py`` hands the slowest files out first).

It leaves no file behind (the JUnit reports go to a temporary folder) and never fails on a number: it
exits 1 only if a run of the suite fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))  # bench/ is no package
from synth import FLOOR_APP, _env, measure  # noqa: E402  (the synthesis benchmark's floor, run as it runs it)

#: The target of issue 17, on a 2-core machine.
TARGET_SECONDS = 60.0
#: The line pytest ends with: "2258 passed in 70.87s (0:01:10)".
_PYTEST_SECONDS = re.compile(r"\bin (\d+(?:\.\d+)?)s\b")


@dataclass(frozen=True)
class SuiteRun:
    """One timed run of the suite and the floor next to it."""

    wall: float
    pytest: float | None
    cpu: float
    largest_mib: float
    floor: float

    @property
    def ratio(self) -> float:
        return self.wall / self.floor


def pytest_seconds(output: str) -> float | None:
    """The seconds of pytest's summary line (its last line that says "... in N.NNs"), or None."""
    for line in reversed(output.splitlines()):
        if " passed" in line or " failed" in line or " error" in line:
            found = _PYTEST_SECONDS.search(line)
            if found:
                return float(found.group(1))
    return None


def module_of(classname: str, root: Path = ROOT) -> str:
    """The test file a JUnit ``classname`` belongs to (``tests.stacks.test_config.TestCommandLine`` ->
    ``tests/stacks/test_config.py``): the longest dotted prefix that is a file under ``root``."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = Path(*parts[:end]).with_suffix(".py")
        if (root / candidate).is_file():
            return candidate.as_posix()
    return classname


def seconds_by_file(report: Path, root: Path = ROOT) -> dict[str, tuple[float, int]]:
    """Seconds (setup, call and teardown summed) and number of tests of each test file in a JUnit report."""
    found: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0])
    for case in ElementTree.parse(report).iter("testcase"):
        entry = found[module_of(case.get("classname", ""), root)]
        entry[0] += float(case.get("time", "0"))
        entry[1] += 1
    return {name: (seconds, int(count)) for name, (seconds, count) in found.items()}


def floor_seconds(python: str, repeats: int = 5) -> float:
    """The median wall time of ``repeats`` fresh syntheses of the one-resource app, timed as bench/synth.py
    times it (its ``measure``, with cdk.json's context)."""
    with tempfile.TemporaryDirectory() as outdir:
        return statistics.median(measure([python, "-c", FLOOR_APP], _env({}, Path(outdir)))[0] for _ in range(repeats))


#: Runs argv[2:] and writes the CPU seconds and the largest resident set (KiB) of every process it waited
#: for to argv[1]: in a process of its own, so that neither the floor's runs nor an earlier run count.
_USAGE = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    json.dump({'cpu': usage.ru_utime + usage.ru_stime, 'maxrss_kib': usage.ru_maxrss}, out)\n"
    "sys.exit(code)\n"
)


def run_suite(report: Path) -> tuple[float, float | None, float, float]:
    """``.ci/run`` once, its JUnit report into ``report``: wall s, pytest's s, CPU s and largest MiB."""
    env = {**os.environ, "PYTEST_ADDOPTS": f"{os.environ.get('PYTEST_ADDOPTS', '')} --junitxml={report}".strip()}
    usage = report.with_suffix(".usage.json")
    command = [sys.executable, "-c", _USAGE, str(usage), str(ROOT / ".ci" / "run")]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f".ci/run failed ({done.returncode}):\n{output[-3000:]}")
    used = json.loads(usage.read_text())
    return wall, pytest_seconds(output), used["cpu"], used["maxrss_kib"] / 1024


def target_line(runs: list[SuiteRun], cores: int | None) -> str:
    walls = [run.wall for run in runs]
    median = statistics.median(walls)
    met = "met" if median < TARGET_SECONDS else "not met"
    return (
        f"target: `make test` under {TARGET_SECONDS:.0f} s on 2 cores: {met} on this {cores}-core machine "
        f"(median {median:.1f} s, fastest {min(walls):.1f} s, slowest {max(walls):.1f} s)"
    )


def report(runs: list[SuiteRun], files: list[dict[str, tuple[float, int]]], top: int, heading: str) -> str:
    """The table of the runs, the medians, the target line and the ``top`` slowest test files."""
    lines = [heading, ""]
    lines.append(
        f"{'run':>3} {'wall s':>7} {'pytest s':>8} {'CPU s':>7} {'largest MiB':>11} {'floor s':>7} {'wall/floor':>10}"
    )

    def row(label: str, wall: float, pytest: float | None, cpu: float, mib: float, floor: float) -> str:
        shown = f"{pytest:.1f}" if pytest is not None else "-"
        return f"{label:>3} {wall:>7.1f} {shown:>8} {cpu:>7.1f} {mib:>11.0f} {floor:>7.2f} {wall / floor:>10.1f}"

    for index, run in enumerate(runs, 1):
        lines.append(row(str(index), run.wall, run.pytest, run.cpu, run.largest_mib, run.floor))
    if len(runs) > 1:
        pytests = [run.pytest for run in runs if run.pytest is not None]
        lines.append(
            row(
                "med",
                statistics.median(run.wall for run in runs),
                statistics.median(pytests) if pytests else None,
                statistics.median(run.cpu for run in runs),
                statistics.median(run.largest_mib for run in runs),
                statistics.median(run.floor for run in runs),
            )
        )
        lines.append(f"wall/floor: median of the runs' ratios {statistics.median(run.ratio for run in runs):.1f}")
    lines += ["", target_line(runs, os.cpu_count()), ""]
    if files:
        names = {name for found in files for name in found}
        medians = {name: statistics.median(found.get(name, (0.0, 0))[0] for found in files) for name in names}
        counts = {name: max(found.get(name, (0.0, 0))[1] for found in files) for name in names}
        total = sum(medians.values())
        lines.append(
            f"test files by seconds (setup, call and teardown of their tests, both workers summed, median of "
            f"the runs): {total:.1f} s in all, {len(names)} files; the first {min(top, len(names))}"
        )
        lines.append(f"{'seconds':>7} {'share':>6} {'tests':>5}  file")
        for name in sorted(names, key=lambda n: (-medians[n], n))[:top]:
            lines.append(f"{medians[name]:>7.1f} {medians[name] / total:>6.1%} {counts[name]:>5}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of the suite (default 3)")
    parser.add_argument("--top", type=int, default=15, help="rows of the test-file table (default 15)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.top < 0:
        parser.error("--runs must be 1 or more and --top 0 or more")

    started = datetime.datetime.now(datetime.UTC)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    heading = (
        f"make test (.ci/run), {args.runs} run(s), {os.cpu_count()} cores, {started:%Y-%m-%d %H:%M} UTC, "
        f"load average {os.getloadavg()[0]:.1f} at start, commit {head.stdout.strip() or 'unknown'}; "
        "floor: median of 5 fresh syntheses of the one-resource app just before each run"
    )
    runs: list[SuiteRun] = []
    files: list[dict[str, tuple[float, int]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.runs):
            floor = floor_seconds(sys.executable)
            junit = Path(tmp) / f"run-{index}.xml"
            try:
                wall, pytest, cpu, largest = run_suite(junit)
            except RuntimeError as error:
                print(error, file=sys.stderr)
                return 1
            runs.append(SuiteRun(wall, pytest, cpu, largest, floor))
            files.append(seconds_by_file(junit))
            # The table so far after every run: a bench cut short still reports what it measured.
            print(report(runs, files, args.top, heading), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
