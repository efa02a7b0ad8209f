"""The thumbnail function end to end: SQS batch in, thumbnails and item state out."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

MEDIA = "photos-test-media"


@pytest.fixture
def run(aws: None, thumbnail_handler: Any, lambda_context: Any, events: Any) -> Any:
    """Deliver SQS message bodies as one batch; returns (response, message ids)."""

    def deliver(*bodies: str) -> tuple[dict[str, Any], list[str]]:
        event = events.sqs_event(*bodies)
        response = thumbnail_handler.lambda_handler(event, lambda_context)
        return response, [record["messageId"] for record in event["Records"]]

    return deliver


def _failures(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_image_becomes_ready_with_thumbnails(
    run: Any, upload: Any, image_bytes: Any, events: Any, get_item: Any, s3: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (640, 480)))
    response, _ = run(events.sns_in_sqs_body(up.message))
    assert _failures(response) == []
    item = get_item(alice, up.image_id)
    prefix = f"thumbnails/{alice}/{up.image_id}"
    assert item["status"] == "ready"
    assert item["thumbnails"] == {"256": f"{prefix}/256.jpg", "1024": f"{prefix}/1024.jpg"}
    assert item["source_etag"] == up.etag
    assert "expires_at" not in item
    sizes = {}
    for size, key in item["thumbnails"].items():
        obj = s3.get_object(Bucket=MEDIA, Key=key)
        assert obj["ContentType"] == "image/jpeg"
        sizes[size] = Image.open(io.BytesIO(obj["Body"].read())).size
    assert sizes == {"256": (256, 192), "1024": (640, 480)}


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("text", "not a supported image"),
        ("truncated", "corrupt or truncated"),
        ("bmp", "not a supported image"),
    ],
)
def test_bad_upload_is_marked_failed_and_not_retried(
    run: Any,
    upload: Any,
    image_bytes: Any,
    truncated_png: bytes,
    events: Any,
    get_item: Any,
    list_keys: Any,
    alice: str,
    kind: str,
    reason: str,
) -> None:
    data = {
        "text": b"just some text, not a picture",
        "truncated": truncated_png,
        "bmp": image_bytes("BMP", (32, 32)),
    }[kind]
    up = upload(alice, data)
    response, _ = run(events.sns_in_sqs_body(up.message))
    assert _failures(response) == []  # retrying cannot help
    item = get_item(alice, up.image_id)
    assert item["status"] == "failed"
    assert reason in item["failure_reason"]
    assert "expires_at" not in item and "thumbnails" not in item
    assert list_keys(MEDIA) == []


def test_upload_without_item_is_skipped(
    run: Any, upload: Any, image_bytes: Any, events: Any, list_keys: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)), seed=False)
    response, _ = run(events.sns_in_sqs_body(up.message))
    assert _failures(response) == []
    assert list_keys(MEDIA) == []


def test_s3_test_event_succeeds_without_work(
    run: Any, events: Any, s3_test_event: dict[str, Any], list_keys: Any
) -> None:
    response, _ = run(events.sns_in_sqs_body(json.dumps(s3_test_event)))
    assert _failures(response) == []
    assert list_keys(MEDIA) == []


def test_malformed_message_fails_only_itself(
    run: Any, upload: Any, image_bytes: Any, events: Any, get_item: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)))
    response, (good_id, bad_id, outside_id) = run(
        events.sns_in_sqs_body(up.message),
        "this is not JSON",
        events.sns_in_sqs_body(
            '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"},'
            ' "object": {"key": "etc/passwd", "eTag": "x", "sequencer": "01"}}}]}'
        ),
    )
    assert sorted(_failures(response)) == sorted([bad_id, outside_id])
    assert good_id not in _failures(response)
    assert get_item(alice, up.image_id)["status"] == "ready"


def test_a_batch_of_only_malformed_messages_is_reported_not_raised(run: Any) -> None:
    response, ids = run("nope", "{}")
    assert sorted(_failures(response)) == sorted(ids)


def test_transient_error_fails_only_that_record(
    run: Any,
    thumbnail_handler: Any,
    upload: Any,
    image_bytes: Any,
    events: Any,
    get_item: Any,
    alice: str,
) -> None:
    lucky = upload(alice, image_bytes("PNG", (64, 64)))
    throttled = upload(alice, image_bytes("JPEG", (64, 64)), content_type="image/jpeg")

    def throttle(params: dict[str, Any], **_: Any) -> None:
        if params["Key"] == throttled.key:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Slow"}}, "GetObject")

    s3 = thumbnail_handler._s3()
    s3.meta.events.register("before-parameter-build.s3.GetObject", throttle)
    response, (_, throttled_id) = run(
        events.sns_in_sqs_body(lucky.message), events.sns_in_sqs_body(throttled.message)
    )
    assert _failures(response) == [throttled_id]
    assert get_item(alice, lucky.image_id)["status"] == "ready"
    assert get_item(alice, throttled.image_id)["status"] == "pending"

    # SQS redelivers just that message; this time S3 answers.
    s3.meta.events.unregister("before-parameter-build.s3.GetObject", throttle)
    response, _ = run(events.sns_in_sqs_body(throttled.message))
    assert _failures(response) == []
    assert get_item(alice, throttled.image_id)["status"] == "ready"


def test_dynamodb_throttling_is_transient(
    run: Any, thumbnail_handler: Any, upload: Any, image_bytes: Any, events: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)))

    def throttle(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}},
            "UpdateItem",
        )

    client = thumbnail_handler._table().meta.client
    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", throttle)
    response, ids = run(events.sns_in_sqs_body(up.message))
    assert _failures(response) == ids
