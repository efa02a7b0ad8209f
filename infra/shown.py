"""Values as one-line errors show them: as the TOML file spells them, anything odd escaped.

Every value a settings file or a declaration accepts is ASCII, so a string that is not is
shown with its other characters escaped: a look-alike letter or an odd space is visible,
and a newline never splits an error over two lines.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from infra.naming import full_match


def one_line(text: str) -> str:
    """`text` as given when it prints on one line, else quoted with escapes."""
    return text if text.isprintable() else ascii(text)


def show(value: Any) -> str:
    """A value as the TOML file spells it: true, 12, 'text', [1, 2]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, str):
        return repr(value) if value.isascii() else ascii(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return repr(value)


_BARE_KEY = r"[A-Za-z0-9_-]+"


def key_text(name: str) -> str:
    """One key as TOML writes it: bare, or quoted with escapes (so it stays on one line)."""
    return name if full_match(_BARE_KEY, name) else json.dumps(name)


def dotted(*names: str) -> str:
    return ".".join(key_text(name) for name in names)


def plural(count: int, noun: str) -> str:
    """`1 reason`, `2 reasons`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
