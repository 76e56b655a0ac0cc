#!/usr/bin/env bash
# The node that jsii starts for app.py, named by JSII_NODE (stacks/node_runtime.py sets it): node with
# V8's concurrent marking off, which made a synthesis of the example 11 % faster and use 17 % less CPU
# on the 2-core machines this project is measured on (docs/testing.md). jsii passes its own options
# and its runtime script as the arguments.
#
# A node whose V8 does not know the option would refuse to start (exit 9): it is tried first with
# --version (a few milliseconds), and plain node runs instead.
set -euo pipefail
if node --no-concurrent-marking --version >/dev/null 2>&1; then
  exec node --no-concurrent-marking "$@"
fi
exec node "$@"
