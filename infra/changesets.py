"""Change sets: create one for a rendered stack, wait for it, list it, throw it away.

Every deploy goes through a change set, so what `diff` shows is exactly what `deploy` runs
and the gate can read it first.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.aws import aws_errors
from infra.constants import MAX_INLINE_TEMPLATE_BYTES, RETAINING_POLICIES
from infra.errors import InfraError
from infra.targets import StackTarget
from infra.text_table import aligned

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
MISSING_CHANGE_SET = ("ChangeSetNotFound", "ChangeSetNotFoundException", "ValidationError")
POLL_SECONDS = 2.0
WAIT_SECONDS = 15 * 60
NOT_READY = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# Statuses from which an UPDATE change set can be made.
UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)


@dataclass(frozen=True)
class PlannedChange:
    """One row of a change set: what CloudFormation will do to one resource."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str

    @classmethod
    def from_change(cls, change: dict[str, Any]) -> PlannedChange:
        detail = change.get("ResourceChange", {})
        return cls(
            action=detail.get("Action", "?"),
            logical_id=detail.get("LogicalResourceId", "?"),
            resource_type=detail.get("ResourceType", "?"),
            replacement=detail.get("Replacement", "") or "-",
        )


@dataclass(frozen=True)
class ChangeSet:
    """A change set that is ready (CREATE_COMPLETE) and what it would change."""

    stack: str
    name: str
    kind: str  # CREATE for a new stack, UPDATE otherwise
    changes: tuple[PlannedChange, ...]
    created_stack: bool = False  # the stack did not exist before this change set


def stack_status(cfn: Any, stack: str) -> str | None:
    """The stack's status, or None when there is no such stack."""
    from botocore.exceptions import ClientError

    with aws_errors(f"{stack}: describing the stack"):
        try:
            return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except ClientError as err:
            if "does not exist" in err.response.get("Error", {}).get("Message", ""):
                return None
            raise


def change_set_kind(stack: str, status: str | None) -> str:
    """CREATE or UPDATE; a stack that is busy or broken is refused with what to do."""
    if status in (None, "REVIEW_IN_PROGRESS"):
        return "CREATE"
    if status in UPDATABLE:
        return "UPDATE"
    if status.endswith("IN_PROGRESS"):
        raise InfraError(f"{stack}: busy ({status}); wait for it to finish, then run again")
    raise InfraError(f"{stack}: is {status}; fix or delete it in CloudFormation first")


Uploader = Callable[[StackTarget], str]


def template_source(target: StackTarget, upload: Uploader | None) -> dict[str, str]:
    """TemplateBody when it fits the API's inline limit; otherwise an S3 URL from `upload`."""
    if len(target.body.encode("utf-8")) <= MAX_INLINE_TEMPLATE_BYTES:
        return {"TemplateBody": target.body}
    if upload is None:
        raise InfraError(
            f"{target.stack_name}: template is over {MAX_INLINE_TEMPLATE_BYTES} bytes "
            "and no artifact bucket to upload it to"
        )
    return {"TemplateURL": upload(target)}


def change_set_name(target: StackTarget) -> str:
    """The stack, a digest of what it deploys, and a per-run suffix.

    Unique per run, so a quick rerun never collides with a change set whose deletion
    CloudFormation is still finishing.
    """
    digest = hashlib.sha256(
        (target.body + repr(target.parameters) + repr(target.tags)).encode()
    ).hexdigest()
    return f"{target.stack_name}-{digest[:8]}-{uuid.uuid4().hex[:8]}"


