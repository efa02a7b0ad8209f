"""POST /uploads: the presigned POST it returns and the pending item it writes."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import upload_logic

UPLOAD_BUCKET = "photos-test-uploads"


@pytest.fixture
def created(
    aws: None, uploads_handler: Any, http_event: Any, lambda_context: Any
) -> dict[str, Any]:
    """The 201 response body for a PNG upload by alice."""
    event = http_event(
        "POST", "/uploads", body={"content_type": "image/png", "filename": "cat.png"}
    )
    response = uploads_handler.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 201
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def _policy(created: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(created["upload"]["fields"]["policy"]))


def test_response_names_the_new_image_and_its_form(created: dict[str, Any], alice: str) -> None:
    image_id = created["image_id"]
    assert str(uuid.UUID(image_id)) == image_id
    upload = created["upload"]
    assert upload["url"] == f"https://{UPLOAD_BUCKET}.s3.eu-west-1.amazonaws.com/"
    assert upload["fields"]["key"] == f"uploads/{alice}/{image_id}"
    assert upload["fields"]["Content-Type"] == "image/png"
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


def test_policy_pins_bucket_key_type_and_size(created: dict[str, Any], alice: str) -> None:
    conditions = _policy(created)["conditions"]
    assert {"bucket": UPLOAD_BUCKET} in conditions
    assert {"key": f"uploads/{alice}/{created['image_id']}"} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, 5_000_000] in conditions
    # Nothing may be chosen by the browser: no starts-with wildcards at all.
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]


def test_policy_expires_after_the_configured_time(created: dict[str, Any]) -> None:
    expiration = datetime.fromisoformat(_policy(created)["expiration"])
    remaining = (expiration - datetime.now(UTC)).total_seconds()
    assert 290 <= remaining <= 300


def test_item_is_pending_with_both_keys_and_a_ttl(
    created: dict[str, Any], alice: str, get_item: Any
) -> None:
    image_id = created["image_id"]
    item = get_item(alice, image_id)
    assert item is not None
    assert item["status"] == "pending"
    assert item["owner"] == alice
    assert item["image_id"] == image_id
    assert item["content_type"] == "image/png"
    assert item["filename"] == "cat.png"
    assert item["upload_key"] == f"uploads/{alice}/{image_id}"
    assert item["gsi1pk"] == f"USER#{alice}"
    assert item["gsi1sk"] == f"{item['created_at']}#{image_id}"
    created_at = datetime.strptime(item["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    # Abandoned uploads vanish a day after their URL expires.
    assert int(item["expires_at"]) == int(created_at.timestamp()) + 300 + 86400
    assert "thumbnails" not in item and "labels" not in item


def test_each_request_gets_its_own_image(
    aws: None, uploads_handler: Any, http_event: Any, lambda_context: Any, table: Any
) -> None:
    event = http_event("POST", "/uploads", body={"content_type": "image/jpeg"})
    first = json.loads(uploads_handler.lambda_handler(event, lambda_context)["body"])
    second = json.loads(uploads_handler.lambda_handler(event, lambda_context)["body"])
    assert first["image_id"] != second["image_id"]
    assert table.scan()["Count"] == 2


def test_the_signed_form_uploads_the_object(created: dict[str, Any], s3: Any) -> None:
    """The browser's side: POST the returned fields plus the file, as a form."""
    upload = created["upload"]
    response = requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("cat.png", b"\x89PNG\r\n\x1a\nnot-really", "image/png")},
        timeout=10,
    )
    assert response.status_code in (200, 201, 204)
    head = s3.head_object(Bucket=UPLOAD_BUCKET, Key=upload["fields"]["key"])
    assert head["ContentType"] == "image/png"


def test_an_existing_id_is_never_overwritten(aws: None, table: Any, s3: Any, alice: str) -> None:
    settings = upload_logic.Settings.from_env(
        {"TABLE_NAME": "photos-test-images", "UPLOAD_BUCKET": UPLOAD_BUCKET}
    )
    image_id = str(uuid.uuid4())
    first = upload_logic.UploadRequest(content_type="image/png", filename="first.png")
    second = upload_logic.UploadRequest(content_type="image/gif", filename="second.gif")
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    common = {"table": table, "s3": s3, "settings": settings, "owner": alice, "image_id": image_id}
    upload_logic.create_upload(request=first, now=now, **common)
    with pytest.raises(RuntimeError, match="already exists"):
        upload_logic.create_upload(request=second, now=now, **common)
    items = table.scan()["Items"]
    assert [(i["filename"], i["content_type"]) for i in items] == [("first.png", "image/png")]
