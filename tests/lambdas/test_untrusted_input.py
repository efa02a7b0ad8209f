"""Hostile input to every function: refused the way that function refuses, never a crash.

An HTTP function answers a JSON 400 with a clear message, not a 500: a body nested deeper
than the JSON decoder recurses, text holding an unpaired surrogate (valid as a JSON
escape, but not encodable, so DynamoDB's serializer would raise later), a page token
carrying either. A function fed S3 notifications refuses one it cannot read the same
way: deeply nested JSON, fields that no S3 event holds, and a notification naming a
bucket other than the function's own, which it must not act on even where IAM would
stop it. The SQS function fails just that record (it reaches the dead-letter queue);
the SNS function raises (Lambda retries it, then the on-failure destination keeps it).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import analyze_events
import image_cursor
import pytest
import s3_notifications
import thumbnail_events

DEEP = 100_000  # far deeper than json's decoder (a recursive one) can go
OTHER_BUCKET = "someone-elses-bucket"


def _response(handler: Any, event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = handler.lambda_handler(event, context)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


# -- POST /uploads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[" * DEEP + "]" * DEEP, "body is nested too deeply"),
        ('{"content_type": ' + "[" * DEEP + "]" * DEEP + "}", "body is nested too deeply"),
        (
            '{"content_type": "image/png", "filename": "\\ud800.png"}',
            "body must be valid UTF-8 text",
        ),
        ('{"content_type": "image/png", "\\udfff": 1}', "body must be valid UTF-8 text"),
        ('{"content_type": "image/png", "x": ["\\udbff"]}', "body must be valid UTF-8 text"),
    ],
    ids=["deep-array", "deep-value", "surrogate-in-filename", "surrogate-in-a-key", "in-a-list"],
)
@pytest.mark.parametrize("encoded", [False, True], ids=["text", "base64"])
def test_uploads_answers_hostile_json_with_400(
    aws: None,
    uploads_handler: Any,
    http_event: Any,
    lambda_context: Any,
    table: Any,
    body: str,
    reason: str,
    encoded: bool,
) -> None:
    event = http_event("POST", "/uploads", body=body, base64_body=encoded)
    status, payload = _response(uploads_handler, event, lambda_context)
    assert (status, payload) == (400, {"message": reason})
    assert table.scan()["Items"] == []


def test_a_paired_surrogate_escape_is_just_a_character(
    aws: None, uploads_handler: Any, http_event: Any, lambda_context: Any, table: Any
) -> None:
    body = '{"content_type": "image/png", "filename": "\\ud83d\\udcf7.png"}'
    event = http_event("POST", "/uploads", body=body)
    status, _ = _response(uploads_handler, event, lambda_context)
    assert status == 201
    assert [item["filename"] for item in table.scan()["Items"]] == ["\U0001f4f7.png"]


def test_parse_request_refuses_a_lone_surrogate_itself() -> None:
    """The logic refuses it too, for callers that do not come through the handler."""
    import upload_logic

    settings = upload_logic.Settings.from_env(
        {"TABLE_NAME": "t", "UPLOAD_BUCKET": "b", "MAX_UPLOAD_BYTES": "1"}
    )
    body = {"content_type": "image/png", "filename": "\ud800.png"}
    with pytest.raises(upload_logic.InvalidRequest, match="filename"):
        upload_logic.parse_request(body, settings)


# -- GET /images ---------------------------------------------------------------------------------


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def list_page(aws: None, images_handler: Any, http_event: Any, lambda_context: Any) -> Any:
    def call(query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        return _response(images_handler, http_event("GET", "/images", query=query), lambda_context)

    return call


@pytest.mark.parametrize("text", ["[" * 768, "[" * 384 + "]" * 384], ids=["open", "closed"])
def test_the_deepest_page_token_its_length_allows_is_400(list_page: Any, text: str) -> None:
    """1,024 characters of token are 768 of JSON: too few to make the decoder recurse too
    deep; decode() turns a RecursionError into a 400 all the same."""
    token = _token(text)
    assert len(token) <= image_cursor.MAX_TOKEN_CHARS
    status, body = list_page({"next": token})
    assert (status, body) == (400, {"message": "'next' is not a valid page token"})


def test_a_page_token_with_a_lone_surrogate_is_400(list_page: Any, alice: str) -> None:
    image_id = "6f1d2c3b-4a51-4f6e-9a0e-0b5c7d2e51a1"
    key = {
        "pk": f"USER#{alice}",
        "sk": f"IMAGE#{image_id}",
        "gsi1pk": f"USER#{alice}",
        "gsi1sk": f"\\ud800#{image_id}",  # a JSON escape: json.loads makes it a lone surrogate
    }
    text = json.dumps(key).replace("\\\\ud800", "\\ud800")
    status, body = list_page({"next": _token(text)})
    assert (status, body) == (400, {"message": "'next' is not a valid page token"})


@pytest.mark.parametrize("limit", ["\u0661\u0660", "\uff15", "\u00b2"])
def test_limit_takes_ascii_digits_only(list_page: Any, limit: str) -> None:
    status, body = list_page({"limit": limit})
    assert status == 400
    assert "limit" in body["message"]


# -- S3 notifications, read by thumbnail and analyze ---------------------------------------------

OWNER = "0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51"
KEY = f"uploads/{OWNER}/6f1d2c3b-4a51-4f6e-9a0e-0b5c7d2e51a1"


def _record_fields(events: Any, **changes: Any) -> str:
    """An S3 notification for KEY with some of its object's (or bucket's) fields changed."""
    notification = events.s3_notification(KEY, etag="d41d8cd98f00b204e9800998ecf8427e")
    s3 = notification["Records"][0]["s3"]
    for name, value in changes.items():
        if name == "bucket":
            s3["bucket"]["name"] = value
        else:
            s3["object"][name] = value
    return json.dumps(notification)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("[" * DEEP + "]" * DEEP, "SNS Message is nested too deeply"),
        ('{"Records": ' + "[" * DEEP + "]" * DEEP + "}", "SNS Message is nested too deeply"),
        (lambda e: _record_fields(e, eTag="\ud800"), "no eTag or sequencer"),
        (lambda e: _record_fields(e, sequencer="01\n"), "no eTag or sequencer"),
        (lambda e: _record_fields(e, eTag="e" * 300), "no eTag or sequencer"),
        (lambda e: _record_fields(e, bucket="\udfff"), "names no bucket"),
        (lambda e: _record_fields(e, bucket="Not A Bucket"), "names no bucket"),
    ],
    ids=[
        "deep",
        "deep-records",
        "surrogate-etag",
        "newline-in-sequencer",
        "long-etag",
        "surrogate-bucket",
        "bad-bucket",
    ],
)
def test_a_notification_no_s3_sends_is_malformed(events: Any, message: Any, reason: str) -> None:
    text = message(events) if callable(message) else message
    with pytest.raises(s3_notifications.MalformedMessage, match=reason):
        s3_notifications.parse_s3_notification(text, bucket=None)


def test_a_deeply_nested_sqs_body_is_malformed() -> None:
    with pytest.raises(thumbnail_events.MalformedMessage, match="SQS message body is nested"):
        thumbnail_events.parse_sqs_body("[" * DEEP + "]" * DEEP, bucket=None)


@pytest.mark.parametrize(
    "event_name", ["ObjectCreated:Put", "ObjectRemoved:Delete"], ids=["created", "removed"]
)
def test_a_notification_for_another_bucket_is_refused(events: Any, event_name: str) -> None:
    message = json.dumps(
        events.s3_notification(KEY, etag="e1", bucket=OTHER_BUCKET, event_name=event_name)
    )
    with pytest.raises(s3_notifications.OtherBucket, match=OTHER_BUCKET):
        s3_notifications.parse_s3_notification(message, bucket="photos-test-uploads")
    # Without a bucket to compare with, a well-formed record is read as before.
    assert len(s3_notifications.parse_s3_notification(message, bucket=None)) == (
        1 if event_name.startswith("ObjectCreated") else 0
    )


def test_a_test_event_for_another_bucket_is_refused(s3_test_event: dict[str, Any]) -> None:
    message = json.dumps(s3_test_event | {"Bucket": OTHER_BUCKET})
    with pytest.raises(s3_notifications.OtherBucket, match=OTHER_BUCKET):
        s3_notifications.parse_s3_notification(message, bucket="photos-test-uploads")
    own = json.dumps(s3_test_event)
    assert s3_notifications.parse_s3_notification(own, bucket="photos-test-uploads") == []


def test_the_bucket_of_each_record_is_checked(events: Any) -> None:
    ours = events.s3_notification(KEY, etag="e1")
    theirs = events.s3_notification(KEY, etag="e1", bucket=OTHER_BUCKET)
    message = json.dumps({"Records": ours["Records"] + theirs["Records"]})
    with pytest.raises(s3_notifications.OtherBucket):
        s3_notifications.parse_s3_notification(message, bucket="photos-test-uploads")


# -- the handlers refuse another bucket's notification, each in its own way ----------------------


def test_thumbnail_fails_just_the_record_for_another_bucket(
    aws: None,
    thumbnail_handler: Any,
    lambda_context: Any,
    events: Any,
    upload: Any,
    image_bytes: Any,
    get_item: Any,
    list_keys: Any,
    alice: str,
    s3: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    s3.create_bucket(
        Bucket=OTHER_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    ours = upload(alice, image_bytes("PNG", (64, 64)))
    theirs = upload(alice, image_bytes("PNG", (64, 64)))
    # The same object in the other bucket: were the notification acted on, it would be read.
    source = {"Bucket": "photos-test-uploads", "Key": theirs.key}
    s3.copy_object(Bucket=OTHER_BUCKET, Key=theirs.key, CopySource=source)
    foreign = json.dumps(events.s3_notification(theirs.key, etag=theirs.etag, bucket=OTHER_BUCKET))
    event = events.sqs_event(events.sns_in_sqs_body(ours.message), events.sns_in_sqs_body(foreign))
    response = thumbnail_handler.lambda_handler(event, lambda_context)
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][1]["messageId"]}]
    assert get_item(alice, ours.image_id)["status"] == "ready"
    assert get_item(alice, theirs.image_id)["status"] == "pending"  # not processed
    assert not [key for key in list_keys("photos-test-media") if theirs.image_id in key]
    [error] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert error.reason == (  # type: ignore[attr-defined]
        f"S3 notification names bucket {OTHER_BUCKET!r}, not this function's 'photos-test-uploads'"
    )


def test_analyze_raises_for_another_bucket(
    aws: None,
    analyze_handler: Any,
    lambda_context: Any,
    events: Any,
    upload: Any,
    image_bytes: Any,
    get_item: Any,
    alice: str,
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)))
    foreign = json.dumps(events.s3_notification(up.key, etag=up.etag, bucket=OTHER_BUCKET))
    with pytest.raises(analyze_events.OtherBucket, match=OTHER_BUCKET):
        analyze_handler.lambda_handler(events.sns_event(foreign), lambda_context)
    assert "labels" not in get_item(alice, up.image_id)


def test_thumbnail_fails_just_a_deeply_nested_record_as_malformed(
    aws: None,
    thumbnail_handler: Any,
    lambda_context: Any,
    events: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deep = "[" * DEEP + "]" * DEEP
    event = events.sqs_event(deep, events.sns_in_sqs_body(deep))
    response = thumbnail_handler.lambda_handler(event, lambda_context)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        record["messageId"] for record in event["Records"]
    )
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.levelname == "ERROR"]
    assert reasons == ["SQS message body is nested too deeply", "SNS Message is nested too deeply"]


def test_analyze_raises_a_clear_error_for_a_deeply_nested_message(
    aws: None, analyze_handler: Any, lambda_context: Any, events: Any
) -> None:
    with pytest.raises(analyze_events.MalformedMessage, match="SNS Message is nested too deeply"):
        analyze_handler.lambda_handler(events.sns_event("[" * DEEP + "]" * DEEP), lambda_context)
