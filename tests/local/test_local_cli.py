"""`infra local fire` and `infra local pipeline` misused: one line naming what is wrong, exit 2.

Each case runs the CLI as a user would, without a local run behind it (or with a state
file of the wrong shape), and must end without a traceback.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra.cli import cli
from tests.support.apps import REPO


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.strip()


@pytest.mark.parametrize(
    ("state_file", "expected"),
    [
        (None, "no local run found"),
        ("[1, 2]", "no local run found"),
        ('{"ports": {"aws": 1}}', "no local run found"),  # no control port
        ('{"ports": {"control": "x"}}', "no local run found"),
        ('{"ports": {"control": 99999}}', "control port 99999 is not a port"),
    ],
)
def test_fire_without_a_run_of_the_right_shape(
    tmp_path: Path, state_file: str | None, expected: str
) -> None:
    if state_file is not None:
        (tmp_path / "local.json").write_text(state_file)
    code, output = run("local", "fire", "nightly-report", "--state", str(tmp_path))
    assert code == 2
    assert expected in output and "\n" not in output


@pytest.mark.parametrize("function", ["nightly-report", "a b", "../x?y#z"])
def test_fire_at_a_run_that_is_not_answering_says_so(tmp_path: Path, function: str) -> None:
    (tmp_path / "local.json").write_text(json.dumps({"ports": {"control": closed_port()}}))
    code, output = run("local", "fire", function, "--state", str(tmp_path))
    assert code == 1
    assert output == "the local run is not answering: is `infra local up` running?"


def test_pipeline_commands_refuse_paths_of_the_wrong_kind(tmp_path: Path) -> None:
    config = str(REPO / "infra.toml")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    endpoint = f"http://127.0.0.1:{closed_port()}"
    cases = [
        (["run", "--repo", str(a_file)], "--repo: "),
        (["remote", str(a_file)], "is a file, not a folder"),
        (["remote", "/proc/no-such-folder/remote"], "cannot make a git remote here"),
    ]
    for args, expected in cases:
        code, output = run(
            "local", "pipeline", *args, "--config", config, "--endpoint-url", endpoint,
            "--state", str(tmp_path / "state"),
        )  # fmt: skip
        assert code == 2, (args, output)
        assert expected in output and "\n" not in output, (args, output)


def test_a_remote_is_made_in_an_empty_folder(tmp_path: Path) -> None:
    code, output = run(
        "local", "pipeline", "remote", str(tmp_path / "remote.git"), "--config",
        str(REPO / "infra.toml"), "--endpoint-url", "http://127.0.0.1:1", "--state",
        str(tmp_path / "state"),
    )  # fmt: skip
    assert code == 0, output
    assert (tmp_path / "remote.git" / "hooks" / "post-receive").stat().st_mode & 0o100
