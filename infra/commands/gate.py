"""`python -m infra gate`: refuse a change set that would lose data or switch a protection off.

Prints every reason, every finding a person allowed, and every IAM broadening, one line each;
the verdict is the last line. A refusal is an InfraError, so the command group prints it once
(on stderr) and exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from infra.aws import AwsTarget
from infra.commands.options import aws_options
from infra.errors import InfraError
from infra.gate.allowances import ALLOWABLE, ENVIRONMENT_VARIABLE, Allowances
from infra.gate.evaluation import GateReport, evaluate_change_set
from infra.shown import plural

F = Callable[..., Any]


def allow_option(command: F) -> F:
    """--allow STACK:LOGICAL_ID:KIND, repeatable; INFRA_GATE_ALLOW holds them space-separated."""
    return click.option(
        "--allow",
        "allow",
        multiple=True,
        metavar="STACK:LOGICAL_ID:KIND",
        envvar=ENVIRONMENT_VARIABLE,
        help=(
            "Let one blocked finding through, by name; it is still printed. "
            f"KIND: {', '.join(ALLOWABLE)}. Repeatable; an allowance that matches nothing "
            "is an error."
        ),
    )(command)


def verdict(report: GateReport, fail_on_iam: bool) -> str | None:
    """The refusal's summary, or None when the change set may go ahead."""
    iam_blocks = fail_on_iam and bool(report.iam)
    if report.passed and not iam_blocks:
        return None
    summary = plural(len(report.blocking), "reason")
    if iam_blocks:
        summary += f", {plural(len(report.iam), 'IAM broadening')} with --fail-on-iam"
    return f"gate: blocked ({summary})"


def passed_line(report: GateReport) -> str:
    if report.allowed:
        return f"gate: passed ({plural(len(report.allowed), 'finding')} allowed by --allow)"
    return "gate: passed"


@click.command("gate")
@click.option("--stack", required=True, help="The stack the change set belongs to.")
@click.option("--change-set", required=True, help="The change set's name or ARN.")
@click.option("--fail-on-iam", is_flag=True, help="Also refuse when IAM permissions would broaden.")
@allow_option
@aws_options
def gate_command(
    stack: str,
    change_set: str,
    fail_on_iam: bool,
    allow: tuple[str, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Check a change set before it runs: no data replaced or removed, no protection dropped.

    Allowances for other stacks are skipped with a note: the pipeline gives every gate
    action the same INFRA_GATE_ALLOW, and its plan (`infra diff`) checks them all.
    """
    allowances = Allowances.parse(allow)
    for entry in allowances.entries:
        if entry.stack != stack:
            click.echo(f"gate: --allow {entry.text} is for another stack; not used here")
    allowances = Allowances(tuple(allowances.for_stack(stack)))
    aws = AwsTarget(profile, region, endpoint_url)
    cfn = aws.client("cloudformation")
    report = evaluate_change_set(
        cfn, stack, change_set, sqs=lambda: aws.client("sqs"), allowances=allowances
    )
    for line in (*report.blocking, *report.allowed):
        click.echo(line)
    for line in report.iam:
        click.echo(f"iam: {line}")
    refusal = verdict(report, fail_on_iam)
    if refusal:
        raise InfraError(refusal)
    click.echo(passed_line(report))
