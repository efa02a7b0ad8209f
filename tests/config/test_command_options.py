"""Path and endpoint options: a bad one is one line on stderr and exit code 2, nothing run.

Click's own checks answer with its usage text (several lines); an empty path would be the
current folder (`Path("")` is `.`), so `--out ""` used to write templates there. Each
case runs through the command group, as `python -m infra` does, from an empty folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from infra.aws import AwsTarget, configured_endpoint, endpoint_url_problem
from infra.cli import cli
from infra.commands.options import EXISTING_FOLDER, FILE, FOLDER
from infra.config import load_config
from infra.errors import ConfigError, UsageError

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "infra.toml"
ENDPOINT_HINT = (
    "is not an endpoint URL: give http:// or https:// and a host (e.g. http://localhost:4566)"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """INFRA_* and AWS_ENDPOINT_URL* from a developer's shell must not change the result."""
    for name in list(os.environ):
        if name.startswith(("INFRA_", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED")):
            monkeypatch.delenv(name)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory: whatever a refused command wrote would show here."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


EXISTING = ["a-file", "a-folder"]


def assert_refused(result: Result, workdir: Path, message: str, *, left: list[str]) -> None:
    """Exit 2, one line on stderr, no traceback, and nothing in `workdir` but `left`."""
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [message]
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert sorted(p.name for p in workdir.iterdir()) == left


@pytest.fixture
def existing(workdir: Path) -> list[str]:
    """A file and a folder in the working directory, for options given the wrong kind."""
    (workdir / "a-file").write_text("x", encoding="utf-8")
    (workdir / "a-folder").mkdir()
    return EXISTING


# -- render's (and every stack command's) --out and --config -----------------------------------


@pytest.mark.parametrize("empty", ["", " "])
def test_empty_out_is_refused_and_nothing_is_written_here(empty: str, workdir: Path) -> None:
    result = invoke("render", "--config", str(CONFIG), "--out", empty)
    assert_refused(result, workdir, "--out: the path is empty; give a folder", left=[])


def test_out_naming_a_file_is_one_line(workdir: Path, existing: list[str]) -> None:
    result = invoke("render", "--config", str(CONFIG), "--out", "a-file")
    assert_refused(result, workdir, "--out: a-file is a file, not a folder", left=existing)


def test_out_from_its_variable_is_named_by_it(
    workdir: Path, existing: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRA_OUT", "a-file")
    result = invoke("render", "--config", str(CONFIG))
    assert_refused(result, workdir, "INFRA_OUT: a-file is a file, not a folder", left=existing)


def test_config_naming_a_folder_is_one_line(workdir: Path, existing: list[str]) -> None:
    result = invoke("render", "--config", "a-folder", "--out", "out")
    assert_refused(result, workdir, "--config: a-folder is a folder, not a file", left=existing)


def test_empty_config_is_refused(workdir: Path) -> None:
    result = invoke("render", "--config", "", "--out", "out")
    assert_refused(result, workdir, "--config: the path is empty; give a file", left=[])


def test_a_folder_as_the_config_file_is_one_line_from_the_library_too(workdir: Path) -> None:
    """load_config itself, for callers that do not come through the option."""
    (workdir / "conf").mkdir()
    with pytest.raises(ConfigError) as raised:
        load_config("conf")
    assert str(raised.value) == "conf: is a folder; pass --config the path of the settings file"
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (FOLDER, "", "--x: the path is empty; give a folder"),
        (FOLDER, "a-file", "--x: a-file is a file, not a folder"),
        (FILE, "\t", "--x: the path is empty; give a file"),
        (FILE, "a-folder", "--x: a-folder is a folder, not a file"),
        (EXISTING_FOLDER, "missing", "--x: missing: no such folder"),
        (EXISTING_FOLDER, "a-file", "--x: a-file is a file, not a folder"),
        (FOLDER, "new\nline", None),  # a folder that does not exist yet is fine
    ],
)
def test_path_params(param: object, value: str, message: str | None, existing: list[str]) -> None:
    option = click.Option(["--x"])
    if message is None:
        assert param.convert(value, option, None) == Path(value)  # type: ignore[attr-defined]
        return
    with pytest.raises(UsageError) as raised:
        param.convert(value, option, None)  # type: ignore[attr-defined]
    assert str(raised.value) == message


# package's and publish's own path options use FOLDER / EXISTING_FOLDER too.


@pytest.mark.parametrize("option", ["--out", "--templates", "--cache-dir"])
def test_package_refuses_an_empty_folder(option: str, workdir: Path) -> None:
    # No config here: were the option let through, the command would stop at the config.
    result = invoke("package", option, "")
    assert_refused(result, workdir, f"{option}: the path is empty; give a folder", left=[])


def test_publish_refuses_an_empty_web_folder(workdir: Path) -> None:
    result = invoke("publish", "--web", "")
    assert_refused(result, workdir, "--web: the path is empty; give a folder", left=[])


# -- endpoints ----------------------------------------------------------------------------------

BAD_ENDPOINTS = [
    "localhost:4566",  # no scheme: boto3 raised a bare ValueError
    "http://",
    "ftp://localhost:21",
    "http://local_host:4566",
    "http://localhost:99999",
    "http://localhost:45a6",
    " http://localhost:4566",
]


@pytest.mark.parametrize("url", BAD_ENDPOINTS)
def test_bad_endpoint_option_is_one_line(url: str, workdir: Path) -> None:
    result = invoke("gate", "--stack", "s", "--change-set", "c", "--endpoint-url", url)
    assert_refused(result, workdir, f"--endpoint-url: {url!r} {ENDPOINT_HINT}", left=[])


def test_bad_endpoint_variable_is_one_line(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:4566")
    result = invoke("gate", "--stack", "s", "--change-set", "c")
    assert_refused(result, workdir, f"AWS_ENDPOINT_URL: 'localhost:4566' {ENDPOINT_HINT}", left=[])


def test_bad_per_service_endpoint_variable_is_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", "localhost:4566")
    result = invoke("gate", "--stack", "s", "--change-set", "c", "--region", "eu-west-1")
    assert_refused(
        result,
        workdir,
        f"AWS_ENDPOINT_URL_CLOUDFORMATION: 'localhost:4566' {ENDPOINT_HINT}",
        left=[],
    )


def test_the_option_wins_over_a_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 uses the explicit endpoint then, so the variable does not matter."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:4566")
    client = AwsTarget(region="eu-west-1", endpoint_url="http://localhost:4566").client("s3")
    assert client.meta.endpoint_url == "http://localhost:4566"


def test_ignored_variables_are_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:4566")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert configured_endpoint("s3") is None
    AwsTarget(region="eu-west-1").client("s3")


def test_a_target_refuses_a_bad_endpoint_itself() -> None:
    with pytest.raises(UsageError, match=r"^--endpoint-url: 'localhost' is not an endpoint URL"):
        AwsTarget(endpoint_url="localhost")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:4566",
        "https://s3.eu-west-1.amazonaws.com",
        "http://127.0.0.1:5000/",
        "http://[::1]:4566",
        "https://vpce-0a1b.s3.eu-west-1.vpce.amazonaws.com/path",
    ],
)
def test_good_endpoints_pass_and_boto3_takes_them(url: str) -> None:
    assert endpoint_url_problem(url) is None
    assert AwsTarget(region="eu-west-1", endpoint_url=url).client("s3").meta.endpoint_url
