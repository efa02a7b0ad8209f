"""Store a new short link: validate the request, pick a free code, write the link item.

Plain functions with their clients as arguments, so they are tested without Lambda.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import link_codes
from botocore.exceptions import ClientError

Table: TypeAlias = Any  # boto3 DynamoDB Table resource (no type stubs in the Lambda runtime)

logger = logging.getLogger("links.create_link")

# Generated codes that collide are drawn again, this many codes in all; with 62**7 codes
# five collisions in a row mean something other than bad luck (a broken random source).
MAX_CODE_ATTEMPTS = 5
FIELDS = frozenset({"url", "code"})


class InvalidRequest(ValueError):
    """The caller sent something we refuse; the message is safe to return to them."""


class CodeTaken(Exception):
    """The custom code the caller asked for belongs to a link that still works."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the code {code!r} is taken")
        self.code = code


class NoFreeCode(RuntimeError):
    """Every generated code collided: the caller may try again; we should look at why."""


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    link_ttl_days: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = link_codes.EnvReader(env)
        return cls(
            table_name=read.text("TABLE_NAME"),
            link_ttl_days=read.integer("LINK_TTL_DAYS", minimum=1, maximum=3650),
        )


@dataclass(frozen=True)
class LinkRequest:
    """A validated request body: the target and, when the caller chose one, the code."""

    url: str
    code: str | None = None


@dataclass(frozen=True)
class Link:
    """A stored link."""

    code: str
    url: str
    owner: str
    created_at: datetime
    expires_at: int  # epoch seconds

    @property
    def expires_at_iso(self) -> str:
        return datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def item(self) -> dict[str, Any]:
        return {
            **link_codes.link_key(self.code),
            "url": self.url,
            "owner": self.owner,
            "created_at": link_codes.iso_utc(self.created_at),
            "expires_at": self.expires_at,
            "clicks": 0,
        }


def parse_request(body: Mapping[str, object], *, own_host: str | None = None) -> LinkRequest:
    """Validate `{"url": ..., "code": ...}`; `own_host` is the shortener's own host, which
    a link may not point back at (it would redirect to itself)."""
    if not set(body) <= FIELDS:
        raise InvalidRequest("the body may hold only 'url' and 'code'")
    url = body.get("url")
    problem = link_codes.url_problem(url)
    if problem is not None or not isinstance(url, str):
        raise InvalidRequest(problem or "'url' must be a string")
    if own_host is not None and link_codes.url_host(url) == own_host.split(":")[0].lower():
        raise InvalidRequest("'url' may not point at this link shortener")
    code = body.get("code")
    if code is None:
        return LinkRequest(url=url)
    if not isinstance(code, str) or not link_codes.is_valid_code(code):
        raise InvalidRequest("'code' must be 4 to 32 letters, digits, '-' or '_'")
    if link_codes.is_reserved(code):
        raise InvalidRequest(f"'code' {code!r} is reserved")
    return LinkRequest(url=url, code=code)


def create_link(
    *,
    table: Table,
    settings: Settings,
    owner: str,
    request: LinkRequest,
    now: datetime,
    new_code: Callable[[], str] | None = None,
) -> Link:
    """Write the link under the caller's code, or under a generated one that is free.

    A code is free when no item has it, or when its link has expired but DynamoDB's TTL
    has not removed it yet (TTL deletes within days, not on the second): the redirect
    already answers 404 for it. Raises CodeTaken for a custom code, NoFreeCode when
    every generated code collided. `new_code` draws a code (default link_codes.new_code).
    """
    draw = new_code or link_codes.new_code
    expires_at = link_codes.epoch_seconds(now + timedelta(days=settings.link_ttl_days))

    def link(code: str) -> Link:
        return Link(code, request.url, owner, now, expires_at)

    if request.code is not None:
        wanted = link(request.code)
        if not _put_if_free(table, wanted, now):
            raise CodeTaken(request.code)
        return wanted
    for attempt in range(1, MAX_CODE_ATTEMPTS + 1):
        candidate = link(draw())
        if _put_if_free(table, candidate, now):
            return candidate
        logger.warning("Generated code %s is taken (attempt %d)", candidate.code, attempt)
    raise NoFreeCode(f"{MAX_CODE_ATTEMPTS} generated codes in a row were taken")


def _put_if_free(table: Table, link: Link, now: datetime) -> bool:
    """Write the link unless its code is in use; False when it is."""
    try:
        table.put_item(
            Item=link.item(),
            ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
            ExpressionAttributeValues={":now": link_codes.epoch_seconds(now)},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
