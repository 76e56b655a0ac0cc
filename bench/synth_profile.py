"""Where one synthesis of app.py spends its time, on both sides of jsii.

    .venv/bin/python bench/synth_profile.py                             # config/example.yaml, cdk-nag on
    .venv/bin/python bench/synth_profile.py --config config/control-tower.yaml --no-compliance --top 25

One process runs what app.py runs, with the app's cdk.json context, and times each phase: the imports,
loading the config, building the stacks, adding the cdk-nag packs and ``app.synth()``, each in wall time
and in CPU of this process (python) and of its jsii runtime (node). While building and synthesizing it
counts every request Python sends to node (creating an object, reading a property, calling a method,
answering a callback) and the time Python waits for the answer, which is node's work for that request
plus the round trip. It prints:

- the phases;
- the requests by kind, with the time spent waiting for node;
- the aws-cdk (and other jsii) types the build creates, by the time node took to create them;
- the library's files and lines that send the most requests while building (the innermost frame in
  ``constructs_lib/``, ``stacks/`` or ``app.py``).

It complements bench/synth.py, which times whole runs against the floor: this one says where a run's
time goes, so that a change meant to cut round trips can be checked by the numbers it changes. It is a
measurement, not a test: it prints tables and never fails on a number. (The requests it counts are the
jsii protocol's; a callback during ``app.synth()`` is node asking Python, so its wait is node's work.)
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))  # bench/ is no package
from synth import _rss_kib_and_cpu, _tree  # noqa: E402  (the whole-run benchmark's /proc readings)

#: Frames in these files are the library's: a request is charged to the innermost of them.
LIBRARY = tuple(str(ROOT / part) for part in ("constructs_lib" + os.sep, "stacks" + os.sep, "app.py"))


@dataclass
class Requests:
    """The jsii requests sent while counting: by kind, by library call site, and the objects created."""

    count: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: collections.Counter[str] = field(default_factory=collections.Counter)
    sites: collections.Counter[str] = field(default_factory=collections.Counter)
    created: collections.Counter[str] = field(default_factory=collections.Counter)
    created_seconds: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def total(self) -> int:
        return sum(self.count.values())

    @property
    def files(self) -> collections.Counter[str]:
        """The requests by library file: the sites' counts summed per file."""
        found: collections.Counter[str] = collections.Counter()
        for site, count in self.sites.items():
            found[site.rsplit(":", 1)[0]] += count
        return found


def _kind(request: Any) -> str:
    """``CreateRequest`` -> ``create``; the callback answer (``_CompleteRequest``) -> ``complete``."""
    return type(request).__name__.strip("_").removesuffix("Request").lower()


def _site(frame: Any) -> str | None:
    """``constructs_lib/health.py:1281``: the innermost library frame at or above ``frame``."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(LIBRARY):
            return f"{os.path.relpath(frame.f_code.co_filename, ROOT)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


@contextlib.contextmanager
def counting() -> Iterator[Requests]:
    """Count the jsii requests this process sends inside the block (the node process is shared)."""
    from jsii._kernel.providers import process

    requests = Requests()
    send = process._NodeProcess.send

    def counted(self: Any, request: Any, response_type: Any) -> Any:
        start = time.perf_counter()
        try:
            return send(self, request, response_type)
        finally:
            waited = time.perf_counter() - start
            kind = _kind(request)
            requests.count[kind] += 1
            requests.seconds[kind] += waited
            site = _site(sys._getframe(1)) or "(outside the library)"
            requests.sites[site] += 1
            if kind == "create":
                requests.created[request.fqn] += 1
                requests.created_seconds[request.fqn] += waited

    process._NodeProcess.send = counted
    try:
        yield requests
    finally:
        process._NodeProcess.send = send


def _node_cpu() -> float:
    """CPU seconds of this process's descendants still running (the jsii runtime and its node child)."""
    return sum(_rss_kib_and_cpu(pid)[1] for pid in _tree(os.getpid())[1:])


