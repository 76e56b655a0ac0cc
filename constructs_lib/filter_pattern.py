"""CloudWatch Logs filter patterns: a parser and an offline evaluator.

Metric filters are code: a typo in a pattern deploys fine and then never matches, so every
pattern this library deploys is parsed at synth time, and platform teams can prove their own
patterns against recorded events in unit tests::

    from constructs_lib.filter_pattern import matches, parse

    assert matches('{ $.eventName = "ConsoleLogin" && $.errorMessage = "Failed authentication" }', event)
    assert matches("ERROR -DEBUG", "2024-01-01 ERROR disk full")
    assert matches("[ip, user, ..., status=4*, bytes>1000]", '10.0.0.1 bob GET /x 404 2048')
    parse("{ $.a = }")  # FilterPatternError, with the pattern and a caret under the position

The three kinds of pattern, as the CloudWatch Logs "Filter pattern syntax" page documents them:

- **JSON patterns** ``{ ... }``: selectors ``$.a.b`` / ``$.a[0]``, operators ``=``, ``!=``,
  ``<``, ``>``, ``<=``, ``>=``, ``IS NULL``, ``NOT EXISTS``, ``IS TRUE``, ``IS FALSE``, string
  values quoted or bare with ``*`` wildcards, numbers, ``%regex%``, ``&&``, ``||`` and
  parentheses (``&&`` binds tighter than ``||``).
- **Term patterns**: ``ERROR Exception`` (all terms), ``?ERROR ?WARN`` (any of them),
  ``-DEBUG`` (none of them), ``"exact phrase"``. Terms are case-sensitive substrings.
- **Regular expressions** ``%AUTHORI[SZ]ED%``: searched anywhere in the line.
- **Space-delimited patterns** ``[a, b, ..., c=4*, d>1000]``: fields of a line split on
  spaces, where text in double quotes or square brackets is one field and ``...`` stands for
  any number of fields; conditions on a field may be joined with ``&&`` and ``||``.

Semantics this evaluator follows (and the tests pin): a comparison on a field that is absent
does not match, whatever the operator (``!=`` included; use ``NOT EXISTS`` for absence);
``IS NULL`` matches only a JSON ``null``; ordering operators compare numbers only; string
comparisons are case-sensitive. The empty pattern matches every event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "MAX_PATTERN_LENGTH",
    "FilterPattern",
    "FilterPatternError",
    "matches",
    "parse",
]

#: CloudWatch Logs rejects longer filter patterns (PutMetricFilter ``filterPattern``: 0-1024 characters).
MAX_PATTERN_LENGTH = 1024

_MISSING = object()
_COMPARISONS = ("!=", "<=", ">=", "=", "<", ">")


class FilterPatternError(ValueError):
    """A malformed filter pattern; the message shows the pattern with a caret under ``position``."""

    def __init__(self, pattern: str, position: int, reason: str) -> None:
        self.pattern = pattern
        self.position = position
        self.reason = reason
        # Patterns are one line in practice; show the line that holds the position.
        line_start = pattern.rfind("\n", 0, position) + 1
        line_end = pattern.find("\n", position)
        line = pattern[line_start : line_end if line_end != -1 else len(pattern)]
        caret = " " * (position - line_start) + "^"
        super().__init__(f"invalid filter pattern at position {position}: {reason}\n  {line}\n  {caret}")


# --------------------------------------------------------------------------------------------
# Values and comparisons (shared by JSON and space-delimited patterns)


@dataclass(frozen=True)
class _Value:
    """A value on the right-hand side of a comparison."""

    kind: Literal["string", "number", "regex"]
    text: str
    number: float | None = None

    def glob(self) -> re.Pattern[str]:
        return re.compile("".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", self.text)))


def _number(text: str) -> float | None:
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    return float(text)


def _compare(op: str, actual: Any, value: _Value) -> bool:
    """``actual op value`` for a field value taken from a JSON event or a delimited field."""
    if actual is _MISSING or actual is None or isinstance(actual, (dict, list)):
        return False
    if op in ("<", ">", "<=", ">="):
        if isinstance(actual, bool):
            return False
        if isinstance(actual, str):
            parsed = _number(actual)
            if parsed is None:
                return False
            actual = parsed
        assert value.number is not None
        return {
            "<": actual < value.number,
            ">": actual > value.number,
            "<=": actual <= value.number,
            ">=": actual >= value.number,
        }[op]
    equal = _equals(actual, value)
    return equal if op == "=" else not equal


def _equals(actual: Any, value: _Value) -> bool:
    if value.kind == "regex":
        return isinstance(actual, str) and re.search(value.text, actual) is not None
    if value.kind == "number" and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        assert value.number is not None
        return float(actual) == value.number
    if isinstance(actual, bool):
        text = "true" if actual else "false"
    elif isinstance(actual, (int, float)):
        text = json.dumps(actual)
    else:
        text = actual
    return value.glob().fullmatch(text) is not None


# --------------------------------------------------------------------------------------------
# Syntax trees


@dataclass(frozen=True)
class _Or:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class _And:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class _JsonTest:
    """``selector op value`` or ``selector IS NULL|TRUE|FALSE`` / ``NOT EXISTS``."""

    path: tuple[str | int, ...]
    op: str
    value: _Value | None = None


@dataclass(frozen=True)
class _FieldTest:
    """``name op value`` inside a space-delimited pattern."""

    name: str
    op: str
    value: _Value
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class _Column:
    name: str | None  # None: the "..." wildcard
    condition: Any = None


@dataclass(frozen=True)
class _Terms:
    required: tuple[str, ...]
    any_of: tuple[str, ...]
    excluded: tuple[str, ...]


def _evaluate(node: Any, lookup: Callable[[Any], bool]) -> bool:
    if isinstance(node, _Or):
        return any(_evaluate(item, lookup) for item in node.items)
    if isinstance(node, _And):
        return all(_evaluate(item, lookup) for item in node.items)
    return lookup(node)


# --------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, pattern: str, start: int = 0, end: int | None = None) -> None:
        self.pattern = pattern
        self.pos = start
        self.end = len(pattern) if end is None else end

    def error(self, reason: str, position: int | None = None) -> FilterPatternError:
        return FilterPatternError(self.pattern, self.pos if position is None else position, reason)

    def skip_space(self) -> None:
        while self.pos < self.end and self.pattern[self.pos].isspace():
            self.pos += 1

    def peek(self, text: str) -> bool:
        self.skip_space()
        return self.pattern.startswith(text, self.pos) and self.pos + len(text) <= self.end

    def accept(self, text: str) -> bool:
        if self.peek(text):
            self.pos += len(text)
            return True
        return False

    def expect(self, text: str, what: str) -> None:
        if not self.accept(text):
            found = repr(self.pattern[self.pos]) if self.pos < self.end else "the end of the pattern"
            raise self.error(f"expected {what}, found {found}")

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= self.end

    def keyword(self, word: str) -> bool:
        """Accept ``word`` (case-insensitive) as a whole word."""
        self.skip_space()
        candidate = self.pattern[self.pos : self.pos + len(word)]
        after = self.pos + len(word)
        if candidate.upper() == word and (after >= self.end or not self.pattern[after].isalnum()):
            self.pos = after
            return True
        return False

    # boolean structure -----------------------------------------------------------------

    def expression(self, atom: Callable[[], Any]) -> Any:
        items = [self.conjunction(atom)]
        while self.accept("||"):
            items.append(self.conjunction(atom))
        return items[0] if len(items) == 1 else _Or(tuple(items))

    def conjunction(self, atom: Callable[[], Any]) -> Any:
        items = [self.primary(atom)]
        while self.accept("&&"):
            items.append(self.primary(atom))
        return items[0] if len(items) == 1 else _And(tuple(items))

    def primary(self, atom: Callable[[], Any]) -> Any:
        if self.accept("("):
            inner = self.expression(atom)
            self.expect(")", "')' to close the '(' group")
            return inner
        return atom()

    # values -----------------------------------------------------------------------------

    def value(self, op: str, stop: str) -> _Value:
        self.skip_space()
        start = self.pos
        if self.pos >= self.end or self.pattern[self.pos] in stop:
            raise self.error(f"expected a value after '{op}'")
        char = self.pattern[self.pos]
        if char == '"':
            text = self.quoted()
            value = _Value("string", text)
        elif char == "%":
            close = self.pattern.find("%", self.pos + 1, self.end)
            if close == -1:
                raise self.error("unterminated regular expression: add the closing '%'")
            text = self.pattern[self.pos + 1 : close]
            try:
                re.compile(text)
            except re.error as error:
                raise self.error(f"invalid regular expression: {error}") from None
            self.pos = close + 1
            value = _Value("regex", text)
        else:
            while self.pos < self.end and not self.pattern[self.pos].isspace() and self.pattern[self.pos] not in stop:
                if self.pattern.startswith(("&&", "||"), self.pos):
                    break
                self.pos += 1
            text = self.pattern[start : self.pos]
            number = _number(text)
            value = _Value("number", text, number) if number is not None else _Value("string", text)
        if op in ("<", ">", "<=", ">="):
            number = _number(value.text) if value.kind != "regex" else None
            if number is None:
                raise self.error(f"'{op}' compares numbers, but {value.text!r} is not a number", start)
            value = _Value("number", value.text, number)
        return value

    def quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out = []
        while self.pos < self.end:
            char = self.pattern[self.pos]
            if char == "\\" and self.pos + 1 < self.end:
                out.append(self.pattern[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.error("unterminated string: add the closing '\"'", start)

    def operator(self) -> str | None:
        self.skip_space()
        for op in _COMPARISONS:
            if self.pattern.startswith(op, self.pos):
                self.pos += len(op)
                return op
        return None

    # JSON patterns ----------------------------------------------------------------------

    def json_pattern(self) -> Any:
        self.expect("{", "'{'")
        if self.peek("}"):
            raise self.error('empty JSON pattern: put a condition such as $.eventName = "ConsoleLogin" inside { }')
        tree = self.expression(self.json_test)
        self.expect("}", "'&&', '||' or '}'")
        if not self.at_end():
            raise self.error("unexpected text after the closing '}'")
        return tree

    def selector(self) -> tuple[str | int, ...]:
        self.skip_space()
        if not self.pattern.startswith("$", self.pos):
            raise self.error("expected a selector such as $.eventName")
        self.pos += 1
        path: list[str | int] = []
        while self.pos < self.end:
            char = self.pattern[self.pos]
            if char == ".":
                match = re.compile(r"[A-Za-z0-9_@:-]+").match(self.pattern, self.pos + 1, self.end)
                if not match:
                    raise self.error("expected a property name after '.'", self.pos + 1)
                path.append(match.group())
                self.pos = match.end()
            elif char == "[":
                match = re.compile(r"\[(\d+)\]").match(self.pattern, self.pos, self.end)
                if not match:
                    raise self.error("expected an array index such as [0]")
                path.append(int(match.group(1)))
                self.pos = match.end()
            else:
                break
        if not path:
            raise self.error("expected '.' and a property name after '$'")
        return tuple(path)

    def json_test(self) -> _JsonTest:
        path = self.selector()
        if self.keyword("IS"):
            for word, op in (("NULL", "is-null"), ("TRUE", "is-true"), ("FALSE", "is-false")):
                if self.keyword(word):
                    return _JsonTest(path, op)
            raise self.error("expected NULL, TRUE or FALSE after IS")
        if self.keyword("NOT"):
            if self.keyword("EXISTS"):
                return _JsonTest(path, "not-exists")
            raise self.error("expected EXISTS after NOT")
        op = self.operator()
        if op is None:
            raise self.error("expected an operator: =, !=, <, >, <=, >=, IS NULL, IS TRUE, IS FALSE or NOT EXISTS")
        return _JsonTest(path, op, self.value(op, stop="()}"))

    # space-delimited patterns -------------------------------------------------------------

    def delimited_pattern(self) -> tuple[_Column, ...]:
        self.expect("[", "'['")
        columns: list[_Column] = []
        names: set[str] = set()
        while True:
            self.skip_space()
            start = self.pos
            if self.accept("..."):
                columns.append(_Column(None))
            else:
                match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.pattern, self.pos, self.end)
                if not match:
                    raise self.error("expected a field name or '...'")
                name = match.group()
                if name in names:
                    raise self.error(f"field {name!r} is named twice", start)
                names.add(name)
                condition = None
                if self.operator_ahead():
                    self.pos = start
                    condition = self.expression(self.field_test)
                else:
                    self.pos = match.end()
                columns.append(_Column(name, condition))
            if self.accept("]"):
                break
            self.expect(",", "',' or ']'")
        if not self.at_end():
            raise self.error("unexpected text after the closing ']'")
        for column in columns:
            for test in _field_tests(column.condition):
                if test.name not in names:
                    raise self.error(f"condition on unknown field {test.name!r}", test.position)
        return tuple(columns)

    def operator_ahead(self) -> bool:
        saved = self.pos
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.pattern, self.pos, self.end)
        assert match
        self.pos = match.end()
        found = self.operator() is not None
        self.pos = saved
        return found

    def field_test(self) -> _FieldTest:
        self.skip_space()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.pattern, self.pos, self.end)
        if not match:
            raise self.error("expected a field name")
        self.pos = match.end()
        op = self.operator()
        if op is None:
            raise self.error(f"expected an operator after {match.group()!r}: =, !=, <, >, <= or >=")
        return _FieldTest(match.group(), op, self.value(op, stop="(),]"), match.start())

    # term patterns -----------------------------------------------------------------------

    def terms(self) -> _Terms:
        required: list[str] = []
        any_of: list[str] = []
        excluded: list[str] = []
        while not self.at_end():
            prefix = self.pattern[self.pos]
            bucket = {"?": any_of, "-": excluded}.get(prefix, required)
            if prefix in "?-":
                self.pos += 1
                if self.pos >= self.end or self.pattern[self.pos].isspace():
                    raise self.error(f"expected a term after '{prefix}'")
            if self.pattern[self.pos] == '"':
                text = self.quoted()
                if not text:
                    raise self.error("empty quoted term", self.pos - 2)
            else:
                start = self.pos
                while self.pos < self.end and not self.pattern[self.pos].isspace():
                    if self.pattern[self.pos] in '"{}[]':
                        raise self.error(f"unexpected {self.pattern[self.pos]!r} in a term: quote the term")
                    self.pos += 1
                text = self.pattern[start : self.pos]
            bucket.append(text)
        return _Terms(tuple(required), tuple(any_of), tuple(excluded))


def _field_tests(node: Any) -> list[_FieldTest]:
    if node is None:
        return []
    if isinstance(node, (_Or, _And)):
        return [test for item in node.items for test in _field_tests(item)]
    return [node]


# --------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class FilterPattern:
    """A parsed filter pattern; ``matches(event)`` evaluates it offline."""

    text: str
    kind: Literal["all", "json", "terms", "space-delimited", "regex"]
    _tree: Any

    def matches(self, event: Mapping[str, Any] | str) -> bool:
        """Whether CloudWatch Logs would count ``event`` (a decoded JSON record or a log line)."""
        if self.kind == "all":
            return True
        if self.kind == "json":
            record = _as_record(event)
            if record is _MISSING:
                return False
            return _evaluate(self._tree, lambda test: _json_test(test, record))
        line = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
        if self.kind == "terms":
            return _match_terms(self._tree, line)
        if self.kind == "regex":
            return self._tree.search(line) is not None
        return _match_delimited(self._tree, line)


def parse(pattern: str) -> FilterPattern:
    """Parse ``pattern``; raises ``FilterPatternError`` (a ``ValueError``) showing where it is malformed."""
    if not isinstance(pattern, str):
        raise TypeError(f"a filter pattern is a string, got {type(pattern).__name__}")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise FilterPatternError(
            pattern,
            MAX_PATTERN_LENGTH,
            f"pattern is {len(pattern)} characters; CloudWatch Logs accepts at most {MAX_PATTERN_LENGTH}",
        )
    parser = _Parser(pattern)
    if parser.at_end():
        return FilterPattern(pattern, "all", None)
    first = pattern[parser.pos]
    if first == "{":
        return FilterPattern(pattern, "json", parser.json_pattern())
    if first == "%":
        stripped = pattern.strip()
        if len(stripped) < 3 or not stripped.endswith("%"):
            raise FilterPatternError(pattern, len(pattern.rstrip()), "a regular expression pattern ends with '%'")
        try:
            compiled = re.compile(stripped[1:-1])
        except re.error as error:
            raise FilterPatternError(pattern, parser.pos + 1, f"invalid regular expression: {error}") from None
        return FilterPattern(pattern, "regex", compiled)
    if first == "[":
        return FilterPattern(pattern, "space-delimited", parser.delimited_pattern())
    return FilterPattern(pattern, "terms", parser.terms())


def matches(pattern: str | FilterPattern, event: Mapping[str, Any] | str) -> bool:
    """Whether ``pattern`` matches ``event``: a dict (a CloudTrail record) or a log line.

    A JSON pattern reads a string event as JSON (a line that is not a JSON object matches no
    JSON pattern); term and space-delimited patterns read a dict as its compact JSON text, as
    CloudTrail writes records to CloudWatch Logs.
    """
    parsed = pattern if isinstance(pattern, FilterPattern) else parse(pattern)
    return parsed.matches(event)


def _as_record(event: Mapping[str, Any] | str) -> Any:
    if isinstance(event, Mapping):
        return event
    try:
        record = json.loads(event)
    except ValueError:
        return _MISSING
    return record if isinstance(record, (dict, list)) else _MISSING


def _resolve(record: Any, path: Sequence[str | int]) -> Any:
    node = record
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, Mapping) or step not in node:
                return _MISSING
            node = node[step]
    return node


def _json_test(test: _JsonTest, record: Any) -> bool:
    actual = _resolve(record, test.path)
    if test.op == "not-exists":
        return actual is _MISSING
    if test.op == "is-null":
        return actual is None
    if test.op == "is-true":
        return actual is True
    if test.op == "is-false":
        return actual is False
    assert test.value is not None
    return _compare(test.op, actual, test.value)


def _match_terms(terms: _Terms, line: str) -> bool:
    if any(term in line for term in terms.excluded):
        return False
    if not all(term in line for term in terms.required):
        return False
    return not terms.any_of or any(term in line for term in terms.any_of)


_FIELD = re.compile(r'"([^"]*)"|\[([^\]]*)\]|(\S+)')


def _match_delimited(columns: tuple[_Column, ...], line: str) -> bool:
    fields = [next(group for group in match.groups() if group is not None) for match in _FIELD.finditer(line)]
    for binding in _bindings(columns, fields):
        if all(
            _evaluate(
                column.condition, lambda test, b=binding: _compare(test.op, b.get(test.name, _MISSING), test.value)
            )
            for column in columns
            if column.condition is not None
        ):
            return True
    return False


def _bindings(columns: Sequence[_Column], fields: Sequence[str]) -> Any:
    """Every way of assigning ``fields`` to ``columns`` ("..." takes zero or more fields)."""
    if not columns:
        if not fields:
            yield {}
        return
    head, rest = columns[0], columns[1:]
    if head.name is None:
        for taken in range(len(fields) + 1):
            yield from _bindings(rest, fields[taken:])
        return
    if not fields:
        return
    for binding in _bindings(rest, fields[1:]):
        yield {head.name: fields[0], **binding}
