"""The shape of the ``stacks.config`` package: no import cycle with the modules built on it, one
copy of the models under ``python -m stacks.config``, modules a reader can take in, and every name
its importers use still exported from ``stacks.config``."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import stacks.config
from tests.conftest import ROOT, WITHOUT_JSII

PACKAGE = ROOT / "stacks" / "config"
#: Long enough for one section and its validators, short enough to read in one sitting.
MAX_MODULE_LINES = 400

# Each `stacks` module imported first, in one interpreter whose `stacks` modules are dropped in
# between (constructs_lib and aws_cdk stay loaded: the property is about `stacks`, and a new
# interpreter per module would cost a jsii start-up each).
_IMPORT_FIRST = """
import importlib, json, sys
loaded = {}
for first in ("stacks", "stacks.config", "stacks.naming", "stacks.org_settings", "stacks.deployers"):
    for name in [m for m in sys.modules if m == "stacks" or m.startswith("stacks.")]:
        del sys.modules[name]
    importlib.import_module(first)
    loaded[first] = sorted(m for m in sys.modules if m == "stacks" or m.startswith("stacks."))
print(json.dumps(loaded))
"""

# `python -m stacks.config check|schema` as runpy runs it, then every class named BaselineConfig.
_RUN_AS_MAIN = """
import contextlib, io, json, runpy, sys
from pydantic import BaseModel

def run(*argv):
    sys.argv = ["stacks.config", *argv]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_module("stacks.config", run_name="__main__", alter_sys=True)
        except SystemExit as exit:
            return exit.code, out.getvalue()
    return None, out.getvalue()

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

check = run("check", "config/example.yaml")
schema = run("schema")
models = sorted(f"{c.__module__}.{c.__qualname__}" for c in subclasses(BaseModel) if c.__name__ == "BaselineConfig")
print(json.dumps({"check": check, "schema": schema, "models": models}))
"""


def _python(code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_config_package_imports_no_other_stacks_module_and_its_dependents_import_first():
    loaded = _python(_IMPORT_FIRST)
    # The `stacks` package's own set-up (stacks/__init__.py: the node aws-cdk runs in) imports one leaf module.
    assert loaded["stacks"] == ["stacks", "stacks.node_runtime"]
    package = [m for m in loaded["stacks.config"] if m not in (*loaded["stacks"], "stacks.config")]
    assert package and all(m.startswith("stacks.config.") for m in package), loaded["stacks.config"]
    # Imported first, each finds the config package complete (no half-initialised module);
    # deployers needs it only inside its functions (and for type checking).
    for first in ("stacks.naming", "stacks.org_settings"):
        assert first in loaded[first] and "stacks.config.model" in loaded[first], loaded[first]
    assert "stacks.deployers" in loaded["stacks.deployers"]
    assert not {"stacks.naming", "stacks.org_settings", "stacks.deployers"} & set(loaded["stacks.config"])


def _stacks_imports(node: ast.AST) -> set[str]:
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.ImportFrom) and child.module is not None:
            modules = [child.module] if child.module != "stacks" else [f"stacks.{a.name}" for a in child.names]
            found.update(m for m in modules if m.startswith("stacks."))
        elif isinstance(child, ast.Import):
            found.update(a.name for a in child.names if a.name.startswith("stacks."))
    return {m for m in found if not (m == "stacks.config" or m.startswith("stacks.config."))}


def test_only_the_scp_check_calls_up_into_the_stacks_and_only_from_inside_the_function():
    upward: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text())
        top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        assert not _stacks_imports(ast.Module(body=top_level, type_ignores=[])), path.name
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            if imports := _stacks_imports(function):
                upward.setdefault(f"{path.stem}.{function.name}", set()).update(imports)
    # stacks.control_tower: in Control Tower mode its roles stay exempt (checked inside the function too).
    assert upward == {"checks_scp._scp_problems": {"stacks.org_settings", "stacks.deployers", "stacks.control_tower"}}


def test_python_m_stacks_config_runs_on_one_copy_of_the_models():
    """`python -m stacks.config` once ran the models as `__main__` next to the `stacks.config` copy
    that org_settings imported, and the SCP check had to convert between the two."""
    ran = _python(_RUN_AS_MAIN)
    assert ran["models"] == ["stacks.config.model.BaselineConfig"]
    assert ran["check"] == [0, "config/example.yaml: valid\n"]  # example.yaml reaches the SCP check
    assert ran["schema"] == [0, (ROOT / "config" / "schema.json").read_text()]


def test_each_module_stays_short():
    lengths = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert len(lengths) > 10, lengths
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def _names_imported_from_stacks_config() -> dict[str, set[str]]:
    """Every name a module, test, script or README/docs block imports from ``stacks.config`` itself."""
    sources = [
        (str(path.relative_to(ROOT)), path.read_text())
        for path in ROOT.rglob("*.py")
        if not {".venv", "node_modules", "cdk.out"} & set(path.relative_to(ROOT).parts)
    ]
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        blocks = re.findall(r"^```python\n(.*?)^```", doc.read_text(), re.S | re.M)
        sources += [(str(doc.relative_to(ROOT)), block) for block in blocks]
    names: dict[str, set[str]] = {}
    for where, text in sources:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module == "stacks.config":
                for alias in node.names:
                    names.setdefault(alias.name, set()).add(where)
    return names


def test_every_name_its_importers_use_is_exported_from_stacks_config():
    imported = _names_imported_from_stacks_config()
    assert {"BaselineConfig", "ConfigError", "load_config", "on_premises_account"} <= set(imported)
    assert {name: where for name, where in imported.items() if name not in stacks.config.__all__} == {}
    assert [name for name in stacks.config.__all__ if not hasattr(stacks.config, name)] == []


# `python -m stacks.config check` with aws_cdk, constructs and jsii made unimportable: any import of
# them on the way (the library's package, the SCP documents, the role table the deployer check
# reads) fails the check with an error line instead of "valid".
_CHECK_WITHOUT_JSII = (
    WITHOUT_JSII
    + """
import runpy
sys.argv = ["stacks.config", "check", *sys.argv[1:]]
runpy.run_module("stacks.config", run_name="__main__", alter_sys=True)
"""
)


def test_the_config_check_imports_neither_aws_cdk_nor_jsii():
    """A check is a fraction of a second: importing aws_cdk starts jsii's node (about two seconds)."""
    configs = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "config").glob("*.yaml"))
    assert len(configs) >= 3, configs
    for config in configs:
        result = subprocess.run(
            [sys.executable, "-c", _CHECK_WITHOUT_JSII, config],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (result.returncode, result.stdout, result.stderr) == (0, f"{config}: valid\n", ""), result
