"""scripts/module-code-cache.js: V8's code cache of the modules jsii loads, kept on disk between processes.

The script runs in node on a stand-in for jsii's layout: a package unpacked in a package cache
(``cache/pkg/1.0.0/<hash>/``) and linked from an install folder ``jsii-kernel-XXXXXX/node_modules/pkg``,
new for each process, as jsii's kernel links it; node runs with ``--preserve-symlinks`` as under jsii. The
installed jsii is checked end to end in subprocesses of Python that import aws_cdk.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.node_runtime import JSII_NODE_WRAPPER

CACHE_SCRIPT = JSII_NODE_WRAPPER.parent / "module-code-cache.js"

#: The package's entry point: what a module sees of node's loader, and a stack trace through its helper.
INDEX = """'use strict';
const topThis = this;
const helper = require('./lib/helper');
exports.report = () => ({
  filename: __filename,
  dirname: __dirname,
  helper: helper.filename,
  value: helper.value,
  resolved: require.resolve('./lib/helper'),
  paths: require.resolve.paths('x'),
  main: require.main === process.mainModule,
  cached: require.cache[__filename] === module,
  extensions: require.extensions === require('module')._extensions,
  thisIsExports: topThis === module.exports,
  frame: helper.frame(),
});
"""
#: On the first line, as aws-cdk-lib's minified modules are: the columns in its stack frame count.
HELPER = (
    "'use strict';exports.filename=__filename;exports.value='v1';"
    "exports.frame=function frame(){return new Error('x').stack.split('\\n')[1].trim()};\n"
)
#: A module that calls import(): left to node (V8 would resolve it from the stable name).
DYNAMIC = "'use strict';exports.load=()=>import('./esm.mjs');\n"
ESM = "export const answer = 42;\n"

#: Loads the package from the install folder given as its argument and prints its report.
RUNNER = """'use strict';
const pkg = require(require('path').join(process.argv[2], 'node_modules', 'pkg'));
const report = pkg.report();
require(require('path').join(process.argv[2], 'node_modules', 'pkg', 'lib', 'dynamic.js')).load()
  .then((esm) => { report.esm = esm.answer; console.log(JSON.stringify(report)); });
"""

LOG = re.compile(r"\[module-code-cache\] (\d+) hits, (\d+) misses, \d+ ms at exit")


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    package = tmp_path / "package-cache" / "pkg" / "1.0.0" / "3f2a"
    (package / "lib").mkdir(parents=True)
    (package / "index.js").write_text(INDEX)
    (package / "lib" / "helper.js").write_text(HELPER)
    (package / "lib" / "dynamic.js").write_text(DYNAMIC)
    (package / "lib" / "esm.mjs").write_text(ESM)
    (tmp_path / "runner.js").write_text(RUNNER)
    return tmp_path


def install(layout: Path, suffix: str) -> Path:
    """An install folder as jsii's kernel makes one: node_modules/pkg links to the unpacked package."""
    folder = layout / f"jsii-kernel-{suffix}"
    (folder / "node_modules").mkdir(parents=True)
    (folder / "node_modules" / "pkg").symlink_to(layout / "package-cache" / "pkg" / "1.0.0" / "3f2a")
    return folder


