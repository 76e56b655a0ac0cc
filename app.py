#!/usr/bin/env python3
"""CDK entry point: reads the config named by the ``config`` context, builds the stacks, validates.

The only place that reads context or the environment.

    npx cdk synth                              # config/example.yaml
    npx cdk synth -c config=config/mine.yaml   # your organization
    npx cdk synth -c compliance=false          # skip the cdk-nag packs (faster local iteration)
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.baseline import build_stacks
from stacks.compliance import add_compliance_checks
from stacks.config import ConfigError, load_config

DEFAULT_CONFIG = "config/example.yaml"


def main() -> int:
    app = cdk.App()
    path = app.node.try_get_context("config") or DEFAULT_CONFIG
    try:
        config = load_config(path)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    build_stacks(app, config)
    if str(app.node.try_get_context("compliance")).lower() != "false":
        add_compliance_checks(app)
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        # The findings were printed above by the validation plugins.
        print(f"compliance checks failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
