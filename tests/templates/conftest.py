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
EXAMPLE = REPO / "examples" / "links"
Template = dict[str, Any]


def parsed(rendered: list[RenderedStack]) -> dict[str, Template]:
    return {f"{r.scope}/{r.stack}": json.loads(r.path.read_text()) for r in rendered}


@pytest.fixture(scope="session")
def app_config() -> AppConfig:
    """The reference app (photos), from the repository's infra.toml and app.py."""
    return load_config(REPO / "infra.toml")


@pytest.fixture(scope="session")
def rendered_stacks(
    app_config: AppConfig, tmp_path_factory: pytest.TempPathFactory
) -> list[RenderedStack]:
    return render(app_config, tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def templates(rendered_stacks: list[RenderedStack]) -> dict[str, Template]:
    """`scope/stack` -> parsed template, e.g. `dev/backend`, `main/base`."""
    return parsed(rendered_stacks)


@pytest.fixture(scope="session")
def example_config() -> AppConfig:
    """The example app (links), from examples/links/infra.toml and its app.py."""
    return load_config(EXAMPLE / "infra.toml")


@pytest.fixture(scope="session")
def example_rendered(
    example_config: AppConfig, tmp_path_factory: pytest.TempPathFactory
) -> list[RenderedStack]:
    return render(example_config, tmp_path_factory.mktemp("example-templates"))


@pytest.fixture(scope="session")
def example_templates(example_rendered: list[RenderedStack]) -> dict[str, Template]:
    return parsed(example_rendered)


@pytest.fixture(scope="session")
def every_rendered(
    rendered_stacks: list[RenderedStack], example_rendered: list[RenderedStack]
) -> list[RenderedStack]:
    """Both apps' templates: what holds for every app the library renders."""
    return [*rendered_stacks, *example_rendered]


@pytest.fixture(scope="session")
def every_template(
    templates: dict[str, Template], example_templates: dict[str, Template]
) -> dict[str, Template]:
    """`app:scope/stack` -> parsed template, for both apps."""
    return {
        **{f"photos:{name}": body for name, body in templates.items()},
        **{f"links:{name}": body for name, body in example_templates.items()},
    }


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
