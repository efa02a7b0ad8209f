"""The reference app's Lambda functions, declared once for the backend stack and the packager."""

from __future__ import annotations

from awacs import dynamodb, rekognition, s3

from infra.function_spec import (
    FunctionSpec,
    Grant,
    HttpRoutes,
    Published,
    QueueSubscription,
    Setting,
    TopicSubscription,
)

TABLE_NAME = Published("data", "TableName")
UPLOAD_BUCKET = Published("data", "UploadBucketName")
MEDIA_BUCKET = Published("data", "MediaBucketName")
UPLOAD_TOPIC = Published("data", "UploadTopicArn")

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="uploads",
        source="lambdas/uploads",
        shared=("http_api.py",),
        description="POST /uploads: a presigned POST for the caller's own upload prefix",
        trigger=HttpRoutes(("POST /uploads",)),
        environment={
            "TABLE_NAME": TABLE_NAME,
            "UPLOAD_BUCKET": UPLOAD_BUCKET,
            "MAX_UPLOAD_BYTES": Setting("max_upload_bytes"),
            "UPLOAD_URL_EXPIRES_SECONDS": "300",
        },
        grants=(
            Grant("table", (dynamodb.PutItem,)),
            # The presigned POST is signed with this role's credentials.
            Grant("upload-bucket", (s3.PutObject,), prefix="uploads/"),
        ),
    ),
    FunctionSpec(
        name="images",
        source="lambdas/images",
        shared=("http_api.py",),
        description="GET/DELETE /images: the caller's own images only",
        trigger=HttpRoutes(("GET /images", "GET /images/{id}", "DELETE /images/{id}")),
        environment={
            "TABLE_NAME": TABLE_NAME,
            "UPLOAD_BUCKET": UPLOAD_BUCKET,
            "MEDIA_BUCKET": MEDIA_BUCKET,
        },
        grants=(
            Grant("table", (dynamodb.GetItem, dynamodb.DeleteItem)),
            Grant("table-index", (dynamodb.Query,)),
            Grant("upload-bucket", (s3.DeleteObject,), prefix="uploads/"),
            Grant("media-bucket", (s3.GetObject, s3.DeleteObject), prefix="thumbnails/"),
        ),
    ),
    FunctionSpec(
        name="thumbnail",
        source="lambdas/thumbnail",
        shared=("s3_notifications.py",),
        description="Resizes new uploads into the media bucket",
        memory=1024,
        timeout=30,
        trigger=QueueSubscription(topic=UPLOAD_TOPIC, batch_size=5, max_concurrency=5),
        environment={
            "TABLE_NAME": TABLE_NAME,
            "MEDIA_BUCKET": MEDIA_BUCKET,
            "THUMBNAIL_SIZES": Setting("thumbnail_sizes"),
        },
        grants=(
            Grant("upload-bucket", (s3.GetObject,), prefix="uploads/"),
            # DeleteObject: thumbnails of an image deleted while they were being made.
            Grant("media-bucket", (s3.PutObject, s3.DeleteObject), prefix="thumbnails/"),
            Grant("table", (dynamodb.GetItem, dynamodb.UpdateItem)),
        ),
    ),
    FunctionSpec(
        name="analyze",
        source="lambdas/analyze",
        shared=("s3_notifications.py",),
        description="Labels new uploads with Rekognition",
        timeout=30,
        trigger=TopicSubscription(topic=UPLOAD_TOPIC),
        environment={
            "TABLE_NAME": TABLE_NAME,
            "MAX_LABELS": "10",
            "MIN_CONFIDENCE": "80",
        },
        grants=(
            Grant("rekognition", (rekognition.DetectLabels,)),
            # Rekognition reads the object with the caller's permissions.
            Grant("upload-bucket", (s3.GetObject,), prefix="uploads/"),
            Grant("table", (dynamodb.GetItem, dynamodb.UpdateItem)),
        ),
    ),
)
