"""Judge one change set: read it, both templates and what they resolve to, combine the sources.

The only part of the gate that talks to AWS; `deploy`, `diff` and the `gate` command all
come through `evaluate_change_set`. It reads CloudFormation (the change list, both templates,
the change set's and the stack's parameters) and, only when a queue would be replaced or
removed, SQS (how many messages it holds, which queues use it as their dead-letter queue).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.aws import aws_errors
from infra.changesets import ChangeSet, change_set_pages, is_no_changes, parse_template
from infra.errors import InfraError
from infra.gate.allowances import Allowances
from infra.gate.iam import iam_findings
from infra.gate.replacement import FALLBACK_REGION
from infra.gate.resolve import StackFacts, resolve_template
from infra.gate.stateful import (
    QueueState,
    change_findings,
    merged_findings,
    queues_at_risk,
    stateful_findings,
)

QUEUE_DEPTH = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
MISSING_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


@dataclass(frozen=True)
class GateReport:
    """What the gate found in one stack's change set."""

    stack: str
    blocking: tuple[str, ...]
    iam: tuple[str, ...]
    allowed: tuple[str, ...] = ()  # findings a person let through with --allow, still said

    @property
    def passed(self) -> bool:
        return not self.blocking


def evaluate_change_set(
    cfn: Any,
    stack: str,
    change_set: str,
    *,
    sqs: Any | None = None,
    allowances: Allowances | None = None,
) -> GateReport:
    """Read the change list, both templates and their parameters, and combine both sources.

    A change set that changes nothing passes (the pipeline makes one for an unchanged
    stack); any other failed change set is an error. `sqs` (a client, or a function that
    makes one when a queue is at risk) is asked about queues at risk; without it they fail
    closed. `allowances` may let allowable findings through. AWS errors become an
    InfraError of one line. Nothing is executed.
    """
    allowances = allowances if allowances is not None else Allowances()
    pages = change_set_pages(cfn, stack, change_set)
    if pages[0].get("Status") == "FAILED":
        reason = pages[0].get("StatusReason", "")
        if is_no_changes(reason):
            allowances.apply(stack, [])
            return GateReport(stack, (), ())
        raise InfraError(f"{stack}: change set {change_set} FAILED: {reason}")
    changes = [change for page in pages for change in page.get("Changes", [])]
    described = describe_stack(cfn, stack)
    deployed = deployed_template(cfn, stack, described)
    with aws_errors(f"{stack}: reading the template of change set {change_set}"):
        body = cfn.get_template(StackName=stack, ChangeSetName=change_set)["TemplateBody"]
    proposed = parse_template(body)
    region = cfn.meta.region_name or FALLBACK_REGION
    old_facts, new_facts = stack_facts(described, pages[0], region)
    old = resolve_template(deployed, old_facts)
    new = resolve_template(proposed, new_facts)
    at_risk = queues_at_risk(stack, old, new, region, changes)
    queues = queue_states(cfn, sqs, stack, list(at_risk)) if at_risk else {}
    ours = stateful_findings(stack, old, new, region, changes=changes, queues=queues)
    findings = merged_findings(ours, change_findings(stack, changes))
    blocking, allowed = allowances.apply(stack, findings)
    iam = iam_findings(stack, old, new, region)
    return GateReport(stack, tuple(f.line for f in blocking), tuple(iam), tuple(allowed))


def change_set_judge(
    cfn: Any,
    *,
    sqs: Any | None = None,
    allowances: Allowances | None = None,
) -> Callable[[ChangeSet], GateReport]:
    """`evaluate_change_set` in the shape `deploy.deploy_stack` takes as its `judge`
    (`deploy_stack` prints what it found, what an allowance let through included)."""

    def judge(change_set: ChangeSet) -> GateReport:
        return evaluate_change_set(
            cfn, change_set.stack, change_set.name, sqs=sqs, allowances=allowances
        )

    return judge


def describe_stack(cfn: Any, stack: str) -> Mapping[str, Any]:
    with aws_errors(f"{stack}: describing the stack"):
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]


def stack_facts(
    described: Mapping[str, Any], change_set: Mapping[str, Any], region: str
) -> tuple[StackFacts, StackFacts]:
    """What resolves the deployed template (the stack's parameters) and the proposed one
    (the change set's, with the stack's for UsePreviousValue)."""
    name = described.get("StackName") or change_set.get("StackName") or ""
    stack_id = described.get("StackId") or change_set.get("StackId")
    stack_parameters = tuple(described.get("Parameters") or ())
    old = StackFacts(
        name,
        region,
        stack_id,
        parameters=stack_parameters,
        notification_arns=tuple(described.get("NotificationARNs") or ()),
    )
    new = StackFacts(
        name,
        region,
        stack_id,
        parameters=tuple(change_set.get("Parameters") or ()),
        previous=stack_parameters,
        notification_arns=tuple(change_set.get("NotificationARNs") or ()),
    )
    return old, new


def deployed_template(
    cfn: Any, stack: str, described: Mapping[str, Any] | None = None
) -> dict | None:
    """The template in service, or None when the stack only exists as a change set so far."""
    described = described if described is not None else describe_stack(cfn, stack)
    if described.get("StackStatus") == "REVIEW_IN_PROGRESS":
        return None
    with aws_errors(f"{stack}: reading the deployed template"):
        body = cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    return parse_template(body)


def queue_states(
    cfn: Any, sqs: Any | None, stack: str, logical_ids: list[str]
) -> dict[str, QueueState]:
    """What SQS says now about each queue at risk, by logical ID; what it cannot say, fails closed.

    The queue's URL is its physical ID in the stack. A queue the stack does not have (never
    created, already gone) holds nothing.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    if sqs is None:
        return {name: QueueState(unknown="no SQS client to ask") for name in logical_ids}
    if callable(sqs):  # made only now that a queue is at risk
        with aws_errors("sqs: client"):
            sqs = sqs()
    try:
        with aws_errors("CloudFormation DescribeStackResources"):
            described = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    except InfraError as err:  # each queue at risk fails closed, saying why
        return {name: QueueState(unknown=str(err)) for name in logical_ids}
    urls = {r.get("LogicalResourceId"): r.get("PhysicalResourceId") for r in described}
    states = {}
    for name in logical_ids:
        url = urls.get(name)
        if not url:
            states[name] = QueueState(messages=0)
            continue
        try:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(QUEUE_DEPTH))
            pages = sqs.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=url)
            sources = tuple(found for page in pages for found in page.get("queueUrls", []))
        except ClientError as err:
            error = err.response.get("Error", {})
            if error.get("Code") in MISSING_QUEUE:
                states[name] = QueueState(messages=0)
            else:
                states[name] = QueueState(
                    unknown=f"SQS: {error.get('Code')}: {error.get('Message')}"
                )
            continue
        except BotoCoreError as err:
            states[name] = QueueState(unknown=f"SQS: {err}")
            continue
        values = attributes.get("Attributes", {})
        states[name] = QueueState(
            messages=sum(int(values.get(key, 0)) for key in QUEUE_DEPTH),
            dead_letter_sources=sources,
        )
    return states
