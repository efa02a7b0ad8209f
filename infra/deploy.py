"""Deploy and destroy one stack: change set, gate, execute, follow, report.

The pipeline does the same steps with CodePipeline's CloudFormation actions and the `gate`
command; this module is the workstation's way (`deploy`, `bootstrap`, `destroy`). The gate
comes in as `judge`, so this module knows what a verdict looks like but not how it is made.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from infra.aws import aws_errors
from infra.changesets import (
    ChangeSet,
    Uploader,
    change_table,
    create_change_set,
    discard,
    parse_template,
    retains,
    stack_status,
)
from infra.errors import InfraError
from infra.shown import plural
from infra.stack_events import Echo, follow, seen_so_far
from infra.targets import StackTarget

RETAINED_ON_ROLLBACK = "DELETE_SKIPPED"


@dataclass(frozen=True)
class Deployed:
    """What a deploy did to one stack and the stack's outputs afterwards."""

    stack: str
    result: str  # created, updated or unchanged
    outputs: dict[str, str]


class GateRefused(InfraError):
    """The gate stopped a change set; the reasons were printed one per line."""


class Judgement(Protocol):
    """What a gate says about one change set (the gate's GateReport is one)."""

    @property
    def passed(self) -> bool: ...

    @property
    def blocking(self) -> tuple[str, ...]: ...

    @property
    def iam(self) -> tuple[str, ...]: ...

    @property
    def allowed(self) -> tuple[str, ...]: ...  # findings an allowance let through


Judge = Callable[[ChangeSet], Judgement]


def stack_outputs(cfn: Any, stack: str) -> dict[str, str]:
    with aws_errors(f"{stack}: reading outputs"):
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])}


def stack_resources(cfn: Any, stack: str) -> list[dict]:
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
    with aws_errors(f"{stack}: listing resources"):
        return [r for page in pages for r in page.get("StackResourceSummaries", [])]


def resource_line(resource: dict) -> str:
    return (
        f"{resource.get('LogicalResourceId', '?')} ({resource.get('ResourceType', '?')}): "
        f"{resource.get('PhysicalResourceId') or 'no physical id'}"
    )


