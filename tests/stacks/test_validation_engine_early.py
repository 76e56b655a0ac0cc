"""scripts/validation-engine-early.js: aws-cdk's validation engine, created on a worker thread early.

Most tests run node on a stand-in aws-cdk-lib (a package root with rules and a fake
``@aws/cloudformation-validate`` that reports which thread serves each call), so every path of the script
runs in a fraction of a second. The last ones run it on the installed aws-cdk-lib: the engine it hands
out finds what a main-thread engine finds, on the example's templates, and aws-cdk still asks for the
engine the script prepared (if a new aws-cdk-lib stopped doing so, the speed-up would be gone silently).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Synthesized, jsii_package_cache
from tests.stacks.test_node_runtime import OPTIONS

PRELOAD = ROOT / "scripts" / "validation-engine-early.js"

#: The stand-in for @aws/cloudformation-validate: engines that say on which thread they run. FAKE_CREATE
#: makes creating an engine on a worker fail or take 3 s; a template whose text is "refuse" is refused.
#: FAKE_LOADS and FAKE_VALIDATED name files that get a line (the thread's id) per load and per validation.
FAKE_VALIDATE = """
'use strict';
const fs = require('fs');
const { threadId } = require('worker_threads');
if (process.env.FAKE_LOADS) fs.appendFileSync(process.env.FAKE_LOADS, `${threadId}\\n`);
class TemplateFile {
  constructor(path) { this.path = path; }
  readBytes() { return fs.readFileSync(this.path); }
}
class TemplateContent {
  constructor(content, name = 'template') { this.content = content; this.name = name; }
  readBytes() { return typeof this.content === 'string' ? new TextEncoder().encode(this.content) : this.content; }
}
let validations = 0;
class CompositeEngine {
  constructor(config) {
    if (threadId !== 0 && process.env.FAKE_CREATE === 'fail') throw new Error('no engine on this thread');
    if (threadId !== 0 && process.env.FAKE_CREATE === 'slow') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
    this.rules = config.regoRules.map((rule) => rule.name);
  }
  validateTemplate(template, options) {
    validations += 1;
    if (process.env.FAKE_VALIDATED) fs.appendFileSync(process.env.FAKE_VALIDATED, `${threadId}\\n`);
    const text = Buffer.from(template.readBytes()).toString();
    if (text === 'refuse') throw new TypeError('not a template');
    const label = template instanceof TemplateContent ? template.name : template.path;
    return { thread: threadId, nice: require('os').getPriority(), label, text, options, rules: this.rules };
  }
  validateAwsCliCommand(request) { return { thread: threadId, request }; }
  listRules() { return [{ id: 'E1', thread: threadId }]; }
  engineName() { return `fake, ${validations} validation(s)`; }
  free() {}
}
module.exports = { TemplateFile, TemplateContent, CompositeEngine, version: () => `fake ${threadId}` };
"""

#: Loads a package root as jsii does (its index.js, by absolute path), then runs the scenario (a function
#: body given ``validate``, the package as aws-cdk's plugin requires it, ``rules``, aws-cdk's default rules,
#: ``root`` and ``require``) and prints what it returns as JSON.
DRIVER = """
'use strict';
const fs = require('fs');
const path = require('path');
const [root, scenario] = process.argv.slice(2);
require(path.join(root, 'index.js'));
const fromCdk = require('module').createRequire(path.join(root, 'core', 'lib', 'validation', 'plugin.js'));
const dir = path.join(root, 'core', 'lib', 'validation', 'rules');
const rules = fs.readdirSync(dir).filter((f) => f.endsWith('.rego')).sort()
  .map((f) => ({ name: f, content: fs.readFileSync(path.join(dir, f), 'utf-8') }));
