"""Reading an SQS body (SNS envelope around an S3 notification) into uploads."""

from __future__ import annotations

import json
from typing import Any

import pytest
import thumbnail_events

OWNER = "0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51"
IMAGE = "6f1d2c3b-4a51-4f6e-9a0e-0b5c7d2e51a1"
KEY = f"uploads/{OWNER}/{IMAGE}"
BUCKET = "photos-test-uploads"  # the function's own: the one the notifications name


def _body(events: Any, notification: Any) -> str:
    message = notification if isinstance(notification, str) else json.dumps(notification)
    return events.sns_in_sqs_body(message)


def test_reads_the_upload(events: Any) -> None:
    notification = events.s3_notification(KEY, etag='"abc123"', sequencer="0055AED6DCD90281E5")
    (upload,) = thumbnail_events.parse_sqs_body(_body(events, notification), bucket=BUCKET)
    assert upload == thumbnail_events.UploadedObject(
        bucket="photos-test-uploads",
        key=KEY,
        owner=OWNER,
        image_id=IMAGE,
        etag="abc123",
        sequencer="0055AED6DCD90281E5",
    )


@pytest.mark.parametrize("event_name", ["ObjectCreated:Put", "ObjectCreated:Post"])
def test_any_creation_counts(events: Any, event_name: str) -> None:
    notification = events.s3_notification(KEY, etag="abc", event_name=event_name)
    assert len(thumbnail_events.parse_sqs_body(_body(events, notification), bucket=BUCKET)) == 1


def test_s3_test_event_is_nothing_to_do(events: Any, s3_test_event: dict[str, Any]) -> None:
    assert thumbnail_events.parse_sqs_body(_body(events, s3_test_event), bucket=BUCKET) == []


def test_removal_is_nothing_to_do(events: Any) -> None:
    notification = events.s3_notification(KEY, etag="abc", event_name="ObjectRemoved:Delete")
    assert thumbnail_events.parse_sqs_body(_body(events, notification), bucket=BUCKET) == []


def test_key_is_url_decoded_before_checking(events: Any) -> None:
    """S3 sends a space as '+': the decoded key, with its space, is not an upload key."""
    notification = events.s3_notification(f"{KEY} copy", etag="abc")
    assert "+copy" in json.dumps(notification)
    with pytest.raises(thumbnail_events.MalformedMessage, match=f"'{KEY} copy'"):
        thumbnail_events.parse_sqs_body(_body(events, notification), bucket=BUCKET)


def _without(notification: dict[str, Any], *path: str) -> dict[str, Any]:
    target = notification["Records"][0]
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return notification


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda e: "not json", "SQS message body is not valid JSON"),
        (lambda e: "[]", "not a JSON object"),
        (lambda e: json.dumps({"Type": "SubscriptionConfirmation"}), "not an SNS notification"),
        (lambda e: json.dumps({"Type": "Notification"}), "SNS Message is missing"),
        (lambda e: e.sns_in_sqs_body("{broken"), "SNS Message is not valid JSON"),
        (lambda e: e.sns_in_sqs_body("{}"), "no Records"),
        (lambda e: e.sns_in_sqs_body('{"Records": []}'), "no Records"),
        (lambda e: e.sns_in_sqs_body('{"Records": ["x"]}'), "missing a field"),
        (
            lambda e: _body(e, _without(e.s3_notification(KEY, etag="a"), "s3", "object", "key")),
            "missing a field",
        ),
        (
            lambda e: _body(e, _without(e.s3_notification(KEY, etag="a"), "s3", "object", "eTag")),
            "no eTag",
        ),
        (lambda e: _body(e, e.s3_notification("other/x/y", etag="a")), "not uploads/"),
        (lambda e: _body(e, e.s3_notification(f"uploads/{OWNER}/nope", etag="a")), "not uploads/"),
        (lambda e: _body(e, e.s3_notification(f"{KEY}/more", etag="a")), "not uploads/"),
        (lambda e: _body(e, e.s3_notification(f"uploads/{IMAGE}", etag="a")), "not uploads/"),
    ],
    ids=[
        "body-not-json",
        "body-not-object",
        "not-a-notification",
        "no-message",
        "message-not-json",
        "no-records",
        "empty-records",
        "record-not-object",
        "no-key",
        "no-etag",
        "outside-uploads",
        "bad-image-id",
        "extra-segment",
        "no-owner",
    ],
)
def test_malformed_message_is_refused(events: Any, build: Any, reason: str) -> None:
    with pytest.raises(thumbnail_events.MalformedMessage, match=reason):
        thumbnail_events.parse_sqs_body(build(events), bucket=BUCKET)
