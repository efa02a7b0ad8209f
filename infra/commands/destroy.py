"""`python -m infra destroy`: delete stacks in reverse dependency order, saying what stays.

Stacks that hold data (base, data, pipeline: `infra.layout`) need --force. Retained
resources (tables, buckets, keys, the user pool) are never deleted by CloudFormation; they
are listed so nobody forgets them.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.changesets import stack_status
from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import echo, environment_session, stacks_argument
from infra.deploy import destroy_stack
from infra.environment_session import EnvironmentSession
from infra.errors import InfraError
from infra.render import render
from infra.targets import StackTarget, all_stacks, check_stack_names, environment_targets


@click.command("destroy")
@config_options
@one_env_option
@stacks_argument
@out_option
@click.option("--force", is_flag=True, help="Allow destroying the stacks that hold data.")
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
    """Delete an environment's stacks, last deployed first (default: those holding no data)."""
    session = environment_session(
        config_path, overrides, environments, profile, region, endpoint_url
    )
    config, environment = session.config, session.environment
    everything = all_stacks(config, environment)
    names = stacks or tuple(
        kind.name for kind in everything if not kind.per_account and not kind.holds_data
    )
    kinds = check_stack_names(config, environment, names)
    guarded = [kind.name for kind in kinds if kind.holds_data]
    if guarded and not force:
        raise InfraError(
            f"refusing to destroy {', '.join(guarded)} without --force: "
            "they hold the app's data, the account's trail or the pipeline that deploys it all"
        )
    session.check_account()
    render(config, out, [environment.name])
    targets = environment_targets(config, environment, names, out)
    refuse_while_read(
        session,
        targets,
        environment_targets(config, environment, [kind.name for kind in everything], out),
    )
    retained: list[str] = []
    for target in reversed(targets):
        retained += destroy_stack(session.cloudformation, target.stack_name, echo)
    if retained:
        echo("retained (delete by hand when you are sure):")
        for line in retained:
            echo(f"  {line}")


def refuse_while_read(
    session: EnvironmentSession, going: list[StackTarget], all_targets: list[StackTarget]
) -> None:
    """A stack that stays deployed must not lose the values it reads from one that goes."""
    names = {target.stack_name for target in going}
    for target in all_targets:
        if target.stack_name in names:
            continue
        read = [name for name in target.requires if name in names]
        if read and stack_status(session.cloudformation, target.stack_name) is not None:
            raise InfraError(
                f"{target.stack_name} is deployed and reads values from {', '.join(read)}: "
                f"destroy {target.kind} first, or with it"
            )
