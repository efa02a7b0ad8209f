"""Names several modules share, kept import-light so every command starts fast."""

from __future__ import annotations

from pathlib import Path

DEFAULT_TEMPLATES_OUT = Path("build/templates")
DEFAULT_LAMBDAS_OUT = Path("build/lambdas")
DEFAULT_CACHE_DIR = Path("build/cache/deps")

# The per-environment stacks in deploy order; tests check infra.stacks agrees.
ENVIRONMENT_STACK_NAMES = ("data", "backend", "frontend")
