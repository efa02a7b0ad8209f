"""Opaque pagination tokens for GET /images.

A token is DynamoDB's LastEvaluatedKey for the ByCreated index, as URL-safe base64
JSON. It is not secret, but it is checked before use: a token must name the
caller's own partition and well-formed keys, so a forged or stale token is a 400,
never a DynamoDB ValidationException or a serializer's error (a 500), or a peek into
another partition.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

MAX_TOKEN_CHARS = 1024
_KEYS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SK = re.compile(rf"IMAGE#({_ID})")
_GSI1SK = re.compile(rf"[^#]{{1,64}}#({_ID})")  # <created_at>#<image_id>


class InvalidCursor(ValueError):
    """The token is not one this API issued for this caller."""


def encode(last_evaluated_key: dict[str, Any]) -> str:
    """Turn DynamoDB's LastEvaluatedKey into a compact URL-safe token."""
    raw = json.dumps(last_evaluated_key, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str, owner: str) -> dict[str, str]:
    """Return the ExclusiveStartKey a token stands for, or raise InvalidCursor."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidCursor("'next' is not a valid page token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):  # bad base64, UTF-8 or JSON; too deep
        raise InvalidCursor("'next' is not a valid page token") from None
    if not isinstance(key, dict) or set(key) != _KEYS:
        raise InvalidCursor("'next' is not a valid page token")
    if not all(isinstance(v, str) and _encodable(v) for v in key.values()):
        raise InvalidCursor("'next' is not a valid page token")
    partition = f"USER#{owner}"
    sk = _SK.fullmatch(key["sk"])
    gsi1sk = _GSI1SK.fullmatch(key["gsi1sk"])
    if (
        key["pk"] != partition
        or key["gsi1pk"] != partition
        or sk is None
        or gsi1sk is None
        or sk.group(1) != gsi1sk.group(1)
    ):
        raise InvalidCursor("'next' is not a valid page token")
    return key


def _encodable(text: str) -> bool:
    """No unpaired surrogate (a JSON escape): DynamoDB's serializer would raise on one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
