"""Stacks per account role, composed from ``constructs_lib`` and driven by the config.

``stacks.baseline.build_stacks`` creates them; ``stacks.config`` reads the config.

Run as a command (``python -m stacks.preflight``, ``stacks.deploy_plan``, ``stacks.diagram``,
``stacks.org_doc``, ``stacks.roles``: they build the stacks without a synthesis, and import aws_cdk at their
top, after this package), aws-cdk starts in the node app.py runs it in (``stacks.node_runtime``): the same
V8 options, caches and kernel, and none of the notices jsii's relay prints on a node it does not support.
Only then: Python sets ``sys.argv[0]`` to ``"-m"`` while ``-m`` locates the module, which imports this
package. A process that merely imports the package (a test, a benchmark, a user's app) keeps its own
environment, and so do the processes it starts (bench/synth.py times its floor in plain node).
"""

import os as _os
import sys as _sys

from stacks.node_runtime import jsii_node_environment as _jsii_node_environment

if _sys.argv[:1] == ["-m"]:
    _os.environ.update(_jsii_node_environment(_os.environ))
