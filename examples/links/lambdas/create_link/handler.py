"""POST /links (signed in): store a short code for the caller's URL.

Thin: read the caller, the host and the body from the HTTP API event, call
create_link_logic, shape a JSON response. The settings and the table are created once
per container, on first use.
"""

from __future__ import annotations

import functools
import logging
import os
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import boto3
import create_link_logic
import http_responses

ROUTE = "POST /links"

logger = logging.getLogger("links.create_link")
logger.setLevel(logging.INFO)


@functools.cache
def _settings() -> create_link_logic.Settings:
    return create_link_logic.Settings.from_env(os.environ)


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(_settings().table_name)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    if http_responses.route_key(event) != ROUTE:
        return http_responses.json_error(HTTPStatus.NOT_FOUND, "Not found")
    owner = http_responses.jwt_sub(event)
    if owner is None:
        return http_responses.json_error(
            HTTPStatus.UNAUTHORIZED, "sign in first", {"www-authenticate": "Bearer"}
        )
    domain = http_responses.domain_name(event)
    if domain is None:
        raise RuntimeError("the event's requestContext has no usable domainName")
    try:
        body = http_responses.json_object(event)
        request = create_link_logic.parse_request(body, own_host=domain)
        link = create_link_logic.create_link(
            table=_table(),
            settings=settings,
            owner=owner,
            request=request,
            now=datetime.now(UTC),
        )
    except (http_responses.BadRequest, create_link_logic.InvalidRequest) as exc:
        logger.info("Bad request: %s", exc)
        return http_responses.json_error(HTTPStatus.BAD_REQUEST, str(exc))
    except create_link_logic.CodeTaken as exc:
        return http_responses.json_error(HTTPStatus.CONFLICT, str(exc))
    except create_link_logic.NoFreeCode:
        logger.exception("No free code")
        return http_responses.json_error(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "no free code right now: try again",
            {"retry-after": "1"},
        )
    short_url = f"https://{domain}/{link.code}"
    logger.info("Link %s created by %s", link.code, owner)
    return http_responses.json_response(
        HTTPStatus.CREATED,
        {
            "code": link.code,
            "url": link.url,
            "shortUrl": short_url,
            "expiresAt": link.expires_at_iso,
        },
        {"location": short_url},
    )
