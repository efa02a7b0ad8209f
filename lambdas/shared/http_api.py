"""What the HTTP API functions share: a JSON resolver, the caller's id and presigning S3.

Each function builds its own resolver here (its routes and error types differ),
so every one answers errors with the same JSON shapes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from botocore.config import Config

# Presigned URLs for the browser: SigV4 (accepted in every region) on the regional
# virtual-hosted endpoint. The global endpoint answers a new bucket with a 307
# redirect, which breaks the browser's CORS preflight.
PRESIGNING_S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})


def json_response(status: HTTPStatus, body: dict[str, Any]) -> Response:
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body)


def resolver(
    logger: Logger,
    *,
    bad_request: type[Exception],
    not_found: tuple[type[Exception], ...] = (),
) -> APIGatewayHttpResolver:
    """A resolver that answers `bad_request` with a JSON 400 carrying its message (which
    must be safe to show the caller), and unknown routes and `not_found` with a JSON 404."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(bad_request)
    def _bad_request(exc: Exception) -> Response:
        logger.info("Bad request", extra={"reason": str(exc)})
        return json_response(HTTPStatus.BAD_REQUEST, {"message": str(exc)})

    @app.exception_handler([*not_found, NotFoundError])
    def _not_found(_exc: Exception) -> Response:
        return json_response(HTTPStatus.NOT_FOUND, {"message": "Not found"})

    return app


def json_body(app: APIGatewayHttpResolver, bad_request: type[Exception]) -> object:
    """The request's JSON body (None without one), or `bad_request` saying what is wrong.

    Beyond malformed JSON that is a body nested deeper than the JSON decoder recurses,
    and text with an unpaired surrogate: a valid JSON escape (`"\\ud800"`) that no UTF-8
    encoder takes, so it would fail later, in DynamoDB's serializer, as a 500.
    """
    try:
        body = app.current_event.json_body
    except RecursionError:
        raise bad_request("body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError and bad base64 are ValueErrors
        raise bad_request("body must be valid JSON") from None
    if not is_unicode_text(body):
        raise bad_request("body must be valid UTF-8 text")
    return body


def is_unicode_text(value: object) -> bool:
    """Every string in a parsed JSON value (keys too) is encodable: no unpaired surrogates.

    Walked with a stack: the value may be as deep as the decoder allowed.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def jwt_sub(app: APIGatewayHttpResolver) -> object:
    """The `sub` claim the JWT authorizer verified, unchecked (None when absent)."""
    return app.current_event.request_context.authorizer.jwt_claim.get("sub")


def presigning_s3_client() -> Any:
    """An S3 client whose presigned URLs a browser can use (see PRESIGNING_S3_CONFIG)."""
    return boto3.client("s3", config=PRESIGNING_S3_CONFIG)
