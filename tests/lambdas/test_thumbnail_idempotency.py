"""Redelivered, stale and racing events never do the work twice or leave orphans."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import thumbnail_events
import thumbnail_logic

MEDIA = "photos-test-media"
UPLOADS = "photos-test-uploads"
SETTINGS = thumbnail_logic.Settings("photos-test-images", MEDIA, (256,), "photos-test-uploads")
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def s3_calls(aws: None, thumbnail_handler: Any) -> list[str]:
    """Names of the S3 operations the thumbnail function's client makes."""
    calls: list[str] = []
    thumbnail_handler._s3().meta.events.register(
        "before-call.s3", lambda model, **_: calls.append(model.name)
    )
    return calls


@pytest.fixture
def run(thumbnail_handler: Any, lambda_context: Any, events: Any) -> Any:
    def deliver(message: str) -> list[dict[str, str]]:
        body = events.sns_in_sqs_body(message)  # a new SNS MessageId every time, as on AWS
        response = thumbnail_handler.lambda_handler(events.sqs_event(body), lambda_context)
        return response["batchItemFailures"]

    return deliver


def test_redelivery_does_no_work(
    run: Any, s3_calls: list[str], upload: Any, image_bytes: Any, get_item: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (300, 200)))
    assert run(up.message) == []
    first = get_item(alice, up.image_id)
    assert s3_calls == ["GetObject", "PutObject", "PutObject"]
    s3_calls.clear()

    assert run(up.message) == []
    assert s3_calls == []  # no download, no resize, no upload
    assert get_item(alice, up.image_id) == first  # processed_at unchanged


def test_redelivery_of_a_failed_upload_does_no_work(
    run: Any, s3_calls: list[str], upload: Any, get_item: Any, alice: str
) -> None:
    up = upload(alice, b"not an image")
    run(up.message)
    first = get_item(alice, up.image_id)
    s3_calls.clear()
    assert run(up.message) == []
    assert s3_calls == []
    assert get_item(alice, up.image_id) == first


def test_event_for_a_replaced_object_is_skipped(
    run: Any, upload: Any, image_bytes: Any, get_item: Any, list_keys: Any, s3: Any, alice: str
) -> None:
    """The same upload URL used twice: only the event for the current object counts."""
    up = upload(alice, image_bytes("PNG", (300, 200)))
    s3.put_object(Bucket=UPLOADS, Key=up.key, Body=image_bytes("PNG", (500, 100)))
    assert run(up.message) == []
    assert get_item(alice, up.image_id)["status"] == "pending"
    assert list_keys(MEDIA) == []


def test_event_for_a_deleted_object_is_skipped(
    run: Any, upload: Any, image_bytes: Any, list_keys: Any, s3: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (300, 200)))
    s3.delete_object(Bucket=UPLOADS, Key=up.key)
    assert run(up.message) == []
    assert list_keys(MEDIA) == []


class _ItemVanishesBeforeUpdate:
    """A table whose item is deleted (DELETE /images) while thumbnails are rendered."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def update_item(self, **kwargs: Any) -> Any:
        self._table.delete_item(Key=kwargs["Key"])
        return self._table.update_item(**kwargs)


def _uploaded(up: Any) -> thumbnail_events.UploadedObject:
    return thumbnail_events.UploadedObject(
        UPLOADS, up.key, up.owner, up.image_id, up.etag, "0065A1B2C3D4E5F601"
    )


def test_thumbnails_of_an_image_deleted_meanwhile_are_removed(
    table: Any, s3: Any, upload: Any, image_bytes: Any, list_keys: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (300, 200)))
    result = thumbnail_logic.process_upload(
        _uploaded(up), s3=s3, table=_ItemVanishesBeforeUpdate(table), settings=SETTINGS, now=NOW
    )
    assert result.outcome is thumbnail_logic.Outcome.DELETED
    assert result.orphaned == ()
    assert list_keys(MEDIA) == []


class _RacingDuplicate:
    """A table on which a concurrent delivery of the same event records first."""

    def __init__(self, table: Any, etag: str) -> None:
        self._table, self._etag = table, etag

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def update_item(self, **kwargs: Any) -> Any:
        self._table.update_item(
            Key=kwargs["Key"],
            UpdateExpression="SET source_etag = :e, #s = :r",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":e": self._etag, ":r": "ready"},
        )
        return self._table.update_item(**kwargs)


def test_losing_a_race_with_a_duplicate_keeps_the_thumbnails(
    table: Any, s3: Any, upload: Any, image_bytes: Any, list_keys: Any, alice: str
) -> None:
    up = upload(alice, image_bytes("PNG", (300, 200)))
    result = thumbnail_logic.process_upload(
        _uploaded(up), s3=s3, table=_RacingDuplicate(table, up.etag), settings=SETTINGS, now=NOW
    )
    assert result.outcome is thumbnail_logic.Outcome.DUPLICATE
    assert list_keys(MEDIA) == [f"thumbnails/{alice}/{up.image_id}/256.jpg"]


def test_a_new_upload_to_the_same_key_is_processed(
    run: Any, upload: Any, image_bytes: Any, events: Any, get_item: Any, s3: Any, alice: str
) -> None:
    up = upload(alice, b"garbage first")
    run(up.message)
    assert get_item(alice, up.image_id)["status"] == "failed"
    etag = s3.put_object(Bucket=UPLOADS, Key=up.key, Body=image_bytes("PNG", (300, 200)))["ETag"]
    second = events.s3_notification(up.key, etag=etag, sequencer="0065A1B2C3D4E5F6FF")
    assert run(json.dumps(second)) == []
    item = get_item(alice, up.image_id)
    assert item["status"] == "ready"
    assert "failure_reason" not in item
