"""SQS batch of upload notifications -> thumbnails, with a partial batch response.

Each record is handled on its own: a transient error fails only that record (SQS
redelivers just it), a malformed one fails and, after the receive limit, goes to
the dead-letter queue, and a bad image is recorded as failed and not retried.
The event source mapping must enable ReportBatchItemFailures.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

import boto3
import thumbnail_events
import thumbnail_logic
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
# A batch whose records all fail is reported record by record, not raised: the
# response means the same to SQS and the logs keep one clear line per record.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@functools.cache
def _settings() -> thumbnail_logic.Settings:
    return thumbnail_logic.Settings.from_env(os.environ)


@functools.cache
def _s3() -> Any:
    return boto3.client("s3")


@functools.cache
def _table() -> Any:
    return boto3.resource("dynamodb").Table(_settings().table_name)


def record_handler(record: SQSRecord) -> None:
    """Process every upload named in one SQS message; raising fails just this record."""
    try:
        uploads = thumbnail_events.parse_sqs_body(record.body, bucket=_settings().upload_bucket)
    except thumbnail_events.MalformedMessage as exc:  # another bucket's too: never processed
        logger.error(
            "Malformed message; failing it so it reaches the dead-letter queue",
            extra={"message_id": record.message_id, "reason": str(exc)},
        )
        raise
    if not uploads:
        logger.info(
            "Nothing to do (S3 test event or not a creation)",
            extra={"message_id": record.message_id},
        )
    for upload in uploads:
        try:
            result = thumbnail_logic.process_upload(
                upload, s3=_s3(), table=_table(), settings=_settings(), now=datetime.now(UTC)
            )
        except Exception:
            logger.exception(
                "Upload not processed; the message will be retried",
                extra={"message_id": record.message_id, "key": upload.key},
            )
            raise
        log = logger.warning if result.orphaned else logger.info
        log(
            "Upload processed",
            extra={
                "message_id": record.message_id,
                "image_id": upload.image_id,
                "owner": upload.owner,
                "etag": upload.etag,
                "outcome": str(result.outcome),
                "reason": result.reason,
                "orphaned": list(result.orphaned),
            },
        )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
