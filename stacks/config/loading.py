"""From a file to a ``BaselineConfig``: reading the YAML (size, encoding, duplicate keys, alias
bombs), validating it, and turning every problem into one ``config error:`` line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stacks.config._base import ConfigError, _shown
from stacks.config.checks import _semantic_problems
from stacks.config.model import BaselineConfig


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not re.match(r"^[\w:@/+=-][\w.:@/+=-]*$", str(part)):
            path += f"[{_shown(part)}]"  # a key with spaces, line breaks or nothing at all
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        message = _one_line(item["msg"].removeprefix("Value error, "))
        if item["type"] == "unknown_key":
            problems.append(f"{_path(loc)}: {message}")
        elif item["type"] == "section":
            problems.append(f"{_path(loc)}.{message}")
        elif item["type"] == "missing":
            problems.append(f"{_path(loc)}: required key is missing")
        else:
            problems.append(
                f"{_path(loc)}: {_shown(item['input'])} {message}"
                if item["type"] == "value_error"
                else f"{_path(loc)}: {message} (got {_shown(item['input'])})"
            )
    return problems


def parse_config(data: Any) -> BaselineConfig:
    """Validate already-loaded YAML data; ``ConfigError`` lists every problem."""
    if data is None:
        raise ConfigError(["(top level): the file is empty; expected a mapping of keys (home_region, accounts, ...)"])
    if not isinstance(data, dict):
        raise ConfigError([f"(top level): expected a mapping of keys, got {type(data).__name__}"])
    try:
        config = BaselineConfig.model_validate(data)
        problems = _semantic_problems(config)
    except ValidationError as error:
        raise ConfigError(_pydantic_problems(error)) from None
    except Exception as error:  # a bug in a check, not in the file: one line all the same, never a traceback
        raise ConfigError([internal_problem(error)]) from error
    if problems:
        raise ConfigError([_one_line(p) for p in problems])
    return config


#: Ends the line of a problem that is a bug in the baseline's checks (tests assert it never shows).
INTERNAL = "this is a bug in the baseline's config checks: please report it"


def internal_problem(error: BaseException) -> str:
    return f"(top level): could not be checked ({type(error).__name__}: {_one_line(str(error))[:300]}); {INTERNAL}"


#: A config file is a few kilobytes; anything this large is the wrong file (a log, an archive).
MAX_CONFIG_BYTES = 1_000_000
#: Values after YAML aliases are expanded; beyond this an alias "bomb" would stall validation.
MAX_CONFIG_VALUES = 100_000


class _DuplicateKeys:
    """Records keys given twice in one mapping (PyYAML keeps the last one silently, so
    ``home_region`` written twice would move the trail without a word)."""

    duplicates: list[tuple[int, str]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            try:
                key = self.construct_object(key_node, deep=False)
                hash(key)
            except (yaml.YAMLError, TypeError):
                continue  # the SafeLoader reports bad keys itself
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(
                    (
                        line,
                        f"line {line}: key {key!r} is given twice (lines {seen[key]} and {line}); "
                        "YAML would silently keep the last one: remove one",
                    )
                )
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _DuplicateKeyLoader(_DuplicateKeys, yaml.SafeLoader):
    """``yaml.SafeLoader`` with ``_DuplicateKeys``: pure Python, and the source of every message."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates = []


#: libyaml's parser where PyYAML was built with it: a config of 1,000 accounts parses in a tenth of
#: a second instead of three. Only a valid, duplicate-free text is taken from it; anything else is
#: read again by ``_DuplicateKeyLoader``, so each message stays PyYAML's.
_FAST_LOADER: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _FastDuplicateKeyLoader(_DuplicateKeys, yaml.CSafeLoader):  # type: ignore[name-defined,misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.duplicates = []

    _FAST_LOADER = _FastDuplicateKeyLoader


