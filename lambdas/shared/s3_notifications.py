"""Read an S3 event notification (the Message SNS carries) into the uploads it names.

Shared by the functions the upload topic feeds; each unwraps its own envelope
(an SNS invocation, an SQS body) and decides what a failure means for it.
Anything we cannot read raises MalformedMessage with a one-line reason; a notification
about a bucket other than the function's own raises OtherBucket (a MalformedMessage),
so it is never acted on, even where IAM would stop the function reading that bucket.
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
# S3's rule for a bucket name; and the printable ASCII an eTag or sequencer is made of
# (anything else would fail later: in an If-Match header, in DynamoDB's serializer).
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TOKEN = re.compile(r"[!-~]{1,256}")


class MalformedMessage(ValueError):
    """The message is not an S3 notification about an upload we issued."""


class OtherBucket(MalformedMessage):
    """The notification is about a bucket that is not the function's own."""


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
    except RecursionError:
        raise MalformedMessage(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise MalformedMessage(f"{what} is not a JSON object")
    return value


def _check_bucket(named: object, bucket: str | None) -> None:
    """OtherBucket unless `named` is `bucket` (None: the function cannot tell its own)."""
    if bucket is not None and named != bucket:
        raise OtherBucket(f"S3 notification names bucket {named!r}, not this function's {bucket!r}")


def _uploaded_object(record: S3EventRecord, bucket: str | None) -> UploadedObject | None:
    """One S3 record; None for events other than object creation (nothing to do)."""
    if bucket is not None:
        _check_bucket(record.s3.bucket.name, bucket)
    if not record.event_name.startswith("ObjectCreated:"):
        return None
    s3 = record.s3
    obj = s3.get_object
    key = unquote_plus(obj.key)  # S3 sends keys URL-encoded, spaces as '+'
    match = UPLOAD_KEY.fullmatch(key)
    if match is None:
        raise MalformedMessage(f"object key {key!r} is not uploads/<sub>/<image_id>")
    etag, sequencer = obj.etag, obj.get("sequencer")
    if not all(isinstance(token, str) and _TOKEN.fullmatch(token) for token in (etag, sequencer)):
        raise MalformedMessage(f"S3 record for {key!r} has no eTag or sequencer")
    if not isinstance(s3.bucket.name, str) or not BUCKET_NAME.fullmatch(s3.bucket.name):
        raise MalformedMessage(f"S3 record for {key!r} names no bucket")
    return UploadedObject(
        bucket=s3.bucket.name,
        key=key,
        owner=match["owner"],
        image_id=match["image_id"],
        etag=etag,
        sequencer=sequencer,
    )


def parse_s3_notification(message: object, *, bucket: str | None) -> list[UploadedObject]:
    """Created uploads named by an S3 notification; [] for S3's test event.

    `bucket` is the function's own: a notification naming another raises OtherBucket.
    """
    notification = json_object(message, "SNS Message")
    if notification.get("Event") == "s3:TestEvent":
        _check_bucket(notification.get("Bucket"), bucket)
        return []
    records = notification.get("Records")
    if not isinstance(records, list) or not records:
        raise MalformedMessage("S3 notification has no Records")
    try:
        found = [_uploaded_object(record, bucket) for record in S3Event(notification).records]
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedMessage(f"S3 record is missing a field: {exc}") from None
    return [upload for upload in found if upload is not None]
