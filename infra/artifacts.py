"""Put packaged zips into the artifact bucket, skipping keys that are already there."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.aws import aws_errors
from infra.config import AppConfig, Environment
from infra.naming import ssm_path


def artifact_bucket_name(ssm: Any, config: AppConfig, environment: Environment) -> str:
    """The bucket the base stack of the environment's account published."""
    name = ssm_path(config.name, environment.account.name, "base", "ArtifactBucketName")
    with aws_errors(f"reading {name} (is the base stack deployed?)"):
        return ssm.get_parameter(Name=name)["Parameter"]["Value"]


def key_exists(s3: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_zips(s3: Any, bucket: str, zips: Iterable[tuple[str, Path]]) -> list[tuple[str, bool]]:
    """(key, uploaded) per zip: content-addressed keys never change, so existing ones stay."""
    results = []
    for key, path in zips:
        with aws_errors(f"uploading s3://{bucket}/{key}"):
            if key_exists(s3, bucket, key):
                results.append((key, False))
                continue
            with path.open("rb") as body:
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/zip")
        results.append((key, True))
    return results