def clear_failed_creation(
    cfn: Any, target: StackTarget, echo: Echo, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Delete a stack whose first creation rolled back, unless it kept data behind.

    Retained resources of a failed creation stay in the account (DELETE_SKIPPED); deleting
    the stack would orphan them silently, so a person decides instead.
    """
    stack = target.stack_name
    kept = [
        r for r in stack_resources(cfn, stack) if r.get("ResourceStatus") == RETAINED_ON_ROLLBACK
    ]
    if kept:
        names = "; ".join(resource_line(r) for r in kept)
        raise InfraError(
            f"{stack}: ROLLBACK_COMPLETE and it kept retained resources ({names}); "
            "delete or import them, then delete the stack"
        )
    echo(f"{stack}: first creation rolled back and kept nothing; deleting it to try again")
    with aws_errors(f"{stack}: describing the stack"):
        stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    seen = seen_so_far(cfn, stack)
    with aws_errors(f"{stack}: deleting the rolled-back stack"):
        cfn.delete_stack(StackName=stack)
    outcome = follow(cfn, stack, seen, echo, stack_id=stack_id, sleep=sleep)
    if outcome.status != "DELETE_COMPLETE":
        raise InfraError(f"{stack}: could not delete the rolled-back stack: {outcome.status}")


def report_gate(report: Judgement, echo: Echo, warn: Echo) -> None:
    """What the gate found: IAM notes, blocking findings, and what an allowance let through
    (never silently)."""
    for line in report.iam:
        echo(f"iam: {line}")
    for line in (*report.blocking, *report.allowed):
        warn(line)


def deploy_stack(
    cfn: Any,
    target: StackTarget,
    echo: Echo,
    *,
    judge: Judge,
    warn: Echo | None = None,
    role_arn: str | None = None,
    upload: Uploader | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Deployed:
    """Change set -> `judge` -> execute -> follow; "no changes" is a success."""
    warn = warn or echo
    stack = target.stack_name
    status = stack_status(cfn, stack)
    if status == "ROLLBACK_COMPLETE":
        clear_failed_creation(cfn, target, echo, sleep=sleep)
    change_set = create_change_set(cfn, target, role_arn=role_arn, upload=upload, sleep=sleep)
    if change_set is None:
        echo(f"{stack}: no changes")
        return Deployed(stack, "unchanged", stack_outputs(cfn, stack))
    echo(f"{stack}: {len(change_set.changes)} changes ({change_set.kind.lower()})")
    for line in change_table(change_set.changes):
        echo(f"  {line}")
    report = judge(change_set)
    report_gate(report, echo, warn)
    if not report.passed:
        discard(cfn, change_set)
        raise GateRefused(
            f"{stack}: gate: blocked ({plural(len(report.blocking), 'reason')}); "
            "nothing was changed"
        )
    return execute(cfn, change_set, echo, sleep=sleep)


def execute(
    cfn: Any, change_set: ChangeSet, echo: Echo, *, sleep: Callable[[float], None] = time.sleep
) -> Deployed:
    stack = change_set.stack
    seen = seen_so_far(cfn, stack)
    with aws_errors(f"{stack}: executing change set {change_set.name}"):
        cfn.execute_change_set(StackName=stack, ChangeSetName=change_set.name)
    outcome = follow(cfn, stack, seen, echo, sleep=sleep)
    if outcome.status != f"{change_set.kind}_COMPLETE":
        for line in outcome.failures:
            echo(f"failed: {line}")
        first = outcome.failures[0] if outcome.failures else "see the stack events"
        raise InfraError(f"{stack}: {outcome.status}: {first}")
    result = "created" if change_set.kind == "CREATE" else "updated"
    echo(f"{stack}: {outcome.status}")
    return Deployed(stack, result, stack_outputs(cfn, stack))


def destroy_stack(
    cfn: Any, stack: str, echo: Echo, *, sleep: Callable[[float], None] = time.sleep
) -> list[str]:
    """Delete a stack and follow it; returns the resources CloudFormation kept (retained)."""
    status = stack_status(cfn, stack)
    if status is None:
        echo(f"{stack}: not deployed")
        return []
    with aws_errors(f"{stack}: describing the stack"):
        stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    # A stack still in review (an interrupted diff) has no template and no resources yet.
    kept = [] if status == "REVIEW_IN_PROGRESS" else retained_resources(cfn, stack)
    seen = seen_so_far(cfn, stack)
    with aws_errors(f"{stack}: deleting the stack"):
        cfn.delete_stack(StackName=stack)
    outcome = follow(cfn, stack, seen, echo, stack_id=stack_id, sleep=sleep)
    if outcome.status != "DELETE_COMPLETE":
        for line in outcome.failures:
            echo(f"failed: {line}")
        raise InfraError(f"{stack}: {outcome.status}")
    echo(f"{stack}: {outcome.status}")
    return [resource_line(r) for r in kept]


def retained_resources(cfn: Any, stack: str) -> list[dict]:
    """The stack's resources whose DeletionPolicy keeps them when the stack goes."""
    with aws_errors(f"{stack}: reading the deployed template"):
        template = cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    policies = {
        logical_id: resource.get("DeletionPolicy")
        for logical_id, resource in parse_template(template).get("Resources", {}).items()
    }
    return [
        r
        for r in stack_resources(cfn, stack)
        if retains(policies.get(r.get("LogicalResourceId"))) and r.get("PhysicalResourceId")
    ]


def template_uploader(s3: Any, bucket: str, region: str) -> Uploader:
    """Put a large template into the artifact bucket under a content-addressed key."""

    def upload(target: StackTarget) -> str:
        data = target.body.encode("utf-8")
        key = f"templates/{target.stack_name}/{hashlib.sha256(data).hexdigest()[:16]}.json"
        with aws_errors(f"{target.stack_name}: uploading the template to s3://{bucket}/{key}"):
            s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json")
        return object_url(s3, bucket, region, key)

    return upload


def object_url(s3: Any, bucket: str, region: str, key: str) -> str:
    """The virtual-hosted HTTPS URL CloudFormation reads a template from, in S3's partition.

    The DNS suffix comes from the client's own endpoint (amazonaws.com, amazonaws.com.cn,
    ...); behind a custom endpoint (a local emulator) it is the standard one.
    """
    from urllib.parse import urlparse

    host = urlparse(s3.meta.endpoint_url).hostname or ""
    prefix = f"s3.{region}."
    suffix = host[len(prefix) :] if host.startswith(prefix) else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"
