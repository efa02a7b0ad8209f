"""`python -m infra render`: what it writes, what it prints, and that it never half-writes.

Runs the shipped `infra.toml` from the repository root through click's runner; the
output folder is always a fresh temporary one. Over-limit stacks are made by declaring
the shipped app with more functions, the way a growing app would, and rendering it
through `config_for` and `infra.render.render`; nothing is patched to swap the app.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from awacs import dynamodb
from click.testing import CliRunner, Result

from benchmarks.render import synthetic_app
from infra.app import (
    App,
    Function,
    Schedule,
    Site,
    Table,
)
from infra.cli import cli
from infra.commands.render import print_table
from infra.config import AppConfig, load_config
from infra.errors import TemplateLimitError
from infra.layout import account_stacks, environment_stacks
from infra.render import MAX_INLINE_TEMPLATE_BYTES, MAX_RESOURCES
from infra.render import render as render_config
from tests.support.apps import config_for, reference_app

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "infra.toml"
HEADERS = ["stack", "resources", "bytes", "path"]


@pytest.fixture(autouse=True)
def no_infra_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The options read INFRA_* variables; a developer's shell must not change the result."""
    for name in ("INFRA_CONFIG", "INFRA_ENV", "INFRA_OUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where templates go; not created in advance, so a refused render leaves no folder."""
    return tmp_path / "templates"


def render(out: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["render", "--config", str(CONFIG), "--out", str(out), *args])


@dataclass(frozen=True)
class Row:
    """One line of the render table."""

    stack: str
    resources: int
    size: int
    path: Path


def table(stdout: str) -> list[Row]:
    """The table's rows; the header must come first, notes may follow the rows."""
    lines = stdout.splitlines()
    assert lines[0].split() == HEADERS
    rows = []
    for line in lines[1:]:
        if line.startswith("note: "):
            continue
        stack, resources, size, path = line.split()
        rows.append(Row(stack, int(resources), int(size), Path(path)))
    return rows


def files(out: Path) -> list[str]:
    """Every file under `out` (hidden ones included), as sorted relative paths."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def digests(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in files(out)}


def expected_files(environments: list[str] | None = None) -> list[str]:
    """Base (and the pipeline where [pipeline] puts it) per account, then each env's stacks."""
    config = load_config(CONFIG)
    envs = environments or list(config.environments)
    accounts = {config.environments[env].account for env in envs}
    names = [f"{a.name}/{kind.name}.json" for a in accounts for kind in account_stacks(config, a)]
    names += [f"{e}/{kind.name}.json" for e in envs for kind in environment_stacks(config)]
    return sorted(names)


def grown_config(count: int) -> AppConfig:
    """The shipped infra.toml, for the shipped app grown by `count` functions."""
    app = synthetic_app(count, reference_app())
    return config_for(app, CONFIG.read_text(encoding="utf-8"))


# -- what render writes and prints ------------------------------------------------------------


def test_render_writes_every_stack_of_every_account_and_env(out: Path) -> None:
    result = render(out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert files(out) == expected_files()
    # Spelled out once for the shipped app: base and pipeline live under the account's name.
    assert files(out) == [
        "dev/backend.json",
        "dev/data.json",
        "dev/frontend.json",
        "main/base.json",
        "main/pipeline.json",
        "prod/backend.json",
        "prod/data.json",
        "prod/frontend.json",
    ]


def test_table_matches_the_files(out: Path) -> None:
    result = render(out)
    assert result.exit_code == 0, result.output
    rows = table(result.stdout)
    assert rows[0].stack == "main/base"  # deploy order: base first
    assert sorted(row.path.relative_to(out).as_posix() for row in rows) == files(out)
    for row in rows:
        assert row.path == out / f"{row.stack}.json"
        body = json.loads(row.path.read_text(encoding="utf-8"))
        assert row.resources == len(body["Resources"]), row.stack
        assert row.size == row.path.stat().st_size, row.stack
        assert body["AWSTemplateFormatVersion"] == "2010-09-09"


def test_env_option_renders_that_env_and_its_accounts_base(out: Path) -> None:
    result = render(out, "--env", "dev")
    assert result.exit_code == 0, result.output
    assert files(out) == expected_files(["dev"])
    assert not (out / "prod").exists()
    assert [row.stack for row in table(result.stdout)] == [
        "main/base",
        "main/pipeline",
        "dev/data",
        "dev/backend",
        "dev/frontend",
    ]


def test_env_variable_selects_the_env(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRA_ENV", "prod")
    result = render(out)
    assert result.exit_code == 0, result.output
    assert files(out) == expected_files(["prod"])


def test_rendering_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert render(first).exit_code == 0
    assert render(second).exit_code == 0
    before = digests(first)
    assert before == digests(second)
    assert render(first).exit_code == 0  # over its own output
    assert digests(first) == before


def test_repeated_env_is_rendered_once(out: Path) -> None:
    result = render(out, "--env", "dev", "--env", "dev")
    assert result.exit_code == 0, result.output
    assert len(table(result.stdout)) == len(expected_files(["dev"]))


def test_unwritable_out_is_one_line(tmp_path: Path) -> None:
    """--out below a file: the folder cannot be made, and the error says so in one line."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = render(blocker / "templates")
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert str(blocker) in result.stderr
    assert blocker.read_text() == "not a folder"


def test_no_temporary_files_are_left(out: Path) -> None:
    assert render(out).exit_code == 0
    assert render(out).exit_code == 0
    leftovers = [name for name in files(out) if name.endswith(".tmp") or "/." in f"/{name}"]
    assert leftovers == []


def s3_notes(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("note: ")]


def test_s3_notes_name_exactly_the_templates_over_the_inline_limit(out: Path) -> None:
    """The shipped app: whatever its sizes today, the notes must agree with the table."""
    result = render(out)
    big = [row for row in table(result.stdout) if row.size > MAX_INLINE_TEMPLATE_BYTES]
    assert s3_notes(result.stdout) == [
        f"note: photos-{row.stack.replace('/', '-')} is over 51200 bytes; it must be deployed "
        "from S3 (the pipeline and deploy do this)."
        for row in big
    ]


def test_template_over_inline_limit_gets_a_note(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = render(out / "shipped", "--env", "dev")
    assert shipped.exit_code == 0, shipped.output
    [backend] = [row for row in table(shipped.stdout) if row.stack == "dev/backend"]
    assert backend.size <= MAX_INLINE_TEMPLATE_BYTES  # so the three functions below tip it

    print_table(render_config(grown_config(3), out / "grown", ["dev"]))
    stdout = capsys.readouterr().out
    big = [row for row in table(stdout) if row.size > MAX_INLINE_TEMPLATE_BYTES]
    # The pipeline's template (roles with every ARN spelled out) is over the limit already.
    assert [row.stack for row in big] == ["main/pipeline", "dev/backend"]
    assert s3_notes(stdout) == [
        f"note: photos-{stack} is over 51200 bytes; it must be deployed from S3 "
        "(the pipeline and deploy do this)."
        for stack in ("main-pipeline", "dev-backend")
    ]


# -- limits: refuse with one line and write nothing -------------------------------------------


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        (
            "MAX_RESOURCES",
            40,
            r"photos-dev-backend: \d+ resources; CloudFormation allows 40\. Split the stack\.",
        ),
        (
            "MAX_TEMPLATE_BYTES",
            40_000,
            r"photos-main-pipeline: template is \d+ bytes; CloudFormation allows 40000\. "
            r"Split the stack\.",
        ),
    ],
)
def test_over_a_limit_exits_1_with_one_line_and_writes_nothing(
    limit: str, value: int, message: str, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first stack over a limit stops the render: nothing built before it is written."""
    monkeypatch.setattr(f"infra.render.{limit}", value)
    result = render(out)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert re.fullmatch(message, line), line
    assert not out.exists()


# Enough functions to push the backend stack past CloudFormation's 500 resources.
TOO_MANY_FUNCTIONS = 60


def test_over_500_resources_writes_nothing(out: Path) -> None:
    with pytest.raises(TemplateLimitError):
        render_config(grown_config(TOO_MANY_FUNCTIONS), out)
    assert not out.exists()


def test_over_500_resources_is_one_line_and_exit_1(out: Path) -> None:
    with pytest.raises(TemplateLimitError) as raised:
        render_config(grown_config(TOO_MANY_FUNCTIONS), out)
    assert raised.value.exit_code == 1
    assert str(raised.value).splitlines() == [
        f"photos-dev-backend: Maximum number of resources {MAX_RESOURCES} reached "
        "(CloudFormation's limit). Split the stack."
    ]


def test_over_500_resources_leaves_earlier_output_untouched(out: Path) -> None:
    assert render(out).exit_code == 0
    before = digests(out)
    with pytest.raises(TemplateLimitError):
        render_config(grown_config(TOO_MANY_FUNCTIONS), out)
    assert digests(out) == before


# -- which stacks an app has follows from its declaration --------------------------------------

NOTES = Table("notes", partition_key="pk")
PURGE = Function(
    name="purge",
    code="lambdas/purge",
    description="Deletes old notes every night",
    trigger=Schedule("cron(0 3 * * ? *)"),
    environment={"TABLE_NAME": NOTES.table_name},
    grants=(NOTES.grant(dynamodb.Scan, dynamodb.DeleteItem),),
)


@pytest.mark.parametrize(
    ("app", "stacks"),
    [
        (App(tables=(NOTES,)), ["data"]),
        (App(tables=(NOTES,), functions=(PURGE,)), ["data", "backend"]),
        (App(tables=(NOTES,), site=Site("web")), ["data", "frontend"]),
        (
            App(tables=(NOTES,), functions=(PURGE,), site=Site("web")),
            ["data", "backend", "frontend"],
        ),
    ],
    ids=["data-only", "no-site", "no-functions", "everything"],
)
def test_an_app_has_the_stacks_its_declaration_needs(
    app: App, stacks: list[str], out: Path
) -> None:
    """No backend without functions, no frontend without a site; base in every account."""
    rendered = render_config(config_for(app), out)
    assert [f"{r.scope}/{r.stack}" for r in rendered] == [
        "main/base",
        *(f"dev/{stack}" for stack in stacks),
    ]
    assert files(out) == sorted(["main/base.json", *(f"dev/{stack}.json" for stack in stacks)])


# -- the real process ------------------------------------------------------------------------


def run_module(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INFRA_")}
    return subprocess.run(
        [sys.executable, "-m", "infra", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands() -> None:
    completed = run_module("--help")
    assert completed.returncode == 0, completed.stderr
    commands = re.findall(r"^  (\w+)\s", completed.stdout.split("Commands:")[1], re.MULTILINE)
    assert {"render", "lint"} <= set(commands)


def test_module_renders_from_the_repo_root_with_defaults(out: Path) -> None:
    """No --config: `infra.toml` in the working directory, as documented."""
    completed = run_module("render", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert files(out) == expected_files()
    assert [row.path for row in table(completed.stdout)] == [
        out / f"{row.stack}.json" for row in table(completed.stdout)
    ]
