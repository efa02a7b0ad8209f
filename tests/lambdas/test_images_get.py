"""GET /images/{id}: the caller's own image with short-lived thumbnail URLs; else 404."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@pytest.fixture
def get_image(aws: None, images_handler: Any, http_event: Any, lambda_context: Any) -> Any:
    """Call GET /images/{id} as a given caller; returns (status, body)."""

    def call(image_id: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        event = http_event("GET", f"/images/{image_id}", route_key="GET /images/{id}", **kwargs)
        response = images_handler.lambda_handler(event, lambda_context)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    return call


@pytest.fixture
def ready_image(seed_item: Any, alice: str) -> dict[str, Any]:
    image_id = str(uuid.uuid4())
    return seed_item(
        alice,
        image_id=image_id,
        status="ready",
        content_type="image/jpeg",
        filename="beach.jpg",
        thumbnails={
            "1024": f"thumbnails/{alice}/{image_id}/1024.jpg",
            "256": f"thumbnails/{alice}/{image_id}/256.jpg",
        },
        labels=[
            {"name": "Beach", "confidence": Decimal("98.5")},
            {"name": "Sea", "confidence": Decimal(91)},
        ],
        source_etag="d41d8cd98f00b204e9800998ecf8427e",
    )


def test_own_image_with_presigned_thumbnails(
    get_image: Any, ready_image: dict[str, Any], alice: str
) -> None:
    image_id = ready_image["image_id"]
    status, body = get_image(image_id)
    assert status == 200
    assert body["image_id"] == image_id
    assert body["status"] == "ready"
    assert body["filename"] == "beach.jpg"
    assert body["labels"] == [
        {"name": "Beach", "confidence": 98.5},
        {"name": "Sea", "confidence": 91},
    ]
    assert list(body["thumbnails"]) == ["256", "1024"]  # smallest first
    for size, url in body["thumbnails"].items():
        parts = urlsplit(url)
        assert parts.netloc == "photos-test-media.s3.eu-west-1.amazonaws.com"
        assert parts.path == f"/thumbnails/{alice}/{image_id}/{size}.jpg"
        query = parse_qs(parts.query)
        assert query["X-Amz-Expires"] == ["900"]
        assert "X-Amz-Signature" in query


def test_pending_image_has_no_thumbnails_yet(get_image: Any, seed_item: Any, alice: str) -> None:
    item = seed_item(alice)
    status, body = get_image(item["image_id"])
    assert status == 200
    assert (body["status"], body["thumbnails"], body["labels"]) == ("pending", {}, [])


def test_failed_image_says_why(get_image: Any, seed_item: Any, alice: str) -> None:
    item = seed_item(alice, status="failed", failure_reason="not a supported image")
    _, body = get_image(item["image_id"])
    assert (body["status"], body["failure_reason"]) == ("failed", "not a supported image")


def test_another_users_image_is_404(get_image: Any, ready_image: dict[str, Any], bob: str) -> None:
    status, body = get_image(ready_image["image_id"], sub=bob)
    assert status == 404
    assert body == {"message": "Not found"}


@pytest.mark.parametrize(
    "image_id",
    [str(uuid.uuid4()), "not-a-uuid", "0B5C7D2E-51A1-4F6E-9A0E-6F1D2C3B4A51"],
    ids=["unknown", "malformed", "upper-case"],
)
def test_unknown_id_is_404(get_image: Any, seed_item: Any, alice: str, image_id: str) -> None:
    seed_item(alice)
    assert get_image(image_id)[0] == 404


def test_missing_sub_is_400(get_image: Any, ready_image: dict[str, Any]) -> None:
    status, body = get_image(ready_image["image_id"], sub=None)
    assert status == 400
    assert "sub" in body["message"]
