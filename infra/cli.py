"""The `infra` command group: known errors become one line on stderr and an exit code.

Commands load on demand, so `render` never pays for what `package` imports.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from infra.errors import InfraError

COMMANDS = {
    "render": "infra.commands.render:render_command",
    "lint": "infra.commands.lint:lint_command",
    "package": "infra.commands.package:package_command",
    "gate": "infra.commands.gate:gate_command",
    "diff": "infra.commands.diff:diff_command",
    "deploy": "infra.commands.deploy:deploy_command",
    "destroy": "infra.commands.destroy:destroy_command",
    "bootstrap": "infra.commands.bootstrap:bootstrap_command",
    "publish": "infra.commands.publish:publish_command",
    "local": "infra.commands.local:local_group",
}


class InfraGroup(click.Group):
    """Loads commands lazily; turns an InfraError into its message and exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InfraError as err:
            click.echo(str(err), err=True)
            ctx.exit(err.exit_code)


@click.group(cls=InfraGroup)
def cli() -> None:
    """Define, test and deploy the app's CloudFormation stacks."""


def main() -> None:
    cli(prog_name="python -m infra")
