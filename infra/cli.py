"""The `infra` command group: known errors become one line on stderr and an exit code."""

from __future__ import annotations

from typing import Any

import click

from infra.commands.lint import lint_command
from infra.commands.render import render_command
from infra.errors import InfraError


class InfraGroup(click.Group):
    """Turns an InfraError from any command into its message and exit code, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InfraError as err:
            click.echo(str(err), err=True)
            ctx.exit(err.exit_code)


@click.group(cls=InfraGroup)
def cli() -> None:
    """Define, test and deploy the app's CloudFormation stacks."""


cli.add_command(render_command)
cli.add_command(lint_command)


def main() -> None:
    cli(prog_name="python -m infra")
