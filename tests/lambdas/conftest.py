"""Fixtures for the reference app's Lambda functions, run in-process against moto.

Each function's folder is its zip root, so its logic modules are imported here the
way Lambda imports them (folder on sys.path); every function has a module called
`handler`, so handlers are loaded by file path under distinct names instead.
lambdas/shared is on sys.path too: the packager puts the shared modules a function
declares at its zip root (tests/packaging checks that each import is declared).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from infra.testing import Handlers, LambdaContext, http_api_event, jwt_claims

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
FUNCTIONS = ("uploads", "images", "thumbnail", "analyze")
for _folder in (*FUNCTIONS, "shared"):
    if str(LAMBDAS / _folder) not in sys.path:
        sys.path.insert(0, str(LAMBDAS / _folder))

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE_NAME = "photos-test-images"
UPLOAD_BUCKET = "photos-test-uploads"
MEDIA_BUCKET = "photos-test-media"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:photos-test-uploads"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:photos-test-thumbnail"

HANDLERS = Handlers(LAMBDAS, prefix="")
load_handler = HANDLERS.load
_clear_cached_clients = HANDLERS.clear_caches


# --- environment and AWS ------------------------------------------------------------


@pytest.fixture(autouse=True)
def function_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials, one region and every variable the stack gives the functions."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "photos-test",
        "LOG_LEVEL": "INFO",
        "TABLE_NAME": TABLE_NAME,
        "UPLOAD_BUCKET": UPLOAD_BUCKET,
        "MEDIA_BUCKET": MEDIA_BUCKET,
        "MAX_UPLOAD_BYTES": "5000000",
        "ALLOWED_CONTENT_TYPES": "image/jpeg,image/png,image/webp,image/gif",
        "UPLOAD_URL_EXPIRES_SECONDS": "300",
        "THUMBNAIL_SIZES": "256,1024",
        "MAX_LABELS": "10",
        "MIN_CONFIDENCE": "80",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    _clear_cached_clients()
    yield
    _clear_cached_clients()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process AWS, with the table and buckets the data stack creates."""
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE_NAME,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("pk", "sk", "gsi1pk", "gsi1sk")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByCreated",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        s3 = boto3.client("s3")
        for bucket in (UPLOAD_BUCKET, MEDIA_BUCKET):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        yield


@pytest.fixture
def table(aws: None) -> Any:
    """The images table (boto3 Table resource)."""
    return boto3.resource("dynamodb").Table(TABLE_NAME)


@pytest.fixture
def s3(aws: None) -> Any:
    """An S3 client for arranging and inspecting objects."""
    return boto3.client("s3")


def object_keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.fixture
def list_keys(s3: Any) -> Callable[[str], list[str]]:
    """Every key in a bucket, sorted."""
    return functools.partial(object_keys, s3)


# --- callers, items and objects -----------------------------------------------------


@pytest.fixture
def alice() -> str:
    """A Cognito user id."""
    return "0b5c7d2e-51a1-4f6e-9a0e-6f1d2c3b4a51"


@pytest.fixture
def bob() -> str:
    """Another Cognito user id."""
    return "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4"


@pytest.fixture
def seed_item(table: Any) -> Callable[..., dict[str, Any]]:
    """Write an image item in the contract's shape; returns it."""

    def seed(
        owner: str,
        *,
        image_id: str | None = None,
        created_at: str = "2025-01-02T03:04:05.000000Z",
        status: str = "pending",
        content_type: str = "image/png",
        **extra: Any,
    ) -> dict[str, Any]:
        image_id = image_id or str(uuid.uuid4())
        item = {
            "pk": f"USER#{owner}",
            "sk": f"IMAGE#{image_id}",
            "gsi1pk": f"USER#{owner}",
            "gsi1sk": f"{created_at}#{image_id}",
            "image_id": image_id,
            "owner": owner,
            "status": status,
            "content_type": content_type,
            "created_at": created_at,
            "upload_key": f"uploads/{owner}/{image_id}",
            **extra,
        }
        if status == "pending":
            item.setdefault("expires_at", 1_900_000_000)
        table.put_item(Item=item)
        return item

    return seed


@pytest.fixture
def get_item(table: Any) -> Callable[[str, str], dict[str, Any] | None]:
    """Read an image item back, consistently."""

    def get(owner: str, image_id: str) -> dict[str, Any] | None:
        key = {"pk": f"USER#{owner}", "sk": f"IMAGE#{image_id}"}
        return table.get_item(Key=key, ConsistentRead=True).get("Item")

    return get


