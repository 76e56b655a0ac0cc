#!/usr/bin/env bash
# The node that jsii starts for app.py, named by JSII_NODE (stacks/node_runtime.py sets it), with three
# V8 options measured on the 2-core machines this project runs on (docs/testing.md):
# - --no-concurrent-marking: the garbage collector's background marking threads cost more than they
#   saved; without them a synthesis of the example takes 7-13 % less time and 15-21 % less CPU;
# - --max-semi-space-size=8 (MiB): a smaller young generation keeps the peak memory of a synthesis
#   about 10-15 MiB lower at the same speed;
# - --liftoff-only: aws-cdk validates every template with a WebAssembly engine (its built-in CloudFormation
#   validation, 8.5 MB of wasm); V8 compiles it with its baseline compiler (Liftoff) and then recompiles
#   the hot functions with TurboFan in background threads. Those recompilations cost about 2 s of CPU and
#   180 MiB per synthesis, more than the faster code saves on a few templates: with Liftoff only, the
#   example's synthesis takes 25-35 % less CPU, 8-20 % less wall time and 180 MiB less memory. The wasm
#   computes the same results either way: only how V8 compiles it changes. (V8's help marks the option
#   "for testing"; the equivalent pair --no-wasm-tier-up --no-wasm-dynamic-tiering would be worse than
#   neither if a node dropped one of the two and the fallback below passed the other: docs/testing.md.)
# node preloads module-code-cache.js (next to this script): it keeps V8's compiled code of the modules jsii
# loads (aws-cdk-lib, constructs, cdk-nag) on disk, in ~/.cache/constructs-lib, so that a process after the
# first compiles none of them again (about 0.5 s of CPU less per synthesis; that file says how, where, and
# when it steps aside).
# And node preloads validation-engine-early.js (next to this script): it creates aws-cdk's validation engine on
# a worker thread while the stacks are built, on the core jsii's back-and-forth leaves idle (1.5-3 s less
# wall time on the example; that file says how, and when it steps aside).
# jsii passes its own options and its runtime script as the arguments. That script (bin/jsii-runtime.js) is
# a relay that starts a second node for jsii's kernel and copies every request and answer between them;
# node runs jsii-host.js (next to this script) instead, which runs the kernel in this node: a round trip
# between python and aws-cdk takes about half the time (that file says how, and when it steps aside).
#
# A node whose V8 does not know an option would refuse to start (exit 9): the options are tried first with
# --version (a few milliseconds); if that node refuses them, each is tried alone and only those it
# accepts are passed (none: plain node).
set -euo pipefail
options=(--no-concurrent-marking --max-semi-space-size=8 --liftoff-only)
if ! node "${options[@]}" --version >/dev/null 2>&1; then
  accepted=()
  for option in "${options[@]}"; do
    if node "$option" --version >/dev/null 2>&1; then
      accepted+=("$option")
    fi
  done
  # ${a[@]+"${a[@]}"}: an empty array under `set -u` in bash before 4.4 (macOS's 3.2)
  options=(${accepted[@]+"${accepted[@]}"})
fi
# node takes a --require path that is not absolute as a package name: this script's folder, made absolute
here=${BASH_SOURCE[0]%/*}
[[ $here != "${BASH_SOURCE[0]}" ]] || here=.
[[ $here == /* ]] || here=$PWD/$here
if [[ -f $here/module-code-cache.js ]]; then
  options+=(--require "$here/module-code-cache.js")
fi
if [[ -f $here/validation-engine-early.js ]]; then
  options+=(--require "$here/validation-engine-early.js")
fi
# jsii's runtime script runs in jsii-host.js, with --preserve-symlinks as the relay gives its second node.
arguments=("$@")
last=$(($# - 1))
if [[ $# -gt 0 && ${arguments[$last]} == */jsii-runtime.js && -f $here/jsii-host.js ]]; then
  arguments=("${arguments[@]:0:$last}" --preserve-symlinks "$here/jsii-host.js" "${arguments[$last]}")
fi
exec node ${options[@]+"${options[@]}"} ${arguments[@]+"${arguments[@]}"}
