"""Options shared by the commands, each readable from an environment variable too.

A bad path or endpoint is refused here, before the command runs, as one line and exit
code 2 (a UsageError the command group prints), not click's usage text.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from infra.aws import check_endpoint_url
from infra.config import DEFAULT_CONFIG_FILE, AppConfig, load_config, one_line
from infra.constants import DEFAULT_TEMPLATES_OUT as DEFAULT_OUT
from infra.errors import UsageError

F = Callable[..., Any]


def _where(param: click.Parameter | None, ctx: click.Context | None) -> str:
    """The option as the user gave it: `--out`, or its variable when it came from there."""
    if param is None or param.name is None:
        return "path"
    envvar = getattr(param, "envvar", None)
    from_environment = (
        ctx is not None and ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT
    )
    if from_environment and isinstance(envvar, str):
        return envvar
    return param.opts[0] if param.opts else param.name


class PathParam(click.ParamType):
    """A file or folder path: empty, or the other kind of thing, is refused in one line.

    An empty path would be the current folder (`Path("")` is `.`): never what was meant.
    """

    name = "path"

    def __init__(self, kind: str, *, exists: bool = False) -> None:
        assert kind in ("file", "folder")
        self.kind = kind
        self.exists = exists

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        text = os.fspath(value)
        where = _where(param, ctx)
        if not text.strip():
            raise UsageError(f"{where}: the path is empty; give a {self.kind}")
        path = Path(text)
        other = path.is_file() if self.kind == "folder" else path.is_dir()
        if other:
            other_kind = "file" if self.kind == "folder" else "folder"
            raise UsageError(f"{where}: {one_line(text)} is a {other_kind}, not a {self.kind}")
        if self.exists and not path.exists():
            raise UsageError(f"{where}: {one_line(text)}: no such {self.kind}")
        return path


FILE = PathParam("file")
FOLDER = PathParam("folder")
EXISTING_FOLDER = PathParam("folder", exists=True)


def config_options(command: F) -> F:
    """--config and --set: which file, and per-run overrides of its values."""
    command = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a config value, e.g. environments.dev.lambda.memory=512. Repeatable.",
    )(command)
    return click.option(
        "--config",
        "config_path",
        type=FILE,
        default=DEFAULT_CONFIG_FILE,
        show_default=True,
        envvar="INFRA_CONFIG",
        help="The app's settings file.",
    )(command)


def _env(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--env", "environments", multiple=True, metavar="NAME", envvar="INFRA_ENV", help=help_text
    )


# Offline commands take any number of environments; those that change AWS take one.
env_option = _env("Environment to work on (repeatable; default: all).")
one_env_option = _env("Environment to work on (default: the only one, if there is just one).")


def out_option(command: F) -> F:
    return click.option(
        "--out",
        type=FOLDER,
        default=DEFAULT_OUT,
        show_default=True,
        envvar="INFRA_OUT",
        help="Folder for the rendered templates.",
    )(command)


def read_config(config_path: Path, overrides: tuple[str, ...]) -> AppConfig:
    return load_config(config_path, overrides)


def _endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--endpoint-url, checked before the command runs (AWS_ENDPOINT_URL and the like are
    checked where boto3 would read them: `AwsTarget.client`)."""
    if value is not None:
        check_endpoint_url(value, "--endpoint-url")
    return value


def aws_options(command: F) -> F:
    """--profile/--region/--endpoint-url; unset, boto3 reads AWS_PROFILE, AWS_REGION, ..."""
    command = click.option(
        "--endpoint-url",
        default=None,
        callback=_endpoint_url,
        help="Send AWS calls here (e.g. a local emulator): http:// or https:// and a host.",
    )(command)
    for name, help_text in (
        ("--region", "AWS region (default: the environment's)."),
        ("--profile", "AWS profile from your AWS config."),
    ):
        command = click.option(name, default=None, help=help_text)(command)
    return command
