"""A lower bound for the benchmark: an app that only re-emits finished templates.

    python bench/templates_only.py DIRECTORY

Each ``*.template.json`` in DIRECTORY (a cloud assembly of app.py) becomes a stack holding that
template through ``cloudformation_include.CfnInclude``: node parses it into the same L1 resources,
and aws-cdk validates and writes them as it does for app.py, with the same context. What it leaves
out is everything a construct library does to arrive at those templates: the L2 constructs, the
jsii round trips of building them, the Python imports beyond aws-cdk-lib's, the config. So no
implementation of app.py that produces these templates can synthesize faster than this app, give or
take the staging of the one Lambda asset it leaves out.

Stacks carry no bootstrap-version rule of their own: each template has its rule and parameter already.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cloudformation_include as cfn_inc


def reemit(app: cdk.App, templates: list[Path]) -> None:
    """One stack per template in ``app``, each holding its template through ``CfnInclude``."""
    for index, template in enumerate(templates):
        stack = cdk.Stack(
            app,
            f"Template{index}",
            synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        )
        cfn_inc.CfnInclude(stack, "Template", template_file=str(template))


def main(directory: str) -> int:
    templates = sorted(Path(directory).glob("*.template.json"))
    if not templates:
        print(f"{directory}: no *.template.json to re-emit", file=sys.stderr)
        return 1
    app = cdk.App()
    reemit(app, templates)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
