"""Rendering is byte-for-byte deterministic, across runs and across processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from infra.config import AppConfig
from infra.render import render
from tests.templates.conftest import REPO


def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.json"))
    }


def test_render_twice_in_one_process_gives_identical_bytes(
    app_config: AppConfig, tmp_path: Path
) -> None:
    render(app_config, tmp_path / "a")
    render(app_config, tmp_path / "b")
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert len(first) == 8  # base and pipeline, then three stacks per environment
    assert first == second


def test_render_in_processes_with_different_hash_seeds_gives_identical_bytes(
    app_config: AppConfig, tmp_path: Path
) -> None:
    render(app_config, tmp_path / "here")
    for seed in ("1", "4242"):
        out = tmp_path / f"seed-{seed}"
        subprocess.run(
            [sys.executable, "-m", "infra", "render", "--out", str(out)],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        assert digests(out) == digests(tmp_path / "here")
