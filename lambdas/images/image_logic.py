"""List, read and delete a caller's own images.

Every lookup is keyed by the caller's partition (USER#<sub>), so another user's
image is simply not found: a 404, never a 403 that would confirm it exists.
Plain functions with their clients as arguments, so they are tested without Lambda.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

import image_cursor
from boto3.dynamodb.conditions import Key

S3Client: TypeAlias = Any  # botocore S3 client (no type stubs in the Lambda runtime)
Table: TypeAlias = Any  # boto3 DynamoDB Table resource

INDEX_NAME = "ByCreated"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Long enough to render a page and load its images, short enough to be useless if leaked.
DOWNLOAD_URL_EXPIRES_SECONDS = 900

SUB_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
IMAGE_ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ConfigError(RuntimeError):
    """The function's environment is wrong: a deploy problem, not a caller problem."""


class InvalidRequest(ValueError):
    """The caller sent something we refuse; the message is safe to return to them."""


class ImageNotFound(LookupError):
    """No such image for this caller (whether or not another user has one)."""


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    upload_bucket: str
    media_bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        values = {}
        for field, name in (
            ("table_name", "TABLE_NAME"),
            ("upload_bucket", "UPLOAD_BUCKET"),
            ("media_bucket", "MEDIA_BUCKET"),
        ):
            value = env.get(name, "").strip()
            if not value:
                raise ConfigError(f"{name} is not set: the stack must pass it to the function")
            values[field] = value
        return cls(**values)


def validate_owner(sub: object) -> str:
    """Return the caller's sub if it is safe to use in keys, else refuse the request."""
    if not isinstance(sub, str) or not SUB_PATTERN.fullmatch(sub):
        raise InvalidRequest("missing or invalid 'sub' claim in the access token")
    return sub


def parse_limit(raw: str | None) -> int:
    """Page size from the query string: 1..100, 20 when absent."""
    if raw is None:
        return DEFAULT_LIMIT
    # ASCII digits only: str.isdecimal (and int) take any script's, '\u0661\u0660' among them.
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def item_key(owner: str, image_id: str) -> dict[str, str]:
    """The table key of one image; an id we could never have issued is simply not found."""
    if not IMAGE_ID_PATTERN.fullmatch(image_id):
        raise ImageNotFound(image_id)
    return {"pk": f"USER#{owner}", "sk": f"IMAGE#{image_id}"}


def _plain(value: Any) -> Any:
    """DynamoDB numbers arrive as Decimal; JSON clients want numbers, not strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _thumbnail_keys(item: Mapping[str, Any], owner: str, image_id: str) -> set[str]:
    """Media keys recorded on the item, limited to this image's own prefix."""
    prefix = f"thumbnails/{owner}/{image_id}/"
    thumbnails = item.get("thumbnails") or {}
    return {k for k in thumbnails.values() if isinstance(k, str) and k.startswith(prefix)}


def public_view(item: Mapping[str, Any], s3: S3Client, settings: Settings) -> dict[str, Any]:
    """What a caller sees of an item: no keys or bookkeeping, short-lived thumbnail URLs."""
    thumbnails = item.get("thumbnails") or {}
    urls = {
        size: s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": settings.media_bucket, "Key": key},
            ExpiresIn=DOWNLOAD_URL_EXPIRES_SECONDS,
        )
        for size, key in sorted(thumbnails.items(), key=lambda kv: int(kv[0]))
    }
    return {
        "image_id": item["image_id"],
        "status": item["status"],
        "content_type": item.get("content_type"),
        "filename": item.get("filename"),
        "created_at": item["created_at"],
        "labels": _plain(item.get("labels") or []),
        "thumbnails": urls,
        "failure_reason": item.get("failure_reason"),
    }


def list_images(
    *,
    table: Table,
    s3: S3Client,
    settings: Settings,
    owner: str,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """One page of the caller's images, newest first, and the token for the next page."""
    partition = f"USER#{owner}"
    query: dict[str, Any] = {
        "IndexName": INDEX_NAME,
        "KeyConditionExpression": Key("gsi1pk").eq(partition),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor is not None:
        try:
            query["ExclusiveStartKey"] = image_cursor.decode(cursor, owner)
        except image_cursor.InvalidCursor as exc:
            raise InvalidRequest(str(exc)) from None
    page = table.query(**query)
    last = page.get("LastEvaluatedKey")
    return {
        "items": [public_view(item, s3, settings) for item in page.get("Items", [])],
        "next": image_cursor.encode(last) if last else None,
    }


def get_image(
    *, table: Table, s3: S3Client, settings: Settings, owner: str, image_id: str
) -> dict[str, Any]:
    """The caller's image with presigned thumbnail URLs, or ImageNotFound."""
    item = table.get_item(Key=item_key(owner, image_id)).get("Item")
    if item is None:
        raise ImageNotFound(image_id)
    return public_view(item, s3, settings)


def delete_image(
    *, table: Table, s3: S3Client, settings: Settings, owner: str, image_id: str
) -> None:
    """Delete the upload, its thumbnails, then the item; safe to retry after any failure.

    Objects go first, so a failure leaves the item in place and a retried DELETE
    finishes the job. The item is deleted last and its final state is returned, so
    thumbnails that the thumbnail function wrote meanwhile are deleted too.
    """
    key = item_key(owner, image_id)
    item = table.get_item(Key=key, ConsistentRead=True).get("Item")
    if item is None:
        raise ImageNotFound(image_id)
    s3.delete_object(Bucket=settings.upload_bucket, Key=f"uploads/{owner}/{image_id}")
    deleted = _thumbnail_keys(item, owner, image_id)
    for media_key in sorted(deleted):
        s3.delete_object(Bucket=settings.media_bucket, Key=media_key)
    final = table.delete_item(Key=key, ReturnValues="ALL_OLD").get("Attributes") or {}
    for media_key in sorted(_thumbnail_keys(final, owner, image_id) - deleted):
        s3.delete_object(Bucket=settings.media_bucket, Key=media_key)
