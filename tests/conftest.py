"""Shared fixtures: each example config is synthesized once per test run, whichever xdist process
asks first (jsii start-up and the cdk-nag packs are costly); the others read its output."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from stacks.node_runtime import APP_CONTEXT, jsii_node_environment

# The node app.py runs aws-cdk in (set before the first `import aws_cdk` starts it, which a test module
# makes; the subprocesses inherit it).
os.environ.update(jsii_node_environment(os.environ))

# No garbage collection while the test modules are imported: see `pytest_runtestloop`.
gc.disable()

import pytest  # noqa: E402

from stacks.config import BaselineConfig, load_config  # noqa: E402
from tests.collector import settle_imports  # noqa: E402
from tests.type_checks import remember_jsii_type_checks  # noqa: E402

if TYPE_CHECKING:
    import aws_cdk as cdk
    from aws_cdk import assertions

# aws_cdk (and the library's stacks, which import it) are imported where used, not here: the xdist
# controller loads this file for its hooks and runs no test, and importing aws_cdk there would start
# a node process with aws-cdk-lib loaded (about 1.7 s before the workers start, 230 MB held all run).

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("NODE_NO_WARNINGS", "1")

ROOT = Path(__file__).resolve().parent.parent
#: Feature flags and context exactly as app.py's ``cdk.App`` has them under `cdk synth`: its own
#: (``APP_CONTEXT``: no creation stack traces) beneath what the CLI applies from cdk.json.
CDK_CONTEXT: dict[str, Any] = {**APP_CONTEXT, **json.loads((ROOT / "cdk.json").read_text())["context"]}
EXAMPLE_CONFIGS = {
    "example": ROOT / "config" / "example.yaml",
    "single-account": ROOT / "config" / "single-account.yaml",
    "control-tower": ROOT / "config" / "control-tower.yaml",
}


#: Python source that makes aws_cdk, constructs and jsii unimportable: put before the code of a
#: ``python -c`` that must not start jsii's node (an import of them raises ImportError).
WITHOUT_JSII = """
import sys

class NoJsii:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("aws_cdk", "constructs", "jsii"):
            raise ImportError(f"{name} imported")

sys.meta_path.insert(0, NoJsii())
"""


@dataclass
class StackInfo:
    """A stack of a shared synthesis: where it deploys and what it depends on (the stack objects live
    in the process that synthesized)."""

    name: str
    account: str
    region: str
    dependencies: list[StackInfo] = field(default_factory=list, compare=False, repr=False)


@dataclass
class Synthesized:
    config: BaselineConfig
    stacks: dict[str, cdk.Stack] | dict[str, StackInfo]
    outdir: Path

    def template(self, stack_name: str) -> assertions.Template:
        from aws_cdk import assertions

        return assertions.Template.from_json(self.template_json(stack_name))

    def template_json(self, stack_name: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack_name}.template.json").read_text())

    def stackset_templates(self) -> dict[str, dict[str, Any]]:
        """StackSet templates (cdk-stacksets writes them beside the stack templates), by file name."""
        return {p.name: json.loads(p.read_text()) for p in sorted(self.outdir.glob("*.stackset.template.json"))}

    def stackset_template(self) -> dict[str, Any]:
        (template,) = self.stackset_templates().values()
        return template

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(config: BaselineConfig, outdir: Path, *, compliance: bool = True) -> Synthesized:
    import aws_cdk as cdk

    from stacks.baseline import build_stacks
    from stacks.compliance import add_compliance_checks

    app = cdk.App(outdir=str(outdir), context=dict(CDK_CONTEXT))
    stacks = build_stacks(app, config)
    if compliance:
        add_compliance_checks(app)
    app.synth()
    return Synthesized(config=config, stacks=stacks, outdir=outdir)


#: A folder all processes of this test run share (xdist workers have one test run id), or None.
_shared: Path | None = None


def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the processes of this run share: beside the xdist workers' own temp folders."""
    global _shared
    if _shared is None:
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        base = tmp_path_factory.getbasetemp()
        _shared = base.parent / f"shared-{run}" if run else base / "shared"
        _shared.mkdir(exist_ok=True)
    return _shared


