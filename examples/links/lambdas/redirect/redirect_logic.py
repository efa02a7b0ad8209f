"""Find a link's target and record a click on it.

Plain functions with their clients as arguments, so they are tested without Lambda.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import link_codes

Table: TypeAlias = Any  # boto3 DynamoDB Table resource (no type stubs in the Lambda runtime)

logger = logging.getLogger("links.redirect")

REDIRECT_STATUSES = (301, 302, 307, 308)
# A click item only has to live until count-clicks has read it from the stream
# (records are at most an hour old when it gets them); then TTL removes it.
CLICK_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    redirect_status: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = link_codes.EnvReader(env)
        return cls(
            table_name=read.text("TABLE_NAME"),
            redirect_status=read.integer("REDIRECT_STATUS", choices=REDIRECT_STATUSES),
        )


def find_target(table: Table, code: str, now: datetime) -> str | None:
    """The URL of the link with this code, or None when there is none that works.

    A link whose expires_at has passed is gone even while its item waits for TTL.
    A stored URL is checked again before it goes into a Location header: an item
    written by anything but create-link must not be able to split the response.
    """
    if not link_codes.is_usable_code(code):
        return None
    item = table.get_item(Key=link_codes.link_key(code)).get("Item")
    if item is None:
        return None
    expires_at = item.get("expires_at")
    if not isinstance(expires_at, int | Decimal):
        logger.error("Link %s has no expires_at number; not redirecting", code)
        return None
    if expires_at <= link_codes.epoch_seconds(now):
        return None
    url = item.get("url")
    problem = link_codes.url_problem(url)
    if problem is not None:
        logger.error("Link %s holds a URL that may not be redirected to: %s", code, problem)
        return None
    return url


def click_item(code: str, now: datetime, click_id: uuid.UUID) -> dict[str, Any]:
    """One click: its key and when TTL may remove it. count-clicks adds `counted`."""
    return {
        **link_codes.click_key(code, now, click_id),
        "expires_at": link_codes.epoch_seconds(now + CLICK_LIFETIME),
    }


def record_click(table: Table, code: str, now: datetime, click_id: uuid.UUID) -> None:
    """Write the click's item; count-clicks adds it to the link from the table's stream."""
    table.put_item(
        Item=click_item(code, now, click_id), ConditionExpression="attribute_not_exists(pk)"
    )
