"""`python -m infra gate`: refuse a change set that would replace or remove stateful data.

Prints every reason and every IAM broadening, one line each; the verdict is the last
line. A refusal is an InfraError, so the command group prints it once (on stderr) and
exits 1.
"""

from __future__ import annotations

import click

from infra.aws import AwsTarget
from infra.commands.options import aws_options
from infra.errors import InfraError
from infra.gate import GateReport, evaluate_change_set


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def verdict(report: GateReport, fail_on_iam: bool) -> str | None:
    """The refusal's summary, or None when the change set may go ahead."""
    iam_blocks = fail_on_iam and bool(report.iam)
    if report.passed and not iam_blocks:
        return None
    summary = plural(len(report.blocking), "reason")
    if iam_blocks:
        summary += f", {plural(len(report.iam), 'IAM broadening')} with --fail-on-iam"
    return f"gate: blocked ({summary})"


@click.command("gate")
@click.option("--stack", required=True, help="The stack the change set belongs to.")
@click.option("--change-set", required=True, help="The change set's name or ARN.")
@click.option("--fail-on-iam", is_flag=True, help="Also refuse when IAM permissions would broaden.")
@aws_options
def gate_command(
    stack: str,
    change_set: str,
    fail_on_iam: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Check a change set before it runs: no stateful resource replaced, removed or unretained."""
    cfn = AwsTarget(profile, region, endpoint_url).client("cloudformation")
    report = evaluate_change_set(cfn, stack, change_set)
    for line in report.blocking:
        click.echo(line)
    for line in report.iam:
        click.echo(f"iam: {line}")
    refusal = verdict(report, fail_on_iam)
    if refusal:
        raise InfraError(refusal)
    click.echo("gate: passed")
