"""Fixtures for every suite (the library's, the reference app's, the examples'): never real
AWS, always a region and dummy credentials, and a local AWS on loopback when asked for.

Registered for the whole repository by the root conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="Rewrite tests/snapshots/*.json from the current render (review the diff).",
    )


@pytest.fixture(autouse=True)
def aws_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and a region, and no profile or endpoint from the developer's shell."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    yield


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A local AWS (moto's server plus our fixes, `infra.local`) on 127.0.0.1.

    Stopped by its own process id when the module's tests are done.
    """
    from infra.local.aws_server import LocalAws

    with LocalAws("127.0.0.1") as aws:
        yield f"http://127.0.0.1:{aws.port}"
