"""Template values: one canonical form to compare, and a short form for a person to read.

CloudFormation treats `true` and "true" as one value, so comparison does too. Values are
compared once resolved (`infra.gate.resolve`); what stays unknown before deploy compares by
where it comes from, and an intrinsic function left in a raw value compares structurally.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infra.gate.resolve import NOTHING, Opaque, Text, Unresolved


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (name,) = value
    return name == "Ref" or name.startswith("Fn::")


def normalized(value: Any) -> Any:
    """Scalars as CloudFormation sees them (`true` and "true" are the same value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): normalized(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalized(item) for item in value]
    if isinstance(value, Opaque):
        return {"$from": value.key}
    if isinstance(value, Text):
        return {"$text": [normalized(part) for part in value.parts]}
    if isinstance(value, Unresolved):
        return {"$unresolved": value.reason}
    if value is NOTHING:
        return {"$novalue": True}
    return value


def canonical(value: Any) -> str:
    """One string per value, whatever the key order: intrinsics compare structurally."""
    return json.dumps(normalized(value), sort_keys=True, separators=(",", ":"), default=str)


def describe(value: Any) -> str:
    """A value for a person: `Ref:X`, `X.Arn`, a Sub's string, lists and maps in brief."""
    if isinstance(value, str):
        return value
    if isinstance(value, Opaque):
        return value.key
    if isinstance(value, Text):
        return "".join(
            part if isinstance(part, str) else f"${{{part.key}}}" for part in value.parts
        )
    if isinstance(value, Unresolved):
        return f"(unresolved: {value.reason})"
    if value is NOTHING:
        return "(no value)"
    if is_intrinsic(value):
        return describe_intrinsic(*next(iter(value.items())))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {describe(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    return json.dumps(value)


def describe_intrinsic(name: str, argument: Any) -> str:
    if name == "Ref":
        return f"Ref:{argument}"
    if name == "Fn::GetAtt":
        return ".".join(map(str, argument)) if isinstance(argument, list) else str(argument)
    if name == "Fn::Sub":
        return describe(argument[0] if isinstance(argument, list) else argument)
    if name == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        separator, parts = argument
        if isinstance(parts, list):
            return str(separator).join(describe(part) for part in parts)
    return f"{name.removeprefix('Fn::')}({describe(argument)})"


def brief(value: Any, limit: int = 100) -> str:
    """`describe` for a detail inside a longer line; unset values say so."""
    if value is None:
        return "(unset)"
    text = describe(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def flatten(value: Any) -> list[Any]:
    """A list of items from one item, a list, or an `Fn::If` choosing between them (both sides)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [item for element in value for item in flatten(element)]
    if is_intrinsic(value):
        (name, argument), *_ = value.items()
        if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            return flatten(argument[1]) + flatten(argument[2])
        if name == "Ref" and argument == "AWS::NoValue":
            return []
    return [value]


def pointer_value(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer; `*` maps over a list; missing is None.

    An intrinsic function met on the way is returned whole: we cannot see inside it, so
    the whole expression is what gets compared.
    """
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    return _walk(document, parts)


def _walk(value: Any, parts: list[str]) -> Any:
    if not parts or value is None or is_intrinsic(value):
        return value
    if isinstance(value, Opaque | Text | Unresolved):
        return value
    head, rest = parts[0], parts[1:]
    if head == "*":
        return [_walk(item, rest) for item in value] if isinstance(value, list) else value
    if isinstance(value, Mapping):
        return _walk(value.get(head), rest)
    if isinstance(value, list) and head.isascii() and head.isdigit() and int(head) < len(value):
        return _walk(value[int(head)], rest)
    return None