@dataclass
class Phase:
    name: str
    wall: float
    python_cpu: float
    node_cpu: float


@contextlib.contextmanager
def timed(phases: list[Phase], name: str) -> Iterator[None]:
    wall, python, node = time.perf_counter(), time.process_time(), _node_cpu()
    yield
    phases.append(Phase(name, time.perf_counter() - wall, time.process_time() - python, _node_cpu() - node))


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    cells = [header, *[tuple(str(cell) for cell in row) for row in rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    )


def report(phases: list[Phase], build: Requests, synth: Requests, top: int) -> str:
    """The four tables, as text."""
    lines = [
        _table(
            [(p.name, f"{p.wall:.2f}", f"{p.python_cpu:.2f}", f"{p.node_cpu:.2f}") for p in phases]
            + [("total", *(f"{sum(getattr(p, a) for p in phases):.2f}" for a in ("wall", "python_cpu", "node_cpu")))],
            ("phase", "wall s", "python CPU s", "node CPU s"),
        ),
        "",
        _table(
            [
                (kind, build.count[kind], f"{build.seconds[kind]:.3f}", synth.count[kind], f"{synth.seconds[kind]:.3f}")
                for kind in sorted({*build.count, *synth.count}, key=lambda k: -build.count[k])
            ]
            + [
                (
                    "total",
                    build.total,
                    f"{sum(build.seconds.values()):.3f}",
                    synth.total,
                    f"{sum(synth.seconds.values()):.3f}",
                )
            ],
            ("jsii request", "building", "waiting s", "synthesizing", "waiting s"),
        ),
        "",
        _table(
            [(fqn, build.created[fqn], f"{seconds:.3f}") for fqn, seconds in build.created_seconds.most_common(top)],
            ("type created while building", "objects", "node s"),
        ),
        "",
        _table(
            [(file, count) for file, count in build.files.most_common(top)],
            ("library file, while building", "requests"),
        ),
        "",
        _table(
            [(site, count) for site, count in build.sites.most_common(top)],
            ("library line, while building", "requests"),
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config/example.yaml", help="the config to synthesize")
    parser.add_argument("--no-compliance", action="store_true", help="without the cdk-nag packs")
    parser.add_argument("--top", type=int, default=15, help="rows of the types, files and lines tables")
    options = parser.parse_args(argv)
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("NODE_NO_WARNINGS", "1")
    os.environ.setdefault("JSII_DEPRECATED", "quiet")  # as app.py sets it
    sys.path.insert(0, str(ROOT))
    from stacks.node_runtime import APP_CONTEXT, jsii_node_environment

    os.environ.update(jsii_node_environment(os.environ))  # as app.py runs node
    phases: list[Phase] = []
    with timed(phases, "import aws_cdk (jsii start-up)"):
        import aws_cdk as cdk
    with timed(phases, "import the library"):
        from stacks.baseline import build_stacks
        from stacks.compliance import add_compliance_checks
        from stacks.config import load_config
    with timed(phases, "load the config"):
        config = load_config(ROOT / options.config)
    with tempfile.TemporaryDirectory(prefix="profile-") as outdir:
        # app.py's context beneath cdk.json's, as `cdk synth` gives it
        context = {**APP_CONTEXT, **json.loads((ROOT / "cdk.json").read_text())["context"]}
        app = cdk.App(outdir=outdir, context=context)
        with timed(phases, "build the stacks"), counting() as build:
            build_stacks(app, config)
        with counting() as synth:
            if not options.no_compliance:
                with timed(phases, "add the cdk-nag packs"):
                    add_compliance_checks(app)
            with timed(phases, "app.synth()"):
                app.synth()
    print(f"{options.config}, cdk-nag {'off' if options.no_compliance else 'on'}, one process\n")
    print(report(phases, build, synth, options.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
