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
import http_api
import image_logic
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
app = http_api.resolver(
    logger, bad_request=image_logic.InvalidRequest, not_found=(image_logic.ImageNotFound,)
)


@functools.cache
def _settings() -> image_logic.Settings:
    return image_logic.Settings.from_env(os.environ)


@functools.cache
def _s3() -> Any:
    return http_api.presigning_s3_client()


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(_settings().table_name)


def _caller() -> str:
    """The Cognito user id the JWT authorizer verified."""
    return image_logic.validate_owner(http_api.jwt_sub(app))


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
    return http_api.json_response(HTTPStatus.OK, page)


@app.get("/images/<image_id>")
def get_image(image_id: str) -> Response:
    image = image_logic.get_image(
        table=_table(), s3=_s3(), settings=_settings(), owner=_caller(), image_id=image_id
    )
    return http_api.json_response(HTTPStatus.OK, image)


@app.delete("/images/<image_id>")
def delete_image(image_id: str) -> Response:
    owner = _caller()
    image_logic.delete_image(
        table=_table(), s3=_s3(), settings=_settings(), owner=owner, image_id=image_id
    )
    logger.info("Image deleted", extra={"image_id": image_id, "owner": owner})
    return Response(status_code=int(HTTPStatus.NO_CONTENT))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