def make_image(
    fmt: str = "PNG", size: tuple[int, int] = (640, 480), mode: str = "RGB", **save: Any
) -> bytes:
    """Real image bytes, drawn with Pillow: two colours so resizing has something to do."""
    image = Image.new(mode, size, "red" if mode != "RGBA" else (255, 0, 0, 128))
    image.paste("blue" if mode != "RGBA" else (0, 0, 255, 255), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


@pytest.fixture
def image_bytes() -> Callable[..., bytes]:
    """Factory for real images: image_bytes("JPEG", (w, h))."""
    return make_image


@pytest.fixture
def truncated_png() -> bytes:
    """A PNG cut off half way: the header reads fine, the pixels do not."""
    data = make_image("PNG", (400, 300))
    return data[: len(data) // 2]


# --- events as AWS delivers them ----------------------------------------------------


FakeLambdaContext = functools.partial(LambdaContext, function_name="photos-test-fn")


@pytest.fixture
def lambda_context() -> LambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def http_event(alice: str) -> Callable[..., dict[str, Any]]:
    """Factory for API Gateway HTTP API (payload 2.0) events behind a JWT authorizer."""

    def build(
        method: str,
        path: str,
        *,
        sub: str | None = alice,
        body: Any = None,
        query: dict[str, str] | None = None,
        route_key: str | None = None,
        base64_body: bool = False,
    ) -> dict[str, Any]:
        route = route_key or f"{method} {path}"
        parameters = {"id": path.rsplit("/", 1)[-1]} if "{id}" in route else None
        return http_api_event(
            method, path, route_key=route, claims=jwt_claims(sub, username="someone"),
            body=body, base64_body=base64_body, query=query, path_parameters=parameters,
        )  # fmt: skip

    return build


def s3_notification(
    key: str,
    *,
    etag: str,
    size: int = 1024,
    bucket: str = UPLOAD_BUCKET,
    event_name: str = "ObjectCreated:Post",
    sequencer: str = "0065A1B2C3D4E5F601",
) -> dict[str, Any]:
    """An S3 event notification exactly as S3 sends it (key URL-encoded, eTag unquoted)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2025-01-02T03:04:06.123Z",
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLEID:photos-test-uploads"},
                "requestParameters": {"sourceIPAddress": "203.0.113.10"},
                "responseElements": {
                    "x-amz-request-id": "C3D13FE58DE4C810",
                    "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHv",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "UploadsToTopic",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag.strip('"'),
                        "sequencer": sequencer,
                    },
                },
            }
        ]
    }


S3_TEST_EVENT = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2025-01-02T03:00:00.000Z",
    "Bucket": UPLOAD_BUCKET,
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}


@pytest.fixture
def s3_test_event() -> dict[str, Any]:
    """The message S3 publishes when a notification configuration is saved."""
    return dict(S3_TEST_EVENT)


def _sns_fields(message: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC_ARN,
        "Subject": "Amazon S3 Notification",
        "Message": message,
        "Timestamp": "2025-01-02T03:04:06.456Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2e",
    }


def sns_in_sqs_body(message: str) -> str:
    """An SQS body as SNS delivers it to a queue without raw message delivery."""
    envelope = _sns_fields(message) | {
        "SigningCertURL": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeURL": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
    }
    return json.dumps(envelope)


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS event source mapping batch, one record per body."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{i}...",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1735787046456",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1735787046470",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": REGION,
            }
            for i, body in enumerate(bodies)
        ]
    }


def sns_event(message: str) -> dict[str, Any]:
    """The event SNS sends when it invokes a Lambda function directly."""
    sns = _sns_fields(message) | {
        "SigningCertUrl": f"https://sns.{REGION}.amazonaws.com/SimpleNotificationService-example.pem",
        "UnsubscribeUrl": f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe",
        "MessageAttributes": {},
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": sns,
            }
        ]
    }


@dataclass
class Upload:
    """An uploaded object with its pending item, and the notification S3 sent for it."""

    owner: str
    image_id: str
    key: str
    etag: str
    notification: dict[str, Any]

    @property
    def message(self) -> str:
        """The notification as the string SNS carries in Message."""
        return json.dumps(self.notification)


@pytest.fixture
def upload(s3: Any, seed_item: Callable[..., dict[str, Any]]) -> Callable[..., Upload]:
    """Factory: seed a pending item, put its object in the upload bucket, build the event."""

    def make(
        owner: str, data: bytes, *, content_type: str = "image/png", seed: bool = True
    ) -> Upload:
        image_id = str(uuid.uuid4())
        if seed:
            seed_item(owner, image_id=image_id, content_type=content_type)
        key = f"uploads/{owner}/{image_id}"
        etag = s3.put_object(Bucket=UPLOAD_BUCKET, Key=key, Body=data, ContentType=content_type)[
            "ETag"
        ]
        notification = s3_notification(key, etag=etag, size=len(data))
        return Upload(owner, image_id, key, etag.strip('"'), notification)

    return make


@pytest.fixture
def events() -> SimpleNamespace:
    """Builders for events as AWS delivers them (see the functions above)."""
    return SimpleNamespace(
        s3_notification=s3_notification,
        sns_in_sqs_body=sns_in_sqs_body,
        sqs_event=sqs_event,
        sns_event=sns_event,
    )


# --- the handlers ---------------------------------------------------------------------


@pytest.fixture
def uploads_handler() -> ModuleType:
    return load_handler("uploads")


@pytest.fixture
def images_handler() -> ModuleType:
    return load_handler("images")


@pytest.fixture
def thumbnail_handler() -> ModuleType:
    return load_handler("thumbnail")


@pytest.fixture
def analyze_handler() -> ModuleType:
    return load_handler("analyze")
