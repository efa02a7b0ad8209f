"""GET /images, GET /images/{id}, DELETE /images/{id} for the signed-in caller.

Thin: read the caller, path and query from the HTTP API event, call image_logic,
shape a JSON response. Clients are created once per container, on first use.
"""

from __future__ import annotations

import functools
import os
from http import HTTPStatus
from typing import Any

import boto3
import image_logic
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
def _settings() -> image_logic.Settings:
    return image_logic.Settings.from_env(os.environ)


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
    return image_logic.validate_owner(claims.get("sub"))


@app.get("/images")
def list_images() -> Response:
    owner = _caller()
    event = app.current_event
    limit = image_logic.parse_limit(event.get_query_string_value("limit"))
    page = image_logic.list_images(
        table=_table(),
        s3=_s3(),
        settings=_settings(),
        owner=owner,
        limit=limit,
        cursor=event.get_query_string_value("next"),
    )
    return _json(HTTPStatus.OK, page)


@app.get("/images/<image_id>")
def get_image(image_id: str) -> Response:
    image = image_logic.get_image(
        table=_table(), s3=_s3(), settings=_settings(), owner=_caller(), image_id=image_id
    )
    return _json(HTTPStatus.OK, image)


@app.delete("/images/<image_id>")
def delete_image(image_id: str) -> Response:
    owner = _caller()
    image_logic.delete_image(
        table=_table(), s3=_s3(), settings=_settings(), owner=owner, image_id=image_id
    )
    logger.info("Image deleted", extra={"image_id": image_id, "owner": owner})
    return Response(status_code=int(HTTPStatus.NO_CONTENT))


@app.exception_handler(image_logic.InvalidRequest)
def _bad_request(exc: image_logic.InvalidRequest) -> Response:
    logger.info("Bad request", extra={"reason": str(exc)})
    return _json(HTTPStatus.BAD_REQUEST, {"message": str(exc)})


@app.exception_handler([image_logic.ImageNotFound, NotFoundError])
def _not_found(_exc: Exception) -> Response:
    return _json(HTTPStatus.NOT_FOUND, {"message": "Not found"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
