"""Cross-field checks of the ``aws_config`` section: curated rules, parameters, overrides, packs."""

from __future__ import annotations

import json
from pathlib import Path

from constructs_lib.managed_rules import (
    BUNDLED_PACKS_DIR,
    CONTINUOUS_ONLY_RESOURCE_TYPES,
    CURATED_RULES,
    MAX_TEMPLATE_BODY_BYTES,
)
from stacks.config.aws_config import AwsConfigSettings, changed_recording_settings

#: AWS Config: a rule's InputParameters is a JSON string of at most 1,024 characters.
MAX_RULE_PARAMETERS_CHARS = 1024
#: AWS Config: a conformance pack takes at most 60 input parameters, names of 1-255 and values of
#: at most 4,096 characters.
MAX_PACK_PARAMETERS = 60


def _rule_parameter_problems(where: str, parameters: dict[str, str]) -> list[str]:
    size = len(json.dumps(parameters))
    if size > MAX_RULE_PARAMETERS_CHARS:
        return [
            f"{where}: {size} characters as JSON; AWS Config takes rule parameters of at most "
            f"{MAX_RULE_PARAMETERS_CHARS} characters"
        ]
    return [f"{where}: parameter names must not be empty" for name in parameters if not name][:1]


def _aws_config_problems(settings: AwsConfigSettings) -> list[str]:
    """Cross-field checks of the ``aws_config`` section."""
    problems: list[str] = []
    known = ", ".join(CURATED_RULES)
    for name in settings.rules:
        if name not in CURATED_RULES:
            problems.append(f"aws_config.rules: {name!r} is not a curated rule; known: {known}")
    for name in settings.rule_parameters:
        if name not in CURATED_RULES:
            problems.append(f"aws_config.rule_parameters: {name!r} is not a curated rule; known: {known}")
        elif settings.rules.get(name) is False:
            problems.append(f"aws_config.rule_parameters: {name!r} is switched off in aws_config.rules")
        else:
            merged = {**CURATED_RULES[name].input_parameters, **settings.rule_parameters[name]}
            problems.extend(_rule_parameter_problems(f"aws_config.rule_parameters.{name}", merged))
    if len(settings.frequency_overrides) > 1:
        problems.append(
            f"aws_config.frequency_overrides: {len(settings.frequency_overrides)} overrides; AWS Config accepts one: "
            "put all types with the same frequency into it"
        )
    for index, override in enumerate(settings.frequency_overrides):
        if override.frequency == settings.recording_frequency:
            problems.append(
                f"aws_config.frequency_overrides[{index}].frequency: {override.frequency!r} is already "
                "aws_config.recording_frequency; drop the override or change the frequency"
            )
        refused = sorted(set(override.resource_types) & set(CONTINUOUS_ONLY_RESOURCE_TYPES))
        if override.frequency == "DAILY" and refused:
            problems.append(
                f"aws_config.frequency_overrides[{index}].resource_types: {refused!r} are always recorded "
                "continuously; AWS Config refuses DAILY for them"
            )
        if override.description is not None and len(override.description) > 256:
            problems.append(
                f"aws_config.frequency_overrides[{index}].description: {len(override.description)} characters; "
                "AWS Config takes at most 256"
            )
        excluded = sorted(set(override.resource_types) & set(settings.excluded_resource_types))
        if excluded:
            problems.append(
                f"aws_config.frequency_overrides[{index}].resource_types: {excluded!r} are also in "
                "aws_config.excluded_resource_types and would not be recorded at all"
            )
    if settings.existing_recorder_name is not None:
        ignored = changed_recording_settings(settings)
        if ignored:
            problems.append(
                f"aws_config.existing_recorder_name: {settings.existing_recorder_name!r} adopts a recorder managed "
                f"elsewhere, so {', '.join(ignored)} would have no effect; configure that recorder where it is managed"
            )
    excluded_all = set(settings.excluded_resource_types)
    for name, spec in CURATED_RULES.items():
        if settings.rules.get(name, True) and spec.resource_types and set(spec.resource_types) <= excluded_all:
            problems.append(
                f"aws_config.excluded_resource_types: rule {name!r} evaluates only {list(spec.resource_types)!r}, "
                f"which would not be recorded; switch it off (aws_config.rules: {{{name}: false}}) or record the type"
            )
    names = [rule.name for rule in settings.custom_rules]
    for index, rule in enumerate(settings.custom_rules):
        if rule.name in CURATED_RULES:
            problems.append(
                f"aws_config.custom_rules[{index}].name: {rule.name!r} is a curated rule; use aws_config.rule_parameters"
            )
        if names.index(rule.name) != index:
            problems.append(f"aws_config.custom_rules[{index}].name: {rule.name!r} is used twice")
        problems.extend(_rule_parameter_problems(f"aws_config.custom_rules[{index}].parameters", rule.parameters))
    bundled = sorted(p.stem for p in BUNDLED_PACKS_DIR.glob("*.yaml"))
    pack_names = [pack.name for pack in settings.conformance_packs]
    for index, pack in enumerate(settings.conformance_packs):
        if pack_names.index(pack.name) != index:
            problems.append(f"aws_config.conformance_packs[{index}].name: {pack.name!r} is used twice")
        where = f"aws_config.conformance_packs[{index}]"
        if pack.template not in bundled:
            problem = _pack_template_problem(pack.template)
            if problem:
                problems.append(
                    f"{where}.template: {pack.template!r} is neither a bundled pack ({', '.join(bundled)}) "
                    f"nor a usable template file: {problem}"
                )
        if len(pack.parameters) > MAX_PACK_PARAMETERS:
            problems.append(
                f"{where}.parameters: {len(pack.parameters)} parameters; a conformance pack takes at most "
                f"{MAX_PACK_PARAMETERS}"
            )
        for key, value in pack.parameters.items():
            if not 1 <= len(key) <= 255 or len(value) > 4096:
                problems.append(
                    f"{where}.parameters: {key!r} is not allowed: AWS Config takes parameter names of 1-255 "
                    "and values of at most 4,096 characters"
                )
    return problems


def _pack_template_problem(template: str) -> str | None:
    """Why the conformance pack template file cannot be used as a template body, or None."""
    try:
        path = Path(template)
        if not path.is_file():
            return "no such file"
        raw = path.read_bytes()
    except (OSError, ValueError) as error:
        return f"cannot be read ({getattr(error, 'strerror', None) or error})"
    if len(raw) > MAX_TEMPLATE_BODY_BYTES:
        return f"{len(raw)} bytes; AWS Config takes template bodies of at most {MAX_TEMPLATE_BODY_BYTES} bytes"
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if not body.strip():
        return "empty"
    return None
