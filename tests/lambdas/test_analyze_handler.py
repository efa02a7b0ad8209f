"""The analyze function end to end: SNS event in, Rekognition labels on the item."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import analyze_events
import pytest
from botocore.exceptions import ClientError

UPLOADS = "photos-test-uploads"


@pytest.fixture
def detect_calls(aws: None, analyze_handler: Any) -> list[dict[str, Any]]:
    """The parameters of every DetectLabels call the function makes."""
    calls: list[dict[str, Any]] = []
    analyze_handler._rekognition().meta.events.register(
        "before-parameter-build.rekognition.DetectLabels",
        lambda params, **_: calls.append(dict(params)),
    )
    return calls


@pytest.fixture
def run(analyze_handler: Any, lambda_context: Any, events: Any) -> Any:
    def invoke(message: str) -> dict[str, Any]:
        return analyze_handler.lambda_handler(events.sns_event(message), lambda_context)

    return invoke


def test_labels_land_on_the_item(
    run: Any,
    detect_calls: list[dict[str, Any]],
    upload: Any,
    image_bytes: Any,
    get_item: Any,
    alice: str,
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)))
    assert run(up.message) == {"results": [{"image_id": up.image_id, "outcome": "labelled"}]}
    assert detect_calls == [
        {
            "Image": {"S3Object": {"Bucket": UPLOADS, "Name": up.key}},
            "MaxLabels": 10,
            "MinConfidence": 80.0,
        }
    ]
    item = get_item(alice, up.image_id)
    # moto's canned DetectLabels answer.
    assert item["labels"] == [{"name": "Mobile Phone", "confidence": Decimal("99.94")}]
    assert item["labels_etag"] == up.etag
    assert "labels_error" not in item
    assert item["status"] == "pending"  # the thumbnail function owns status


def test_limits_come_from_the_environment(
    run: Any,
    detect_calls: list[dict[str, Any]],
    upload: Any,
    image_bytes: Any,
    monkeypatch: pytest.MonkeyPatch,
    alice: str,
) -> None:
    monkeypatch.setenv("MAX_LABELS", "3")
    monkeypatch.setenv("MIN_CONFIDENCE", "95.5")
    run(upload(alice, image_bytes("JPEG", (64, 64)), content_type="image/jpeg").message)
    assert (detect_calls[0]["MaxLabels"], detect_calls[0]["MinConfidence"]) == (3, 95.5)


def test_redelivery_does_not_call_rekognition_again(
    run: Any,
    detect_calls: list[dict[str, Any]],
    upload: Any,
    image_bytes: Any,
    get_item: Any,
    alice: str,
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)))
    run(up.message)
    first = get_item(alice, up.image_id)
    assert run(up.message) == {"results": [{"image_id": up.image_id, "outcome": "duplicate"}]}
    assert len(detect_calls) == 1
    assert get_item(alice, up.image_id) == first  # labelled_at unchanged


@pytest.mark.parametrize("content_type", ["image/gif", "image/webp"])
def test_types_rekognition_cannot_read_get_no_labels(
    run: Any,
    detect_calls: list[dict[str, Any]],
    upload: Any,
    image_bytes: Any,
    get_item: Any,
    alice: str,
    content_type: str,
) -> None:
    fmt = content_type.split("/")[1].upper()
    up = upload(alice, image_bytes(fmt, (64, 64)), content_type=content_type)
    assert run(up.message)["results"][0]["outcome"] == "unsupported"
    assert detect_calls == []
    item = get_item(alice, up.image_id)
    assert item["labels"] == []
    assert content_type in item["labels_error"]


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("InvalidImageFormatException", "unsupported"), ("ImageTooLargeException", "unsupported")],
)
def test_image_rekognition_rejects_is_not_retried(
    run: Any,
    analyze_handler: Any,
    upload: Any,
    get_item: Any,
    alice: str,
    code: str,
    outcome: str,
) -> None:
    def reject(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "DetectLabels")

    analyze_handler._rekognition().meta.events.register(
        "before-parameter-build.rekognition.DetectLabels", reject
    )
    up = upload(alice, b"\x89PNG\r\n\x1a\n but not really")
    assert run(up.message)["results"][0]["outcome"] == outcome
    item = get_item(alice, up.image_id)
    assert item["labels"] == []
    assert code in item["labels_error"]


def test_throttling_raises_for_lambda_to_retry(
    run: Any, analyze_handler: Any, upload: Any, image_bytes: Any, get_item: Any, alice: str
) -> None:
    def throttle(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "Detect")

    analyze_handler._rekognition().meta.events.register(
        "before-parameter-build.rekognition.DetectLabels", throttle
    )
    up = upload(alice, image_bytes("PNG", (64, 64)))
    with pytest.raises(ClientError, match="ThrottlingException"):
        run(up.message)
    assert "labels" not in get_item(alice, up.image_id)


def test_missing_item_is_nothing_to_do(
    run: Any, detect_calls: list[dict[str, Any]], upload: Any, image_bytes: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)), seed=False)
    assert run(up.message)["results"][0]["outcome"] == "no-item"
    assert detect_calls == []


def test_replaced_object_is_skipped(
    run: Any,
    detect_calls: list[dict[str, Any]],
    upload: Any,
    image_bytes: Any,
    s3: Any,
    get_item: Any,
    alice: str,
) -> None:
    up = upload(alice, image_bytes("PNG", (64, 64)))
    s3.put_object(Bucket=UPLOADS, Key=up.key, Body=image_bytes("PNG", (80, 80)))
    assert run(up.message)["results"][0]["outcome"] == "stale"
    assert detect_calls == []
    assert "labels" not in get_item(alice, up.image_id)


def test_s3_test_event_is_ignored(
    run: Any, detect_calls: list[dict[str, Any]], s3_test_event: dict[str, Any]
) -> None:
    assert run(json.dumps(s3_test_event)) == {"results": []}
    assert detect_calls == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "not valid JSON"),
        ('{"Records": []}', "no Records"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "missing a field"),
        (
            (
                '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": '
                '{"name": "photos-test-uploads"},'
                ' "object": {"key": "uploads/x", "eTag": "e", "sequencer": "01"}}}]}'
            ),
            "not uploads/",
        ),
    ],
    ids=["not-json", "no-records", "no-s3", "bad-key"],
)
def test_malformed_message_raises_a_clear_error(
    run: Any, detect_calls: list[dict[str, Any]], message: str, reason: str
) -> None:
    with pytest.raises(analyze_events.MalformedMessage, match=reason):
        run(message)
    assert detect_calls == []


def test_event_without_sns_records_is_malformed(
    aws: None, analyze_handler: Any, lambda_context: Any
) -> None:
    with pytest.raises(analyze_events.MalformedMessage):
        analyze_handler.lambda_handler({"Records": [{"EventSource": "aws:sns"}]}, lambda_context)
