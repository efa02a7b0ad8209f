"""The shipped app rendered once per session, parsed, for every template test to read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.config import AppConfig, load_config
from infra.render import RenderedStack, render

REPO = Path(__file__).resolve().parents[2]
Template = dict[str, Any]


@pytest.fixture(scope="session")
def app_config() -> AppConfig:
    return load_config(REPO / "infra.toml")


@pytest.fixture(scope="session")
def rendered_stacks(
    app_config: AppConfig, tmp_path_factory: pytest.TempPathFactory
) -> list[RenderedStack]:
    return render(app_config, tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def templates(rendered_stacks: list[RenderedStack]) -> dict[str, Template]:
    """`scope/stack` -> parsed template, e.g. `dev/backend`, `main/base`."""
    return {f"{r.scope}/{r.stack}": json.loads(r.path.read_text()) for r in rendered_stacks}


def resources(template: Template, resource_type: str) -> dict[str, Template]:
    """The template's resources of one type, by logical ID."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only(template: Template, resource_type: str) -> Template:
    """The one resource of a type; fails when there are none or several."""
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def props(template: Template, logical_id: str) -> Template:
    return template["Resources"][logical_id]["Properties"]


def statements(document: Template) -> Iterator[Template]:
    yield from document["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
