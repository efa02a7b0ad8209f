"""GET /images: the caller's own images, newest first, page by page."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest


@pytest.fixture
def list_page(aws: None, images_handler: Any, http_event: Any, lambda_context: Any) -> Any:
    """Call GET /images with a query string; returns (status, body)."""

    def call(query: dict[str, str] | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        event = http_event("GET", "/images", query=query, **kwargs)
        response = images_handler.lambda_handler(event, lambda_context)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    return call


def _created(day: int) -> str:
    return f"2025-01-{day:02d}T10:00:00.000000Z"


def test_lists_only_the_callers_images_newest_first(
    list_page: Any, seed_item: Any, alice: str, bob: str
) -> None:
    oldest = seed_item(alice, created_at=_created(1))
    newest = seed_item(alice, created_at=_created(3))
    middle = seed_item(alice, created_at=_created(2))
    seed_item(bob, created_at=_created(4))
    status, body = list_page()
    assert status == 200
    assert [i["image_id"] for i in body["items"]] == [
        newest["image_id"],
        middle["image_id"],
        oldest["image_id"],
    ]
    assert body["next"] is None


def test_pages_cover_every_image_once(list_page: Any, seed_item: Any, alice: str) -> None:
    seeded = [seed_item(alice, created_at=_created(day))["image_id"] for day in range(1, 8)]
    seen: list[str] = []
    query: dict[str, str] = {"limit": "3"}
    for _ in range(10):
        status, body = list_page(query)
        assert status == 200
        assert len(body["items"]) <= 3
        seen += [i["image_id"] for i in body["items"]]
        if body["next"] is None:
            break
        query = {"limit": "3", "next": body["next"]}
    assert seen == list(reversed(seeded))


def test_default_page_size_is_20(list_page: Any, seed_item: Any, alice: str) -> None:
    for day in range(1, 26):
        seed_item(alice, created_at=f"2025-02-{day:02d}T00:00:00.000000Z")
    _, body = list_page()
    assert len(body["items"]) == 20
    assert body["next"] is not None


def test_empty_list(list_page: Any) -> None:
    assert list_page() == (200, {"items": [], "next": None})


def test_items_show_public_fields_only(list_page: Any, seed_item: Any, alice: str, s3: Any) -> None:
    item = seed_item(
        alice,
        status="ready",
        filename="cat.png",
        labels=[{"name": "Cat", "confidence": Decimal("97.25")}],
        thumbnails={"256": "thumbnails/x/256.jpg"},
        source_etag="abc",
    )
    _, body = list_page()
    (listed,) = body["items"]
    assert set(listed) == {
        "image_id",
        "status",
        "content_type",
        "filename",
        "created_at",
        "labels",
        "thumbnails",
        "failure_reason",
    }
    assert listed["image_id"] == item["image_id"]
    assert listed["labels"] == [{"name": "Cat", "confidence": 97.25}]
    assert listed["thumbnails"]["256"].startswith(
        "https://photos-test-media.s3.eu-west-1.amazonaws.com/thumbnails/x/256.jpg?"
    )


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", "", "5,6"])
def test_bad_limit_is_400(list_page: Any, limit: str) -> None:
    status, body = list_page({"limit": limit})
    assert status == 400
    assert "limit" in body["message"]


@pytest.mark.parametrize("limit", ["1", "100", "020"])
def test_good_limit(list_page: Any, limit: str) -> None:
    assert list_page({"limit": limit})[0] == 200


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "!!!",
        "bm90IGpzb24",  # "not json"
        _token([1, 2]),
        _token({"pk": "USER#x"}),
        "A" * 2000,
    ],
    ids=["not-base64", "not-json", "not-object", "missing-keys", "too-long"],
)
def test_bad_cursor_is_400(list_page: Any, token: str) -> None:
    status, body = list_page({"next": token})
    assert status == 400
    assert "next" in body["message"]


def test_another_users_cursor_is_400(list_page: Any, seed_item: Any, alice: str, bob: str) -> None:
    for day in (1, 2, 3):
        seed_item(bob, created_at=_created(day))
    _, bobs_page = list_page({"limit": "1"}, sub=bob)
    assert bobs_page["next"] is not None
    status, _ = list_page({"limit": "1", "next": bobs_page["next"]}, sub=alice)
    assert status == 400


def test_missing_sub_is_400(list_page: Any) -> None:
    status, body = list_page(sub=None)
    assert status == 400
    assert "sub" in body["message"]
