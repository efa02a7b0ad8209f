"""`python -m infra deploy`: render, package, upload, then change set, gate and execute.

`--allow` (or INFRA_GATE_ALLOW) lets named findings through the gate; each one is printed,
and one that matches nothing in the stacks deployed is an error.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.commands.gate import allow_option
from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import (
    echo,
    environment_session,
    print_outputs,
    role_option,
    stacks_argument,
    warn,
)
from infra.environment_session import deploy_environment
from infra.gate.allowances import Allowances


@click.command("deploy")
@config_options
@one_env_option
@stacks_argument
@out_option
@role_option
@allow_option
@aws_options
def deploy_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    stacks: tuple[str, ...],
    out: Path,
    role_arn: str | None,
    allow: tuple[str, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Deploy an environment's stacks (default: all of them) in dependency order."""
    session = environment_session(
        config_path, overrides, environments, profile, region, endpoint_url
    )
    allowances = Allowances.parse(allow)
    for deployed in deploy_environment(
        session, stacks, out, echo=echo, warn=warn, allowances=allowances, role_arn=role_arn
    ):
        print_outputs(deployed.stack, deployed.outputs)
