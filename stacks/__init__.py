"""Stacks per account role, composed from ``constructs_lib`` and driven by the config.

``stacks.baseline.build_stacks`` creates them; ``stacks.config`` reads the config.
"""
