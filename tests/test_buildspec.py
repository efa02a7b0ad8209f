"""buildspec.yml: what CodeBuild runs must exist in this repository before a push finds out.

Every `python -m infra` line is parsed by that command's own click options (nothing runs),
the pytest line by pytest, and the artifact, cache and report paths are matched the way
CodeBuild matches them. Each checker also gets a line it must refuse.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from infra.cli import COMMANDS, cli
from infra.constants import DEFAULT_CACHE_DIR, DEFAULT_TEMPLATES_OUT

REPO = Path(__file__).resolve().parents[1]
BUILDSPEC = REPO / "buildspec.yml"
PHASES = ["install", "pre_build", "build"]
INFRA = ["python", "-m", "infra"]
PYTEST = ["python", "-m", "pytest"]
# Files the pipeline's later actions read from the build's output artifact.
ARTIFACT_NEEDS = [
    "buildspec.yml",
    "infra.toml",
    "infra/cli.py",
    "pipelines/__init__.py",
    f"{DEFAULT_TEMPLATES_OUT.as_posix()}/dev/backend.json",
    f"{DEFAULT_TEMPLATES_OUT.as_posix()}/dev/backend.config.json",
    f"{DEFAULT_TEMPLATES_OUT.as_posix()}/main/base.json",
    "web/index.html",
    "web/app.js",
]
# Files that must not travel: environments, caches and zips already in the artifact bucket.
ARTIFACT_EXCLUDES = [
    ".git/HEAD",
    ".venv/bin/python",
    ".venv-checkov/bin/checkov",
    ".pip-cache/http/a/b",
    "build/lambdas/manifest.json",
    f"{DEFAULT_CACHE_DIR.as_posix()}/key/PIL/__init__.py",
    "infra/__pycache__/cli.cpython-312.pyc",
]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(BUILDSPEC.read_text(encoding="utf-8"))


def commands(spec: dict[str, Any]) -> list[str]:
    return [line for phase in spec["phases"].values() for line in phase.get("commands", [])]


def lines_starting(spec: dict[str, Any], prefix: list[str]) -> list[list[str]]:
    split = [shlex.split(line) for line in commands(spec)]
    return [words for words in split if words[: len(prefix)] == prefix]


def codebuild_glob(pattern: str) -> re.Pattern[str]:
    """CodeBuild's path patterns: `*` stays inside one folder, `**` crosses folders."""
    regex = ""
    for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
            part, re.escape(part)
        )
    return re.compile(regex)


def matches(patterns: list[str], path: str) -> bool:
    return any(codebuild_glob(pattern).fullmatch(path) for pattern in patterns)


def check_infra_command(words: list[str]) -> None:
    """Parse `python -m infra NAME ARGS` with NAME's own options; raise on anything unknown."""
    name, args = words[len(INFRA)], words[len(INFRA) + 1 :]
    if name not in COMMANDS:
        raise click.UsageError(f"no infra command {name!r}")
    with click.Context(cli) as group:
        command = cli.get_command(group, name)
    assert command is not None
    command.make_context(name, args, resilient_parsing=False)


def pytest_accepts(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Let pytest parse `args` while collecting one test; in tmp_path, so reports land there."""
    node = f"{Path(__file__).resolve()}::test_buildspec_is_version_0_2"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *args,
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            node,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


def junit_path(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        for option in ("--junitxml", "--junit-xml"):
            if arg.startswith(f"{option}="):
                return arg.partition("=")[2]
            if arg == option:
                return args[index + 1]
    return None


def test_buildspec_is_version_0_2(spec: dict[str, Any]) -> None:
    assert str(spec["version"]) == "0.2"


def test_phases_run_install_then_tests_then_build(spec: dict[str, Any]) -> None:
    assert list(spec["phases"]) == PHASES
    assert str(spec["phases"]["install"]["runtime-versions"]["python"]) == "3.12"
    assert lines_starting(spec, PYTEST), "the tests run before anything is built"
    first_test = next(
        i for i, line in enumerate(commands(spec)) if line.startswith("python -m pytest")
    )
    first_build = commands(spec).index(spec["phases"]["build"]["commands"][0])
    assert first_test < first_build


def test_every_infra_line_parses_with_that_commands_options(spec: dict[str, Any]) -> None:
    lines = lines_starting(spec, INFRA)
    assert {words[len(INFRA)] for words in lines} >= {"lint", "render", "package"}
    for words in lines:
        check_infra_command(words)


@pytest.mark.parametrize(
    "line",
    ["python -m infra package --uplaod", "python -m infra ship", "python -m infra render --env"],
)
def test_the_infra_check_refuses_what_the_cli_would(line: str) -> None:
    with pytest.raises(click.UsageError):
        check_infra_command(shlex.split(line))


def test_the_pytest_line_uses_options_pytest_has(spec: dict[str, Any], tmp_path: Path) -> None:
    [words] = lines_starting(spec, PYTEST)
    result = pytest_accepts(words[len(PYTEST) :], tmp_path)
    assert result.returncode == 0, result.stderr
    refused = pytest_accepts(["--no-such-option"], tmp_path)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR


def test_the_report_reads_the_file_pytest_writes(spec: dict[str, Any]) -> None:
    [words] = lines_starting(spec, PYTEST)
    written = junit_path(words)
    assert written, "pytest writes a JUnit XML report"
    [(name, report)] = spec["reports"].items()
    assert name == "tests"  # CodeBuild's report group: <build-project-name>-tests
    assert report["file-format"] == "JUNITXML"
    assert matches(report["files"], written)


@pytest.mark.parametrize("path", ARTIFACT_NEEDS)
def test_the_artifact_carries_what_later_actions_need(spec: dict[str, Any], path: str) -> None:
    artifacts = spec["artifacts"]
    assert matches(artifacts["files"], path)
    assert not matches(artifacts["exclude-paths"], path)


@pytest.mark.parametrize("path", ARTIFACT_EXCLUDES)
def test_the_artifact_leaves_out_environments_and_caches(spec: dict[str, Any], path: str) -> None:
    assert matches(spec["artifacts"]["exclude-paths"], path)


def test_the_cache_keeps_pip_downloads_and_packaged_dependencies(spec: dict[str, Any]) -> None:
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in commands(spec)
        if line.startswith("export ")
    )
    pip_cache = exports["PIP_CACHE_DIR"].strip('"').removeprefix("$CODEBUILD_SRC_DIR/")
    paths = spec["cache"]["paths"]
    assert matches(paths, f"{pip_cache}/http-v2/a/b/c")
    assert matches(paths, f"{DEFAULT_CACHE_DIR.as_posix()}/key/PIL/__init__.py")
    assert not matches(paths, "build/templates/dev/backend.json")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*", "a/b/c.txt", True),
        ("build/cache/**/*", "build/cache/x", True),
        (".venv*/**/*", ".venv-checkov/bin/checkov", True),
        (".venv*/**/*", "a/.venv/bin/python", False),
        ("build/*", "build/templates/dev.json", False),
    ],
)
def test_the_glob_matcher_follows_codebuild(pattern: str, path: str, expected: bool) -> None:
    assert matches([pattern], path) is expected