def _fast_load(text: str) -> tuple[bool, Any]:
    """(True, data) when libyaml reads ``text`` cleanly (PyYAML's printable-character check passes,
    no syntax error, no key given twice); (False, None) otherwise or without libyaml."""
    if _FAST_LOADER is None:
        return False, None
    try:
        yaml.reader.Reader(text)  # PyYAML's check for characters YAML does not allow
        loader = _FAST_LOADER(text)
    except (yaml.YAMLError, RecursionError):
        return False, None
    try:
        data = loader.get_single_data()
    except (yaml.YAMLError, RecursionError):
        return False, None
    finally:
        loader.dispose()
    if loader.duplicates or _deeper_than(data, _FAST_MAX_DEPTH):
        # PyYAML's composer recurses where libyaml does not: a deeply nested text takes the
        # pure-Python path, which says "nested too deeply" exactly as before.
        return False, None
    return True, data


#: A config is a handful of levels deep; deeper texts are read by the pure-Python loader.
_FAST_MAX_DEPTH = 64


def _deeper_than(data: Any, limit: int) -> bool:
    """Nested deeper than ``limit``; also True past ``MAX_CONFIG_VALUES`` values (aliases expanding
    without bound), which ``_oversized`` then reports."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    budget = MAX_CONFIG_VALUES
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if depth > limit or budget < 0:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: where, and what."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = "; ".join(str(part) for part in (error.context, error.problem) if part)
        return f"line {mark.line + 1}, column {mark.column + 1}: {' '.join(what.split())}"
    if isinstance(error, yaml.reader.ReaderError):
        return f"character #x{error.character:04x} at offset {error.position} is not allowed in YAML ({error.reason})"
    return " ".join(str(error).split())


def _oversized(data: Any) -> str | None:
    """Why the loaded YAML is too large to validate (aliases expanding without bound, or referring
    to themselves), or None."""
    budget = MAX_CONFIG_VALUES
    stack: list[tuple[Any, tuple[int, ...]]] = [(data, ())]
    while stack:
        node, parents = stack.pop()
        budget -= 1
        if budget < 0:
            return f"expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases?); a config is far smaller"
        if isinstance(node, dict | list):
            if id(node) in parents:
                return "refers to itself (a recursive YAML alias); write the values out"
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, (*parents, id(node))) for child in children)
    return None


def read_config_data(path: str | Path) -> Any:
    """The YAML data of the file at ``path``; ``ConfigError`` (one line, naming the file) if it
    cannot be read, is too large, binary, not UTF-8, not YAML or gives a key twice."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror or error})"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [f"{path}: is larger than {MAX_CONFIG_BYTES:,} bytes; a config file is a few kilobytes of YAML"]
        )
    if b"\x00" in raw:
        raise ConfigError([f"{path}: is a binary file (it holds NUL bytes), not YAML text"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [f"{path}: is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); save it as UTF-8"]
        ) from None
    parsed, data = _fast_load(text)
    if not parsed:
        data = _slow_load(path, text)
    oversized = _oversized(data)
    if oversized:
        raise ConfigError([f"{path}: {oversized}"])
    return data


def _slow_load(path: Path, text: str) -> Any:
    """``text`` read by ``_DuplicateKeyLoader``; ``ConfigError`` with PyYAML's message on a problem."""
    loader = None
    try:
        loader = _DuplicateKeyLoader(text)  # reads the text: refuses control characters already
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: is not valid YAML: {_yaml_problem(error)}"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: is nested too deeply to be a config"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if loader is not None and loader.duplicates:
        raise ConfigError([f"{path}: {problem}" for _, problem in sorted(loader.duplicates)])
    return data


def load_config(path: str | Path) -> BaselineConfig:
    """Read and validate the YAML config at ``path``."""
    data = read_config_data(path)
    try:
        return parse_config(data)
    except ConfigError as error:
        raise ConfigError([f"{path}: {p}" for p in error.problems]) from None
