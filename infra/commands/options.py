"""Options shared by the commands, each readable from an environment variable too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from infra.config import DEFAULT_CONFIG_FILE, AppConfig, load_config
from infra.constants import DEFAULT_TEMPLATES_OUT as DEFAULT_OUT

F = Callable[..., Any]


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
        type=click.Path(dir_okay=False, path_type=Path),
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
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_OUT,
        show_default=True,
        envvar="INFRA_OUT",
        help="Folder for the rendered templates.",
    )(command)


def read_config(config_path: Path, overrides: tuple[str, ...]) -> AppConfig:
    return load_config(config_path, overrides)


def aws_options(command: F) -> F:
    """--profile/--region/--endpoint-url; unset, boto3 reads AWS_PROFILE, AWS_REGION, ..."""
    for name, help_text in (
        ("--endpoint-url", "Send AWS calls here (e.g. a local emulator)."),
        ("--region", "AWS region (default: the environment's)."),
        ("--profile", "AWS profile from your AWS config."),
    ):
        command = click.option(name, default=None, help=help_text)(command)
    return command
