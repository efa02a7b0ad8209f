"""Page tokens round-trip, and only a well-formed token for the caller's partition decodes."""

from __future__ import annotations

import image_cursor
import pytest

OWNER = "0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51"
IMAGE = "6f1d2c3b-4a51-4f6e-9a0e-0b5c7d2e51a1"
KEY = {
    "pk": f"USER#{OWNER}",
    "sk": f"IMAGE#{IMAGE}",
    "gsi1pk": f"USER#{OWNER}",
    "gsi1sk": f"2025-01-02T03:04:05.000000Z#{IMAGE}",
}


def test_round_trip() -> None:
    token = image_cursor.encode(KEY)
    assert "=" not in token and "/" not in token and "+" not in token
    assert image_cursor.decode(token, OWNER) == KEY


@pytest.mark.parametrize(
    "changes",
    [
        {"pk": "USER#someone-else"},
        {"gsi1pk": "USER#someone-else"},
        {"sk": "IMAGE#not-a-uuid"},
        {"sk": "PROFILE#" + IMAGE},
        {"gsi1sk": "2025-01-02T03:04:05.000000Z#" + "0" * 8 + IMAGE[8:]},
        {"gsi1sk": IMAGE},
        {"sk": 7},
        {"extra": "x"},
    ],
    ids=str,
)
def test_tampered_key_is_refused(changes: dict[str, object]) -> None:
    token = image_cursor.encode(KEY | changes)
    with pytest.raises(image_cursor.InvalidCursor):
        image_cursor.decode(token, OWNER)


def test_token_is_bound_to_its_owner() -> None:
    with pytest.raises(image_cursor.InvalidCursor):
        image_cursor.decode(image_cursor.encode(KEY), "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4")
