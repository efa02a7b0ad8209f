"""POST /uploads: hand a signed-in user a presigned POST for one new image.

Thin: read the caller and the body from the HTTP API event, call upload_logic,
shape a JSON response. Clients are created once per container, on first use.
"""

from __future__ import annotations

import functools
import os
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import boto3
import upload_logic
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

logger = Logger()
app = APIGatewayHttpResolver()
# Presigned URLs for the browser: SigV4 (accepted in every region) on the regional
# virtual-hosted endpoint. The global endpoint answers a new bucket with a 307
# redirect, which breaks the browser's CORS preflight.
_S3_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})


@functools.cache
def _settings() -> upload_logic.Settings:
    return upload_logic.Settings.from_env(os.environ)


@functools.cache
def _s3() -> Any:
    return boto3.client("s3", config=_S3_CONFIG)


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(_settings().table_name)


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response:
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body)


def _caller() -> str:
    """The Cognito user id the JWT authorizer verified."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    return upload_logic.validate_owner(claims.get("sub"))


def _body() -> object:
    try:
        return app.current_event.json_body
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError and bad base64 are ValueErrors
        raise upload_logic.InvalidRequest("body must be valid JSON") from None


@app.post("/uploads")
def create_upload() -> Response:
    owner = _caller()
    request = upload_logic.parse_request(_body(), _settings())
    image_id = str(uuid.uuid4())
    result = upload_logic.create_upload(
        table=_table(),
        s3=_s3(),
        settings=_settings(),
        owner=owner,
        request=request,
        image_id=image_id,
        now=datetime.now(UTC),
    )
    logger.info("Upload authorised", extra={"image_id": image_id, "owner": owner})
    return _json(HTTPStatus.CREATED, result)


@app.exception_handler(upload_logic.InvalidRequest)
def _bad_request(exc: upload_logic.InvalidRequest) -> Response:
    logger.info("Bad request", extra={"reason": str(exc)})
    return _json(HTTPStatus.BAD_REQUEST, {"message": str(exc)})


@app.exception_handler(NotFoundError)
def _not_found(_exc: NotFoundError) -> Response:
    return _json(HTTPStatus.NOT_FOUND, {"message": "Not found"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