def _lock(path: Path, *, wait: bool) -> IO[str] | None:
    """An exclusive lock on ``path`` (held until the file is closed), or None if busy and not ``wait``."""
    handle = path.open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _synthesize_once(name: str, shared: Path) -> Synthesized:
    """``name``'s config synthesized with the four packs into ``shared``, unless a process did already.
    Called with the config's lock held."""
    config, outdir, done = load_config(EXAMPLE_CONFIGS[name]), shared / name, shared / f"{name}.stacks.json"
    if not done.exists():
        synth = synthesize(config, outdir)
        described = {
            name: [stack.account, stack.region, [d.stack_name for d in stack.dependencies]]
            for name, stack in synth.stacks.items()
        }
        done.write_text(json.dumps(described))
    described = json.loads(done.read_text())
    stacks = {name: StackInfo(name, account, region) for name, (account, region, _) in described.items()}
    for name, (_, _, dependencies) in described.items():
        stacks[name].dependencies = [stacks[d] for d in dependencies]
    return Synthesized(config=config, stacks=stacks, outdir=outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Synthesized]]:
    """Both bundled configs, synthesized with the four cdk-nag packs (a finding fails the fixture).

    Once per test run: a process first takes the configs no other process is synthesizing (so two
    xdist workers synthesize one config each, side by side), then waits for and reads the others.
    """
    shared = shared_dir(tmp_path_factory)
    result: dict[str, Synthesized] = {}
    busy = []
    for name in EXAMPLE_CONFIGS:
        lock = _lock(shared / f"{name}.lock", wait=False)
        if lock is None:
            busy.append(name)
            continue
        with lock:
            result[name] = _synthesize_once(name, shared)
    for name in busy:
        with _lock(shared / f"{name}.lock", wait=True):
            result[name] = _synthesize_once(name, shared)
    yield {name: result[name] for name in EXAMPLE_CONFIGS}


#: Test files that take longest (measured with --durations), longest first: xdist starts them first, so
#: the two workers do not end with one of them running alone. Scheduling only: a stale list costs time.
SLOW_FILES = (
    "tests/integration/test_local_deploy.py",
    "tests/stacks/test_preflight.py",
    "tests/stacks/test_synth_without_credentials.py",
    "tests/stacks/test_config.py",
    "tests/stacks/test_config_properties.py",
)
#: Files whose tests share no costly module fixture: each test is its own unit of work, so their slow
#: tests (property-based, hundreds of examples each) spread over both workers.
SPLIT_FILES = ("tests/stacks/test_config_properties.py",)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """The garbage collector, tuned for a test process before its first test (in each xdist worker and
    in the process that runs them). What the imports made (aws-cdk's generated modules, the library,
    later cfn-lint's schemas, moto and botocore) lives as long as the process, and each full pass of
    the collector walks what it tracks: in a whole run, 35 full passes of up to 0.9 s each in the busier
    worker, 24 s of collection in all. So the imports ran with the collector off (above), what they made
    is frozen out of every pass, and a young collection comes every 20,000 new objects instead of every
    700, so that fewer pass on to the older generations: 7 s of collection in all, and at most 60 MiB
    more in a worker (565 MiB).

    And, in a process that runs tests (not the xdist controller, which imports no jsii), jsii's argument
    checks skip what a value's class has already decided (``tests/type_checks.py``)."""
    settle_imports()
    if not session.config.pluginmanager.has_plugin("dsession"):
        remember_jsii_type_checks()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own ``pytest_unconfigure``, which has just collected every generation (to report an
    exception a finalizer raised), freeze what that pass left: all of it lives on to the process's end.
    pytest collects every generation once more in its clean-up, for what the other plugins' unconfigure
    hooks let go; that pass then walks only what came after this one, not the test process's whole
    heap again (0.16-0.30 s a process at the end of a run)."""
    gc.freeze()


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (whole files per worker: module fixtures run once), slow files first and
    SPLIT_FILES test by test."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SlowFirst(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return nodeid if scope in SPLIT_FILES else scope

        def _assign_work_unit(self, node: Any) -> None:
            if not getattr(self, "_ordered", False):
                self._ordered = True

                def rank(scope: str) -> int:
                    file = scope.split("::", 1)[0]
                    return SLOW_FILES.index(file) if file in SLOW_FILES else len(SLOW_FILES)

                # sorted() is stable: the rest keep xdist's order (most tests first).
                for scope in sorted(self.workqueue, key=rank):
                    self.workqueue.move_to_end(scope)
            super()._assign_work_unit(node)

    return SlowFirst(config, log)


def jsii_package_cache() -> str:
    """Where the jsii runtime keeps unpacked packages for this user (its ``defaultCacheRoot``)."""
    if "JSII_RUNTIME_PACKAGE_CACHE_ROOT" in os.environ:
        return os.environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"]
    if sys.platform == "darwin":
        return str(Path.home() / "Library" / "Caches" / "com.amazonaws.jsii" / "package-cache")
    return str(Path.home() / ".cache" / "aws" / "jsii" / "package-cache")


def module_code_cache() -> str:
    """Where scripts/module-code-cache.js keeps V8's code cache for this user (its default folder)."""
    if os.environ.get("MODULE_CODE_CACHE_DIR"):
        return os.environ["MODULE_CODE_CACHE_DIR"]
    return str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "constructs-lib" / "v8-code-cache")


