"""stacks/node_runtime.py and scripts/jsii-node.sh: the node jsii starts for app.py and the tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from stacks import node_runtime
from stacks.node_runtime import JSII_NODE_WRAPPER, jsii_node_environment
from tests.conftest import ROOT, WITHOUT_JSII

FLAG = "--no-concurrent-marking"
OPTIONS = [FLAG, "--max-semi-space-size=8", "--liftoff-only"]
#: What node preloads after the V8 options: scripts/module-code-cache.js and scripts/validation-engine-early.js
#: (their own tests: tests/stacks/test_module_code_cache.py, tests/stacks/test_validation_engine_early.py).
PRELOAD = [
    *("--require", str(JSII_NODE_WRAPPER.parent / "module-code-cache.js")),
    *("--require", str(JSII_NODE_WRAPPER.parent / "validation-engine-early.js")),
]


def test_the_wrapper_is_named_unless_jsii_node_is_set():
    assert jsii_node_environment({"PATH": os.environ["PATH"]}) == {"JSII_NODE": str(JSII_NODE_WRAPPER)}
    assert jsii_node_environment({"JSII_NODE": "node", "PATH": os.environ["PATH"]}) == {}
    assert jsii_node_environment({"JSII_NODE": "/opt/node22/bin/node", "PATH": "/usr/bin"}) == {}


def test_without_bash_on_the_path_node_runs_plain(tmp_path: Path):
    """The wrapper starts with `#!/usr/bin/env bash`: on a PATH without bash it could not run at all."""
    only_node = tmp_path / "bin"
    only_node.mkdir()
    node = shutil.which("node")
    assert node is not None
    (only_node / "node").symlink_to(node)
    assert jsii_node_environment({"PATH": str(only_node)}) == {}


def test_a_wrapper_without_its_executable_bit_is_not_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    copy = tmp_path / "jsii-node.sh"
    copy.write_text(JSII_NODE_WRAPPER.read_text())
    copy.chmod(0o644)
    monkeypatch.setattr(node_runtime, "JSII_NODE_WRAPPER", copy)
    assert jsii_node_environment({"PATH": os.environ["PATH"]}) == {}


def test_git_keeps_the_wrapper_executable():
    """A clone gets the mode git recorded: 100755, or app.py would fall back to plain node."""
    listed = subprocess.run(
        ["git", "ls-files", "--stage", "scripts/jsii-node.sh"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert listed.stdout.split()[0] == "100755", listed.stdout


def test_the_wrapper_runs_node_with_its_v8_options():
    shown = subprocess.run(
        [str(JSII_NODE_WRAPPER), "--max-old-space-size=64", "-p", "process.execArgv.join(' ')"],
        capture_output=True,
        text=True,
        check=True,
    )
    # then -p and its script
    assert shown.stdout.split()[: len(OPTIONS) + len(PRELOAD) + 1] == [*OPTIONS, *PRELOAD, "--max-old-space-size=64"]


def _fake_node(tmp_path: Path, refused: list[str]) -> dict[str, str]:
    """A PATH whose `node` exits 9 on any of ``refused`` (as a node whose V8 dropped an option does)
    and otherwise prints the arguments it got."""
    checks = "".join(
        f'  if [ "$arg" = "{option}" ]; then echo "bad option: $arg" >&2; exit 9; fi\n' for option in refused
    )
    fake = tmp_path / "node"
    fake.write_text(f'#!/bin/sh\nfor arg in "$@"; do\n  :\n{checks}done\necho "ran $*"\n')
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("refused", "passed"),
    [
        ([], OPTIONS),
        (["--liftoff-only"], [FLAG, "--max-semi-space-size=8"]),
        ([FLAG], ["--max-semi-space-size=8", "--liftoff-only"]),
        (OPTIONS, []),
    ],
)
def test_a_node_that_refuses_an_option_runs_with_the_others(tmp_path: Path, refused: list[str], passed: list[str]):
    """A future node whose V8 dropped an option exits 9 on it: the wrapper passes only the options that
    node accepts, and none when it accepts none (the preload is node's own option: always passed)."""
    ran = subprocess.run(
        [str(JSII_NODE_WRAPPER), "runtime.js"], env=_fake_node(tmp_path, refused), capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == f"ran {' '.join([*passed, *PRELOAD, 'runtime.js'])}\n"
    assert ran.stderr == ""


@pytest.mark.parametrize(("cwd", "wrapper"), [(ROOT, "scripts/jsii-node.sh"), (ROOT / "scripts", "./jsii-node.sh")])
def test_a_wrapper_named_by_a_relative_path_preloads_by_an_absolute_one(cwd: Path, wrapper: str):
    """JSII_NODE=scripts/jsii-node.sh works: node would take a relative --require path for a package name."""
    shown = subprocess.run([wrapper, "-p", "process.execArgv.join(' ')"], cwd=cwd, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    preloaded = shown.stdout.split()[len(OPTIONS) : len(OPTIONS) + len(PRELOAD)][1::2]
    assert all(Path(path).is_absolute() for path in preloaded), preloaded
    assert [Path(path).resolve() for path in preloaded] == [Path(path).resolve() for path in PRELOAD[1::2]]


def test_a_wrapper_copied_without_the_preload_runs_node_without_it(tmp_path: Path):
    copy = tmp_path / "scripts" / "jsii-node.sh"
    copy.parent.mkdir()
    shutil.copy2(JSII_NODE_WRAPPER, copy)
    ran = subprocess.run([str(copy), "runtime.js"], env=_fake_node(tmp_path, []), capture_output=True, text=True)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, f"ran {' '.join([*OPTIONS, 'runtime.js'])}\n", "")


#: Prints the argv of the node process jsii started in this Python process (run with python -c): the
#: wrapper execs node, so the process jsii started is node itself.
JSII_NODE_ARGV = (
    "import jsii, pathlib; "
    "pid = jsii.kernel.provider._process._process.pid; "
    "print(pathlib.Path(f'/proc/{pid}/cmdline').read_bytes().decode().replace(chr(0), ' '))"
)


def _this_process_node_argv(capsys: pytest.CaptureFixture[str]) -> str:
    exec(JSII_NODE_ARGV, {})
    (argv,) = capsys.readouterr().out.splitlines()
    return argv


def test_the_test_processes_run_aws_cdk_in_that_node(capsys: pytest.CaptureFixture[str]):
    """tests/conftest.py names the wrapper before its `import aws_cdk`: this process's node has the option."""
    argv = _this_process_node_argv(capsys)
    assert argv.split()[: len(OPTIONS) + 1] == ["node", *OPTIONS], argv


def test_app_py_starts_aws_cdk_in_that_node():
    # No template is validated here: CDK_VALIDATION=false spares the process the validation engine that
    # scripts/validation-engine-early.js would otherwise start on a worker thread (2 s of CPU).
    env = {key: value for key, value in os.environ.items() if key != "JSII_NODE"} | {"CDK_VALIDATION": "false"}
    shown = subprocess.run(
        [sys.executable, "-c", "import app\n" + JSII_NODE_ARGV],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    (argv,) = shown.stdout.splitlines()
    assert argv.split()[: len(OPTIONS) + 1] == ["node", *OPTIONS], argv


@pytest.mark.parametrize("argv0", ["-m", "-c"])
def test_the_commands_of_the_stacks_package_name_the_wrapper_and_an_import_does_not(argv0: str):
    """`python -m stacks.preflight` (and stacks.deploy_plan, stacks.diagram, ...) import aws_cdk at their top,
    after the package, which names the wrapper while ``-m`` locates the module (``sys.argv[0]`` is "-m" then):
    they run aws-cdk in app.py's node (without it, jsii's relay printed its notice on this node on every run).
    A mere import changes no environment (a benchmark's children keep the node it gives them)."""
    env = {key: value for key, value in os.environ.items() if key != "JSII_NODE"}
    code = f"import sys\nsys.argv[0] = {argv0!r}\nimport os, stacks\nprint(os.environ.get('JSII_NODE'))"
    shown = subprocess.run(
        [sys.executable, "-c", WITHOUT_JSII + code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout.splitlines() == [str(JSII_NODE_WRAPPER) if argv0 == "-m" else "None"], shown.stderr


def test_python_m_sets_argv0_to_dash_m_while_it_imports_the_package(tmp_path: Path):
    """What the package relies on, on this Python: its ``__init__`` sees "-m" under `python -m package.module`."""
    package = tmp_path / "probe"
    package.mkdir()
    (package / "__init__.py").write_text("import sys\nprint(sys.argv[0])\n")
    (package / "command.py").write_text("")
    shown = subprocess.run(
        [sys.executable, "-m", "probe.command"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert shown.stdout.splitlines() == ["-m"], shown.stderr


def test_aws_cdks_template_validation_still_reports_in_that_node(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """--liftoff-only changes how V8 compiles aws-cdk's WebAssembly template validator, not what it finds:
    in this process's node (the wrapper's) an invalid property is still reported, with its rule and path."""
    argv = _this_process_node_argv(capsys)
    assert "--liftoff-only" in argv.split(), argv
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Validated")
    logs.CfnLogGroup(stack, "Group", retention_in_days=4)  # not one of CloudWatch Logs' retention periods
    app.synth()
    (report,) = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert report["pluginName"] == "CloudFormation Validate"
    (violation,) = report["violations"]
    assert violation["ruleName"] == "W3030"
    (construct,) = violation["violatingConstructs"]
    assert construct["cloudFormationResource"]["propertyPaths"] == ["Properties.RetentionInDays"]
