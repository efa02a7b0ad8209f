"""A Lambda function as declared data: what it is, what it may touch, what triggers it.

A `FunctionSpec` names what a function may touch (`Grant("table", ...)`); the
backend stack resolves those names to ARNs and the packager reads the same
declarations, so there is one list of functions. Kept free of troposphere so
packaging starts fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from awacs.aws import Action

from infra.naming import pascal


@dataclass(frozen=True)
class Grant:
    """Actions on a named target; the stack maps the name to ARNs (`prefix` for objects)."""

    target: str
    actions: tuple[Action, ...]
    prefix: str = ""


@dataclass(frozen=True)
class Published:
    """A value another stack published (`/<app>/<env>/<stack>/<name>`)."""

    stack: str
    name: str


@dataclass(frozen=True)
class Setting:
    """A value derived from the environment's settings, by name (see the backend stack)."""

    name: str


@dataclass(frozen=True)
class HttpRoutes:
    """Invoked synchronously by the HTTP API for these route keys (`METHOD /path`)."""

    routes: tuple[str, ...]


@dataclass(frozen=True)
class QueueSubscription:
    """Fed by an SQS queue subscribed to a topic; failures retry, then go to a DLQ."""

    topic: Published
    batch_size: int = 10
    max_concurrency: int = 5
    max_receive_count: int = 5


@dataclass(frozen=True)
class TopicSubscription:
    """Invoked asynchronously by SNS; failures go to an on-failure destination."""

    topic: Published
    maximum_retry_attempts: int = 2


Trigger = HttpRoutes | QueueSubscription | TopicSubscription
EnvValue = str | Published | Setting


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its code folder, settings, environment, permissions and trigger.

    `shared` names files in lambdas/shared that the packager adds at the root of
    this function's zip, beside its own, so `import <module>` works as on Lambda.
    """

    name: str
    source: str
    trigger: Trigger
    description: str
    handler: str = "handler.lambda_handler"
    memory: int | None = None
    timeout: int | None = None
    environment: Mapping[str, EnvValue] = field(default_factory=dict)
    grants: tuple[Grant, ...] = ()
    shared: tuple[str, ...] = ()

    @property
    def logical_name(self) -> str:
        """`uploads` -> `Uploads`: the stem of every logical ID this function owns."""
        return pascal(self.name)

    @property
    def code_key_parameter(self) -> str:
        """The template parameter that carries the S3 key of this function's zip."""
        return f"{self.logical_name}CodeKey"
