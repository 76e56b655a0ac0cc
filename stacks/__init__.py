"""Stacks per account role, composed from ``constructs_lib`` and driven by the config.

``stacks.baseline.build_stacks`` creates them; ``stacks.config`` reads the config.

Whatever runs them (app.py, and ``python -m stacks.preflight``, ``stacks.deploy_plan``, ``stacks.diagram``,
``stacks.org_doc``, ``stacks.roles``, which build the stacks without a synthesis) imports this package
before aws_cdk, so aws-cdk starts in the node app.py runs it in (``stacks.node_runtime``): the same V8
options, caches and kernel, and none of the notices jsii's relay prints on a node it does not support.
"""

import os as _os

from stacks.node_runtime import jsii_node_environment as _jsii_node_environment

_os.environ.update(_jsii_node_environment(_os.environ))
