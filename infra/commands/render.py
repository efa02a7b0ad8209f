"""`python -m infra render`: write every stack's template and show what was written."""

from __future__ import annotations

from pathlib import Path

import click

from infra.commands.options import config_options, env_option, out_option, read_config
from infra.constants import MAX_INLINE_TEMPLATE_BYTES
from infra.render import RenderedStack, render
from infra.text_table import aligned


def print_table(rendered: list[RenderedStack]) -> None:
    rows = [(f"{r.scope}/{r.stack}", str(r.resources), str(r.size), str(r.path)) for r in rendered]
    for line in aligned(("stack", "resources", "bytes", "path"), rows):
        click.echo(line)
    for r in rendered:
        if r.needs_s3:
            click.echo(
                f"note: {r.stack_name} is over {MAX_INLINE_TEMPLATE_BYTES} bytes; "
                "it must be deployed from S3 (the pipeline and deploy do this)."
            )


@click.command("render")
@config_options
@env_option
@out_option
def render_command(
    config_path: Path, overrides: tuple[str, ...], environments: tuple[str, ...], out: Path
) -> None:
    """Render the CloudFormation templates (no AWS account needed)."""
    config = read_config(config_path, overrides)
    print_table(render(config, out, environments))
