"""The shell entry points reach the CLI they wrap."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO


def test_bootstrap_script_runs_the_bootstrap_command() -> None:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "bootstrap.sh"), "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: python -m infra bootstrap [OPTIONS]")
    assert "Deploy the base and pipeline stacks" in result.stdout
