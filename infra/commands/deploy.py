"""`python -m infra deploy`: render, package, upload, then change set, gate and execute."""

from __future__ import annotations

from pathlib import Path

import click

from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import (
    echo,
    print_outputs,
    role_option,
    stacks_argument,
    warn,
    workstation,
)
from infra.deploy import deploy_stack
from infra.workstation import prepare, upload_functions


@click.command("deploy")
@config_options
@one_env_option
@stacks_argument
@out_option
@role_option
@aws_options
def deploy_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    stacks: tuple[str, ...],
    out: Path,
    role_arn: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Deploy an environment's stacks (default: data, backend, frontend) in dependency order."""
    station = workstation(config_path, overrides, environments, profile, region, endpoint_url)
    targets, zips = prepare(station, stacks, out)
    station.require_deployed(targets)
    upload = station.template_upload()
    for target in targets:
        if target.kind == "backend":
            upload_functions(station, zips, echo)
        deployed = deploy_stack(
            station.cloudformation, target, echo, warn=warn, role_arn=role_arn, upload=upload
        )
        print_outputs(deployed.stack, deployed.outputs)
