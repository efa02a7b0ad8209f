"""POST /uploads refuses bad input with a 400 and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest


def _post(handler: Any, event: dict[str, Any], context: Any) -> tuple[int, dict[str, Any]]:
    response = handler.lambda_handler(event, context)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "JSON object"),
        ("not json", "valid JSON"),
        ("[1, 2]", "JSON object"),
        ({}, "content_type"),
        ({"content_type": 5}, "content_type"),
        ({"content_type": ""}, "content_type"),
        ({"content_type": "application/pdf"}, "must be one of"),
        ({"content_type": "image/svg+xml"}, "must be one of"),
        ({"content_type": "image/png", "filename": ""}, "filename"),
        ({"content_type": "image/png", "filename": 7}, "filename"),
        ({"content_type": "image/png", "filename": "a" * 256}, "filename"),
        ({"content_type": "image/png", "filename": "bad\nname.png"}, "filename"),
    ],
    ids=[
        "no-body",
        "not-json",
        "json-array",
        "no-content-type",
        "content-type-not-string",
        "empty-content-type",
        "pdf",
        "svg",
        "empty-filename",
        "filename-not-string",
        "filename-too-long",
        "filename-control-char",
    ],
)
def test_bad_body_is_400_and_writes_nothing(
    aws: None,
    uploads_handler: Any,
    http_event: Any,
    lambda_context: Any,
    table: Any,
    body: Any,
    reason: str,
) -> None:
    status, payload = _post(
        uploads_handler, http_event("POST", "/uploads", body=body), lambda_context
    )
    assert status == 400
    assert reason in payload["message"]
    assert table.scan()["Count"] == 0


@pytest.mark.parametrize("sub", [None, "", "../bob", "a/b", "x" * 129], ids=repr)
def test_missing_or_unsafe_sub_claim_is_400(
    aws: None,
    uploads_handler: Any,
    http_event: Any,
    lambda_context: Any,
    table: Any,
    sub: str | None,
) -> None:
    event = http_event("POST", "/uploads", sub=sub, body={"content_type": "image/png"})
    status, payload = _post(uploads_handler, event, lambda_context)
    assert status == 400
    assert "sub" in payload["message"]
    assert table.scan()["Count"] == 0


def test_invalid_base64_body_is_400(
    aws: None, uploads_handler: Any, http_event: Any, lambda_context: Any, table: Any
) -> None:
    event = http_event("POST", "/uploads", body={"content_type": "image/png"})
    event["isBase64Encoded"] = True
    event["body"] = "%%%not base64%%%"
    status, _ = _post(uploads_handler, event, lambda_context)
    assert status == 400
    assert table.scan()["Count"] == 0


@pytest.mark.parametrize(
    ("body", "base64_body", "stored_type", "stored_name"),
    [
        ({"content_type": "image/jpeg"}, False, "image/jpeg", None),
        ({"content_type": " IMAGE/PNG "}, False, "image/png", None),
        (
            {"content_type": "image/webp", "filename": " Ferien 🏖.webp"},
            False,
            "image/webp",
            "Ferien 🏖.webp",
        ),
        ({"content_type": "image/gif", "filename": "a.gif"}, True, "image/gif", "a.gif"),
    ],
    ids=["jpeg", "case-and-space", "unicode-filename", "base64-body"],
)
def test_good_body_is_accepted_and_normalised(
    aws: None,
    uploads_handler: Any,
    http_event: Any,
    lambda_context: Any,
    get_item: Any,
    alice: str,
    body: dict[str, Any],
    base64_body: bool,
    stored_type: str,
    stored_name: str | None,
) -> None:
    event = http_event("POST", "/uploads", body=body, base64_body=base64_body)
    status, payload = _post(uploads_handler, event, lambda_context)
    assert status == 201
    item = get_item(alice, payload["image_id"])
    assert item["content_type"] == stored_type
    assert payload["upload"]["fields"]["Content-Type"] == stored_type
    assert item.get("filename") == stored_name


def test_allowed_types_come_from_the_environment(
    aws: None,
    uploads_handler: Any,
    http_event: Any,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_CONTENT_TYPES", "image/jpeg")
    png = http_event("POST", "/uploads", body={"content_type": "image/png"})
    jpeg = http_event("POST", "/uploads", body={"content_type": "image/jpeg"})
    assert _post(uploads_handler, png, lambda_context)[0] == 400
    assert _post(uploads_handler, jpeg, lambda_context)[0] == 201
