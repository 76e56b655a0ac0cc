"""The node process jsii starts for the app: node with V8 tuned for one short synthesis on few cores.

jsii runs aws-cdk in a node child process, started on the first ``import aws_cdk``, and names its
node by ``JSII_NODE`` (default ``node``). The app points it at ``scripts/jsii-node.sh``, which runs
``node --no-concurrent-marking --max-semi-space-size=8 --liftoff-only`` (only the options that node
accepts: none if it refuses all three) with ``--require`` of ``scripts/module-code-cache.js`` and
``scripts/validation-engine-early.js``. On the 2-core machines this project is measured on, V8's
background threads cost more than they saved (bench/synth.py, docs/testing.md):

- concurrent marking (the garbage collector's): with it off, a synthesis of the example took 7-13 %
  less wall time and 15-21 % less CPU, and aws-cdk's own one-resource app about 25 % less; the
  smaller young generation keeps the peak memory about 10-15 MiB lower;
- TurboFan's recompilation of aws-cdk's WebAssembly template validator: with Liftoff (V8's baseline
  WebAssembly compiler) only, a synthesis of the example takes 25-35 % less CPU, 8-20 % less wall time
  and 180 MiB less memory.

Templates and validation findings are the same either way; only when V8 collects garbage and how it
compiles code change.

The wrapper also has node preload ``scripts/validation-engine-early.js``: it creates aws-cdk's
CloudFormation validation engine (1-2 s of CPU, which aws-cdk spends in ``app.synth()``) on a worker
thread as soon as node loads aws-cdk-lib, so that it is ready when the stacks are built, and hands it to
aws-cdk when aws-cdk asks for its default engine; once the templates are written it validates them
there while cdk-nag's packs run. While the stacks are built, python and node take turns, one core
busy: the worker runs on the other. On the example this takes 1.5-3 s off a synthesis's wall
time, at the same CPU; the findings are the same (the same engine and rules on the same templates),
and the script steps aside (aws-cdk creates its engine as before) for any other engine configuration,
when the worker does not start, fails or does not answer, and with ``CDK_VALIDATION=false`` or
``VALIDATION_ENGINE_EARLY=0``.

It also has node preload ``scripts/module-code-cache.js``, which keeps V8's code cache of the modules jsii
loads (aws-cdk-lib, constructs, cdk-nag) in ``~/.cache/constructs-lib/v8-code-cache`` (``$XDG_CACHE_HOME``
or ``MODULE_CODE_CACHE_DIR`` if set; at most 256 MiB), so that a synthesis after the first compiles none
of them again; ``MODULE_CODE_CACHE=0`` turns it off.

And node runs jsii's kernel itself (``scripts/jsii-host.js``) instead of jsii's runtime script, a relay
that starts a second node and copies every request and answer between python and it: each round trip
takes about half the time, and there is one node process fewer (``JSII_HOST_DIRECT=0`` keeps the relay).

It applies to the node of app.py (and of the test processes), not to the CDK CLI's. A ``JSII_NODE``
already set wins (set ``JSII_NODE=node`` to opt out); it is left alone where the wrapper could not
run: on Windows, without bash on the PATH (an Alpine image, say), or where the wrapper lost its
executable bit. jsii would otherwise fail to start node at all.

This module imports nothing of aws-cdk: it must run before ``import aws_cdk`` starts node.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

#: The context app.py gives its ``cdk.App`` (beneath the CLI's, which wins): aws-cdk captures no stack trace
#: at each resource's and stack's creation for the cloud assembly's metadata. From Python those traces hold
#: only jsii's and node's frames ("no user code"); aws-cdk documents the key for performance, and
#: `cdk --debug` turns the traces back on. Templates are the same either way. Not in cdk.json: the CDK
#: CLI warns on every command about any ``aws:`` key there ("A reserved context key ... should be removed").
APP_CONTEXT: dict[str, object] = {"aws:cdk:disable-creation-stack-traces": True}

#: The wrapper ``JSII_NODE`` names.
JSII_NODE_WRAPPER = Path(__file__).resolve().parent.parent / "scripts" / "jsii-node.sh"


def jsii_node_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What to add to ``environ`` before ``import aws_cdk``: ``JSII_NODE`` naming the wrapper, or nothing."""
    if "JSII_NODE" in environ or os.name != "posix" or not os.access(JSII_NODE_WRAPPER, os.X_OK):
        return {}
    if shutil.which("bash", path=environ.get("PATH", os.defpath)) is None:  # its `#!/usr/bin/env bash`
        return {}
    return {"JSII_NODE": str(JSII_NODE_WRAPPER)}
