"""Lambda event filtering for event source mappings: which records reach the function.

An event source mapping's `FilterCriteria` holds up to five patterns (JSON text); Lambda
hands a record to the function when any of them matches and drops it otherwise. Without
the same filtering locally, a function would see records it never sees in AWS (the links
app's counter would count its own updates). Patterns use EventBridge's syntax ("Lambda
event filtering" in the Lambda Developer Guide, and `aws/event-ruler`, the matcher
EventBridge uses):

- an object matches the record's object at the same place, field by field (all must
  match); a field's array lists matchers, any of which may match;
- matchers: literals (string, number, boolean, null), `prefix`, `suffix`,
  `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`, `exists`, and `$or`
  between objects;
- where the record holds an array, the pattern matches when any element matches (array
  elements never combine: each object element is tried as a whole);
- numbers match literally by their JSON text (300, 300.0 and 3.0e2 differ, as the
  guide says) but by value under `numeric` and `anything-but`; `numeric` only matches
  JSON numbers, so DynamoDB's `{"N": "5"}` (a string) never matches it;
- an SQS record's `body` is matched as parsed JSON when it is a JSON object or array and
  as the plain string otherwise; a pattern that expects the other form drops the record,
  as Lambda does.

Compiling checks each pattern the way Lambda's API would and raises FilterError with one
line naming the pattern, the field and the problem.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["MAX_PATTERNS", "MAX_PATTERN_LENGTH", "EventFilter", "FilterError", "compile_filters"]

MAX_PATTERNS = 5  # Lambda's default quota of filters per event source mapping
MAX_PATTERN_LENGTH = 4096  # Filter.Pattern's maximum length in Lambda's API


class FilterError(ValueError):
    """A filter pattern Lambda would refuse; the message is one line naming what is wrong."""


def compile_filters(patterns: Iterable[str]) -> EventFilter:
    """A FilterCriteria's patterns (JSON text) -> an EventFilter; FilterError if one is invalid."""
    texts = list(patterns)
    if len(texts) > MAX_PATTERNS:
        raise FilterError(
            f"a filter criteria holds at most {MAX_PATTERNS} patterns, not {len(texts)}"
        )
    return EventFilter(tuple(_compile_pattern(n, text) for n, text in enumerate(texts, 1)))


