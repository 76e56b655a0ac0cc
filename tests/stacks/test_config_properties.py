"""Property-based tests: no config file leads to a traceback.

Hypothesis mutates the bundled configs (types, values, keys, structure) and the YAML text itself;
every outcome must be a valid config or ``ConfigError`` whose lines all read ``config error: ...``,
one problem per line. An accepted config must also give physical names that AWS accepts.

The "gate" profile, used by `make test`, is derandomized (the same examples on every run, so the
gate is reproducible). Explore further with random examples:

    CONFIG_FUZZ_PROFILE=fuzz .venv/bin/python -m pytest tests/stacks/test_config_properties.py -n0
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks import roles
from stacks.config import (
    IAM_ROLE_NAME,
    INTERNAL,
    ConfigError,
    json_schema,
    load_config,
    parse_config,
)
from stacks.config import (
    is_bucket_name as bucket_name_ok,
)
from stacks.naming import Names
from tests.conftest import ROOT

settings.register_profile(
    "gate",
    max_examples=1000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("CONFIG_FUZZ_PROFILE", "gate"))

CONFIG_FILES = {name: ROOT / "config" / f"{name}.yaml" for name in ("example", "single-account", "control-tower")}
BASES: dict[str, dict[str, Any]] = {name: yaml.safe_load(path.read_text()) for name, path in CONFIG_FILES.items()}


def _schema_keys() -> list[str]:
    """Every key the config models know, so added keys are often plausible ones."""
    schema = json_schema()
    keys = set(schema["properties"])
    for definition in schema["$defs"].values():
        keys.update(definition.get("properties", {}))
    return sorted(keys)


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)] + list(node)
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return [node]


KEYS = _schema_keys()
LEAVES = sorted({repr(leaf): leaf for base in BASES.values() for leaf in _leaves(base)}.values(), key=repr)
#: Values that sit on or just past an AWS rule, or that YAML produces from sloppy input.
EDGE_STRINGS = [
    "",
    " ",
    "aws",
    "aws:reserved",
    "AWS:Reserved",
    "a" * 64,
    "a" * 65,
    "a" * 129,
    "a" * 257,
    "x" * 5000,
    "with space",
    "line\nbreak",
    "tab\tseparated",
    "ünïcödé",
    "emoji \U0001f600",
    "../../etc/passwd",
    "/dev/zero",
    "config/example.yaml",
    "{ $.eventName = ",
    "*",
    "default",
    "xn--bucket",
    "sthree-bucket",
    "bucket--ol-s3",
    "192.168.0.1",
    "my.bucket..name",
    "arn:aws:lambda:eu-west-1:123456789012:function:f",
    "arn:aws:lambda:eu-west-1:123456789012:function:",
    "arn:aws:s3:::bucket",
    "o-a1b2c3d4e5",
    "123456789012",
    "012345678901",
    "a@b.example",
    "vpc-0123456789abcdef0",
    "AWS::EC2::Instance",
    "rate(1 minute)",
    "cron(0 * * * ? *)",
    "GOVERNANCE",
    "eu-west-1",
    "null",
    "~",
    "yes",
]
values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, 36500, 36501]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
        st.sampled_from(EDGE_STRINGS),
        st.sampled_from(LEAVES),
        st.binary(max_size=8),
        st.dates(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=12), st.integers()), children, max_size=4),
    ),
    max_leaves=8,
)


def _copy(node: Any) -> Any:
    """A copy of a config tree: its dicts and lists copied, the rest (immutable values) kept, at a fraction
    of ``copy.deepcopy``'s cost. The same copy, as no dict or list sits in two places of these trees (the
    bundled configs use no YAML alias, and no mutation makes one)."""
    if isinstance(node, dict):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(value) for value in node]
    return node


def _containers(
    node: Any, path: tuple[Any, ...] = (), found: list[tuple[Any, ...]] | None = None
) -> list[tuple[Any, ...]]:
    """Paths of every dict and list in ``node`` (the root included), depth first, parents before children."""
    found = [] if found is None else found
    if isinstance(node, dict | list):
        found.append(path)
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            _containers(value, (*path, key), found)
    return found


def _at(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        root = root[part]
    return root


OPERATIONS = st.sampled_from(["replace", "delete", "add", "rename", "wrap", "transplant", "duplicate"])
KNOWN_KEYS = st.sampled_from(KEYS)
NEW_KEYS = st.one_of(KNOWN_KEYS, st.text(max_size=12))


def _pick(draw: Any, choices: list[Any]) -> Any:
    """One of ``choices``, drawn as an index (hypothesis keeps one strategy per bound, so no new
    strategy is built and validated per draw; it shrinks towards the first, as ``sampled_from`` does)."""
    return choices[draw(st.integers(0, len(choices) - 1))]


def mutate(draw: Any, data: dict[str, Any], containers: list[tuple[Any, ...]] | None = None) -> dict[str, Any]:
    """Apply one random change (value, type, key or structure) somewhere in ``data``, whose
    ``_containers`` may be given."""
    containers = _containers(data) if containers is None else containers
    container = _at(data, _pick(draw, containers))
    keys = list(container) if isinstance(container, dict) else list(range(len(container)))
    operation = draw(OPERATIONS)
    if not keys or operation == "add":
        if isinstance(container, dict):
            container[draw(NEW_KEYS)] = draw(values)
        else:
            container.append(draw(values))
        return data
    key = _pick(draw, keys)
    if operation == "replace":
        container[key] = draw(values)
    elif operation == "delete":
        del container[key]
    elif operation == "rename" and isinstance(container, dict):
        container[draw(KNOWN_KEYS)] = container.pop(key)
    elif operation == "wrap":
        container[key] = _pick(draw, [[container[key]], {"value": container[key]}])
    elif operation == "transplant":
        other = _pick(draw, containers)
        container[key] = _copy(_at(data, other)) if other else draw(values)
    elif isinstance(container, list):
        container.append(_copy(container[key]))
    else:
        container[key] = _copy(container[key])
    return data


def assert_clean_outcome(run: Any) -> Any:
    """``run()`` succeeds, or raises ConfigError made of one-line problems; nothing else."""
    try:
        return run()
    except ConfigError as error:
        assert error.problems, "a ConfigError without problems"
        for problem in error.problems:
            assert problem.strip(), error.problems
            assert "\n" not in problem and "\r" not in problem, problem
            assert len(problem) < 2000, problem[:300]
            assert INTERNAL not in problem, problem  # a check of the baseline failed on this input
        rendered = str(error).split("\n")
        assert all(line.startswith("config error: ") for line in rendered), rendered
        return None


def assert_names_are_valid(config: Any) -> None:
    """An accepted config gives physical names AWS accepts."""
    names = Names(config)
    for bucket in (names.cloudtrail_bucket, names.access_logs_bucket, names.config_bucket):
        assert bucket_name_ok(bucket), bucket
    assert not names.log_archive_key_alias.startswith("alias/aws/")
    assert IAM_ROLE_NAME.match(config.cloudtrail.cloudwatch_logs_role_name)
    for entry in roles.ROLE_STACKS:
        for account in config.accounts:
            for region in config.regions:
                stack = roles.stack_name(config, entry, account, region)
                assert re.match(r"^[A-Za-z][A-Za-z0-9-]{0,127}$", stack), stack


@st.composite
def mutated(draw: Any, base: str) -> dict[str, Any]:
    """The bundled config ``base`` after one to four random changes."""
    config = _copy(BASES[base])
    for change in range(draw(st.integers(min_value=1, max_value=4))):
        config = mutate(draw, config, BASE_CONTAINERS[base] if change == 0 else None)
    return config


#: Where each base's dicts and lists are: a fresh copy of a base has them in the same places.
BASE_CONTAINERS = {base: _containers(data) for base, data in BASES.items()}
#: One strategy per base, built once (a composite builds a new strategy at every call).
MUTATED = {base: mutated(base) for base in BASES}


@pytest.mark.parametrize("base", sorted(BASES))
@given(data=st.data())
def test_mutated_configs_are_accepted_or_refused_in_config_error_lines(base: str, data: st.DataObject) -> None:
    config = data.draw(MUTATED[base])
    accepted = assert_clean_outcome(lambda: parse_config(config))
    if accepted is not None:
        assert_names_are_valid(accepted)


@settings(max_examples=200)
@given(data=st.data())
def test_mutated_yaml_text_is_accepted_or_refused_in_config_error_lines(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Byte-level damage: truncation, inserted bytes and YAML syntax, swapped lines."""
    text = CONFIG_FILES[data.draw(st.sampled_from(sorted(CONFIG_FILES)))].read_bytes()
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        position = data.draw(st.integers(min_value=0, max_value=len(text)))
        snippet = data.draw(
            st.one_of(
                st.binary(max_size=6),
                st.sampled_from(
                    [b"\n", b": ", b"- ", b"&a ", b"*a", b"!!python/object:os.system ", b"\t", b"'", b'"', b"{", b"["]
                ),
                st.sampled_from(text.splitlines(keepends=True)),
            )
        )
        cut = data.draw(st.integers(min_value=0, max_value=8))
        text = text[:position] + snippet + text[position + cut :]
    path = Path(tmp_path_factory.mktemp("yaml")) / "config.yaml"
    path.write_bytes(text)
    accepted = assert_clean_outcome(lambda: load_config(path))
    if accepted is not None:
        assert_names_are_valid(accepted)
