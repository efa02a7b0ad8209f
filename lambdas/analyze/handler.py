"""SNS upload notification -> Rekognition labels on the image's item.

SNS invokes this function asynchronously: raising makes Lambda retry and then
send the event to the on-failure destination, so only unexpected errors raise;
outcomes a retry cannot change are logged and return normally.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

import analyze_events
import analyze_logic
import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@functools.cache
def _settings() -> analyze_logic.Settings:
    return analyze_logic.Settings.from_env(os.environ)


@functools.cache
def _s3() -> Any:
    return boto3.client("s3")


@functools.cache
def _rekognition() -> Any:
    return boto3.client("rekognition")


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(_settings().table_name)


@logger.inject_lambda_context
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    """Label every upload the event names; returns one outcome per upload."""
    try:
        uploads = analyze_events.parse_sns_event(event, bucket=_settings().upload_bucket)
    except analyze_events.MalformedMessage as exc:  # another bucket's too: never analysed
        logger.error("Malformed SNS event; failing the invocation", extra={"reason": str(exc)})
        raise
    results = []
    for upload in uploads:
        try:
            result = analyze_logic.process_upload(
                upload,
                rekognition=_rekognition(),
                s3=_s3(),
                table=_table(),
                settings=_settings(),
                now=datetime.now(UTC),
            )
        except Exception:
            logger.exception("Upload not analysed; Lambda will retry", extra={"key": upload.key})
            raise
        logger.info(
            "Upload analysed",
            extra={
                "image_id": upload.image_id,
                "owner": upload.owner,
                "etag": upload.etag,
                "outcome": str(result.outcome),
                "labels": len(result.labels),
                "reason": result.reason,
            },
        )
        results.append({"image_id": upload.image_id, "outcome": str(result.outcome)})
    if not uploads:
        logger.info("Nothing to do (S3 test event or not a creation)")
    return {"results": results}