const run = new Function('validate', 'rules', 'root', 'require', scenario);
console.log(JSON.stringify(run(() => fromCdk('@aws/cloudformation-validate'), rules, root, require)));
"""


@pytest.fixture
def fake_cdk(tmp_path: Path) -> Path:
    root = tmp_path / "node_modules" / "aws-cdk-lib"
    rules = root / "core" / "lib" / "validation" / "rules"
    rules.mkdir(parents=True)
    (root / "index.js").write_text("module.exports = {};\n")
    (rules / "b.rego").write_text("package b\n")
    (rules / "a.rego").write_text("package a\n")
    (rules / "notes.txt").write_text("not a rule\n")
    validate = root / "node_modules" / "@aws" / "cloudformation-validate"
    validate.mkdir(parents=True)
    (validate / "index.js").write_text(FAKE_VALIDATE)
    (tmp_path / "template.json").write_text('{"Resources": {}}')
    (tmp_path / "driver.js").write_text(DRIVER)
    return root


def run(
    root: Path, scenario: str, *, preload: Path | None = PRELOAD, node_options: tuple[str, ...] = (), **env: str
) -> tuple[Any, list[str]]:
    """The scenario's result, and the lines the script logged."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("FAKE_", "VALIDATION_"))}
    environment.update(VALIDATION_ENGINE_EARLY_LOG="1", **env)
    ran = subprocess.run(
        ["node", *node_options, *(["--require", str(preload)] if preload else []), str(root.parents[1] / "driver.js"),
         str(root), scenario],
        env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    logged = [line.removeprefix("[validation-engine-early] ") for line in ran.stderr.splitlines()]
    return json.loads(ran.stdout), logged


VALIDATE_FILE = """
const v = validate();
const engine = new v.CompositeEngine({ regoRules: rules });
return engine.validateTemplate(new v.TemplateFile(root + '/../../template.json'), { severityLevel: 'WARN' });
"""


def test_aws_cdks_default_engine_is_served_from_a_worker_thread(fake_cdk: Path):
    report, logged = run(fake_cdk, VALIDATE_FILE)
    assert report["thread"] != 0
    assert report["rules"] == ["a.rego", "b.rego"]
    assert report["label"] == f"{fake_cdk}/../../template.json"
    assert report["text"] == '{"Resources": {}}'
    assert report["options"] == {"severityLevel": "WARN"}
    assert logged[0].startswith("creating aws-cdk's validation engine on a worker thread")
    assert logged[1:] == ["handing out the engine created on the worker thread"]


def test_the_worker_thread_runs_at_the_priority_of_the_main_thread(fake_cdk: Path):
    """The main thread blocks on the worker's answers, so a worker at a lower priority is a priority
    inversion: with every core busy (make test's two processes, a busy CI runner) the thread everything
    waits for cannot run. At nice 19 the example's synthesis took 140 s instead of 18 s beside two busy
    loops."""
    result, _ = run(
        fake_cdk,
        """
        const v = validate();
        const engine = new v.CompositeEngine({ regoRules: rules });
        return [engine.validateTemplate(new v.TemplateContent('{}')).nice, require('os').getPriority()];
        """,
    )
    worker, main = result
    assert worker == main == os.getpriority(os.PRIO_PROCESS, 0)  # this test process's, inherited


def test_without_the_script_the_same_calls_run_on_the_main_thread(fake_cdk: Path):
    """The stand-in tells the threads apart: what the other tests read from it is the script's doing."""
    report, logged = run(fake_cdk, VALIDATE_FILE, preload=None)
    assert report["thread"] == 0
    assert logged == []


def test_template_contents_rules_names_and_the_version_cross_to_the_worker(fake_cdk: Path):
    result, _ = run(
        fake_cdk,
        """
        const v = validate();
        const engine = new v.CompositeEngine({ regoRules: rules });
        return {
          version: v.version(),
          rules: engine.listRules(),
          name: engine.engineName(),
          content: engine.validateTemplate(new v.TemplateContent('{}', 'in memory')),
        };
        """,
    )
    assert result["version"].startswith("fake ") and result["version"] != "fake 0"
    assert result["rules"][0]["thread"] != 0
    assert result["name"] == "fake, 0 validation(s)"  # asked before the template below
    assert result["content"]["thread"] != 0
    assert (result["content"]["label"], result["content"]["text"]) == ("in memory", "{}")


#: Writes two stack templates and the manifest listing them as aws-cdk does (fs.writeFileSync), gives the
#: worker time to validate them ahead, then validates each as aws-cdk's plugin does. ``CHANGE`` runs
#: between the manifest and the calls; ``OPTIONS(account, region)`` are the options of the calls.
AHEAD = """
const fs = require('fs');
const path = require('path');
const out = path.join(root, '..', '..', 'cdk.out');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'one.template.json'), '{"one": 1}');
fs.writeFileSync(path.join(out, 'two.template.json'), '{"two": 2}');
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ version: '1', artifacts: {
  one: { type: 'aws:cloudformation:stack', environment: 'aws://111111111111/eu-west-1',
         properties: { templateFile: 'one.template.json' } },
  two: { type: 'aws:cloudformation:stack', environment: 'aws://unknown-account/unknown-region',
         properties: { templateFile: 'two.template.json' } },
  tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
} }));
CHANGE;
const v = validate();
const engine = new v.CompositeEngine({ regoRules: rules });
WAIT;
const OPTIONS = (accountId, region) => ({ detailLevel: 'STANDARD', pseudoParameterOverrides: { accountId, region },
  exclude: { ids: ['W3005', 'W1020', 'E1018', 'W9002', 'W9013', 'W1103'],
             services: [{ ruleId: 'W3697', service: 'AWS::AutoScaling' }] }, severityLevel: 'WARN' });
const reports = [
  engine.validateTemplate(new v.TemplateFile(path.join(out, 'one.template.json')), OPTIONS('111111111111', 'eu-west-1')),
  engine.validateTemplate(new v.TemplateFile(path.join(out, 'two.template.json')), OPTIONS(undefined, undefined)),
];
return { reports, engine: engine.engineName() };
"""

#: Between the manifest and aws-cdk's calls, time for the worker to validate ahead (aws-cdk runs cdk-nag's
#: packs there): until it validated both templates (FAKE_VALIDATED), at most 10 s.
UNTIL_VALIDATED_AHEAD = """
const validated = () => (fs.existsSync(process.env.FAKE_VALIDATED)
  ? fs.readFileSync(process.env.FAKE_VALIDATED, 'utf-8').split('\\n').filter(Boolean).length : 0);
for (const until = Date.now() + 10000; validated() < 2 && Date.now() < until; ) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}
"""
#: Where nothing may be validated ahead, nothing can be waited for: a fixed 300 ms instead.
FIXED_WAIT = "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)"


#: AHEAD as aws-cdk runs it after the worker validated both templates ahead (with ``ahead``'s environment).
WAITING_AHEAD = AHEAD.replace("CHANGE;", "").replace("WAIT;", UNTIL_VALIDATED_AHEAD)


def ahead(fake_cdk: Path) -> dict[str, str]:
    """The environment of a run of WAITING_AHEAD: the file the worker's validations are counted in."""
    return {"FAKE_VALIDATED": str(fake_cdk.parents[1] / "validated.txt")}


def test_the_stack_templates_of_the_manifest_are_validated_ahead_of_aws_cdks_calls(fake_cdk: Path):
    """aws-cdk writes the manifest, runs cdk-nag's packs, then validates: the worker has done it by then."""
    result, logged = run(fake_cdk, WAITING_AHEAD, **ahead(fake_cdk))
    one, two = result["reports"]
    label = str(fake_cdk.parents[1] / "cdk.out" / "one.template.json")  # as path.join gives it
    assert (one["text"], one["label"], one["thread"] != 0) == ('{"one": 1}', label, True)
    assert one["options"]["pseudoParameterOverrides"] == {"accountId": "111111111111", "region": "eu-west-1"}
    assert two["text"] == '{"two": 2}' and two["options"]["pseudoParameterOverrides"] == {}
    assert result["engine"] == "fake, 2 validation(s)"  # each template once: the calls took the work done
    assert logged[2:] == [
        "validated ahead of aws-cdk's call: one.template.json",
        "validated ahead of aws-cdk's call: two.template.json",
    ]


@pytest.mark.parametrize(
    "change",
    [
        "fs.writeFileSync(path.join(out, 'one.template.json'), '{\"one\": 2}')",  # rewritten after the manifest
        "OPTIONS = (a, r) => ({ severityLevel: 'ERROR' })",  # aws-cdk passes other options
    ],
)
def test_a_template_or_options_that_differ_from_the_ones_validated_ahead_are_validated_anew(fake_cdk: Path, change):
    scenario = WAITING_AHEAD.replace("const OPTIONS", "let OPTIONS").replace(
        "const reports", f"{change};\nconst reports", 1
    )
    result, logged = run(fake_cdk, scenario, **ahead(fake_cdk))
    one, _ = result["reports"]
    assert one["text"] == ('{"one": 2}' if "writeFileSync" in change else '{"one": 1}')
    assert result["engine"] == ("fake, 3 validation(s)" if "writeFileSync" in change else "fake, 4 validation(s)")
    assert "validated ahead of aws-cdk's call: one.template.json" not in logged


def test_nothing_is_validated_ahead_once_aws_cdk_took_another_engine(fake_cdk: Path):
    # aws-cdk with other rules first: a main-thread engine
    scenario = "new (validate().CompositeEngine)({ regoRules: [] });\n" + AHEAD.replace("CHANGE;", "")
    scenario = scenario.replace("WAIT;", FIXED_WAIT)
    result, logged = run(fake_cdk, scenario)
    assert result["engine"] == "fake, 2 validation(s)"  # on the worker: only aws-cdk's two calls
    assert not any("ahead" in line for line in logged)


def test_a_manifest_this_does_not_understand_changes_nothing(fake_cdk: Path):
    result, logged = run(
        fake_cdk,
        """
        const fs = require('fs');
        const file = require('path').join(root, '..', '..', 'manifest.json');
        fs.writeFileSync(file, 'not json');
        fs.writeFileSync(file, JSON.stringify({ artifacts: { x: { type: 'aws:cloudformation:stack' } } }));
        return fs.readFileSync(file, 'utf-8');
        """,
    )
    assert json.loads(result) == {"artifacts": {"x": {"type": "aws:cloudformation:stack"}}}
    assert len(logged) == 1  # only the start of the worker


def test_an_aws_cli_command_is_validated_on_the_main_thread(fake_cdk: Path):
    """Its request is a class instance the package checks with instanceof: it cannot cross threads."""
    threads, _ = run(
        fake_cdk,
        """
        const v = validate();
        const engine = new v.CompositeEngine({ regoRules: rules });
        return [engine.validateAwsCliCommand({ op: 'x' }), engine.validateTemplate(new v.TemplateContent('{}'))];
        """,
    )
    assert threads[0] == {"thread": 0, "request": {"op": "x"}}
    assert threads[1]["thread"] == 0  # that engine then serves the rest: one engine, not two half-used


def test_the_8_mb_package_is_not_loaded_on_the_main_thread_when_the_worker_serves(fake_cdk: Path, tmp_path: Path):
    loads = tmp_path / "loads"
    run(fake_cdk, VALIDATE_FILE, FAKE_LOADS=str(loads))
    threads = loads.read_text().split()
    assert len(threads) == 1 and threads[0] != "0", threads


@pytest.mark.parametrize(
    "config",
    [
        "{ regoRules: rules, guardRules: [] }",  # another key
        "{ regoRules: rules.slice(1) }",  # a rule fewer
        "{ regoRules: [...rules].reverse() }",  # another order
        "{ regoRules: rules.map((r) => ({ ...r, content: r.content + ' ' })) }",  # a rule changed
        "{}",  # aws-cdk without its default rules
    ],
)
def test_any_other_configuration_gets_an_engine_created_on_the_main_thread(fake_cdk: Path, config: str):
    scenario = f"""
        const v = validate();
        const config = {config};
        if (!config.regoRules) config.regoRules = [];
        return new v.CompositeEngine(config).validateTemplate(new v.TemplateContent('{{}}'));
    """
    report, logged = run(fake_cdk, scenario)
    assert report["thread"] == 0
    assert logged[1:] == ["creating the engine on the main thread (another configuration)"]


def test_a_second_default_engine_is_created_on_the_main_thread(fake_cdk: Path):
    threads, logged = run(
        fake_cdk,
        """
        const v = validate();
        const first = new v.CompositeEngine({ regoRules: rules });
        const second = new v.CompositeEngine({ regoRules: rules });
        const t = new v.TemplateContent('{}');
        return [first.validateTemplate(t).thread, second.validateTemplate(t).thread, first.validateTemplate(t).thread];
        """,
    )
    assert threads[0] != 0 and threads[1] == 0 and threads[2] == threads[0]
    assert logged[2] == "creating the engine on the main thread (a second engine)"


def test_an_error_of_the_engine_reaches_the_caller_as_it_would_from_a_main_thread_engine(fake_cdk: Path):
    result, logged = run(
        fake_cdk,
        """
        const v = validate();
        const engine = new v.CompositeEngine({ regoRules: rules });
        let refused;
        try { engine.validateTemplate(new v.TemplateContent('refuse')); } catch (e) { refused = [e.name, e.message]; }
        return { refused, after: engine.validateTemplate(new v.TemplateContent('{}')).thread };
        """,
    )
    assert result["refused"] == ["TypeError", "not a template"]
    assert result["after"] != 0  # still the worker's engine: the call was refused, not the engine lost
    assert not any("unavailable" in line for line in logged)


def test_if_the_worker_cannot_create_the_engine_it_is_created_on_the_main_thread(fake_cdk: Path):
    report, logged = run(fake_cdk, VALIDATE_FILE, FAKE_CREATE="fail")
    assert report["thread"] == 0
    assert report["rules"] == ["a.rego", "b.rego"]
    assert logged[-1] == (
        "worker engine unavailable (no engine on this thread); creating the engine on the main thread"
    )


def test_a_worker_that_does_not_answer_in_time_is_given_up(fake_cdk: Path):
    report, logged = run(fake_cdk, VALIDATE_FILE, FAKE_CREATE="slow", VALIDATION_ENGINE_EARLY_WAIT_MS="200")
    assert report["thread"] == 0
    assert logged[-1] == "worker engine unavailable (no answer within 200 ms); creating the engine on the main thread"


def test_a_worker_whose_thread_never_runs_is_not_waited_for(fake_cdk: Path, tmp_path: Path):
    """Its script fails to load (a syntax error, here): its error event cannot be seen while jsii waits
    for python, so the script's first statement is the signal that it runs; without it, the engine is
    created on the main thread after the start-up wait, not after the answer wait."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy2(PRELOAD, scripts / PRELOAD.name)
    (scripts / "validation-engine-worker.js").write_text("'use strict';\nthis is not javascript\n")
    started = time.monotonic()
    report, logged = run(
        fake_cdk, VALIDATE_FILE, preload=scripts / PRELOAD.name, VALIDATION_ENGINE_EARLY_WAIT_MS="1200"
    )
    assert report["thread"] == 0
    assert logged[-1] == (
        "worker engine unavailable (its thread did not start within 1200 ms); creating the engine on the main thread"
    )
    # One start-up wait, not one per call nor the answer wait: a second wait would make it 2.4 s or more
    # (the rest of the run takes about 0.1 s).
    assert time.monotonic() - started < 2.35


def test_without_the_worker_script_beside_it_nothing_starts(fake_cdk: Path, tmp_path: Path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy2(PRELOAD, scripts / PRELOAD.name)
    report, logged = run(fake_cdk, VALIDATE_FILE, preload=scripts / PRELOAD.name)
    assert report["thread"] == 0
    assert logged == []


def test_a_process_that_never_validates_does_not_wait_for_the_worker(fake_cdk: Path):
    """The worker takes 3 s to create its engine here; a process that needs none exits at once."""
    started = time.monotonic()
    result, logged = run(fake_cdk, "return 'done';", FAKE_CREATE="slow")
    assert result == "done"
    assert logged[0].startswith("creating aws-cdk's validation engine on a worker thread")
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("switch", [{"CDK_VALIDATION": "false"}, {"VALIDATION_ENGINE_EARLY": "0"}])
def test_off_when_aws_cdk_does_not_validate_or_when_switched_off(fake_cdk: Path, switch: dict[str, str]):
    report, logged = run(fake_cdk, VALIDATE_FILE, **switch)
    assert report["thread"] == 0
    assert logged == []


def test_nothing_starts_without_an_aws_cdk_lib(tmp_path: Path):
    shown = subprocess.run(
        ["node", "--require", str(PRELOAD), "-e", "console.log(require('worker_threads').threadId)"],
        env={**os.environ, "VALIDATION_ENGINE_EARLY_LOG": "1"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert (shown.stdout, shown.stderr) == ("0\n", "")


def installed_aws_cdk_lib() -> Path:
    """aws-cdk-lib as jsii unpacked it for this test process (its package cache)."""
    version = importlib.metadata.version("aws-cdk-lib")
    roots = sorted(Path(jsii_package_cache(), "aws-cdk-lib", version).glob("*/index.js"))
    if not roots:
        pytest.fail(f"aws-cdk-lib {version} is not in jsii's package cache ({jsii_package_cache()})")
    return roots[0].parent


def test_on_the_installed_aws_cdk_lib_the_worker_engine_finds_what_a_main_thread_engine_finds(
    synthesized: dict[str, Synthesized], tmp_path: Path
):
    """aws-cdk's default rules and its options, over the example's templates and one with a finding, with
    the engine the script hands out and with one created on the main thread from the package itself."""
    root = installed_aws_cdk_lib()
    (tmp_path / "driver.js").write_text(DRIVER)
    link = tmp_path / "node_modules" / "aws-cdk-lib"  # a root named like jsii's, so the script sees it load
    link.parent.mkdir()
    link.symlink_to(root)
    templates = sorted(synthesized["example"].outdir.glob("*.template.json"))
    finding = tmp_path / "finding.template.json"
    finding.write_text(json.dumps({"Resources": {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "RetentionInDays": 4}}}}))  # fmt: skip
    scenario = f"""
        const v = validate();
        const worker = new v.CompositeEngine({{ regoRules: rules }});
        const main = new (require(require.resolve('@aws/cloudformation-validate', {{ paths: [root] }})).CompositeEngine)(
          {{ regoRules: rules }});
        const options = {{ detailLevel: 'STANDARD', pseudoParameterOverrides: {{ accountId: '111111111111',
          region: 'eu-west-1' }}, severityLevel: 'WARN' }};
        return {json.dumps([str(t) for t in [*templates, finding]])}.map((path) => [
          worker.validateTemplate(new v.TemplateFile(path), options),
          main.validateTemplate(new v.TemplateFile(path), options),
        ]);
    """
    # in node with the V8 options app.py's node has (scripts/jsii-node.sh): the engines as they run there
    pairs, logged = run(link, scenario, node_options=tuple(OPTIONS))
    assert len(pairs) == len(templates) + 1 >= 8
    for from_worker, from_main in pairs:
        assert from_worker.pop("performance").keys() == from_main.pop("performance").keys()  # timings
        assert from_worker == from_main
    assert [d["ruleId"] for d in pairs[-1][0]["diagnostics"]] == ["W3030"]
    assert logged[1:] == ["handing out the engine created on the worker thread"]