@dataclass(frozen=True)
class EventFilter:
    """The compiled patterns of one event source mapping; no patterns lets everything through."""

    patterns: tuple[_ObjectPattern, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether Lambda would hand `record` (a DynamoDB or SQS record, say) to the function."""
        if not self.patterns:
            return True
        node = _with_body(record)
        return any(pattern.matches(node) for pattern in self.patterns)


# --- compiling ----------------------------------------------------------------------------


class _PatternError(Exception):
    """Raised where a pattern is wrong; `_compile_pattern` names the pattern and the field."""

    def __init__(self, path: tuple[str, ...], reason: str) -> None:
        super().__init__(f"{'.'.join(path)}: {reason}" if path else reason)


class _JsonInt(int):
    """A JSON integer that remembers its text: literals compare by text, as AWS does."""

    text: str

    def __new__(cls, text: str) -> _JsonInt:
        number = super().__new__(cls, text)
        number.text = text
        return number


class _JsonFloat(float):
    """A JSON fraction or exponent number that remembers its text (`3.0e2`, not `300.0`)."""

    text: str

    def __new__(cls, text: str) -> _JsonFloat:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=_JsonInt, parse_float=_JsonFloat)


def _compile_pattern(number: int, text: Any) -> _ObjectPattern:
    where = f"filter pattern {number}"
    if not isinstance(text, str):
        raise FilterError(f"{where} must be JSON text, not {type(text).__name__}")
    if len(text) > MAX_PATTERN_LENGTH:
        raise FilterError(f"{where} is {len(text)} characters; the limit is {MAX_PATTERN_LENGTH}")
    try:
        pattern = _loads(text)
    except ValueError as error:  # json.JSONDecodeError, or an integer too long to read
        raise FilterError(f"{where} is not valid JSON: {error}") from None
    except RecursionError:
        raise FilterError(f"{where} is nested too deeply") from None
    if not isinstance(pattern, dict):
        raise FilterError(f"{where} must be a JSON object, not {_json_type(pattern)}")
    try:
        return _object_pattern(pattern, (), in_or=False)
    except _PatternError as error:
        raise FilterError(f"{where}: {error}") from None
    except RecursionError:
        raise FilterError(f"{where} is nested too deeply") from None


_OPERATORS = (
    "anything-but",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
)
# Names EventBridge reserves inside `$or` (its operators, and ones it keeps for later).
_RESERVED_IN_OR = frozenset(
    [
        *_OPERATORS,
        *("exactly", "cidr", "regex", "=", "<", "<=", ">", ">="),
        *("not-wildcard", "not-equals-ignore-case"),
        *("ip-address-in-range", "ip-address-not-in-range"),
        *("date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range"),
    ]
)


def _object_pattern(pattern: dict[str, Any], path: tuple[str, ...], in_or: bool) -> _ObjectPattern:
    if not pattern:
        raise _PatternError(path, "empty objects are not allowed")
    fields: list[tuple[str, _ObjectPattern | _LeafPattern]] = []
    alternatives: tuple[_ObjectPattern, ...] = ()
    for key, value in pattern.items():
        if key == "$or":
            alternatives = _or_pattern(value, path)
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise _PatternError(path, f"{key!r} is an operator, not a field name, inside $or")
        here = (*path, key)
        if isinstance(value, dict):
            fields.append((key, _object_pattern(value, here, in_or)))
        elif isinstance(value, list):
            fields.append((key, _leaf_pattern(value, here)))
        else:
            raise _PatternError(
                here, f"must be an object or an array of values, not {_json_type(value)}"
            )
    return _ObjectPattern(tuple(fields), alternatives)


def _or_pattern(value: Any, path: tuple[str, ...]) -> tuple[_ObjectPattern, ...]:
    here = (*path, "$or")
    if not isinstance(value, list) or len(value) < 2:
        raise _PatternError(here, "must be an array of at least 2 objects")
    if not all(isinstance(item, dict) for item in value):
        raise _PatternError(here, "must hold only objects")
    return tuple(_object_pattern(item, path, in_or=True) for item in value)


def _leaf_pattern(values: list[Any], path: tuple[str, ...]) -> _LeafPattern:
    if not values:
        raise _PatternError(path, "empty arrays are not allowed")
    matchers: list[_Matcher] = []
    present = absent = False
    for value in values:
        if isinstance(value, dict) and list(value) == ["exists"]:
            if not isinstance(value["exists"], bool):
                raise _PatternError(
                    path, f"exists takes true or false, not {_json_type(value['exists'])}"
                )
            present, absent = present or value["exists"], absent or not value["exists"]
        elif isinstance(value, dict):
            matchers.append(_operator(value, path))
        elif value is None or isinstance(value, str | bool | int | float):
            matchers.append(_Equals(value))
        else:
            raise _PatternError(
                path,
                "a value must be a string, number, boolean, null or an operator object, "
                f"not {_json_type(value)}",
            )
    return _LeafPattern(tuple(matchers), present, absent)


def _operator(spec: dict[str, Any], path: tuple[str, ...]) -> _Matcher:
    if len(spec) != 1:
        names = ", ".join(sorted(spec)) or "none"
        raise _PatternError(path, f"an operator object has exactly one key, not {names}")
    ((name, operand),) = spec.items()
    if name in ("prefix", "suffix"):
        text, ignore_case = _text_or_ignore_case(name, operand, path)
        return _Affix(text, ignore_case, suffix=name == "suffix")
    if name == "equals-ignore-case":
        return _EqualsIgnoreCase(_string(name, operand, path))
    if name == "wildcard":
        return _wildcard(_string(name, operand, path), path)
    if name == "numeric":
        return _numeric(operand, path)
    if name == "anything-but":
        return _anything_but(operand, path)
    raise _PatternError(path, f"unknown operator {name!r}; Lambda knows {', '.join(_OPERATORS)}")


def _string(name: str, operand: Any, path: tuple[str, ...]) -> str:
    if not isinstance(operand, str):
        raise _PatternError(path, f"{name} takes a string, not {_json_type(operand)}")
    return operand


def _text_or_ignore_case(name: str, operand: Any, path: tuple[str, ...]) -> tuple[str, bool]:
    """`{"prefix": "x"}` or `{"prefix": {"equals-ignore-case": "x"}}` (suffix alike)."""
    if isinstance(operand, dict):
        if list(operand) != ["equals-ignore-case"]:
            raise _PatternError(path, f'{name} takes a string or {{"equals-ignore-case": string}}')
        return _string(f"{name} equals-ignore-case", operand["equals-ignore-case"], path), True
    return _string(name, operand, path), False


def _number(name: str, operand: Any, path: tuple[str, ...]) -> float:
    if isinstance(operand, bool) or not isinstance(operand, int | float):
        raise _PatternError(path, f"{name} takes a number, not {_json_type(operand)}")
    try:
        return float(operand)
    except OverflowError:
        raise _PatternError(path, f"{name}: the number is too large") from None


_LOWER = {">": True, ">=": False}  # operator -> open (the bound itself does not match)
_UPPER = {"<": True, "<=": False}


def _numeric(operand: Any, path: tuple[str, ...]) -> _Matcher:
    """`["=", 5]`, `[">", 0]`, `["<=", 5]`, or a lower then an upper bound: `[">", 0, "<=", 5]`."""
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _PatternError(
            path, 'numeric takes ["=", n], [">", n], ["<", n] or [">", low, "<", high]'
        )
    operators = operand[::2]
    for operator in operators:
        if not isinstance(operator, str) or operator not in ("=", *_LOWER, *_UPPER):
            raise _PatternError(path, f"numeric: {operator!r} is not =, <, <=, > or >=")
    value = _number(f"numeric {operators[0]}", operand[1], path)
    if len(operand) == 2:
        if operators[0] == "=":
            return _NumericEquals(value)
        if operators[0] in _LOWER:
            return _Range(value, _LOWER[operators[0]], None, False)
        return _Range(None, False, value, _UPPER[operators[0]])
    if operators[0] not in _LOWER or operators[1] not in _UPPER:
        raise _PatternError(path, "numeric: a range is > or >= a number, then < or <= a number")
    top = _number(f"numeric {operators[1]}", operand[3], path)
    if top <= value:
        raise _PatternError(path, f"numeric: the lower bound {value:g} must be below {top:g}")
    return _Range(value, _LOWER[operators[0]], top, _UPPER[operators[1]])


def _anything_but(operand: Any, path: tuple[str, ...]) -> _Matcher:
    """A string, a number, a list of all strings or all numbers, or one string operator."""
    if isinstance(operand, dict):
        if len(operand) != 1:
            raise _PatternError(path, "anything-but takes one operator object")
        ((name, inner),) = operand.items()
        if name in ("prefix", "suffix"):
            text = _string(f"anything-but {name}", inner, path)
            if not text:
                raise _PatternError(path, f"anything-but {name} cannot be empty")
            return _AnythingBut((_Affix(text, False, suffix=name == "suffix"),))
        if name == "wildcard":
            return _AnythingBut((_wildcard(_string("anything-but wildcard", inner, path), path),))
        if name == "equals-ignore-case":
            texts = inner if isinstance(inner, list) else [inner]
            if not texts:
                raise _PatternError(path, "anything-but equals-ignore-case cannot be empty")
            return _AnythingBut(
                tuple(_EqualsIgnoreCase(_string(f"anything-but {name}", t, path)) for t in texts)
            )
        raise _PatternError(
            path,
            f"anything-but takes prefix, suffix, wildcard or equals-ignore-case, not {name!r}",
        )
    values = operand if isinstance(operand, list) else [operand]
    if values and all(isinstance(value, str) for value in values):
        return _AnythingBut(tuple(_Equals(value) for value in values))
    if values and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in values
    ):
        return _AnythingBut(
            tuple(_NumericEquals(_number("anything-but", value, path)) for value in values)
        )
    raise _PatternError(
        path, "anything-but takes a string, a number, or a list of all strings or all numbers"
    )


def _wildcard(text: str, path: tuple[str, ...]) -> _Wildcard:
    """`a*b`: `*` is any run of characters; `\\*` and `\\\\` are a literal `*` and `\\`."""
    parts: list[str] = []
    characters = iter(text)
    previous_star = False
    for character in characters:
        if character == "*":
            if previous_star:
                raise _PatternError(path, f"wildcard {text!r} has consecutive *")
            parts.append(".*")
            previous_star = True
            continue
        previous_star = False
        if character == "\\":
            escaped = next(characters, "")
            if escaped not in ("*", "\\"):
                raise _PatternError(path, f"wildcard {text!r}: \\ escapes only * or \\")
            character = escaped
        parts.append(re.escape(character))
    return _Wildcard(re.compile("".join(parts), re.DOTALL))


# --- matching -----------------------------------------------------------------------------


class _Missing:
    """No value at this place in the record (the field is absent)."""


_MISSING: Any = _Missing()


@dataclass(frozen=True)
class _Body:
    """An SQS record's `body`: parsed when it is a JSON object or array, else the string."""

    value: Any
    is_json: bool


def _with_body(record: Mapping[str, Any]) -> Mapping[str, Any]:
    body = record.get("body")
    if not isinstance(body, str):
        return record
    try:
        parsed = _loads(body)
    except ValueError:  # json.JSONDecodeError, and numbers too long for int()
        parsed = None
    if isinstance(parsed, dict | list):
        return {**record, "body": _Body(parsed, is_json=True)}
    return {**record, "body": _Body(body, is_json=False)}


def _leaves(node: Any) -> Iterator[Any]:
    """The values a leaf matcher sees at this place: arrays flattened, objects skipped."""
    if node is _MISSING or isinstance(node, Mapping):
        return
    if isinstance(node, list | tuple):
        for item in node:
            yield from _leaves(item)
        return
    yield node


@dataclass(frozen=True)
class _ObjectPattern:
    """`{"a": ..., "b": ..., "$or": [...]}`: every field matches, and one `$or` alternative."""

    fields: tuple[tuple[str, _ObjectPattern | _LeafPattern], ...]
    alternatives: tuple[_ObjectPattern, ...] = ()

    def matches(self, node: Any) -> bool:
        if isinstance(node, list | tuple):
            items = list(_objects_and_leaves(node))
            return any(self.matches(item) for item in items) if items else self.matches(_MISSING)
        children = node if isinstance(node, Mapping) else {}
        for key, pattern in self.fields:
            child = children.get(key, _MISSING)
            if isinstance(child, _Body):
                if child.is_json != isinstance(pattern, _ObjectPattern):
                    return False  # Lambda drops a record whose body is not the pattern's form
                child = child.value
            if not pattern.matches(child):
                return False
        return not self.alternatives or any(alt.matches(node) for alt in self.alternatives)


def _objects_and_leaves(node: list[Any] | tuple[Any, ...]) -> Iterator[Any]:
    for item in node:
        if isinstance(item, list | tuple):
            yield from _objects_and_leaves(item)
        else:
            yield item


@dataclass(frozen=True)
class _LeafPattern:
    """`[matcher, ...]`: any matcher matches any value here; `exists` asks whether there is one.

    "Here" is a leaf: an object in the record has no value at its own place, so
    `{"exists": true}` does not match it and `{"exists": false}` does (as the guide says).
    """

    matchers: tuple[_Matcher, ...]
    present: bool = False  # `{"exists": true}` is among them
    absent: bool = False  # `{"exists": false}` is among them

    def matches(self, node: Any) -> bool:
        values = list(_leaves(node))
        if (self.present and values) or (self.absent and not values):
            return True
        return any(matcher.matches(value) for value in values for matcher in self.matchers)


class _Matcher(ABC):
    """One matcher of a leaf's array, asked about one value the record holds there."""

    @abstractmethod
    def matches(self, value: Any) -> bool:
        """Whether `value` (a string, number, boolean or None) satisfies this matcher."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number_text(value: Any) -> str:
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    return str(value) if isinstance(value, int | Decimal) else repr(float(value))


@dataclass(frozen=True)
class _Equals(_Matcher):
    """A literal: strings exactly, numbers by their JSON text, true, false and null as such."""

    expected: str | bool | int | float | None

    def matches(self, value: Any) -> bool:
        expected = self.expected
        if expected is None or isinstance(expected, bool):
            return value is expected
        if isinstance(expected, str):
            return isinstance(value, str) and value == expected
        return _is_number(value) and _number_text(value) == _number_text(expected)


@dataclass(frozen=True)
class _NumericEquals(_Matcher):
    """`{"numeric": ["=", n]}`, and the numbers of `anything-but`: equal by value."""

    expected: float

    def matches(self, value: Any) -> bool:
        return _is_number(value) and float(value) == self.expected


@dataclass(frozen=True)
class _Range(_Matcher):
    """`{"numeric": [">", 0, "<=", 5]}` and its one-sided forms; only JSON numbers match."""

    low: float | None
    low_open: bool
    high: float | None
    high_open: bool

    def matches(self, value: Any) -> bool:
        if not _is_number(value):
            return False
        number = float(value)
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        return self.high is None or (number < self.high if self.high_open else number <= self.high)


@dataclass(frozen=True)
class _Affix(_Matcher):
    """`prefix` or `suffix`, optionally ignoring case; strings only."""

    text: str
    ignore_case: bool
    suffix: bool

    def matches(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        subject, text = (
            (value.lower(), self.text.lower()) if self.ignore_case else (value, self.text)
        )
        return subject.endswith(text) if self.suffix else subject.startswith(text)


@dataclass(frozen=True)
class _EqualsIgnoreCase(_Matcher):
    """`equals-ignore-case`: strings only."""

    text: str

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and value.lower() == self.text.lower()


@dataclass(frozen=True)
class _Wildcard(_Matcher):
    """`wildcard`: the whole string against `*` as any run of characters; strings only."""

    regex: re.Pattern[str]

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


@dataclass(frozen=True)
class _AnythingBut(_Matcher):
    """`anything-but`: any value here that none of the excluded matchers match."""

    excluded: tuple[_Matcher, ...]

    def matches(self, value: Any) -> bool:
        return not any(matcher.matches(value) for matcher in self.excluded)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
