"""The reference app, photos: its data, functions, settings and site, declared for the library.

A signed-in user asks for a presigned POST and uploads straight to the upload bucket;
the bucket tells the upload topic, which fans out to `thumbnail` (through a queue of its
own) and `analyze` (invoked directly). The API lists, reads and deletes the user's own
images. Settings are filled per environment from infra.toml's `settings` tables.
"""

from __future__ import annotations

import json
from typing import Any

from awacs import dynamodb, rekognition, s3

from infra.app import (
    HTTP_API_URL,
    App,
    BrowserUpload,
    Bucket,
    Function,
    HttpRoutes,
    Index,
    Notification,
    QueueSubscription,
    Setting,
    Site,
    Table,
    Topic,
    TopicSubscription,
    Unscoped,
    UserPool,
)

UPLOADS = "uploads/"
THUMBNAILS = "thumbnails/"
# What the uploads function signs and the page offers: one list, so the two never disagree.
ALLOWED_CONTENT_TYPES = "image/jpeg,image/png,image/webp,image/gif"

max_upload_mb = Setting(
    "max_upload_mb", int, default=10, minimum=1, maximum=5120,
    description="The largest upload the presigned POST allows, in MB",
)  # fmt: skip
# The page checks a file's size before asking for an upload; the function signs the same limit.
max_upload_bytes = max_upload_mb.map(lambda mb: mb * 1024 * 1024)
thumbnail_sizes = Setting(
    "thumbnail_sizes", list, item=int, default=[256, 1024], minimum=16, maximum=4096,
    min_items=1, max_items=2, unique=True, description="Longest-edge sizes of the thumbnails",
)  # fmt: skip

# pk USER#<sub>, sk IMAGE#<id>; ByCreated lists a user's images newest first.
images = Table(
    "images",
    partition_key="pk",
    sort_key="sk",
    indexes=(Index("ByCreated", partition_key="gsi1pk", sort_key="gsi1sk"),),
    ttl_attribute="expires_at",
    stream="NEW_AND_OLD_IMAGES",
)
upload_topic = Topic("upload", physical_name="uploads")
upload_bucket = Bucket(
    "upload",
    physical_name="uploads",
    browser_upload=BrowserUpload(prefix=UPLOADS),
    notifications=(Notification(upload_topic, prefix=UPLOADS),),
)
media_bucket = Bucket("media", browser_reads=True)
user_pool = UserPool()

