"""Turn one SQS message (an SNS notification wrapping an S3 event) into uploads to process.

The queue is subscribed to the upload topic without raw message delivery, so the
body is the SNS envelope and its Message is the S3 notification as a JSON string,
read by the shared s3_notifications module. Anything we cannot read raises
MalformedMessage: the record then fails and, after the queue's receive limit,
lands in the dead-letter queue for a person to inspect.
"""

from __future__ import annotations

from s3_notifications import (
    UPLOAD_KEY,
    MalformedMessage,
    OtherBucket,
    UploadedObject,
    json_object,
    parse_s3_notification,
)

__all__ = [
    "UPLOAD_KEY",
    "MalformedMessage",
    "OtherBucket",
    "UploadedObject",
    "parse_s3_notification",
    "parse_sqs_body",
]


def parse_sqs_body(body: object, *, bucket: str | None) -> list[UploadedObject]:
    """Unwrap the SNS envelope in an SQS body and read the S3 notification inside.

    `bucket` is the function's own: a notification naming another raises OtherBucket.
    """
    envelope = json_object(body, "SQS message body")
    if envelope.get("Type") != "Notification":
        raise MalformedMessage("SQS message body is not an SNS notification")
    return parse_s3_notification(envelope.get("Message"), bucket=bucket)
