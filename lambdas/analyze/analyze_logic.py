"""Label one uploaded image with Rekognition and store the labels on its item, once.

Idempotency rests on the object's eTag: the item remembers the eTag it labelled
(labels_etag), so a redelivered event is skipped before calling Rekognition (which
is billed per image), and the write is conditional on it. The object is checked
with If-Match first: an event for an object replaced or deleted since does nothing.

Rekognition only reads JPEG and PNG: other types, and images it rejects, get an
empty label list and a labels_error instead of a retry that cannot succeed.
Anything else (throttling, permissions) raises, for Lambda's async retries and
then the on-failure destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeAlias

from botocore.exceptions import ClientError
from s3_notifications import UploadedObject

S3Client: TypeAlias = Any  # botocore clients (no type stubs in the Lambda runtime)
RekognitionClient: TypeAlias = Any
Table: TypeAlias = Any  # boto3 DynamoDB Table resource

DEFAULT_MAX_LABELS = 10
DEFAULT_MIN_CONFIDENCE = 80.0
REKOGNITION_CONTENT_TYPES = frozenset({"image/jpeg", "image/png"})
PERMANENT_ERRORS = frozenset({"InvalidImageFormatException", "ImageTooLargeException"})
_GONE_OR_REPLACED = frozenset({"NoSuchKey", "404", "PreconditionFailed", "412"})


class ConfigError(RuntimeError):
    """The function's environment is wrong: a deploy problem, not a data problem."""


class Outcome(StrEnum):
    """What happened to one upload; logged by the handler, asserted by the tests."""

    LABELLED = "labelled"
    UNSUPPORTED = "unsupported"
    DUPLICATE = "duplicate"
    NO_ITEM = "no-item"
    STALE = "stale"
    DELETED = "deleted-during-processing"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    labels: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str
    max_labels: int
    min_confidence: float
    # The bucket whose notifications this function acts on; any other's are refused.
    upload_bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        table_name, upload_bucket = (
            env.get(n, "").strip() for n in ("TABLE_NAME", "UPLOAD_BUCKET")
        )
        for name, value in (("TABLE_NAME", table_name), ("UPLOAD_BUCKET", upload_bucket)):
            if not value:
                raise ConfigError(f"{name} is not set: the stack must pass it to the function")
        raw_max = env.get("MAX_LABELS", "").strip() or str(DEFAULT_MAX_LABELS)
        raw_min = env.get("MIN_CONFIDENCE", "").strip() or str(DEFAULT_MIN_CONFIDENCE)
        try:
            max_labels = int(raw_max)
        except ValueError:
            max_labels = 0
        if not 1 <= max_labels <= 1000:
            raise ConfigError(f"MAX_LABELS must be a whole number 1..1000, got {raw_max!r}")
        try:
            min_confidence = float(raw_min)
        except ValueError:
            min_confidence = -1.0
        if not 0 <= min_confidence <= 100:
            raise ConfigError(f"MIN_CONFIDENCE must be a number 0..100, got {raw_min!r}")
        return cls(
            table_name=table_name,
            max_labels=max_labels,
            min_confidence=min_confidence,
            upload_bucket=upload_bucket,
        )


def _item_key(upload: UploadedObject) -> dict[str, str]:
    return {"pk": f"USER#{upload.owner}", "sk": f"IMAGE#{upload.image_id}"}


def _still_current(s3: S3Client, upload: UploadedObject) -> bool:
    """True if the object the event names is still there, unchanged."""
    try:
        s3.head_object(Bucket=upload.bucket, Key=upload.key, IfMatch=f'"{upload.etag}"')
    except ClientError as exc:
        if exc.response["Error"]["Code"] in _GONE_OR_REPLACED:
            return False
        raise
    return True


def detect_labels(
    rekognition: RekognitionClient, upload: UploadedObject, settings: Settings
) -> list[dict[str, Any]]:
    """Label names with confidence (2 dp, Decimal for DynamoDB), most confident first."""
    response = rekognition.detect_labels(
        Image={"S3Object": {"Bucket": upload.bucket, "Name": upload.key}},
        MaxLabels=settings.max_labels,
        MinConfidence=settings.min_confidence,
    )
    labels = [
        {"name": label["Name"], "confidence": Decimal(str(round(label["Confidence"], 2)))}
        for label in response.get("Labels", [])
    ]
    return sorted(labels, key=lambda label: label["confidence"], reverse=True)


def _record(
    table: Table,
    upload: UploadedObject,
    labels: list[dict[str, Any]],
    error: str | None,
    now: datetime,
) -> Outcome | None:
    """Store the labels unless the item is gone or this eTag is labelled already."""
    values: dict[str, Any] = {
        ":labels": labels,
        ":etag": upload.etag,
        ":now": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    update = "SET labels = :labels, labels_etag = :etag, labelled_at = :now"
    if error is None:
        update += " REMOVE labels_error"
    else:
        update += ", labels_error = :error"
        values[":error"] = error
    try:
        table.update_item(
            Key=_item_key(upload),
            UpdateExpression=update,
            ConditionExpression=(
                "attribute_exists(pk) AND "
                "(attribute_not_exists(labels_etag) OR labels_etag <> :etag)"
            ),
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return Outcome.DUPLICATE if exc.response.get("Item") else Outcome.DELETED
    return None


def process_upload(
    upload: UploadedObject,
    *,
    rekognition: RekognitionClient,
    s3: S3Client,
    table: Table,
    settings: Settings,
    now: datetime,
) -> Result:
    """Label one upload and record the labels on its item."""
    item = table.get_item(Key=_item_key(upload), ConsistentRead=True).get("Item")
    if item is None:
        return Result(Outcome.NO_ITEM)  # deleted, or expired long ago: nothing to label
    if item.get("labels_etag") == upload.etag:
        return Result(Outcome.DUPLICATE)
    if not _still_current(s3, upload):
        return Result(Outcome.STALE)
    content_type = item.get("content_type")
    if content_type not in REKOGNITION_CONTENT_TYPES:
        reason = f"labels are not available for {content_type} images"
        return _settle(table, upload, [], reason, now)
    try:
        labels = detect_labels(rekognition, upload, settings)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code not in PERMANENT_ERRORS:
            raise
        return _settle(table, upload, [], f"Rekognition could not read the image ({code})", now)
    return _settle(table, upload, labels, None, now)


def _settle(
    table: Table,
    upload: UploadedObject,
    labels: list[dict[str, Any]],
    error: str | None,
    now: datetime,
) -> Result:
    skipped = _record(table, upload, labels, error, now)
    if skipped is not None:
        return Result(skipped)
    outcome = Outcome.UNSUPPORTED if error else Outcome.LABELLED
    return Result(outcome, labels=labels, reason=error)
