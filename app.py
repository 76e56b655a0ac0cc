#!/usr/bin/env python3
"""CDK entry point: reads the config named by the ``config`` context, builds the stacks, validates.

The only place that reads context or the environment.

    npx cdk synth                              # config/example.yaml
    npx cdk synth -c config=config/mine.yaml   # your organization
    npx cdk synth -c compliance=false          # skip the cdk-nag packs (faster local iteration)

A failed synth writes nothing into the output directory (``cdk.out``): the templates are written to
a staging directory and moved there only when the whole synth succeeded. The one exception is
``validation-report.json`` when the compliance checks fail: it lists the findings.

A config that does not load fails before aws-cdk starts (about 0.5 s rather than 2.5 s): the config
check imports no aws_cdk, and the path comes from the context the CDK CLI hands every app, read as
``cdk.App`` reads it.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # No garbage collection while the imports build what lives as long as the process: see the end.
    gc.disable()

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stacks.config import BaselineConfig, ConfigError, load_config
from stacks.node_runtime import APP_CONTEXT, jsii_node_environment

DEFAULT_CONFIG = "config/example.yaml"
#: Where the CDK CLI puts the context for the app: aws-cdk-lib's ``cxapi.CONTEXT_ENV`` and, for a context
#: too large for the environment, the file ``cxapi.CONTEXT_OVERFLOW_LOCATION_ENV`` names.
CONTEXT_ENV = "CDK_CONTEXT_JSON"
CONTEXT_OVERFLOW_LOCATION_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"


def context_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The context ``cdk.App`` reads from the environment (aws-cdk-lib's ``App.loadContext``): the JSON
    in ``CDK_CONTEXT_JSON``, then the file ``CONTEXT_OVERFLOW_LOCATION_ENV`` names, which wins. Empty
    when either cannot be read: ``cdk.App`` then reports it as it always did."""
    try:
        context = json.loads(environ[CONTEXT_ENV]) if environ.get(CONTEXT_ENV) else {}
        if environ.get(CONTEXT_OVERFLOW_LOCATION_ENV):
            context = {**context, **json.loads(Path(environ[CONTEXT_OVERFLOW_LOCATION_ENV]).read_text())}
    except (OSError, ValueError, TypeError):
        return {}
    return context if isinstance(context, dict) else {}


def _remove_if_empty(target: str | None) -> None:
    """`cdk synth` creates the output directory before it runs the app: an empty one left behind by a
    failed synth looks like a synth that produced nothing, so remove it."""
    if target is not None and Path(target).is_dir() and not any(Path(target).iterdir()):
        Path(target).rmdir()


def compliance_wanted(value: Any) -> bool:
    """The ``compliance`` context: the cdk-nag packs run unless it is false (``-c compliance=false``; the CLI
    passes a string, cdk.json a boolean). Any other value is refused rather than taken for "on"."""
    if value is not None and str(value).lower() not in ("true", "false"):
        raise ValueError(
            f"context error: compliance: {value!r} is not allowed: true or false "
            "(-c compliance=false skips the cdk-nag packs)"
        )
    return str(value).lower() != "false"


def config_path(value: Any) -> str:
    """The ``config`` context: ``DEFAULT_CONFIG`` when absent. An empty value is refused rather than taken
    for the default: ``-c config=$CONFIG`` with the variable unset would synthesize the example organization."""
    if value is None:
        return DEFAULT_CONFIG
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"context error: config: {value!r} is not allowed: the path of a config file (-c config=config/acme.yaml)"
        )
    return value


def load_or_exit(environ: Mapping[str, str]) -> tuple[str, BaselineConfig]:
    """The config the context names, loaded; on a ``ConfigError`` (or a ``config`` or ``compliance`` context
    that cannot be right), its lines on stderr and exit 1."""
    context = context_from_environment(environ)
    try:
        path = config_path(context.get("config"))
        compliance_wanted(context.get("compliance"))
        return path, load_config(path)
    except (ConfigError, ValueError) as error:
        print(error, file=sys.stderr)
        _remove_if_empty(environ.get("CDK_OUTDIR"))
        sys.exit(1)