uploads = Function(
    name="uploads",
    code="lambdas/uploads",
    shared=("http_api.py",),
    description="POST /uploads: a presigned POST for the caller's own upload prefix",
    trigger=HttpRoutes("POST /uploads"),
    environment={
        "TABLE_NAME": images.table_name,
        "UPLOAD_BUCKET": upload_bucket.bucket_name,
        "MAX_UPLOAD_BYTES": max_upload_bytes,
        "ALLOWED_CONTENT_TYPES": ALLOWED_CONTENT_TYPES,
        "UPLOAD_URL_EXPIRES_SECONDS": "300",
    },
    grants=(
        images.grant(dynamodb.PutItem),
        # The presigned POST is signed with this role's credentials.
        upload_bucket.objects(UPLOADS).grant(s3.PutObject),
    ),
)
images_api = Function(
    name="images",
    code="lambdas/images",
    shared=("http_api.py",),
    description="GET/DELETE /images: the caller's own images only",
    trigger=HttpRoutes(("GET /images", "GET /images/{id}", "DELETE /images/{id}")),
    environment={
        "TABLE_NAME": images.table_name,
        "UPLOAD_BUCKET": upload_bucket.bucket_name,
        "MEDIA_BUCKET": media_bucket.bucket_name,
    },
    grants=(
        images.grant(dynamodb.GetItem, dynamodb.DeleteItem),
        images.index("ByCreated").grant(dynamodb.Query),
        upload_bucket.objects(UPLOADS).grant(s3.DeleteObject),
        media_bucket.objects(THUMBNAILS).grant(s3.GetObject, s3.DeleteObject),
    ),
)
thumbnail = Function(
    name="thumbnail",
    code="lambdas/thumbnail",
    shared=("s3_notifications.py",),
    description="Resizes new uploads into the media bucket",
    memory=1024,
    timeout=30,
    trigger=QueueSubscription(upload_topic, batch_size=5, max_concurrency=5),
    environment={
        "TABLE_NAME": images.table_name,
        "UPLOAD_BUCKET": upload_bucket.bucket_name,  # notifications of any other are refused
        "MEDIA_BUCKET": media_bucket.bucket_name,
        "THUMBNAIL_SIZES": thumbnail_sizes.text,
    },
    grants=(
        upload_bucket.objects(UPLOADS).grant(s3.GetObject),
        # DeleteObject: thumbnails of an image deleted while they were being made.
        media_bucket.objects(THUMBNAILS).grant(s3.PutObject, s3.DeleteObject),
        images.grant(dynamodb.GetItem, dynamodb.UpdateItem),
    ),
)
analyze = Function(
    name="analyze",
    code="lambdas/analyze",
    shared=("s3_notifications.py",),
    description="Labels new uploads with Rekognition",
    timeout=30,
    trigger=TopicSubscription(upload_topic),
    environment={
        "TABLE_NAME": images.table_name,
        "UPLOAD_BUCKET": upload_bucket.bucket_name,  # notifications of any other are refused
        "MAX_LABELS": "10",
        "MIN_CONFIDENCE": "80",
    },
    grants=(
        Unscoped("rekognition", "DetectLabels supports no resource-level permissions").grant(
            rekognition.DetectLabels
        ),
        # Rekognition reads the object with the caller's permissions.
        upload_bucket.objects(UPLOADS).grant(s3.GetObject),
        images.grant(dynamodb.GetItem, dynamodb.UpdateItem),
    ),
)


def operations_dashboard(stack: Any) -> list[Any]:
    """Escape hatch: a dashboard of the functions and the thumbnail queue, under a literal ID.

    The declarations do not reach dashboards; `App(extra_resources=...)` hands the backend
    stack being built to this function, which returns plain troposphere resources.
    troposphere is imported here, so commands that only read the declaration stay fast.
    """
    from troposphere import Sub
    from troposphere.cloudwatch import Dashboard

    region = "${AWS::Region}"
    functions = [stack.physical_name(function.name) for function in app_functions]
    widgets = [
        {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": f"Lambda {metric}",
                "region": region,
                "stat": "Sum",
                "period": 300,
                "metrics": [["AWS/Lambda", metric, "FunctionName", name] for name in functions],
            },
        }
        for metric in ("Invocations", "Errors")
    ]
    queue = stack.physical_name(thumbnail.name)
    widgets.append(
        {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Thumbnail queue",
                "region": region,
                "stat": "Maximum",
                "period": 300,
                "metrics": [
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue],
                    ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"{queue}-dlq"],
                ],
            },
        }
    )
    body = json.dumps({"widgets": widgets}, sort_keys=True)
    return [
        Dashboard(
            "OperationsDashboard",
            DashboardName=stack.physical_name("operations"),
            DashboardBody=Sub(body),
        )
    ]


app_functions = (uploads, images_api, thumbnail, analyze)
app = App(
    tables=(images,),
    buckets=(upload_bucket, media_bucket),
    topics=(upload_topic,),
    user_pool=user_pool,
    functions=app_functions,
    settings=(max_upload_mb, thumbnail_sizes),
    site=Site(
        "web",
        config={
            "apiUrl": HTTP_API_URL,
            "userPoolId": user_pool.pool_id,
            "userPoolClientId": user_pool.client_id,
            "maxUploadBytes": max_upload_bytes,
            "allowedContentTypes": ALLOWED_CONTENT_TYPES,
        },
    ),
    extra_resources={"backend": operations_dashboard},
)
