"""`python -m infra destroy`: delete stacks in reverse dependency order, saying what stays.

Data lives in base and data; those need --force. Retained resources (tables, buckets, keys,
the user pool) are never deleted by CloudFormation; they are listed so nobody forgets them.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.changesets import stack_status
from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import echo, stacks_argument, workstation
from infra.constants import ENVIRONMENT_STACK_NAMES
from infra.deploy import destroy_stack
from infra.errors import InfraError
from infra.render import render
from infra.targets import StackTarget, check_stack_names, environment_targets
from infra.workstation import Workstation

GUARDED = ("base", "data", "pipeline")
UNGUARDED = ("backend", "frontend")


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
    """Delete an environment's stacks (default: frontend, backend), last deployed first."""
    station = workstation(config_path, overrides, environments, profile, region, endpoint_url)
    config, environment = station.config, station.environment
    kinds = check_stack_names(config, environment, stacks or UNGUARDED)
    guarded = [kind for kind in kinds if kind in GUARDED]
    if guarded and not force:
        raise InfraError(
            f"refusing to destroy {', '.join(guarded)} without --force: "
            "base and data hold the app's data and the account's trail; pipeline deploys it all"
        )
    station.check_account()
    render(config, out, [environment.name])
    targets = environment_targets(config, environment, kinds, out)
    refuse_while_read(
        station, targets, environment_targets(config, environment, everything(station), out)
    )
    retained: list[str] = []
    for target in reversed(targets):
        retained += destroy_stack(station.cloudformation, target.stack_name, echo)
    if retained:
        echo("retained (delete by hand when you are sure):")
        for line in retained:
            echo(f"  {line}")


def everything(station: Workstation) -> list[str]:
    """Every stack this environment's account and environment can have."""
    pipeline = station.config.pipeline
    has_pipeline = pipeline is not None and pipeline.account == station.environment.account.name
    return ["base", *(["pipeline"] if has_pipeline else []), *ENVIRONMENT_STACK_NAMES]


def refuse_while_read(
    station: Workstation, going: list[StackTarget], all_targets: list[StackTarget]
) -> None:
    """A stack that stays deployed must not lose the values it reads from one that goes."""
    names = {target.stack_name for target in going}
    for target in all_targets:
        if target.stack_name in names:
            continue
        read = [name for name in target.requires if name in names]
        if read and stack_status(station.cloudformation, target.stack_name) is not None:
            raise InfraError(
                f"{target.stack_name} is deployed and reads values from {', '.join(read)}: "
                f"destroy {target.kind} first, or with it"
            )
