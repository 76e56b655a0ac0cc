"""scripts/jsii-host.js: jsii's kernel run in the node jsii starts, without jsii's relay node.

The paths of the script run on a stand-in runtime (a ``bin/jsii-runtime.js`` that says it is the relay and
a ``lib/program.js`` that talks on the fds jsii's does); the installed jsii runtime is checked end to end
in subprocesses of Python that import aws_cdk.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.node_runtime import JSII_NODE_WRAPPER
from tests.stacks.test_node_runtime import _fake_node

HOST = JSII_NODE_WRAPPER.parent / "jsii-host.js"

#: A stand-in for jsii's lib/program.js: reads one request on its read fd, answers on its write fd, and
#: prints on every stream a library could print on (it also checks what it can require, and its stdin).
PROGRAM = """'use strict';
const F = require('fs');
const helper = require('./helper.js');
const channel = {errorFD:2,readFD:3,writeFD:3};
console.log('console.log');
console.error('console.error');
console.warn('console.warn');
process.stdout.write('process.stdout');
process.stderr.write(Buffer.from([0xe2, 0x9c, 0x93]));
let stdin = '';
process.stdin.on('data', (chunk) => { stdin += chunk; });
const buffer = Buffer.alloc(100);
const read = F.readSync(channel.readFD, buffer, 0, 100, null);
F.writeSync(channel.writeFD, JSON.stringify({ request: buffer.subarray(0, read).toString(), helper,
  dirname: __dirname, argv: process.argv.slice(1) }) + '\\n');
process.stdin.on('end', () => {
  F.writeSync(channel.writeFD, JSON.stringify({ stdin }) + '\\n');
  process.exit(Number(process.env.FAKE_EXIT || 0));
});
"""


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    """A stand-in runtime: bin/jsii-runtime.js (the relay, which only says so) and lib/program.js."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    (tmp_path / "bin" / "jsii-runtime.js").write_text("process.stdout.write('the relay ran\\n');\n")
    (tmp_path / "lib" / "program.js").write_text(PROGRAM)
    (tmp_path / "lib" / "helper.js").write_text("module.exports = 'required beside program.js';\n")
    return tmp_path / "bin" / "jsii-runtime.js"


def host(runtime: Path, *, request: str = "a request\n", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("FAKE_", "JSII_HOST"))}
    return subprocess.run(
        ["node", "--preserve-symlinks", str(HOST), str(runtime)],
        input=request,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def relayed(stderr: str) -> list[tuple[str, str]]:
    """The lines of ``stderr`` as jsii's python client reads them: (stream, decoded text)."""
    lines = [json.loads(line) for line in stderr.splitlines()]
    return [(key, base64.b64decode(value).decode()) for line in lines for key, value in line.items()]


def test_the_kernel_talks_on_the_pipes_node_was_started_with(runtime: Path):
    ran = host(runtime)
    assert ran.returncode == 0, ran.stderr
    answer, _ = map(json.loads, ran.stdout.splitlines())  # the protocol's lines only
    assert answer == {
        "request": "a request\n",
        "helper": "required beside program.js",
        "dirname": str(runtime.parents[1] / "lib"),
        "argv": [str(runtime.parents[1] / "lib" / "program.js")],
    }


def test_what_a_library_prints_reaches_stderr_as_the_relay_sends_it(runtime: Path):
    """stdout is the protocol's: nothing else may write there. Each write becomes the line jsii's relay
    would send, which jsii's python client decodes and prints on its own stdout or stderr."""
    ran = host(runtime)
    assert relayed(ran.stderr) == [
        ("stdout", "console.log\n"),
        ("stderr", "console.error\n"),
        ("stderr", "console.warn\n"),
        ("stdout", "process.stdout"),
        ("stderr", "\u2713"),
    ]


def test_stdin_is_empty_and_the_exit_code_is_the_kernels(runtime: Path):
    """fd 0 carries the requests: a library reading process.stdin must not take them (the relay gives its
    child no stdin). The program above reads 100 bytes of a longer request, and process.stdin, read from
    fd 0, would get the rest; it exits when its stdin ends, with the code it is given."""
    request = "a request " + "x" * 150 + "\n"
    ran = host(runtime, request=request, FAKE_EXIT="3")
    assert ran.returncode == 3, ran.stderr
    answer, read_from_stdin = map(json.loads, ran.stdout.splitlines())
    assert answer["request"] == request[:100]
    assert read_from_stdin == {"stdin": ""}


@pytest.mark.parametrize(
    ("change", "env"),
    [
        (lambda source: source, {"JSII_HOST_DIRECT": "0"}),
        (lambda source: source.replace("readFD:3,writeFD:3", "readFD:4,writeFD:4"), {}),
        (lambda source: source + "\n// readFD:3,writeFD:3\n", {}),
    ],
    ids=["switched-off", "other-fds", "twice"],
)
def test_it_runs_jsiis_relay_when_switched_off_or_the_program_is_not_as_expected(runtime: Path, change, env):
    program = runtime.parents[1] / "lib" / "program.js"
    program.write_text(change(program.read_text()))
    ran = host(runtime, **env)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "the relay ran\n", "")


