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
import http_api
import upload_logic
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
app = http_api.resolver(logger, bad_request=upload_logic.InvalidRequest)


@functools.cache
def _settings() -> upload_logic.Settings:
    return upload_logic.Settings.from_env(os.environ)


@functools.cache
def _s3() -> Any:
    return http_api.presigning_s3_client()


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(_settings().table_name)


def _caller() -> str:
    """The Cognito user id the JWT authorizer verified."""
    return upload_logic.validate_owner(http_api.jwt_sub(app))


@app.post("/uploads")
def create_upload() -> Response:
    owner = _caller()
    body = http_api.json_body(app, upload_logic.InvalidRequest)
    request = upload_logic.parse_request(body, _settings())
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
    return http_api.json_response(HTTPStatus.CREATED, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
