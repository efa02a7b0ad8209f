"""The one place that turns config names into AWS names and parameter paths.

Logical IDs never come from here: they are literals in the stack classes, so
an environment changes names and values, never logical IDs.
"""

from __future__ import annotations

import functools
import re

from infra.errors import DeclarationError, InfraError

_PART = r"[a-z0-9][a-z0-9-]*"


def full_match(pattern: str, value: str) -> re.Match[str] | None:
    """The whole of `value` matches `pattern`, in ASCII (`\\d` is 0-9; no trailing newline).

    Patterns are kept as text and compiled on first use, so importing a module of patterns
    costs nothing for the ones a run never needs.
    """
    return _compiled(pattern).fullmatch(value)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


@functools.cache
def physical_name(*parts: str, limit: int = 64) -> str:
    """`shop`, `dev`, `orders` -> `shop-dev-orders`; refuses what AWS would."""
    for part in parts:
        if not full_match(_PART, part):
            raise InfraError(f"name part {part!r} must be lowercase letters, digits and hyphens")
    name = "-".join(parts)
    if len(name) > limit:
        raise InfraError(f"name {name!r} is {len(name)} characters; the limit is {limit}")
    return name


def ssm_path(app: str, scope: str, stack: str, name: str) -> str:
    """Where a stack publishes an outward value: `/<app>/<env>/<stack>/<name>`."""
    return f"/{app}/{scope}/{stack}/{name}"


@functools.cache
def pascal(name: str) -> str:
    """`order-worker` -> `OrderWorker`, for logical IDs derived from declared names."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", name) if part)


def route_logical_id(route_key: str) -> str:
    """`GET /orders/{id}` -> `GetOrdersIdRoute`: stable for as long as the route exists."""
    method, _, path = route_key.partition(" ")
    words = [word for word in re.split(r"[^A-Za-z0-9]+", path) if word]
    return pascal(method.lower()) + "".join(pascal(word) for word in words) + "Route"


def unique(names: list[str], what: str) -> list[str]:
    """Raise a clear error on the first duplicate instead of letting one overwrite another."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DeclarationError(f"{what} {name!r} is declared twice")
        seen.add(name)
    return names


# CodePipeline keeps each run's artifacts under the first 20 characters of the pipeline's name.
PIPELINE_ARTIFACT_NAME_CHARS = 20


def pipeline_name(app: str, account: str) -> str:
    """The account's pipeline, its stack and the prefix of everything it names."""
    return physical_name(app, account, "pipeline")


def pipeline_artifact_prefix(app: str, account: str) -> str:
    """Where CodePipeline writes run artifacts in the artifact bucket (they expire there)."""
    return pipeline_name(app, account)[:PIPELINE_ARTIFACT_NAME_CHARS] + "/"


def codebuild_log_group(project: str) -> str:
    """The log group CodeBuild writes to by default, declared explicitly with a retention."""
    return f"/aws/codebuild/{project}"
