"""Follow a stack operation to its end, one line per new event, and explain a failure."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from infra.aws import aws_errors
from infra.errors import InfraError

POLL_SECONDS = 2.0
WAIT_SECONDS = 60 * 60
STACK_TYPE = "AWS::CloudFormation::Stack"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """How an operation ended and the events that explain a failure."""

    status: str
    failures: tuple[str, ...]


def is_final(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS")


def new_events(cfn: Any, stack: str, seen: set[str]) -> list[dict]:
    """Events not printed yet, oldest first (the API pages newest first)."""
    fresh: list[dict] = []
    for event in _events(cfn, stack):
        if event["EventId"] in seen:
            break
        fresh.append(event)
    seen.update(event["EventId"] for event in fresh)
    return list(reversed(fresh))


def _events(cfn: Any, stack: str) -> Iterator[dict]:
    """The stack's events, newest first, one page read at a time: callers stop early."""
    pages = iter(cfn.get_paginator("describe_stack_events").paginate(StackName=stack))
    while True:
        with aws_errors(f"{stack}: reading stack events"):
            page = next(pages, None)
        if page is None:
            return
        yield from page.get("StackEvents", [])


def event_line(event: dict, elapsed: float) -> str:
    reason = event.get("ResourceStatusReason") or ""
    parts = [
        f"{elapsed:7.1f}s",
        event.get("LogicalResourceId", "?"),
        event.get("ResourceType", "?"),
        event.get("ResourceStatus", "?"),
    ]
    return "  ".join(parts) + (f"  {reason}" if reason else "")


def failure_line(event: dict) -> str:
    return (
        f"{event.get('LogicalResourceId', '?')} ({event.get('ResourceType', '?')}): "
        f"{event.get('ResourceStatus', '?')}: {event.get('ResourceStatusReason') or 'no reason'}"
    )


def seen_so_far(cfn: Any, stack: str) -> set[str]:
    """The ids of the events already there, so following starts with the new ones."""
    from botocore.exceptions import ClientError

    try:
        return {event["EventId"] for event in _events(cfn, stack)}
    except (ClientError, InfraError):
        return set()


def follow(
    cfn: Any,
    stack: str,
    seen: set[str],
    echo: Echo,
    *,
    stack_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Print the operation's events with elapsed time until the stack says it has ended.

    Right after ExecuteChangeSet or DeleteStack the stack may still show its previous
    final status, so the end is a new stack-level event with a final status, confirmed
    by the stack's current status (a CREATE_FAILED event is followed by a rollback).
    `stack_id` follows a stack being deleted (its name stops resolving when it is gone).
    """
    start = clock()
    failures: list[str] = []
    reference = stack_id or stack
    while True:
        stack_ended = False
        for event in new_events(cfn, reference, seen):
            echo(event_line(event, clock() - start))
            status = event.get("ResourceStatus", "")
            if status.endswith("_FAILED"):
                failures.append(failure_line(event))
            if event.get("ResourceType") == STACK_TYPE and is_final(status):
                stack_ended = True
        if stack_ended:
            with aws_errors(f"{stack}: describing the stack"):
                status = cfn.describe_stacks(StackName=reference)["Stacks"][0]["StackStatus"]
            if is_final(status):
                return Outcome(status, tuple(failures))
        if clock() - start > WAIT_SECONDS:
            raise InfraError(f"{stack}: not finished after {WAIT_SECONDS} s; see the console")
        sleep(POLL_SECONDS)
