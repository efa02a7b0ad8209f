"""`python -m infra diff`: what a deploy would change, stack by stack; nothing is changed.

Creates a change set per stack, prints it and the gate's findings, and deletes it. With
`--variables FILE` it also writes IAM_BROADENED and SUMMARY as shell assignments, which the
pipeline's plan action exports to its approval stage. A finding let through with `--allow`
(or INFRA_GATE_ALLOW) sets IAM_BROADENED too, so a person approves it.

An environment none of whose stacks exist yet is being created, not broadened: there is
no deployed IAM to widen, and what it will hold is the reviewed code itself. Its plan says
"new environment" and leaves IAM_BROADENED false; an environment that wants a person
before every deploy says `approval = true`. A stack added to an environment that exists,
which cannot be planned before the stacks it reads are deployed, still asks for a person.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from infra.changesets import change_table, create_change_set, discard, stack_status
from infra.commands.gate import allow_option
from infra.commands.options import FILE, aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import (
    echo,
    environment_session,
    role_option,
    stacks_argument,
)
from infra.deploy import report_gate
from infra.environment_session import prepare
from infra.errors import InfraError
from infra.files import write_atomic
from infra.gate.allowances import Allowances
from infra.gate.evaluation import evaluate_change_set

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
    type=FILE,
    default=None,
    help="Also write IAM_BROADENED=... and SUMMARY=... to this file (sourced by the pipeline).",
)
@allow_option
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
    allow: tuple[str, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Show each stack's change set (action, logical ID, type, replacement), then delete it."""
    session = environment_session(
        config_path, overrides, environments, profile, region, endpoint_url
    )
    allowances = Allowances.parse(allow)
    targets, _zips = prepare(session, stacks, out, rebuild=not prebuilt)
    allowances.require_stacks(target.stack_name for target in targets)
    cfn = session.cloudformation

    def sqs() -> Any:
        return session.client("sqs")

    summary: list[str] = []
    broadened = False
    new_environment = all(
        stack_status(cfn, target.stack_name) in (None, "REVIEW_IN_PROGRESS") for target in targets
    )
    if new_environment:
        summary.append("new environment")
    for target in targets:
        try:
            change_set = create_change_set(
                cfn, target, role_arn=role_arn, upload=session.template_upload()
            )
        except InfraError as err:
            if not reads_unpublished_values(str(err)):
                raise
            # Unknown changes, perhaps IAM: a person looks before they are deployed.
            echo(f"{target.stack_name}: cannot plan until what it reads is deployed: {err}")
            summary.append(f"{target.kind}: not planned (reads values not published yet)")
            broadened = broadened or not new_environment
            for entry in allowances.for_stack(target.stack_name):
                echo(f"--allow {entry.text}: not checked (the stack could not be planned)")
            allowances.checked.add(target.stack_name)
            continue
        if change_set is None:
            echo(f"{target.stack_name}: no changes")
            summary.append(f"{target.kind}: no changes")
            continue
        try:
            echo(f"{target.stack_name}: {len(change_set.changes)} changes")
            for line in change_table(change_set.changes):
                echo(f"  {line}")
            report = evaluate_change_set(
                cfn, target.stack_name, change_set.name, sqs=sqs, allowances=allowances
            )
            report_gate(report, echo, echo)
        finally:
            discard(cfn, change_set)
        broadened = broadened or bool(report.allowed) or (bool(report.iam) and not new_environment)
        replacements = sum(c.replacement in ("True", "Conditional") for c in change_set.changes)
        line = f"{target.kind}: {len(change_set.changes)} changes, {replacements} replacements"
        if report.iam:
            line += f", {len(report.iam)} IAM broadenings"
        if report.allowed:
            line += f", {len(report.allowed)} allowed by --allow"
        if report.blocking:
            line += f", BLOCKED by the gate ({len(report.blocking)})"
        summary.append(line)
    allowances.require_all_checked()
    if variables is not None:
        text = "; ".join(summary)[:SUMMARY_LIMIT]
        write_atomic(
            variables,
            f"export IAM_BROADENED={str(broadened).lower()}\nexport SUMMARY={shlex.quote(text)}\n",
        )
