"""Make thumbnails for one uploaded object and record the result on its item, exactly once.

Idempotency rests on the object's eTag: the item remembers the eTag it last
processed (source_etag), so a redelivered event is skipped before any download,
and the final write is conditional on it, so two concurrent deliveries cannot
both record. The object is read with If-Match on the event's eTag: an event for
an object that has since been replaced or deleted does nothing (the newer event,
or the delete, wins).

Outcomes that retrying cannot change (not an image, corrupt, gone) return a
Result; only unexpected errors (throttling, permissions) raise, so SQS retries them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeAlias

import thumbnail_resize
from botocore.exceptions import ClientError
from s3_notifications import UploadedObject

S3Client: TypeAlias = Any  # botocore S3 client (no type stubs in the Lambda runtime)
Table: TypeAlias = Any  # boto3 DynamoDB Table resource

DEFAULT_SIZES = "256,1024"
MAX_SIZE = 4096
_GONE_OR_REPLACED = frozenset({"NoSuchKey", "404", "PreconditionFailed", "412"})


class ConfigError(RuntimeError):
    """The function's environment is wrong: a deploy problem, not a data problem."""


class Outcome(StrEnum):
    """What happened to one upload; logged by the handler, asserted by the tests."""

    READY = "ready"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    NO_ITEM = "no-item"
    STALE = "stale"
    DELETED = "deleted-during-processing"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str | None = None
    thumbnails: dict[str, str] = field(default_factory=dict)
    orphaned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    media_bucket: str
    sizes: tuple[int, ...]
    # The bucket whose notifications this function acts on; any other's are refused.
    upload_bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        values = {}
        for name in ("TABLE_NAME", "MEDIA_BUCKET", "UPLOAD_BUCKET"):
            values[name] = env.get(name, "").strip()
            if not values[name]:
                raise ConfigError(f"{name} is not set: the stack must pass it to the function")
        raw = env.get("THUMBNAIL_SIZES", "").strip() or DEFAULT_SIZES
        try:
            sizes = tuple(sorted({int(part) for part in raw.split(",")}))
        except ValueError:
            raise ConfigError(
                f"THUMBNAIL_SIZES must be comma-separated whole numbers, got {raw!r}"
            ) from None
        if not all(1 <= size <= MAX_SIZE for size in sizes):
            raise ConfigError(f"THUMBNAIL_SIZES must each be 1..{MAX_SIZE}, got {raw!r}")
        return cls(
            table_name=values["TABLE_NAME"],
            media_bucket=values["MEDIA_BUCKET"],
            sizes=sizes,
            upload_bucket=values["UPLOAD_BUCKET"],
        )


def thumbnail_key(owner: str, image_id: str, size: int) -> str:
    return f"thumbnails/{owner}/{image_id}/{size}.jpg"


def _item_key(upload: UploadedObject) -> dict[str, str]:
    return {"pk": f"USER#{upload.owner}", "sk": f"IMAGE#{upload.image_id}"}


def _download(s3: S3Client, upload: UploadedObject) -> bytes | None:
    """The exact object the event names, or None if it was replaced or deleted since."""
    try:
        response = s3.get_object(Bucket=upload.bucket, Key=upload.key, IfMatch=f'"{upload.etag}"')
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _GONE_OR_REPLACED:
            return None
        raise
    return response["Body"].read()


def _record(
    table: Table, upload: UploadedObject, now: datetime, changes: dict[str, Any]
) -> Outcome | None:
    """Write the outcome unless the item is gone or this eTag is already recorded.

    Returns None when written, else DELETED (item gone) or DUPLICATE.
    Pending items carry a TTL; a settled one must not expire, so expires_at goes.
    """
    names: dict[str, str] = {}
    values = {":etag": upload.etag, ":now": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    sets = ["source_etag = :etag", "processed_at = :now"]
    for i, (attribute, value) in enumerate(sorted(changes.items())):
        names[f"#a{i}"] = attribute
        values[f":v{i}"] = value
        sets.append(f"#a{i} = :v{i}")
    removes = ["expires_at"] + (["failure_reason"] if "failure_reason" not in changes else [])
    try:
        table.update_item(
            Key=_item_key(upload),
            UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            ConditionExpression=(
                "attribute_exists(pk) AND "
                "(attribute_not_exists(source_etag) OR source_etag <> :etag)"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return Outcome.DUPLICATE if exc.response.get("Item") else Outcome.DELETED
    return None


def _remove(s3: S3Client, bucket: str, keys: list[str]) -> tuple[str, ...]:
    """Best-effort delete of thumbnails nobody will reference; returns what is left behind."""
    left = []
    for key in keys:
        try:
            s3.delete_object(Bucket=bucket, Key=key)
        except ClientError:
            left.append(key)
    return tuple(left)


def process_upload(
    upload: UploadedObject, *, s3: S3Client, table: Table, settings: Settings, now: datetime
) -> Result:
    """Render and store the thumbnails of one upload, then mark its item ready (or failed)."""
    item = table.get_item(Key=_item_key(upload), ConsistentRead=True).get("Item")
    if item is None:
        return Result(Outcome.NO_ITEM)  # deleted, or expired long ago: nothing to show it on
    if item.get("source_etag") == upload.etag:
        return Result(Outcome.DUPLICATE)
    data = _download(s3, upload)
    if data is None:
        return Result(Outcome.STALE)
    try:
        rendered = thumbnail_resize.make_thumbnails(data, settings.sizes)
    except thumbnail_resize.InvalidImage as exc:
        reason = str(exc)
        changes = {"status": "failed", "failure_reason": reason}
        skipped = _record(table, upload, now, changes)
        return Result(skipped or Outcome.FAILED, reason=reason)
    thumbnails: dict[str, str] = {}
    for size, body in rendered.items():
        key = thumbnail_key(upload.owner, upload.image_id, size)
        s3.put_object(Bucket=settings.media_bucket, Key=key, Body=body, ContentType="image/jpeg")
        thumbnails[str(size)] = key
    skipped = _record(table, upload, now, {"status": "ready", "thumbnails": thumbnails})
    if skipped is Outcome.DELETED:
        # The image was deleted while we worked: its DELETE could not see these keys.
        orphaned = _remove(s3, settings.media_bucket, list(thumbnails.values()))
        return Result(Outcome.DELETED, orphaned=orphaned)
    return Result(skipped or Outcome.READY, thumbnails=thumbnails)
