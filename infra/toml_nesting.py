"""Nesting in a settings file: refused with its key before anything recurses into it.

A table or list nested deeper than the schema could ever need is an error naming its
key. A file too deep for tomllib itself (a RecursionError) is read again with each too
deep value replaced by a marker, so that error names the key too.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from infra.errors import ConfigError
from infra.shown import dotted

# Tables and lists inside one another, counted from the file's root: the deepest the
# schema has is 4 (environments.<env>.settings.<list>). Deeper is refused before anything
# recurses into it.
MAX_NESTING = 16
# Stands in for a value too deep for tomllib, so the rest can be read to find its key.
_TOO_DEEP_MARK = "\u0000nested too deeply\u0000"


def too_deep(document: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The keys down to the first table or list nested over MAX_NESTING deep, or None.

    Walked with a stack, not recursion. List positions are not keys: the path ends at
    the key holding the list.
    """
    pending: list[tuple[tuple[str, ...], Any, int]] = [((), document, 0)]
    while pending:
        keys, value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_NESTING:
            return keys
        if isinstance(value, dict):
            children = [((*keys, key), item, depth + 1) for key, item in value.items()]
        elif isinstance(value, list):
            children = [(keys, item, depth + 1) for item in value]
        else:
            continue
        pending.extend(reversed(children))  # file order: the first one found is reported
    return None


def check_nesting(document: Mapping[str, Any], source: str) -> None:
    keys = too_deep(document)
    if keys is not None:
        raise ConfigError(source, dotted(*keys), f"nested more than {MAX_NESTING} levels deep")


def read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, "", f"not valid TOML: {err}") from None
    except RecursionError:
        raise _nested_in_text(text, source) from None


def _nested_in_text(text: str, source: str) -> ConfigError:
    """The error for a file too deep for tomllib to read: found by its key when it can be.

    Each value nested too deeply is replaced by a marker string; the rest is then read
    as TOML, and the marker's place in it is the key to name.
    """
    spans = _deep_spans(text)
    for start, end in reversed(spans):
        text = text[:start] + json.dumps(_TOO_DEEP_MARK) + text[end:]
    reason = f"nested more than {MAX_NESTING} levels deep"
    try:
        document = tomllib.loads(text) if spans else None
    except (tomllib.TOMLDecodeError, RecursionError):
        document = None
    keys = _path_of_mark(document) if document is not None else None
    if keys is None:
        return ConfigError(source, "", f"not valid TOML: {reason}")
    return ConfigError(source, dotted(*keys), reason)


_TOML_SYNTAX = re.compile(r"[\[\]{}\"'#]")  # what _deep_spans stops at; it skips the rest


def _deep_spans(text: str) -> list[tuple[int, int]]:
    """Where each value with over MAX_NESTING brackets starts and ends in TOML `text`.

    Skips strings, comments and table headers (a `[` first on its line, outside a value).
    """
    spans: list[tuple[int, int]] = []
    depth = peak = start = 0
    found = _TOML_SYNTAX.search(text)
    while found is not None:
        index = found.start()
        char = text[index]
        if char == "#" or (char == "[" and depth == 0 and _first_on_its_line(text, index)):
            index = _line_end(text, index)  # a comment, or a table header
        elif char in "\"'":
            index = _string_end(text, index)
        elif char in "[{":
            if depth == 0:
                start, peak = index, 0
            depth += 1
            peak = max(peak, depth)
            index += 1
        else:  # a closing bracket
            depth = max(depth - 1, 0)
            index += 1
            if depth == 0 and peak > MAX_NESTING:
                spans.append((start, index))
                peak = 0
        found = _TOML_SYNTAX.search(text, index)
    if depth and peak > MAX_NESTING:
        spans.append((start, len(text)))
    return spans


def _first_on_its_line(text: str, index: int) -> bool:
    return not text[text.rfind("\n", 0, index) + 1 : index].strip()


def _line_end(text: str, index: int) -> int:
    """The end of the line at `index`, past its strings (a header's quoted keys)."""
    while index < len(text) and text[index] != "\n":
        index = _string_end(text, index) if text[index] in "\"'" else index + 1
    return index


def _string_end(text: str, index: int) -> int:
    """Just past the TOML string opening at `index` (basic or literal, one or multi-line)."""
    quote = text[index]
    if text.startswith(quote * 3, index):
        index += 3
        while index < len(text) and not text.startswith(quote * 3, index):
            index += 2 if quote == '"' and text[index] == "\\" else 1
        index += 3
        while index < len(text) and text[index] == quote:  # up to two quotes end the text
            index += 1
        return min(index, len(text))
    index += 1
    while index < len(text) and text[index] not in (quote, "\n"):
        index += 2 if quote == '"' and text[index] == "\\" else 1
    return min(index + 1, len(text))


def _path_of_mark(document: Mapping[str, Any]) -> tuple[str, ...] | None:
    pending: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while pending:
        keys, value = pending.pop()
        if value == _TOO_DEEP_MARK:
            return keys
        if isinstance(value, dict):
            pending.extend(reversed([((*keys, k), v) for k, v in value.items()]))
        elif isinstance(value, list):
            pending.extend(reversed([(keys, v) for v in value]))
    return None
