"""A small TOML writer for the config tests: cases are data edits of a parsed file.

Not a general TOML library: it writes what `tomllib` reads back as the same data, for
the values the tests use, and `Raw` text for what no data can express (a value nested
too deeply to build, or to parse, as data).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


@dataclass(frozen=True)
class Raw:
    """TOML text written as it is, in a value's place."""

    text: str


def toml_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """One TOML value; JSON's string escapes are valid TOML basic strings."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + pairs + " }"
    raise TypeError(f"no TOML form for {value!r}")


def dump_toml(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """Key/values first, then each sub-table under its own header, in the given order."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = []
    if prefix and (scalars or not tables):
        lines.append(f"[{'.'.join(toml_key(part) for part in prefix)}]")
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in scalars.items()]
    text = "\n".join(lines) + "\n" if lines else ""
    for key, table in tables.items():
        text += "\n" + dump_toml(table, (*prefix, key))
    return text