def cfn_lint(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint over templates (and any options); return code 0 means no error and no warning.

    The cfn-lint command itself, run in this process: its start-up (a second and a half of imports
    and schemas) is paid once per test process rather than per call. Within a test run, the processes
    share the work: a template found clean (exit code 0, no output) with the same options is not
    linted again, in whatever set and under whatever path it comes back (several tests lint the shared
    syntheses), and a template another process is linting at the moment is waited for rather than
    linted twice. cfn-lint lints each template on its own and prints nothing for a clean one, so the
    others' results are the whole result: the same exit code and the same lines (of several batches,
    in batch order).
    """
    argv = ["--format", "parseable", *map(str, arguments)]
    templates = [argument for argument in argv if Path(argument).is_file()]
    if _shared is None or not templates:
        return _run_cfn_lint(argv)
    options = [argument for argument in argv if argument not in templates]
    key = {template: _lint_key(options, template) for template in templates}

    def marker(template: str) -> Path:  # there once the template was found clean
        return _shared / f"cfn-lint-clean-{key[template]}"

    def lock_of(template: str) -> Path:  # held while a process lints it
        return _shared / f"cfn-lint-{key[template]}.lock"

    def lint(batch: list[str]) -> subprocess.CompletedProcess[str]:
        result = _run_cfn_lint([argument for argument in argv if argument in options or argument in batch])
        if (result.returncode, result.stdout, result.stderr) == (0, "", ""):
            for template in batch:
                marker(template).touch()
        return result

    results, claimed, elsewhere, locks = [], [], [], []
    try:
        for template in templates:
            if marker(template).exists():
                continue
            lock = _lock(lock_of(template), wait=False)
            if lock is None:
                elsewhere.append(template)  # being linted by another process
                continue
            locks.append(lock)
            if not marker(template).exists():  # not finished by another process since the check above
                claimed.append(template)
        if claimed:
            results.append(lint(claimed))
    finally:
        for lock in locks:
            lock.close()
    for template in elsewhere:
        _lock(lock_of(template), wait=True).close()  # until that process is done
    if left := [template for template in elsewhere if not marker(template).exists()]:
        results.append(lint(left))
    returncode = 0
    for result in results:
        returncode |= result.returncode
    stdout, stderr = "".join(r.stdout for r in results), "".join(r.stderr for r in results)
    return subprocess.CompletedProcess(["cfn-lint", *argv], returncode, stdout, stderr)


def _lint_key(options: list[str], template: str) -> str:
    """What cfn-lint's verdict on a template depends on: the options, in order, and the template's bytes."""
    return hashlib.sha256(json.dumps(options).encode() + b"\0" + Path(template).read_bytes()).hexdigest()


def _run_cfn_lint(argv: list[str]) -> subprocess.CompletedProcess[str]:
    from cfnlint.runner import main  # imported on first use: only the gate tests lint

    _load_cfn_lint_rules_once()
    _share_cfn_lint_validator_classes()
    _cache_cfn_lint_dataclass_fields()
    stdout, stderr = io.StringIO(), io.StringIO()
    returncode: int | str | None = 0
    with (
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
        _argv(["cfn-lint", *argv]),
    ):
        try:
            main()
        except SystemExit as exit_:
            returncode = exit_.code
    code = returncode if isinstance(returncode, int) else (0 if returncode is None else 1)
    return subprocess.CompletedProcess(["cfn-lint", *argv], code, stdout.getvalue(), stderr.getvalue())


@functools.cache
def _load_cfn_lint_rules_once() -> None:
    """Each cfn-lint run loads its rules anew: it executes every rule module (over 300) and reads
    their schemas, 0.7 s a run and a quarter of the lint time of a test run. Here a process loads
    each rules folder once and each run gets a new collection of the same rule objects, which
    cfn-lint is built for: one run lints many templates with the same objects, and each run
    configures and initializes every rule before it checks a template (``Rules.run``), so no option
    of an earlier run carries over."""
    from cfnlint.rules import Rules

    load = Rules.create_from_directory.__func__
    loaded: dict[str, Rules] = {}

    def create_from_directory(cls: type[Rules], rulesdir: str) -> Rules:
        if rulesdir not in loaded:
            loaded[rulesdir] = load(cls, rulesdir)
        return cls._from_list(list(loaded[rulesdir].values()))

    Rules.create_from_directory = classmethod(create_from_directory)


#: cfn-lint's own ``create`` of validator classes, kept while ``_share_cfn_lint_validator_classes`` stands in.
_unshared_create: Any = None


@functools.cache
def _share_cfn_lint_validator_classes() -> None:
    """cfn-lint makes a new validator class (a dataclass, its methods compiled from source) each time a
    rule extends a validator, about a thousand times for the example's templates, though a dozen
    distinct classes come out: a sixth of the lint time. Here a process makes each class once. A class
    is what ``create`` closes over: its validators, function filter and resolvers. Two calls share a class
    when those are the same: the same keys in the same order, mapped to the same functions (a bound
    method: the same function of the same object), and a function filter of equal fields; the first
    call's objects are kept with the class, so no object of a key can be freed and its id reused.
    cfn-lint never changes these mappings or the filter after the class is made."""
    import dataclasses
    import types

    from cfnlint.jsonschema import validators as module

    global _unshared_create
    _unshared_create = create = module.create
    classes: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def callables(mapping: Any) -> tuple[Any, ...]:
        return tuple(
            (name, (f.__func__, id(f.__self__)) if isinstance(f, types.MethodType) else id(f))
            for name, f in (mapping or {}).items()
        )

    def fields(function_filter: Any) -> Any:
        if function_filter is None or not dataclasses.is_dataclass(function_filter):
            return ("object", id(function_filter))
        values = ((f.name, getattr(function_filter, f.name)) for f in dataclasses.fields(function_filter))
        return (type(function_filter), *((n, tuple(v) if isinstance(v, list) else v) for n, v in values))

    def shared_create(validators: Any = None, function_filter: Any = None, fn_resolvers: Any = None) -> Any:
        key = (callables(validators), fields(function_filter), callables(fn_resolvers))
        try:
            hash(key)
        except TypeError:  # a filter field cfn-lint may add one day that cannot be compared: not shared
            return create(validators=validators, function_filter=function_filter, fn_resolvers=fn_resolvers)
        if key not in classes:
            made = create(validators=validators, function_filter=function_filter, fn_resolvers=fn_resolvers)
            classes[key] = (made, validators, function_filter, fn_resolvers)
        return classes[key][0]

    module.create = shared_create


#: The cfn-lint modules that look up a dataclass's fields each time they copy a validator, context or path.
_FIELDS_USERS = ("cfnlint.context.context", "cfnlint.jsonschema._filter", "cfnlint.jsonschema.validators")


@functools.cache
def _cache_cfn_lint_dataclass_fields() -> None:
    """cfn-lint copies its validator, context and path objects (``evolve``) hundreds of thousands of times
    a lint, and each copy asks ``dataclasses.fields`` for the class's fields, which builds a new tuple
    from the class's field table every time: about 6 % of a lint. A class's fields are fixed once the
    class is made, so here each of those modules gets them once per class (held weakly: the classes
    cfn-lint makes can still be freed)."""
    import dataclasses
    import importlib
    import weakref

    fields = dataclasses.fields
    known: weakref.WeakKeyDictionary[type, tuple[dataclasses.Field[Any], ...]] = weakref.WeakKeyDictionary()

    def fields_once(class_or_instance: Any) -> tuple[dataclasses.Field[Any], ...]:
        cls = class_or_instance if isinstance(class_or_instance, type) else type(class_or_instance)
        if cls not in known:
            known[cls] = fields(cls)
        return known[cls]

    for name in _FIELDS_USERS:
        importlib.import_module(name).fields = fields_once


@contextlib.contextmanager
def cfn_lint_as_it_comes() -> Iterator[None]:
    """cfn-lint as it comes: a new validator class on every ``create``, and ``dataclasses.fields`` asked
    at every copy (to compare with what ``cfn_lint`` does)."""
    import dataclasses
    import importlib

    from cfnlint.jsonschema import validators as module

    _share_cfn_lint_validator_classes()
    _cache_cfn_lint_dataclass_fields()
    users = [importlib.import_module(name) for name in _FIELDS_USERS]
    shared, module.create = module.create, _unshared_create
    once = [user.fields for user in users]
    for user in users:
        user.fields = dataclasses.fields
    try:
        yield
    finally:
        module.create = shared
        for user, fields in zip(users, once, strict=True):
            user.fields = fields


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved, sys.argv = sys.argv, argv
    try:
        yield
    finally:
        sys.argv = saved


def nag_failures(outdir: Path) -> list[str]:
    """The cdk-nag packs whose validation report in ``outdir`` did not conclude in success (empty: clean)."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return [plugin.get("pluginName", "?") for plugin in report["pluginReports"] if plugin["conclusion"] != "success"]


