"""Create an image record and a presigned POST that lets the browser upload it.

The browser uploads straight to S3, so everything the upload may contain is fixed
here, in the signed policy: the exact key, the exact content type and a size range.
Plain functions with their clients as arguments, so they are tested without Lambda.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

S3Client: TypeAlias = Any  # botocore S3 client (no type stubs in the Lambda runtime)
Table: TypeAlias = Any  # boto3 DynamoDB Table resource

DEFAULT_CONTENT_TYPES = "image/jpeg,image/png,image/webp,image/gif"
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_URL_EXPIRES_SECONDS = 300
# A pending item outlives its upload URL by a day, so a slow upload or a retried
# thumbnail still finds it; after that DynamoDB's TTL removes an abandoned upload.
PENDING_GRACE = timedelta(days=1)
MAX_FILENAME_CHARS = 255

# Cognito subs are UUIDs; anything that could escape the key prefix is refused.
SUB_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Control characters, and unpaired surrogates (a JSON escape no UTF-8 encoder takes).
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class ConfigError(RuntimeError):
    """The function's environment is wrong: a deploy problem, not a caller problem."""


class InvalidRequest(ValueError):
    """The caller sent something we refuse; the message is safe to return to them."""


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    upload_bucket: str
    max_upload_bytes: int
    allowed_content_types: tuple[str, ...]
    url_expires_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check the environment; a bad value names the variable and the fix."""
        types = tuple(
            t.strip().lower()
            for t in env.get("ALLOWED_CONTENT_TYPES", DEFAULT_CONTENT_TYPES).split(",")
            if t.strip()
        )
        if not types:
            raise ConfigError("ALLOWED_CONTENT_TYPES is empty: list at least one image type")
        return cls(
            table_name=_required(env, "TABLE_NAME"),
            upload_bucket=_required(env, "UPLOAD_BUCKET"),
            max_upload_bytes=_positive_int(env, "MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES),
            allowed_content_types=types,
            url_expires_seconds=_positive_int(
                env, "UPLOAD_URL_EXPIRES_SECONDS", DEFAULT_URL_EXPIRES_SECONDS, maximum=604800
            ),
        )


@dataclass(frozen=True)
class UploadRequest:
    """A validated request body."""

    content_type: str
    filename: str | None = None


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: the stack must pass it to the function")
    return value


def _positive_int(
    env: Mapping[str, str], name: str, default: int, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"1..{maximum}" if maximum is not None else "at least 1"
        raise ConfigError(f"{name} must be {bound}, got {value}")
    return value


def validate_owner(sub: object) -> str:
    """Return the caller's sub if it is safe to use in keys, else refuse the request."""
    if not isinstance(sub, str) or not SUB_PATTERN.fullmatch(sub):
        raise InvalidRequest("missing or invalid 'sub' claim in the access token")
    return sub


def parse_request(body: object, settings: Settings) -> UploadRequest:
    """Validate the JSON body: an allowed content type and an optional display filename."""
    if not isinstance(body, dict):
        raise InvalidRequest("body must be a JSON object")
    content_type = body.get("content_type")
    if not isinstance(content_type, str) or not content_type.strip():
        raise InvalidRequest("'content_type' is required and must be a string")
    content_type = content_type.strip().lower()
    if content_type not in settings.allowed_content_types:
        allowed = ", ".join(settings.allowed_content_types)
        raise InvalidRequest(f"'content_type' must be one of: {allowed}")
    filename = body.get("filename")
    if filename is not None:
        if (
            not isinstance(filename, str)
            or not filename.strip()
            or len(filename) > MAX_FILENAME_CHARS
            or _UNSAFE_CHARS.search(filename)
        ):
            raise InvalidRequest(
                f"'filename' must be a printable string of 1..{MAX_FILENAME_CHARS} characters"
            )
        filename = filename.strip()
    return UploadRequest(content_type=content_type, filename=filename)


def upload_key(owner: str, image_id: str) -> str:
    """The only key a caller may upload to: their prefix plus a server-chosen id."""
    return f"uploads/{owner}/{image_id}"


def iso_utc(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC, so string order is time order in the ByCreated index."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_item(
    *, owner: str, image_id: str, request: UploadRequest, now: datetime, settings: Settings
) -> dict[str, Any]:
    """The pending item: keys for both access paths and a TTL for abandoned uploads."""
    created_at = iso_utc(now)
    expires = now + timedelta(seconds=settings.url_expires_seconds) + PENDING_GRACE
    item: dict[str, Any] = {
        "pk": f"USER#{owner}",
        "sk": f"IMAGE#{image_id}",
        "gsi1pk": f"USER#{owner}",
        "gsi1sk": f"{created_at}#{image_id}",
        "image_id": image_id,
        "owner": owner,
        "status": "pending",
        "content_type": request.content_type,
        "created_at": created_at,
        "upload_key": upload_key(owner, image_id),
        "expires_at": int(expires.timestamp()),
    }
    if request.filename is not None:
        item["filename"] = request.filename
    return item


def presigned_post(
    s3: S3Client, *, key: str, content_type: str, settings: Settings
) -> dict[str, Any]:
    """A POST policy pinned to one key, one content type and 1..max bytes.

    boto3 adds the bucket and exact-key conditions itself when Key has no ${filename}.
    """
    return s3.generate_presigned_post(
        Bucket=settings.upload_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, settings.max_upload_bytes],
        ],
        ExpiresIn=settings.url_expires_seconds,
    )


def create_upload(
    *,
    table: Table,
    s3: S3Client,
    settings: Settings,
    owner: str,
    request: UploadRequest,
    image_id: str,
    now: datetime,
) -> dict[str, Any]:
    """Record the pending image, then sign its upload; returns the API response body.

    The item is written first so that an object can never exist without its record.
    The write is conditional: an id collision fails loudly instead of overwriting.
    """
    item = build_item(owner=owner, image_id=image_id, request=request, now=now, settings=settings)
    try:
        table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise RuntimeError(
                f"image id {image_id} already exists; refusing to overwrite"
            ) from exc
        raise
    post = presigned_post(
        s3, key=item["upload_key"], content_type=request.content_type, settings=settings
    )
    return {"image_id": image_id, "upload": {"url": post["url"], "fields": post["fields"]}}