def node(layout: Path, folder: Path, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The runner in node with the cache preloaded, the package loaded from ``folder``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MODULE_CODE_CACHE")}
    return subprocess.run(
        ["node", "--preserve-symlinks", "--require", str(CACHE_SCRIPT), str(layout / "runner.js"), str(folder)],
        env={**environment, "MODULE_CODE_CACHE_DIR": str(cache), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run(layout: Path, folder: Path, cache: Path, **env: str) -> tuple[dict, tuple[int, int] | None, str]:
    """Runs the runner with the cache preloaded: its report, (hits, misses) from the log if any, stderr."""
    ran = node(layout, folder, cache, **{"MODULE_CODE_CACHE_LOG": "1", **env})
    assert ran.returncode == 0, ran.stderr
    logged = LOG.search(ran.stderr)
    counts = (int(logged[1]), int(logged[2])) if logged else None
    return json.loads(ran.stdout), counts, ran.stderr


def entries(cache: Path) -> list[Path]:
    return sorted(path for path in cache.rglob("*") if path.is_file())


def test_a_second_process_compiles_from_the_cache_and_runs_the_same(layout: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    first, first_counts, _ = run(layout, install(layout, "AAAAAA"), cache)
    folder = install(layout, "BBBBBB")
    second, second_counts, _ = run(layout, folder, cache)
    plain, plain_counts, _ = run(layout, folder, cache, MODULE_CODE_CACHE="0")
    # index.js and helper.js; dynamic.js calls import() and is left to node
    assert (first_counts, second_counts, plain_counts) == ((0, 2), (2, 0), None)
    package = folder / "node_modules" / "pkg"
    assert second["filename"] == str(package / "index.js")  # the real path, in this process's folder
    assert second["dirname"] == str(package)
    assert second["helper"] == second["resolved"] == str(package / "lib" / "helper.js")
    assert second["paths"] == plain["paths"] and second["paths"][0] == str(package / "node_modules")
    assert second["main"] and second["cached"] and second["extensions"] and second["thisIsExports"]
    assert second["value"] == "v1" and second["esm"] == 42
    assert {key: value for key, value in second.items() if key != "frame"} == {
        key: value for key, value in plain.items() if key != "frame"
    }
    # V8 would name the folder of the process that wrote the cache: the stable name is the same in every one
    assert first["frame"] == second["frame"] and "/jsii-kernel-cached/" in second["frame"]


def test_stack_frames_name_the_stable_folder_at_the_columns_nodes_loader_gives(layout: Path, tmp_path: Path):
    folder = install(layout, "CCCCCC")
    cached, _, _ = run(layout, folder, tmp_path / "cache")
    plain, _, _ = run(layout, folder, tmp_path / "cache", MODULE_CODE_CACHE="0")
    helper, column = "node_modules/pkg/lib/helper.js", HELPER.index("new Error") + 1
    assert plain["frame"] == f"at Object.frame ({folder}/{helper}:1:{column})"
    assert cached["frame"] == f"at Object.frame ({layout}/jsii-kernel-cached/{helper}:1:{column})"


def test_a_file_edited_in_place_is_compiled_again(layout: Path, tmp_path: Path):
    """V8 checks a cache against the source's length only: an edit of the same length must not run the
    old code. The file's time (and size and inode) are part of the entry's key."""
    cache = tmp_path / "cache"
    run(layout, install(layout, "DDDDDD"), cache)
    helper = layout / "package-cache" / "pkg" / "1.0.0" / "3f2a" / "lib" / "helper.js"
    helper.write_text(HELPER.replace("'v1'", "'v2'"))
    os.utime(helper, ns=(helper.stat().st_atime_ns, helper.stat().st_mtime_ns + 1_000_000_000))
    report, counts, _ = run(layout, install(layout, "EEEEEE"), cache)
    assert report["value"] == "v2"
    assert counts == (1, 1)


def test_a_package_unpacked_in_the_install_folder_is_not_cached(layout: Path, tmp_path: Path):
    """Without jsii's package cache, the package is unpacked in each process's new folder: never the same."""
    cache = tmp_path / "cache"
    for suffix in ("FFFFFF", "GGGGGG"):
        folder = layout / f"jsii-kernel-{suffix}"
        shutil.copytree(layout / "package-cache" / "pkg" / "1.0.0" / "3f2a", folder / "node_modules" / "pkg")
        report, counts, _ = run(layout, folder, cache)
        assert counts == (0, 0) and report["value"] == "v1"
    assert entries(cache) == []


@pytest.mark.parametrize(
    ("mode", "used"),
    [(0o700, True), (0o755, True), (0o770, False), (0o777, False)],
)
def test_a_cache_folder_others_can_write_is_not_used(layout: Path, tmp_path: Path, mode: int, used: bool):
    """A cache is compiled code: one someone else could write would run as theirs."""
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(mode)
    report, counts, _ = run(layout, install(layout, "HHHHHH"), cache)
    assert report["value"] == "v1"
    assert (counts is not None, bool(entries(cache))) == (used, used)


@pytest.mark.parametrize(("mode", "used"), [(0o1777, True), (0o777, False)])
def test_a_folder_above_it_may_be_writable_by_others_only_if_sticky(
    layout: Path, tmp_path: Path, mode: int, used: bool
):
    """As /tmp is: in a sticky folder no one else can replace what is ours."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    _, counts, _ = run(layout, install(layout, "IIIIII"), shared / "cache")
    assert (counts is not None) == used


def test_switched_off_it_creates_nothing(layout: Path, tmp_path: Path):
    report, counts, _ = run(layout, install(layout, "JJJJJJ"), tmp_path / "cache", MODULE_CODE_CACHE="0")
    assert report["value"] == "v1" and counts is None
    assert not (tmp_path / "cache").exists()


def test_past_its_limit_the_entries_not_used_go_oldest_first(layout: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    other = cache / "0badf00d"  # another V8's entries: pruned as well
    other.mkdir(parents=True, mode=0o700)
    cache.chmod(0o700)
    for name, age in (("old", 3000), ("older", 4000), ("newer", 100)):
        (other / name).write_bytes(b"\0" * 400_000)
        os.utime(other / name, (1_700_000_000 - age, 1_700_000_000 - age))
    (other / "left.1234.abcd.tmp").write_bytes(b"\0")  # a process stopped while writing, long ago
    os.utime(other / "left.1234.abcd.tmp", (1_700_000_000, 1_700_000_000))
    run(layout, install(layout, "KKKKKK"), cache, MODULE_CODE_CACHE_MAX_MB="1")
    kept = {path.name for path in entries(cache)}
    # 1.2 MB of others and this run's two entries: the oldest goes, then the limit holds
    assert {"newer", "old"} <= kept and "older" not in kept and "left.1234.abcd.tmp" not in kept
    assert len(kept) == 4


def test_a_syntax_error_is_reported_as_nodes_loader_reports_it(layout: Path, tmp_path: Path):
    helper = layout / "package-cache" / "pkg" / "1.0.0" / "3f2a" / "lib" / "helper.js"
    helper.write_text("'use strict';exports.value = ;\n")
    folder = install(layout, "LLLLLL")
    outcomes = []
    for switch in ("1", "0"):
        ran = node(layout, folder, tmp_path / "cache", MODULE_CODE_CACHE=switch)
        outcomes.append((ran.returncode, ran.stderr.split("\n    at ")[0]))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == 1 and f"{folder}/node_modules/pkg/lib/helper.js:1" in outcomes[0][1]
    assert "SyntaxError: Unexpected token ';'" in outcomes[0][1]


#: Run by python -c: aws_cdk in the wrapper's node, a stack with a bucket synthesized.
SYNTH = """
import os
from stacks.node_runtime import jsii_node_environment
os.environ.update(jsii_node_environment(os.environ))
import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
app = cdk.App(outdir=os.environ['OUT'])
s3.Bucket(cdk.Stack(app, 'S'), 'B', enforce_ssl=True)
app.synth()
"""


def test_on_the_installed_jsii_a_second_synthesis_compiles_from_the_cache(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if key != "JSII_NODE" and "MODULE_CODE_CACHE" not in key}
    # aws-cdk's template validation is not what this checks: without it each process saves the 2 s of CPU
    # its engine takes to start (the modules counted are aws-cdk-lib's and constructs' either way).
    env.update(MODULE_CODE_CACHE_DIR=str(tmp_path / "cache"), MODULE_CODE_CACHE_LOG="1", CDK_VALIDATION="false")
    counts, templates = [], []
    for run_ in ("first", "second"):
        ran = subprocess.run(
            [sys.executable, "-c", SYNTH],
            cwd=JSII_NODE_WRAPPER.parents[1],
            env={**env, "OUT": str(tmp_path / run_)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        logged = LOG.findall(ran.stderr)
        assert len(logged) == 1, ran.stderr
        counts.append(tuple(map(int, logged[0])))
        templates.append((tmp_path / run_ / "S.template.json").read_text())
    (first_hits, first_misses), (second_hits, second_misses) = counts
    assert first_hits == 0 and first_misses > 100  # of aws-cdk-lib and constructs
    assert (second_hits, second_misses) == (first_misses, 0)
    assert templates[0] == templates[1]