def test_the_wrapper_runs_the_host_for_jsiis_runtime_script_only(tmp_path: Path):
    env = _fake_node(tmp_path, refused=[])
    for script, expected in [
        ("/t/bin/jsii-runtime.js", f"--max-old-space-size=4069 --preserve-symlinks {HOST} /t/bin/jsii-runtime.js"),
        ("/t/other.js", "--max-old-space-size=4069 /t/other.js"),
    ]:
        ran = subprocess.run(
            [str(JSII_NODE_WRAPPER), "--max-old-space-size=4069", script], env=env, capture_output=True, text=True
        )
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.rstrip("\n").endswith(f"{JSII_NODE_WRAPPER.parent / 'validation-engine-early.js'} {expected}")


def test_a_wrapper_copied_without_the_host_runs_jsiis_runtime_script(tmp_path: Path):
    copy = tmp_path / "scripts" / "jsii-node.sh"
    copy.parent.mkdir()
    copy.write_bytes(JSII_NODE_WRAPPER.read_bytes())
    copy.chmod(0o755)
    ran = subprocess.run(
        [str(copy), "/t/bin/jsii-runtime.js"],
        env=_fake_node(tmp_path, refused=[]),
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.split()[-1] == "/t/bin/jsii-runtime.js"
    assert "--preserve-symlinks" not in ran.stdout


#: Run by python -c with aws_cdk's node started by the wrapper: the command lines of that node and of the
#: processes it started, then a construct that reads a deprecated property (aws-cdk warns on stderr).
PROCESSES = """
import json, os, pathlib
from stacks.node_runtime import jsii_node_environment
os.environ.update(jsii_node_environment(os.environ))
import aws_cdk as cdk, jsii
from aws_cdk import aws_events as events
pid = jsii.kernel.provider._process._process.pid
def cmdline(p): return pathlib.Path(f'/proc/{p}/cmdline').read_bytes().decode().replace(chr(0), ' ').strip()
def parent(p):  # None for a process that ended between the listing and the read (any process on the machine)
    try: return (p / 'stat').read_text().rsplit(')', 1)[1].split()[1]
    except FileNotFoundError: return None
children = [p.name for p in pathlib.Path('/proc').iterdir() if p.name.isdigit() and parent(p) == str(pid)]
print(cmdline(pid)); print(json.dumps([cmdline(c) for c in children]))
stack = cdk.Stack(cdk.App(), 'S')
events.CfnEventBusPolicy(stack, 'P', statement_id='s', principal='123456789012', action='events:PutEvents').principal
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
@pytest.mark.parametrize("direct", ["1", "0"])
def test_on_the_installed_jsii_the_kernel_runs_in_the_node_python_started(direct: str):
    """With the host, python's node is the kernel and starts no other node; with JSII_HOST_DIRECT=0 the host
    runs jsii's relay, which starts program.js. What aws-cdk prints reaches python's stderr either way."""
    env = {key: value for key, value in os.environ.items() if key not in ("JSII_NODE", "JSII_DEPRECATED")}
    ran = subprocess.run(
        [sys.executable, "-c", PROCESSES],
        cwd=JSII_NODE_WRAPPER.parents[1],
        # No template is validated: CDK_VALIDATION=false spares the process the validation engine that
        # scripts/validation-engine-early.js would start creating (about 0.4 s of CPU).
        env={**env, "JSII_HOST_DIRECT": direct, "JSII_DEPRECATED": "warn", "CDK_VALIDATION": "false"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    node, children = ran.stdout.splitlines()
    assert node.endswith("/bin/jsii-runtime.js")
    programs = [child for child in json.loads(children) if child.endswith("/lib/program.js")]
    assert f"--preserve-symlinks {HOST} " in node
    assert len(programs) == (0 if direct == "1" else 1)
    assert "aws-cdk-lib.aws_events.CfnEventBusPolicy#principal is deprecated" in ran.stderr
    assert "{" not in ran.stderr  # decoded, not the relayed JSON lines
