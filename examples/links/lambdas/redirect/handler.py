"""GET /{code} (public): redirect to the link's URL and record the click.

Thin: read the code from the HTTP API event, call redirect_logic, shape the redirect.
A click that cannot be recorded is logged: the caller is redirected all the same.
The settings and the table are created once per container, on first use.
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import boto3
import http_responses
import link_codes
import redirect_logic
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ROUTE = "GET /{code}"
# Nothing here may be cached: a cached redirect is a click nobody counts, and a cached
# 404 would hide a link created a minute later.
NO_STORE = {"cache-control": "no-store"}
# A caller waits on every call: fail fast rather than hold the redirect for seconds.
DYNAMODB_CONFIG = Config(
    connect_timeout=2, read_timeout=2, retries={"max_attempts": 3, "mode": "standard"}
)

logger = logging.getLogger("links.redirect")
logger.setLevel(logging.INFO)


@functools.cache
def _settings() -> redirect_logic.Settings:
    return redirect_logic.Settings.from_env(os.environ)


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb", config=DYNAMODB_CONFIG).Table(_settings().table_name)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = _settings()
    if http_responses.route_key(event) != ROUTE:
        return http_responses.text_response(HTTPStatus.NOT_FOUND, "Not found\n", NO_STORE)
    code = http_responses.path_parameter(event, "code")
    if code is None or not link_codes.is_valid_code(code):
        return http_responses.text_response(HTTPStatus.BAD_REQUEST, "Not a link code\n", NO_STORE)
    now = datetime.now(UTC)
    url = redirect_logic.find_target(_table(), code, now)
    if url is None:
        return http_responses.text_response(HTTPStatus.NOT_FOUND, "No such link\n", NO_STORE)
    try:
        redirect_logic.record_click(_table(), code, now, uuid.uuid4())
    except (BotoCoreError, ClientError):
        logger.exception("Could not record a click on %s; redirecting anyway", code)
    return http_responses.text_response(settings.redirect_status, "", {"location": url, **NO_STORE})
