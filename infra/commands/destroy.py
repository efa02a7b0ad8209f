"""`python -m infra destroy`: delete stacks in reverse dependency order, saying what stays.

Data lives in base and data; those need --force. Retained resources (tables, buckets, keys,
the user pool) are never deleted by CloudFormation; they are listed so nobody forgets them.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import echo, stacks_argument, workstation
from infra.constants import ENVIRONMENT_STACK_NAMES
from infra.deploy import destroy_stack
from infra.errors import InfraError
from infra.render import render
from infra.targets import environment_targets

GUARDED = ("base", "data", "pipeline")


@click.command("destroy")
@config_options
@one_env_option
@stacks_argument
@out_option
@click.option("--force", is_flag=True, help="Allow destroying base, data and pipeline stacks.")
@aws_options
def destroy_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    stacks: tuple[str, ...],
    out: Path,
    force: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Delete an environment's stacks (default: frontend, backend, data), last deployed first."""
    station = workstation(config_path, overrides, environments, profile, region, endpoint_url)
    kinds = stacks or ENVIRONMENT_STACK_NAMES
    guarded = [kind for kind in dict.fromkeys(kinds) if kind in GUARDED]
    if guarded and not force:
        raise InfraError(
            f"refusing to destroy {', '.join(guarded)} without --force: "
            "base and data hold the app's data and the account's trail; pipeline deploys it all"
        )
    station.check_account()
    render(station.config, out, [station.environment.name])
    targets = environment_targets(station.config, station.environment, kinds, out)
    retained: list[str] = []
    for target in reversed(targets):
        retained += destroy_stack(station.cloudformation, target.stack_name, echo)
    if retained:
        echo("retained (delete by hand when you are sure):")
        for line in retained:
            echo(f"  {line}")
