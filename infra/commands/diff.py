"""`python -m infra diff`: what a deploy would change, stack by stack; nothing is changed.

Creates a change set per stack, prints it and the gate's findings, and deletes it. With
`--variables FILE` it also writes IAM_BROADENED and SUMMARY as shell assignments, which the
pipeline's plan action exports to its approval stage.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from infra.changesets import change_table, create_change_set, discard
from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import (
    echo,
    role_option,
    stacks_argument,
    workstation,
)
from infra.deploy import report_gate
from infra.errors import InfraError
from infra.files import write_atomic
from infra.gate import evaluate_change_set
from infra.workstation import prepare

SUMMARY_LIMIT = 900  # CodePipeline's approval CustomData holds 1,000 characters


def reads_unpublished_values(message: str) -> bool:
    """CloudFormation could not resolve an SSM-typed parameter: its stack is not deployed."""
    return "Unable to fetch parameters" in message or "ParameterNotFound" in message


@click.command("diff")
@config_options
@one_env_option
@stacks_argument
@out_option
@role_option
@click.option(
    "--prebuilt",
    is_flag=True,
    help="Use the templates and configuration files already in --out (the pipeline's build).",
)
@click.option(
    "--variables",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write IAM_BROADENED=... and SUMMARY=... to this file (sourced by the pipeline).",
)
@aws_options
def diff_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    stacks: tuple[str, ...],
    out: Path,
    role_arn: str | None,
    prebuilt: bool,
    variables: Path | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Show each stack's change set (action, logical ID, type, replacement), then delete it."""
    station = workstation(config_path, overrides, environments, profile, region, endpoint_url)
    targets, _zips = prepare(station, stacks, out, rebuild=not prebuilt)
    cfn = station.cloudformation
    summary: list[str] = []
    broadened = False
    for target in targets:
        try:
            change_set = create_change_set(
                cfn, target, role_arn=role_arn, upload=station.template_upload()
            )
        except InfraError as err:
            if not reads_unpublished_values(str(err)):
                raise
            # Unknown changes, perhaps IAM: a person looks before they are deployed.
            echo(f"{target.stack_name}: cannot plan until what it reads is deployed: {err}")
            summary.append(f"{target.kind}: not planned (reads values not published yet)")
            broadened = True
            continue
        if change_set is None:
            echo(f"{target.stack_name}: no changes")
            summary.append(f"{target.kind}: no changes")
            continue
        try:
            echo(f"{target.stack_name}: {len(change_set.changes)} changes")
            for line in change_table(change_set.changes):
                echo(f"  {line}")
            report = evaluate_change_set(cfn, target.stack_name, change_set.name)
            report_gate(report, echo, echo)
        finally:
            discard(cfn, change_set)
        broadened = broadened or bool(report.iam)
        replacements = sum(c.replacement in ("True", "Conditional") for c in change_set.changes)
        line = f"{target.kind}: {len(change_set.changes)} changes, {replacements} replacements"
        if report.iam:
            line += f", {len(report.iam)} IAM broadenings"
        if report.blocking:
            line += f", BLOCKED by the gate ({len(report.blocking)})"
        summary.append(line)
    if variables is not None:
        text = "; ".join(summary)[:SUMMARY_LIMIT]
        write_atomic(
            variables,
            f"export IAM_BROADENED={str(broadened).lower()}\nexport SUMMARY={shlex.quote(text)}\n",
        )
