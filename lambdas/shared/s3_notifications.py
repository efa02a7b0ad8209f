"""Read an S3 event notification (the Message SNS carries) into the uploads it names.

Shared by the functions the upload topic feeds; each unwraps its own envelope
(an SNS invocation, an SQS body) and decides what a failure means for it.
Anything we cannot read raises MalformedMessage with a one-line reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord

UPLOAD_KEY = re.compile(
    r"uploads/(?P<owner>[A-Za-z0-9_-]{1,128})/"
    r"(?P<image_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)


class MalformedMessage(ValueError):
    """The message is not an S3 notification about an upload we issued."""


@dataclass(frozen=True)
class UploadedObject:
    """One created upload object, as named by its S3 event record."""

    bucket: str
    key: str
    owner: str
    image_id: str
    etag: str
    sequencer: str


def json_object(text: object, what: str) -> dict[str, Any]:
    """`text` parsed as a JSON object; MalformedMessage naming `what` otherwise."""
    if not isinstance(text, str):
        raise MalformedMessage(f"{what} is missing or not a string")
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedMessage(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedMessage(f"{what} is not a JSON object")
    return value


def _uploaded_object(record: S3EventRecord) -> UploadedObject | None:
    """One S3 record; None for events other than object creation (nothing to do)."""
    if not record.event_name.startswith("ObjectCreated:"):
        return None
    s3 = record.s3
    obj = s3.get_object
    key = unquote_plus(obj.key)  # S3 sends keys URL-encoded, spaces as '+'
    match = UPLOAD_KEY.fullmatch(key)
    if match is None:
        raise MalformedMessage(f"object key {key!r} is not uploads/<sub>/<image_id>")
    etag, sequencer = obj.etag, obj.get("sequencer")
    if not etag or not isinstance(sequencer, str) or not sequencer:
        raise MalformedMessage(f"S3 record for {key!r} has no eTag or sequencer")
    return UploadedObject(
        bucket=s3.bucket.name,
        key=key,
        owner=match["owner"],
        image_id=match["image_id"],
        etag=etag,
        sequencer=sequencer,
    )


def parse_s3_notification(message: object) -> list[UploadedObject]:
    """Created uploads named by an S3 notification; [] for S3's test event."""
    notification = json_object(message, "SNS Message")
    if notification.get("Event") == "s3:TestEvent":
        return []
    records = notification.get("Records")
    if not isinstance(records, list) or not records:
        raise MalformedMessage("S3 notification has no Records")
    try:
        found = [_uploaded_object(record) for record in S3Event(notification).records]
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessage(f"S3 record is missing a field: {exc}") from None
    return [upload for upload in found if upload is not None]