def stack_template(stack: cdk.Stack) -> assertions.Template:
    from aws_cdk import assertions

    return assertions.Template.from_stack(stack)


def only(template: assertions.Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The one resource of ``resource_type`` in ``template``, as (logical id, resource)."""
    found = template.find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {list(found)}"
    return next(iter(found.items()))


def by_sid(items: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    """The one policy statement with Sid ``sid``."""
    matches = [s for s in items if s.get("Sid") == sid]
    assert len(matches) == 1, f"no single statement {sid}: {[s.get('Sid') for s in items]}"
    return matches[0]


def new_app() -> cdk.App:
    """A plain App for the construct tests: none of our cdk.json context (constructs must work without
    our feature flags), and aws-cdk's built-in CloudFormation validation off.

    Without ``@aws-cdk/core:validateAgainstDefaultRules`` (one of those flags) that validation only
    writes warnings into the app's validation report, and no test reads the report of these apps: they
    are synthesized by ``Template.from_stack``. Yet each synthesis waited for a WebAssembly engine to
    go over its templates: 3.4 s of the construct tests' 50 s in one process. It still runs wherever
    its findings count: in every synthesis with the cdk.json context (where a finding fails the
    synthesis, and the bundled configs' reports must be empty: tests/stacks/test_gates.py), and in the
    gate tests' own apps, whose reports the tests read.

    Like app.py's, it does not capture a stack trace at each resource's creation (``APP_CONTEXT``): not
    a feature flag, it changes no template.
    """
    import aws_cdk as cdk

    return cdk.App(builtin_cloud_formation_validation=False, context=dict(APP_CONTEXT))


def new_stack(account: str = "111111111111", region: str = "eu-west-1") -> cdk.Stack:
    """A stack in a plain App (``new_app``)."""
    import aws_cdk as cdk

    return cdk.Stack(new_app(), "TestStack", env=cdk.Environment(account=account, region=region))