#: Run as a script: the config, loaded before aws-cdk starts (and only then).
LOADED: tuple[str, BaselineConfig] | None = load_or_exit(os.environ) if __name__ == "__main__" else None

# jsii's node with V8 tuned for one synthesis, unless JSII_NODE names another node (stacks/node_runtime.py).
os.environ.update(jsii_node_environment(os.environ))

# cdk-nag's EventBridge rule (AwsSolutions-EVB1) reads CfnEventBusPolicy's deprecated `principal`, and
# jsii prints a deprecation warning for it on every synth with cdk-nag on, one that no config or user can
# act on. The jsii node process reads JSII_DEPRECATED once, when `import aws_cdk` starts it; a value set
# by the user wins. The library itself calls no deprecated API: tests synthesize every bundled config
# without cdk-nag under JSII_DEPRECATED=fail.
os.environ.setdefault("JSII_DEPRECATED", "quiet")

# Imported only now: `import aws_cdk` starts its node, after the environment above and the config check.
import aws_cdk as cdk  # noqa: E402

from stacks.baseline import build_stacks  # noqa: E402
from stacks.compliance import add_compliance_checks  # noqa: E402


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def synth(app: cdk.App, path: str, config: BaselineConfig | None = None) -> int:
    """Build and synthesize ``app`` from the config at ``path`` (``config``, when it was loaded already);
    1 with ``config error:`` lines on failure."""
    try:
        compliance = compliance_wanted(app.node.try_get_context("compliance"))
        if config is None:
            config = load_config(path)
    except (ConfigError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    try:
        build_stacks(app, config)
    except (ValueError, RuntimeError) as error:
        # The constructs (ValueError) or aws-cdk (RuntimeError through jsii) refused a value the
        # config check let through: still one line per problem, but it is a gap in stacks/config/
        # (`python -m stacks.config check` said valid).
        text = str(error) if isinstance(error, ValueError) else _first_line(error)
        lines = [line.strip().removeprefix("- ") for line in text.splitlines() if line.strip()]
        print(
            "\n".join(f"config error: {path}: {line}" for line in lines)
            + f"\nconfig error: {path}: (the config check missed this problem: please report it)",
            file=sys.stderr,
        )
        return 1
    if compliance:
        add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            print(f"config error: {path}: synth failed: {_first_line(error)}", file=sys.stderr)
            return 1
        # The findings were printed above by the validation plugins.
        print(f"compliance checks failed: {_first_line(error)}", file=sys.stderr)
        return 2
    return 0


def main() -> int:
    target = os.environ.get("CDK_OUTDIR")
    staging = Path(tempfile.mkdtemp(prefix="cdk-synth-"))
    try:
        app = cdk.App(outdir=str(staging), context=dict(APP_CONTEXT))
        path = config_path(app.node.try_get_context("config"))  # refused before aws-cdk started if wrong
        # The config loaded before aws-cdk started, unless the app's context names another one.
        status = synth(app, path, LOADED[1] if LOADED is not None and LOADED[0] == path else None)
        if target is not None:
            if status == 0:
                shutil.copytree(staging, target, dirs_exist_ok=True)
            elif status == 2 and (staging / "validation-report.json").is_file():
                Path(target).mkdir(parents=True, exist_ok=True)
                shutil.copy2(staging / "validation-report.json", target)
            else:
                _remove_if_empty(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return 1 if status else 0


if __name__ == "__main__":
    # What the imports made (aws_cdk's generated modules: some 140,000 objects the collector tracks) lives as
    # long as the process. The collector was off while they were made (the top of this file): its full passes
    # would walk them each time, twice during the imports alone. Frozen, they stay out of every later pass.
    # The garbage collector's time in a synthesis of the example: 0.21 s with the collector on throughout,
    # 0.02 s this way.
    gc.freeze()
    gc.enable()
    sys.exit(main())
