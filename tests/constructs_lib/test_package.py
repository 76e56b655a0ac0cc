"""The ``constructs_lib`` package: every public name, imported from its module on first use."""

from __future__ import annotations

import importlib

import pytest
from aws_cdk import aws_config as config

import constructs_lib
from constructs_lib import config_rules, managed_rules


def test_every_public_name_is_the_object_of_its_module():
    modules = constructs_lib._modules()
    assert sorted(modules) == sorted(constructs_lib.__all__)
    for name in constructs_lib.__all__:
        value = getattr(constructs_lib, name)
        if modules[name] == "constructs_lib":
            assert value is importlib.import_module(f"constructs_lib.{name}"), name
        else:
            assert value is getattr(importlib.import_module(modules[name]), name), name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'constructs_lib' has no attribute 'AuditTrial'"):
        constructs_lib.AuditTrial  # noqa: B018
    # A private module is imported as such, not through the public names.
    assert not hasattr(constructs_lib, "_not_a_module")


def test_curated_identifiers_are_the_documented_managed_rule_identifiers():
    documented = {
        getattr(config.ManagedRuleIdentifiers, name)
        for name in dir(config.ManagedRuleIdentifiers)
        if name.isupper() and not name.startswith("_")
    }
    assert len(documented) > 250
    curated = {spec.identifier for spec in managed_rules.CURATED_RULES.values()}
    assert len(curated) == len(managed_rules.CURATED_RULES) and curated <= documented, curated - documented


def test_execution_frequencies_are_named_as_the_spec_checks_them():
    assert tuple(config_rules.EXECUTION_FREQUENCIES) == managed_rules.EXECUTION_FREQUENCY_NAMES
    assert config_rules.CURATED_RULES is managed_rules.CURATED_RULES
