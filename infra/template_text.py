"""A template as text: exactly `json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False)`.

The standard library's indenting encoder is its pure-Python one (the C encoder cannot
indent), and it is most of what rendering costs. This writes the same bytes in less than
half the time for the values a template holds (dicts, lists, strings, numbers, booleans,
null); anything else goes to `json.dumps` itself. tests/templates/test_template_text.py
holds it to byte-identity with `json.dumps` on every rendered template and on edge cases.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

SCALARS = {True: "true", False: "false"}


def template_text(body: Any) -> str:
    """`body` as indented, key-sorted JSON text (no trailing newline)."""
    parts: list[str] = []
    _write(body, 0, parts.append)
    return "".join(parts)


def _write(value: Any, level: int, put: Any) -> None:
    kind = type(value)
    if kind is str:
        put(encode_basestring(value))
    elif kind is dict:
        if not value:
            put("{}")
            return
        if not all(type(key) is str for key in value):
            _fallback(value, level, put)
            return
        inner = "\n" + " " * (level + 1)
        separator = "{" + inner
        for key in sorted(value):
            put(separator)
            put(encode_basestring(key))
            put(": ")
            _write(value[key], level + 1, put)
            separator = "," + inner
        put("\n" + " " * level + "}")
    elif kind is list:
        if not value:
            put("[]")
            return
        inner = "\n" + " " * (level + 1)
        separator = "[" + inner
        for item in value:
            put(separator)
            _write(item, level + 1, put)
            separator = "," + inner
        put("\n" + " " * level + "]")
    elif kind is bool:
        put(SCALARS[value])
    elif kind is int:
        put(int.__repr__(value))
    elif value is None:
        put("null")
    else:  # floats, subclasses, tuples, anything json.dumps has rules for
        _fallback(value, level, put)


def _fallback(value: Any, level: int, put: Any) -> None:
    """What `json.dumps` writes for `value`, indented to `level`."""
    text = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)
    put(text.replace("\n", "\n" + " " * level))
