"""Whether one IAM pattern covers another: action and ARN wildcards, over resolved values.

A pattern covers a value when every string the value can stand for matches the pattern.
`*` matches any run of characters and `?` exactly one, in the pattern and in the value
alike: the value `s3:Get*` is covered by `s3:*` but not by `s3:GetObject`. A part only known
after deploy (`Opaque`, such as `${Bucket.Arn}`) is matched by `*` or by the same part, never
by literal characters or `?`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from infra.gate.resolve import Opaque, Text

STAR = "\x00*"  # tokens that no one-character literal can equal
ONE = "\x00?"

Token = str | Opaque


def tokens(value: Any, *, fold_case: bool = False) -> tuple[Token, ...] | None:
    """The value as wildcard tokens; None when it is no string (a list, an unresolved value)."""
    if isinstance(value, str):
        return tuple(token(char, fold_case) for char in value)
    if isinstance(value, Opaque):
        return (value,)
    if isinstance(value, Text):
        found: list[Token] = []
        for part in value.parts:
            found += tokens(part, fold_case=fold_case) or ()
        return tuple(found)
    return None


def token(char: str, fold_case: bool) -> str:
    if char == "*":
        return STAR
    if char == "?":
        return ONE
    return char.lower() if fold_case else char


def covers(pattern: Any, value: Any, *, fold_case: bool = False) -> bool:
    """Every string `value` stands for is matched by `pattern`."""
    wanted, given = tokens(pattern, fold_case=fold_case), tokens(value, fold_case=fold_case)
    if wanted is None or given is None:
        return False
    return _covers(wanted, given)


def _fits(wanted: Token, given: Token) -> bool:
    """One token of the value is matched by one non-star token of the pattern."""
    if wanted == ONE:
        return given == ONE or (isinstance(given, str) and given != STAR)
    return given == wanted


@cache
def _covers(pattern: tuple[Token, ...], value: tuple[Token, ...]) -> bool:
    """Dynamic programming over (pattern prefix, value prefix), row by row: no recursion,
    so a long ARN cannot exhaust the stack. `row[j]`: pattern[:i] matches value[:j]."""
    row = [True] + [False] * len(value)
    for wanted in pattern:
        if wanted == STAR:  # a star matches any run of value tokens, stars included
            for j in range(1, len(value) + 1):
                row[j] = row[j] or row[j - 1]
        else:
            row = [False] + [row[j] and _fits(wanted, value[j]) for j in range(len(value))]
    return row[len(value)]


def is_exact(value: Any) -> bool:
    """A plain string with no wildcard: it stands for itself alone."""
    return isinstance(value, str) and "*" not in value and "?" not in value
