"""Options of the commands that change stacks: which stacks, which role, where to build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from infra.aws import AwsTarget
from infra.commands.options import read_config
from infra.environment_session import EnvironmentSession
from infra.targets import choose_environment

F = Callable[..., Any]


def stacks_argument(command: F) -> F:
    return click.argument("stacks", nargs=-1, metavar="[STACK]...")(command)


def role_option(command: F) -> F:
    return click.option(
        "--role-arn",
        envvar="CFN_ROLE_ARN",
        default=None,
        help="CloudFormation service role to act through (the pipeline's per-env role).",
    )(command)


def environment_session(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> EnvironmentSession:
    """The configured environment (the one given, or the only one) and AWS access to it."""
    config = read_config(config_path, overrides)
    environment = choose_environment(config, environments)
    return EnvironmentSession(config, environment, AwsTarget(profile, region, endpoint_url))


def echo(line: str) -> None:
    click.echo(line)


def warn(line: str) -> None:
    click.echo(line, err=True)


def print_outputs(stack: str, outputs: dict[str, str]) -> None:
    for key, value in sorted(outputs.items()):
        click.echo(f"  {key} = {value}")
