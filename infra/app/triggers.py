"""What invokes a function. One trigger per function; the backend stack wires it.

- `HttpRoutes`: the HTTP API, synchronously; signed in (JWT) unless `public`.
- `TopicSubscription`: SNS invokes it asynchronously; failures retry, then go to its DLQ.
- `QueueSubscription`: a queue of its own subscribed to a topic; batches, partial
  failures, and messages that keep failing go to its DLQ.
- `QueueMessages`: batches from a queue the app declares (whose DLQ is declared with it).
- `TableStream`: batches of a table's stream; a batch that keeps failing goes to its DLQ.
- `Schedule`: an EventBridge rule on a rate or cron expression; failures go to its DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from infra.app.immutable import Immutable, declaration
from infra.app.references import check_whole
from infra.app.resources import Queue, Table, Topic
from infra.errors import DeclarationError
from infra.naming import full_match

MAX_FILTERS = 5
MAX_FILTER_CHARACTERS = 4096
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# `METHOD /path/{param}` (a trailing `{proxy+}` too); API Gateway's own route-key syntax.
ROUTE_KEY = r"(?P<method>[A-Z]+) (?P<path>/|(/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\+?\}))+)"
# rate(1 minute), rate(5 minutes): EventBridge wants the singular for 1 and refuses 0.
SCHEDULE = (
    r"rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)"
    r"|cron\(([^()\s]+ ){5}[^()\s]+\)"
)


@declaration
class HttpRoutes(Immutable):
    """Route keys (`POST /links`, `GET /{code}`) the HTTP API sends to the function.

    Signed in by default: the JWT authorizer checks the user pool's token first.
    `public` routes have no authorizer.
    """

    routes: tuple[str, ...]
    public: bool = False

    def __post_init__(self) -> None:
        routes = (self.routes,) if isinstance(self.routes, str) else tuple(self.routes)
        if not routes:
            raise DeclarationError("HttpRoutes needs at least one route key")
        for key in routes:
            match = full_match(ROUTE_KEY, key) if isinstance(key, str) else None
            if match is None or match["method"] not in HTTP_METHODS:
                raise DeclarationError(
                    f"route {key!r}: expected 'METHOD /path' with METHOD one of "
                    f"{', '.join(HTTP_METHODS)}, e.g. 'GET /links/{{code}}'"
                )
            if "+}" in match["path"] and not match["path"].endswith("+}"):
                raise DeclarationError(f"route {key!r}: a {{proxy+}} segment must come last")
        object.__setattr__(self, "routes", routes)

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(key.split(" ", 1)[0] for key in self.routes)


@declaration
class TopicSubscription(Immutable):
    """SNS invokes the function asynchronously; failed invocations go to its DLQ."""

    topic: Topic
    maximum_retry_attempts: int = 2

    def __post_init__(self) -> None:
        need(self.topic, Topic, "TopicSubscription")
        check_whole("TopicSubscription: maximum_retry_attempts", self.maximum_retry_attempts, 0, 2)


@declaration
class QueueSubscription(Immutable):
    """A queue of the function's own, subscribed to `topic`, feeds it in batches."""

    topic: Topic
    batch_size: int = 10
    max_concurrency: int = 5
    max_receive_count: int = 5

    def __post_init__(self) -> None:
        need(self.topic, Topic, "QueueSubscription")
        check_batch(
            "QueueSubscription", self.batch_size, self.max_concurrency, self.max_receive_count
        )


@declaration
class QueueMessages(Immutable):
    """Batches of a declared queue's messages; the queue's redrive policy keeps failures."""

    queue: Queue
    batch_size: int = 10
    max_concurrency: int = 5

    def __post_init__(self) -> None:
        need(self.queue, Queue, "QueueMessages")
        check_batch("QueueMessages", self.batch_size, self.max_concurrency, 1)


@declaration
class TableStream(Immutable):
    """Batches of a table's stream records, oldest first; failures bisect, retry, then DLQ."""

    table: Table
    batch_size: int = 100
    starting_position: str = "LATEST"
    maximum_retry_attempts: int = 3
    maximum_record_age_seconds: int = 3600
    filters: tuple[Mapping[str, Any], ...] = ()  # Lambda event filter patterns (any matches)

    def __post_init__(self) -> None:
        need(self.table, Table, "TableStream")
        object.__setattr__(self, "filters", check_filters("TableStream", self.filters))
        if self.table.stream is None:
            raise DeclarationError(
                f"TableStream: table {self.table.name} declares no stream (set stream=...)"
            )
        check_whole("TableStream: batch_size", self.batch_size, 1, 10000)
        if self.starting_position not in ("LATEST", "TRIM_HORIZON"):
            raise DeclarationError("TableStream: starting_position is LATEST or TRIM_HORIZON")
        check_whole("TableStream: maximum_retry_attempts", self.maximum_retry_attempts, 0, 10000)
        check_whole(
            "TableStream: maximum_record_age_seconds", self.maximum_record_age_seconds, 60, 604800
        )


@declaration
class Schedule(Immutable):
    """EventBridge invokes the function on `expression`: `rate(1 day)`, `cron(0 6 * * ? *)`."""

    expression: str
    maximum_retry_attempts: int = 2
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.expression, str) or not full_match(SCHEDULE, self.expression):
            raise DeclarationError(
                f"Schedule {self.expression!r}: expected rate(1 minute|hour|day), "
                "rate(N minutes|hours|days) with N of 2 or more, or cron(6 fields), "
                "e.g. 'cron(0 6 * * ? *)'"
            )
        check_whole("Schedule: maximum_retry_attempts", self.maximum_retry_attempts, 0, 2)


Trigger = (
    HttpRoutes | TopicSubscription | QueueSubscription | QueueMessages | TableStream | Schedule
)
TRIGGERS = (HttpRoutes, TopicSubscription, QueueSubscription, QueueMessages, TableStream, Schedule)
# Triggers whose failures go to a dead-letter queue of the function's own.
WITH_DEAD_LETTER_QUEUE = (TopicSubscription, QueueSubscription, TableStream, Schedule)


def check_filters(what: str, filters: object) -> tuple[Mapping[str, Any], ...]:
    """Event filter patterns: JSON objects, at most 5 (Lambda's limit per event source)."""
    if not isinstance(filters, list | tuple) or isinstance(filters, str):
        raise DeclarationError(f"{what}: filters takes a tuple of patterns (dicts)")
    if len(filters) > MAX_FILTERS:
        raise DeclarationError(f"{what}: at most {MAX_FILTERS} filter patterns")
    for pattern in filters:
        if not isinstance(pattern, Mapping) or not pattern:
            raise DeclarationError(f"{what}: filter {pattern!r} must be a non-empty dict")
        try:
            text = json.dumps(pattern, sort_keys=True)
        except (TypeError, ValueError) as err:
            raise DeclarationError(f"{what}: filter {pattern!r} is not JSON: {err}") from None
        if len(text) > MAX_FILTER_CHARACTERS:
            raise DeclarationError(f"{what}: a filter is over {MAX_FILTER_CHARACTERS} characters")
    return tuple(filters)


def need(value: object, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        raise DeclarationError(f"{what} needs a {kind.__name__}, not {value!r}")


def check_batch(what: str, batch_size: int, max_concurrency: int, max_receive_count: int) -> None:
    # More than 10 needs a batching window, which these triggers do not set.
    check_whole(f"{what}: batch_size", batch_size, 1, 10, " for an SQS event source")
    check_whole(f"{what}: max_concurrency", max_concurrency, 2, 1000, " (SQS event sources)")
    check_whole(f"{what}: max_receive_count", max_receive_count, 1, 1000)
