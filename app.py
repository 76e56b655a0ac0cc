#!/usr/bin/env python3
"""CDK entry point: reads the config named by the ``config`` context, builds the stacks, validates.

The only place that reads context or the environment.

    npx cdk synth                              # config/example.yaml
    npx cdk synth -c config=config/mine.yaml   # your organization
    npx cdk synth -c compliance=false          # skip the cdk-nag packs (faster local iteration)

A failed synth writes nothing into the output directory (``cdk.out``): the templates are written to
a staging directory and moved there only when the whole synth succeeded. The one exception is
``validation-report.json`` when the compliance checks fail: it lists the findings.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

from stacks.node_runtime import jsii_node_environment

# jsii's node with V8 tuned for one synthesis, unless JSII_NODE names another node (stacks/node_runtime.py).
os.environ.update(jsii_node_environment(os.environ))

# cdk-nag's EventBridge rule (AwsSolutions-EVB1) reads CfnEventBusPolicy's deprecated `principal`, and
# jsii prints a deprecation warning for it on every synth with cdk-nag on, one that no config or user can
# act on. The jsii node process reads JSII_DEPRECATED once, when `import aws_cdk` starts it; a value set
# by the user wins. The library itself calls no deprecated API: tests synthesize every bundled config
# without cdk-nag under JSII_DEPRECATED=fail.
os.environ.setdefault("JSII_DEPRECATED", "quiet")

import aws_cdk as cdk

from stacks.baseline import build_stacks
from stacks.compliance import add_compliance_checks
from stacks.config import ConfigError, load_config

DEFAULT_CONFIG = "config/example.yaml"


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def synth(app: cdk.App, path: str) -> int:
    """Build and synthesize ``app`` from the config at ``path``; 1 with ``config error:`` lines on failure."""
    try:
        config = load_config(path)
    except ConfigError as error:
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
    if str(app.node.try_get_context("compliance")).lower() != "false":
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
        app = cdk.App(outdir=str(staging))
        status = synth(app, app.node.try_get_context("config") or DEFAULT_CONFIG)
        if target is not None:
            if status == 0:
                shutil.copytree(staging, target, dirs_exist_ok=True)
            elif status == 2 and (staging / "validation-report.json").is_file():
                Path(target).mkdir(parents=True, exist_ok=True)
                shutil.copy2(staging / "validation-report.json", target)
            elif Path(target).is_dir() and not any(Path(target).iterdir()):
                # `cdk synth` creates the output directory before it runs the app: an empty one left
                # behind looks like a synth that produced nothing, so remove it.
                Path(target).rmdir()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return 1 if status else 0


if __name__ == "__main__":
    # What the imports made (aws_cdk's generated modules: some 140,000 objects the collector tracks) lives as
    # long as the process: leave it out of the garbage collector's full passes, which would walk it each time
    # (their time in a synthesis of the example: 0.19 s -> 0.08 s).
    gc.freeze()
    sys.exit(main())
