"""Publish the web app: sync a folder to the site bucket, add config.json, invalidate CloudFront.

The page learns where its API and user pool are from `config.json`, written here from what
the app's `Site(config=...)` declares (values the stacks share in SSM, settings, text), so
one build of the web files serves every environment.
A sync compares each file's MD5 with the object's ETag, which S3 sets to the MD5 for
a single-part PUT to an SSE-S3 bucket (the site bucket is one): an unchanged file costs no
request and an unchanged site no invalidation.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.app import SharedValue, Site
from infra.app.settings import SettingValue
from infra.aws import aws_errors
from infra.errors import InfraError
from infra.naming import ssm_path

CONFIG_KEY = "config.json"
INDEX_KEY = "index.html"
NO_CACHE_SUFFIXES = (".html", ".json")  # read on every visit: a deploy shows at once
NO_CACHE = "no-cache"
SHORT_CACHE = "max-age=300"  # names are not content-hashed, so keep other files briefly
DELETE_BATCH = 1000  # DeleteObjects' limit per request
GET_PARAMETERS_BATCH = 10  # GetParameters' limit per request

STACK_ORDER = ("data", "backend", "frontend")
# What publishing itself needs from the frontend stack.
SITE_BUCKET = SharedValue("frontend", "SiteBucketName")
DISTRIBUTION = SharedValue("frontend", "DistributionId")

# Python's built-in table (never the machine's /etc/mime.types, so every machine agrees),
# corrected where it predates the current registrations.
_TYPES = mimetypes.MimeTypes()
TYPE_OVERRIDES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".map": "application/json",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
UTF8_TYPES = {"image/svg+xml"}  # and text/*; JSON is UTF-8 by definition, so has no charset


@dataclass(frozen=True)
class SiteFile:
    """One object to be in the bucket: its key, bytes and the headers it is served with."""

    key: str
    body: bytes
    content_type: str
    cache_control: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class SyncPlan:
    """What a sync does: files to upload (pages last), keys to delete, files left alone."""

    puts: list[SiteFile]
    deletes: list[str]
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.puts or self.deletes)


@dataclass(frozen=True)
class PublishResult:
    bucket: str
    plan: SyncPlan
    invalidation_id: str | None


def needed_values(site: Site) -> list[SharedValue]:
    """The shared values to read, in deploy order: the first one missing names the stack."""
    wanted = [value for value in site.config.values() if isinstance(value, SharedValue)]
    wanted += [SITE_BUCKET, DISTRIBUTION]
    unique = list(dict.fromkeys(wanted))
    return sorted(unique, key=lambda value: STACK_ORDER.index(value.stack))


def read_shared(ssm: Any, app: str, env: str, values: list[SharedValue]) -> dict[SharedValue, str]:
    """The stacks' shared values; a missing one is an error naming the stack to deploy."""
    paths = {ssm_path(app, env, value.stack, value.name): value for value in values}
    found: dict[str, str] = {}
    names = list(paths)
    for start in range(0, len(names), GET_PARAMETERS_BATCH):
        with aws_errors(f"reading the {env} stacks' SSM parameters"):
            response = ssm.get_parameters(Names=names[start : start + GET_PARAMETERS_BATCH])
        found |= {item["Name"]: item["Value"] for item in response.get("Parameters", [])}
    for path, value in paths.items():
        if path not in found:
            raise InfraError(
                f"SSM parameter {path} not found: deploy the {env} {value.stack} stack first"
            )
    return {value: found[path] for path, value in paths.items()}


