"""Turn an SNS event (its Message is an S3 event notification) into uploads to label.

SNS invokes this function directly and asynchronously. Anything we cannot read
raises MalformedMessage with a one-line reason: the invocation fails and, after
Lambda's retries, the on-failure destination keeps the event for a person.
The notification inside is read by the shared s3_notifications module.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import SNSEvent
from s3_notifications import (
    UPLOAD_KEY,
    MalformedMessage,
    OtherBucket,
    UploadedObject,
    parse_s3_notification,
)

__all__ = [
    "UPLOAD_KEY",
    "MalformedMessage",
    "OtherBucket",
    "UploadedObject",
    "parse_s3_notification",
    "parse_sns_event",
]


def parse_sns_event(event: SNSEvent, *, bucket: str | None) -> list[UploadedObject]:
    """Created uploads named by every record of an SNS event; [] for S3's test event.

    `bucket` is the function's own: a notification naming another raises OtherBucket.
    """
    try:
        records = list(event.records)
        messages = [record.sns.message for record in records]
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessage(f"SNS event is missing a field: {exc}") from None
    if not messages:
        raise MalformedMessage("SNS event has no Records")
    return [
        upload for message in messages for upload in parse_s3_notification(message, bucket=bucket)
    ]
