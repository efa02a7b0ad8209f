"""API Gateway HTTP API (payload format 2.0) for the links functions: what they read from
an event (route, caller, path, body) and the responses they answer with. Stdlib only.

A body that cannot be a request (not JSON, not UTF-8, too large, too deep, not an object)
is a BadRequest whose message is safe to show the caller: a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

MAX_BODY_BYTES = 4096
# Objects and arrays within each other; the parser's own limit (RecursionError) is far
# deeper and differs between Python versions, so this one is what callers meet.
MAX_DEPTH = 20
# Base64 of MAX_BODY_BYTES, rounded up to whole groups of four.
_MAX_BASE64_CHARS = 4 * -(-MAX_BODY_BYTES // 3)
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"

# Cognito subs are UUIDs; anything else in the claim is not a caller we know.
SUB_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?")
# A header value with CR, LF or any other control character could split the response.
_UNSAFE_HEADER = re.compile(r"[\x00-\x1f\x7f]")


class BadRequest(ValueError):
    """The request cannot be served as sent; the message is safe to return to the caller."""


# --- reading the event ------------------------------------------------------------------


def _dig(value: object, *path: str) -> object:
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def route_key(event: object) -> str | None:
    """`POST /links`: the route API Gateway matched."""
    route = _dig(event, "routeKey")
    return route if isinstance(route, str) else None


def path_parameter(event: object, name: str) -> str | None:
    value = _dig(event, "pathParameters", name)
    return value if isinstance(value, str) else None


def jwt_sub(event: object) -> str | None:
    """The caller's `sub` claim, as the JWT authorizer verified it; None when absent or odd.

    On AWS the authorizer refuses a request without a valid token before the function
    runs; this still checks, so a route left public by mistake serves nobody.
    """
    sub = _dig(event, "requestContext", "authorizer", "jwt", "claims", "sub")
    return sub if isinstance(sub, str) and SUB_PATTERN.fullmatch(sub) else None


def domain_name(event: object) -> str | None:
    """The host the caller used (the API's own or its custom domain), or None."""
    domain = _dig(event, "requestContext", "domainName")
    return domain.lower() if isinstance(domain, str) and _DOMAIN.fullmatch(domain) else None


def _body_bytes(event: object) -> bytes:
    body = _dig(event, "body")
    if body is None or body == "":
        raise BadRequest("the body must be a JSON object")
    if not isinstance(body, str):
        raise BadRequest("the body must be text")
    if _dig(event, "isBase64Encoded") is True:
        if len(body) > _MAX_BASE64_CHARS:
            raise BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64") from None
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            raise BadRequest("the body must be UTF-8 text") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
    return raw


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise BadRequest("the body names a field twice")
    return result


def _no_constant(name: str) -> None:
    raise BadRequest(f"the body holds {name}, which is not JSON")


def json_object(event: object) -> dict[str, Any]:
    """The event's body as a JSON object (base64 decoded when API Gateway encoded it)."""
    raw = _body_bytes(event)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body must be UTF-8 text") from None
    try:
        body = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except BadRequest:
        raise
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    except ValueError:  # JSONDecodeError, and an integer too long to convert
        raise BadRequest("the body is not valid JSON") from None
    _check_shape(body)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _check_shape(body: object) -> None:
    """At most MAX_DEPTH containers deep, and text only: JSON escapes can spell lone
    surrogates ("\\ud800"), which are not text. Iterative: no recursion to exhaust."""
    pending: list[tuple[object, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise BadRequest(f"the body is nested more than {MAX_DEPTH} deep")
        if isinstance(value, dict):
            pending += [(key, depth) for key in value]
            pending += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, list):
            pending += [(item, depth + 1) for item in value]
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest("the body must be UTF-8 text") from None


# --- responses --------------------------------------------------------------------------


def response(
    status: HTTPStatus | int,
    body: str,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A payload 2.0 response. Refuses (ValueError) a header that would carry CR, LF or
    another control character: response splitting is a bug here, never an output."""
    all_headers = {"content-type": content_type, **(headers or {})}
    for name, value in all_headers.items():
        if not name or _UNSAFE_HEADER.search(name) or _UNSAFE_HEADER.search(value):
            raise ValueError(f"response header {name!r} would carry a control character")
    return {
        "statusCode": int(status),
        "headers": all_headers,
        "body": body,
        "isBase64Encoded": False,
    }


def json_response(
    status: HTTPStatus | int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """JSON with non-ASCII escaped, so no caller's input can make the body invalid text."""
    return response(status, json.dumps(payload, ensure_ascii=True), JSON_TYPE, headers)


def json_error(
    status: HTTPStatus | int, message: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`{"message": ...}` with the status."""
    return json_response(status, {"message": message}, headers)


def text_response(
    status: HTTPStatus | int, text: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return response(status, text, TEXT_TYPE, headers)
