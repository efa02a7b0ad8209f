"""Apps for the tests: the reference app's declaration, and configs for apps made in a test.

A test that needs an app of another shape declares it with `infra.app` and renders it
through `config_for`, the same path `infra.toml` + app.py take; nothing is patched.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from infra.app import App
from infra.app.load import load_declaration
from infra.config import AppConfig, apply_overrides, parse_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "links"

# The smallest settings file: one account, one environment.
MINIMAL_TOML = """
[app]
name = "demo"

[accounts.main]
region = "eu-west-1"
account_id = "111111111111"

[environments.dev]
account = "main"
region = "eu-west-1"
frontend_origins = ["http://localhost:5173"]
"""


def reference_app() -> App:
    """The photo app's declaration (app.py at the repository root)."""
    return load_declaration(REPO / "app.py", "infra.toml")


def config_for(app: App, toml: str = MINIMAL_TOML, overrides: tuple[str, ...] = ()) -> AppConfig:
    """`app` with these settings, validated as infra.toml is."""
    raw: dict[str, Any] = tomllib.loads(toml)
    return parse_config(apply_overrides(raw, overrides), "infra.toml", root=REPO, declaration=app)
