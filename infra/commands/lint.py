"""`python -m infra lint`: render, then cfn-lint with the informational and serverless rules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from infra.commands.options import config_options, env_option, out_option, read_config
from infra.errors import InfraError
from infra.render import render

SERVERLESS_RULES = "cfn_lint_serverless.rules"


def lint_templates(paths: Sequence[Path]) -> list[str]:
    """cfn-lint findings as `file:line:column: rule message`; empty when clean."""
    from cfnlint.api import ManualArgs, lint_by_config

    matches = lint_by_config(
        ManualArgs(
            templates=[str(path) for path in paths],
            include_checks=["I"],
            append_rules=[SERVERLESS_RULES],
        )
    )
    return [
        f"{match.filename}:{match.linenumber}:{match.columnnumber}: {match.rule.id} {match.message}"
        for match in matches
    ]


@click.command("lint")
@config_options
@env_option
@out_option
def lint_command(
    config_path: Path, overrides: tuple[str, ...], environments: tuple[str, ...], out: Path
) -> None:
    """Render, then lint every template; any finding fails."""
    config = read_config(config_path, overrides)
    rendered = render(config, out, environments)
    findings = lint_templates([item.path for item in rendered])
    for finding in findings:
        click.echo(finding)
    if findings:
        raise InfraError(f"cfn-lint: {len(findings)} finding(s) in {len(rendered)} templates")
    click.echo(f"cfn-lint: {len(rendered)} templates, no findings")