def create_change_set(
    cfn: Any,
    target: StackTarget,
    *,
    role_arn: str | None = None,
    upload: Uploader | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ChangeSet | None:
    """Create and wait for a change set; None (and nothing left behind) when nothing changes."""
    stack = target.stack_name
    status = stack_status(cfn, stack)
    kind = change_set_kind(stack, status)
    created_stack = status is None
    name = change_set_name(target)
    extra = {"RoleARN": role_arn} if role_arn else {}
    with aws_errors(f"{stack}: creating change set"):
        cfn.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            Capabilities=CAPABILITIES,
            Parameters=target.parameters,
            Tags=target.tags,
            Description=f"{target.app} {target.scope} {target.kind}",
            **template_source(target, upload),
            **extra,
        )
    outcome, reason = wait_for_change_set(cfn, stack, name, clock, sleep)
    if outcome == "FAILED":
        discard(cfn, ChangeSet(stack, name, kind, (), created_stack))
        if is_no_changes(reason):
            return None
        raise InfraError(f"{stack}: change set failed: {reason}")
    changes = tuple(PlannedChange.from_change(c) for c in change_set_changes(cfn, stack, name))
    return ChangeSet(stack, name, kind, changes, created_stack)


def wait_for_change_set(
    cfn: Any,
    stack: str,
    name: str,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, str]:
    """(status, reason) once CloudFormation has finished computing the change set."""
    deadline = clock() + WAIT_SECONDS
    while True:
        with aws_errors(f"{stack}: describing change set {name}"):
            described = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        status = described.get("Status", "")
        if status not in NOT_READY:
            return status, described.get("StatusReason", "")
        if clock() > deadline:
            raise InfraError(f"{stack}: change set {name} still {status} after {WAIT_SECONDS} s")
        sleep(POLL_SECONDS)


def is_no_changes(reason: str) -> bool:
    """CloudFormation's way of saying a change set would change nothing (it is FAILED then)."""
    return any(text in reason for text in NO_CHANGES)


def change_set_pages(cfn: Any, stack: str, name: str) -> list[dict]:
    """Every page of the change set's description; one still being computed is an error."""
    pages = []
    paginator = cfn.get_paginator("describe_change_set")
    with aws_errors(f"{stack}: describing change set {name}"):
        for page in paginator.paginate(StackName=stack, ChangeSetName=name):
            status = page.get("Status")
            if status in NOT_READY:
                raise InfraError(f"{stack}: change set {name} is {status}: wait for it first")
            pages.append(page)
    return pages


def change_set_changes(cfn: Any, stack: str, name: str) -> list[dict]:
    """The whole change list, across pages."""
    pages = change_set_pages(cfn, stack, name)
    return [change for page in pages for change in page.get("Changes", [])]


def parse_template(body: Any) -> dict:
    """boto3 gives a JSON template as a dict; a string is JSON or YAML (short forms too)."""
    if isinstance(body, Mapping):
        return dict(body)
    try:
        parsed = json.loads(body)
    except ValueError:
        from cfnlint.decode.cfn_yaml import loads

        parsed = loads(body)
    return parsed if isinstance(parsed, dict) else {}


def retains(policy: Any) -> bool:
    """A DeletionPolicy or UpdateReplacePolicy that keeps the resource.

    Only a literal counts: a policy chosen by an intrinsic function may not retain.
    """
    return isinstance(policy, str) and policy in RETAINING_POLICIES


def delete_change_set(cfn: Any, stack: str, name: str) -> None:
    """Delete a change set if it exists (a missing one is fine)."""
    from botocore.exceptions import ClientError

    with aws_errors(f"{stack}: deleting change set {name}"):
        try:
            cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code", "") in MISSING_CHANGE_SET:
                return
            raise
        cfn.delete_change_set(StackName=stack, ChangeSetName=name)


def discard(cfn: Any, change_set: ChangeSet) -> None:
    """Throw a change set away; a stack this run created for it goes with it.

    Deleting the empty stack removes its change sets too; a REVIEW_IN_PROGRESS stack that
    was there before (say, holding the pipeline's pending change set) is left alone.
    """
    if change_set.created_stack:
        with aws_errors(f"{change_set.stack}: deleting the empty stack"):
            cfn.delete_stack(StackName=change_set.stack)
        return
    delete_change_set(cfn, change_set.stack, change_set.name)


def change_table(changes: tuple[PlannedChange, ...]) -> list[str]:
    """The change set as aligned lines: action, logical ID, type, replacement."""
    rows = [(c.action, c.logical_id, c.resource_type, c.replacement) for c in changes]
    return aligned(("action", "logical id", "type", "replacement"), rows)
