"""The library's and the reference app's tests; shared fixtures are in tests/support/fixtures.py."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
