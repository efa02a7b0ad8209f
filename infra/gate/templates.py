"""The resources of a parsed template, read defensively: a template may be half-written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Properties = Mapping[str, Any]


def resources(template: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:
    found = (template or {}).get("Resources") or {}
    return {name: body for name, body in found.items() if isinstance(body, Mapping)}


def type_of(resource: Mapping[str, Any] | None) -> str:
    found = (resource or {}).get("Type")
    return found if isinstance(found, str) else ""