def site_config(
    app: str,
    env: str,
    region: str,
    site: Site,
    shared: dict[SharedValue, str],
    settings: dict[str, Any],
) -> bytes:
    """config.json: the app, the environment, the region and what the site declares."""
    config: dict[str, Any] = {"app": app, "environment": env, "region": region}
    for key, value in site.config.items():
        if isinstance(value, SharedValue):
            config[key] = shared[value]
        elif isinstance(value, SettingValue):
            config[key] = value.value(settings)  # as JSON: a number stays a number
        else:
            config[key] = value
    return (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()


def content_type(key: str) -> str:
    """The Content-Type for a key; text is declared UTF-8 so browsers never guess."""
    suffix = Path(key).suffix.lower()
    kind = TYPE_OVERRIDES.get(suffix) or _TYPES.guess_type(key)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in UTF8_TYPES:
        return f"{kind}; charset=utf-8"
    return kind


def cache_control(key: str) -> str:
    return NO_CACHE if key.endswith(NO_CACHE_SUFFIXES) else SHORT_CACHE


def site_file(key: str, body: bytes) -> SiteFile:
    return SiteFile(key, body, content_type(key), cache_control(key))


def web_files(web: Path) -> Iterator[tuple[str, Path]]:
    """(key, path) for every file under `web` but hidden ones (.DS_Store); .well-known/ stays."""
    for path in sorted(web.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path.relative_to(web).as_posix(), path


def local_site(web: Path) -> list[SiteFile]:
    """The folder's files, checked before any AWS call: a page to serve, no config.json."""
    files = dict(web_files(web))
    if INDEX_KEY not in files:
        raise InfraError(f"{web}: no {INDEX_KEY} (CloudFront serves it for / and unknown paths)")
    if CONFIG_KEY in files:
        raise InfraError(
            f"{files[CONFIG_KEY]}: publish writes {CONFIG_KEY} itself; remove this file"
        )
    return [site_file(key, path.read_bytes()) for key, path in files.items()]


def remote_etags(s3: Any, bucket: str) -> dict[str, str]:
    """Every object's ETag (quotes removed) by key, over as many pages as the bucket takes."""
    etags: dict[str, str] = {}
    with aws_errors(f"listing s3://{bucket}"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def plan_sync(local: list[SiteFile], remote: dict[str, str]) -> SyncPlan:
    """Upload what is new or different, delete what is gone.

    Pages go up last, so a visitor never gets a page naming a file not there yet.
    """
    puts = [item for item in local if remote.get(item.key) != item.md5]
    puts.sort(key=lambda item: (item.key.endswith(".html"), item.key))
    wanted = {item.key for item in local}
    deletes = sorted(key for key in remote if key not in wanted)
    return SyncPlan(puts, deletes, len(local) - len(puts))


def upload(s3: Any, bucket: str, item: SiteFile) -> str:
    """Put one file; returns its new version id ("" where the bucket keeps no versions)."""
    with aws_errors(f"uploading s3://{bucket}/{item.key}"):
        response = s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=item.body,
            ContentType=item.content_type,
            CacheControl=item.cache_control,
        )
    return response.get("VersionId") or ""


def delete(s3: Any, bucket: str, keys: list[str]) -> None:
    """Delete in batches; DeleteObjects reports a key it could not delete without raising."""
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        with aws_errors(f"deleting from s3://{bucket}"):
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        for error in response.get("Errors", []):
            raise InfraError(
                f"deleting s3://{bucket}/{error.get('Key')}: "
                f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
            )


def invalidation_reference(plan: SyncPlan, versions: list[str]) -> str:
    """The same for the same changes, so a retried request never makes a second invalidation.

    The new object versions make a change back to earlier content a new reference.
    """
    digest = hashlib.sha256()
    for item, version in zip(plan.puts, versions, strict=True):
        digest.update(f"put {item.key} {item.md5} {version}\n".encode())
    for key in plan.deletes:
        digest.update(f"delete {key}\n".encode())
    return f"infra-publish-{digest.hexdigest()[:32]}"


def invalidate(cloudfront: Any, distribution_id: str, reference: str) -> str:
    with aws_errors(f"invalidating /* on CloudFront distribution {distribution_id}"):
        response = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": reference,
            },
        )
    return response["Invalidation"]["Id"]


def publish_site(
    ssm: Any,
    s3: Any,
    cloudfront: Any,
    *,
    app: str,
    env: str,
    region: str,
    site: Site,
    settings: dict[str, Any],
    web: Path,
    echo: Callable[[str], None],
    force_invalidation: bool = False,
) -> PublishResult:
    """Sync `web` plus config.json to the environment's site bucket; invalidate on change.

    `force_invalidation` invalidates even when nothing changed: the way to finish a run
    whose files went up but whose invalidation failed.
    """
    files = local_site(web)
    shared = read_shared(ssm, app, env, needed_values(site))
    bucket = shared[SITE_BUCKET]
    config = site_config(app, env, region, site, shared, settings)
    local = [*files, site_file(CONFIG_KEY, config)]
    plan = plan_sync(local, remote_etags(s3, bucket))
    versions = []
    for item in plan.puts:
        versions.append(upload(s3, bucket, item))
        echo(f"uploaded s3://{bucket}/{item.key}")
    delete(s3, bucket, plan.deletes)
    for key in plan.deletes:
        echo(f"deleted  s3://{bucket}/{key}")
    if not plan.changed and not force_invalidation:
        return PublishResult(bucket, plan, None)
    reference = invalidation_reference(plan, versions)
    if force_invalidation:
        reference += f"-forced-{uuid.uuid4().hex[:12]}"
    try:
        invalidation = invalidate(cloudfront, shared[DISTRIBUTION], reference)
    except InfraError as err:
        raise InfraError(
            f"{err}; the files are in place: run `python -m infra publish --env {env} "
            "--invalidate` to finish"
        ) from None
    return PublishResult(bucket, plan, invalidation)
