"""A small repository made from the example app, for running the pipeline end to end.

It holds the library as this repository does (infra/, pipelines/, pyproject.toml,
scripts/, buildspec.yml) with the example app (links) at its root in place of the
reference app, and only the example's own tests. The pipeline's build runs that
repository's test suite, so the run stays small and never runs this suite again.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.apps import EXAMPLE, REPO

LIBRARY = ("infra", "pipelines", "scripts")
LIBRARY_FILES = ("pyproject.toml", "README.md", "buildspec.yml", "conftest.py", ".gitignore")
SUPPORT = ("__init__.py", "fixtures.py")  # what the root conftest.py loads
IGNORED = shutil.ignore_patterns("__pycache__", "build", ".pytest_cache", "*.pyc")
ACCOUNT = "123456789012"  # the local AWS's account


def git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True,
        env={"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
             "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
             "PATH": "/usr/bin:/bin", "HOME": str(repository)},
    )  # fmt: skip
    return result.stdout


def make_example_repo(folder: Path) -> Path:
    """A git repository at `folder` with one commit on `main`: the library and links."""
    folder.mkdir(parents=True)
    for name in LIBRARY:
        shutil.copytree(REPO / name, folder / name, ignore=IGNORED)
    for name in LIBRARY_FILES:
        shutil.copy2(REPO / name, folder / name)
    # The example's tests become the repository's tests/ (they find lambdas/ beside them).
    shutil.copytree(EXAMPLE / "tests", folder / "tests", ignore=IGNORED)
    support = folder / "tests" / "support"
    support.mkdir()
    for name in SUPPORT:
        shutil.copy2(REPO / "tests" / "support" / name, support / name)
    shutil.copytree(EXAMPLE / "lambdas", folder / "lambdas", ignore=IGNORED)
    shutil.copy2(EXAMPLE / "app.py", folder / "app.py")
    settings = (EXAMPLE / "infra.toml").read_text(encoding="utf-8")
    marker = '# account_id = "111111111111"'
    if marker not in settings:
        raise AssertionError(f"{EXAMPLE / 'infra.toml'}: the account_id line moved")
    (folder / "infra.toml").write_text(
        settings.replace(marker, f'account_id = "{ACCOUNT}"', 1), encoding="utf-8"
    )
    git(folder, "init", "--quiet", "--initial-branch=main")
    commit_all(folder, "The link shortener, on the library")
    return folder


def commit_all(repository: Path, message: str) -> str:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", message)
    return git(repository, "rev-parse", "HEAD").strip()
