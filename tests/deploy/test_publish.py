"""`python -m infra publish` against a local AWS (moto): uploads, headers, config.json, deletes,
invalidations, and the one-line errors when a stack is missing or the web folder is wrong.

Each test starts from an empty moto (reset through its API) holding what the deployed stacks
would: the site bucket, a CloudFront distribution and the SSM parameters they share. The app
is the reference one (a copy of app.py beside the test's infra.toml) unless a test declares
its own in an app.py of its folder.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from infra.cli import cli
from infra.publish import DELETE_BATCH
from tests.conftest import REPO

REGION = "eu-west-1"
BUCKET = "photos-dev-site-bucket"
CONFIG = """\
[app]
name = "photos"

[accounts.main]
region = "eu-west-1"

[environments.dev]
account = "main"
region = "eu-west-1"
"""
WEB = {
    "index.html": "<!doctype html><title>photos</title><script src=/app.js></script>\n",
    "app.js": "console.log('photos');\n",
    "assets/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "assets/photo.png": "not really a png\n",
    ".well-known/security.txt": "Contact: mailto:security@example.com\n",
}
EXPECTED_HEADERS = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "config.json": ("application/json", "no-cache"),
    "app.js": ("text/javascript; charset=utf-8", "max-age=300"),
    "assets/logo.svg": ("image/svg+xml; charset=utf-8", "max-age=300"),
    "assets/photo.png": ("image/png", "max-age=300"),
    ".well-known/security.txt": ("text/plain; charset=utf-8", "max-age=300"),
}
USER_POOL_ID = "eu-west-1_AbCdEf123"
USER_POOL_CLIENT_ID = "1example23456789"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com"
# What the reference app's Site(config=...) reads, by the stack that shares it.
REFERENCE_SHARED = {
    ("data", "UserPoolId"): USER_POOL_ID,
    ("data", "UserPoolClientId"): USER_POOL_CLIENT_ID,
    ("backend", "ApiUrl"): API_URL,
}
# What publishing itself reads from every app's frontend stack.
SITE_SHARED = (("frontend", "SiteBucketName"), ("frontend", "DistributionId"))


@dataclass(frozen=True)
class LocalAws:
    """Clients on the moto server, and the distribution the frontend stack would have made."""

    endpoint: str
    s3: Any
    ssm: Any
    cloudfront: Any
    distribution_id: str

    def objects(self) -> dict[str, bytes]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {
            item["Key"]: self.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            for item in listing
        }

    def invalidations(self) -> list[str]:
        listing = self.cloudfront.list_invalidations(DistributionId=self.distribution_id)
        return [item["Id"] for item in listing["InvalidationList"].get("Items", [])]

    def share(self, app: str, values: dict[tuple[str, str], str]) -> None:
        """Put what the stacks of `app`'s dev environment would share, by (stack, name)."""
        for (stack, name), value in values.items():
            self.ssm.put_parameter(Name=f"/{app}/dev/{stack}/{name}", Value=value, Type="String")

    def share_site(self, app: str) -> None:
        """What `app`'s frontend stack would share: the site bucket and the distribution."""
        self.share(app, dict(zip(SITE_SHARED, (BUCKET, self.distribution_id), strict=True)))


def create_distribution(cloudfront: Any) -> str:
    origin = {
        "Id": "site",
        "DomainName": f"{BUCKET}.s3.{REGION}.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config = {
        "CallerReference": "frontend-stack",
        "Comment": "photos dev web app",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


@pytest.fixture(autouse=True)
def no_infra_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INFRA_CONFIG", "INFRA_ENV", "INFRA_WEB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(moto_server: str) -> Iterator[LocalAws]:
    """An empty moto, then the bucket, distribution and parameters of deployed stacks."""
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    clients = {
        name: boto3.client(name, endpoint_url=moto_server, region_name=REGION)
        for name in ("s3", "ssm", "cloudfront")
    }
    clients["s3"].create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    local = LocalAws(
        moto_server, distribution_id=create_distribution(clients["cloudfront"]), **clients
    )
    local.share("photos", REFERENCE_SHARED)
    local.share_site("photos")
    yield local


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A minimal infra.toml without an account id (publish must not need one), and app.py."""
    path = tmp_path / "infra.toml"
    path.write_text(CONFIG, encoding="utf-8")
    shutil.copy(REPO / "app.py", tmp_path / "app.py")
    return path


def declared_app(folder: Path, declaration: str, settings: str) -> Path:
    """An app of the test's own: its app.py and infra.toml in `folder`; returns the latter."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(declaration, encoding="utf-8")
    path = folder / "infra.toml"
    path.write_text(settings, encoding="utf-8")
    return path


@pytest.fixture
def web(tmp_path: Path) -> Path:
    folder = tmp_path / "web"
    for key, text in WEB.items():
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).write_text(text, encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "assets" / ".gitkeep").write_bytes(b"")
    return folder


def publish(aws: LocalAws, config: Path, web: Path, *extra: str) -> Result:
    args = ["publish", "--config", str(config), "--env", "dev", "--web", str(web)]
    return CliRunner().invoke(cli, [*args, "--endpoint-url", aws.endpoint, *extra])


def published(aws: LocalAws, config: Path, web: Path) -> list[str]:
    """The lines of a successful run's output."""
    return published_with(aws, config, web)


def published_with(aws: LocalAws, config: Path, web: Path, *extra: str) -> list[str]:
    result = publish(aws, config, web, *extra)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_first_publish_uploads_every_file_with_its_headers(
    aws: LocalAws, config: Path, web: Path
) -> None:
    lines = published(aws, config, web)

    objects = aws.objects()
    assert set(objects) == set(EXPECTED_HEADERS)
    for key, (content_type, cache_control) in EXPECTED_HEADERS.items():
        head = aws.s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
    for key, text in WEB.items():
        assert objects[key] == text.encode()
    uploads = [line for line in lines if line.startswith("uploaded ")]
    assert sorted(uploads) == sorted(f"uploaded s3://{BUCKET}/{key}" for key in EXPECTED_HEADERS)
    assert uploads[-1] == f"uploaded s3://{BUCKET}/index.html"  # the page goes up last
    [invalidation] = aws.invalidations()
    summary = f"publish: 6 uploaded, 0 deleted, 0 unchanged; invalidation {invalidation} of /*"
    assert lines[-1] == summary
    batch = aws.cloudfront.get_invalidation(DistributionId=aws.distribution_id, Id=invalidation)
    assert batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/*"]


def test_config_json_tells_the_page_where_its_environment_is(
    aws: LocalAws, config: Path, web: Path
) -> None:
    published(aws, config, web)
    assert json.loads(aws.objects()["config.json"]) == {
        "app": "photos",
        "environment": "dev",
        "apiUrl": API_URL,
        "userPoolId": USER_POOL_ID,
        "userPoolClientId": USER_POOL_CLIENT_ID,
        "region": REGION,
        # The upload limits, so the page refuses a file before asking to upload it.
        "maxUploadBytes": 10 * 1024 * 1024,
        "allowedContentTypes": "image/jpeg,image/png,image/webp,image/gif",
    }
    assert not (web / "config.json").exists()


SETTINGS_APP = """\
from infra.app import App, Setting, Site

max_upload_mb = Setting("max_upload_mb", int, default=10, minimum=1, maximum=100)
sizes = Setting("thumbnail_sizes", list, item=int, default=[256], minimum=16, maximum=4096)
greeting = Setting("greeting", str, default="Welcome")

app = App(
    settings=(max_upload_mb, sizes, greeting),
    site=Site(
        "web",
        config={
            "maxUploadMb": max_upload_mb.text,
            "maxUploadBytes": max_upload_mb.map(lambda mb: mb * 1024 * 1024),
            "thumbnailSizes": sizes.text,
            "greeting": greeting.text,
            "theme": "dark",
        },
    ),
)
"""
# max_upload_mb from the environment over [defaults.settings], thumbnail_sizes from
# [defaults.settings], greeting from its declared default.
SETTINGS_CONFIG = f"""\
[app]
name = "demo"

[accounts.main]
region = "{REGION}"

[defaults.settings]
max_upload_mb = 20
thumbnail_sizes = [128, 512]

[environments.dev]
account = "main"
region = "{REGION}"

[environments.dev.settings]
max_upload_mb = 25
"""


def test_config_json_holds_the_settings_and_text_the_site_declares(
    aws: LocalAws, tmp_path: Path, web: Path
) -> None:
    config = declared_app(tmp_path / "demo", SETTINGS_APP, SETTINGS_CONFIG)
    aws.share_site("demo")

    published(aws, config, web)

    # Settings reach config.json as JSON values: numbers stay numbers, lists lists.
    assert json.loads(aws.objects()["config.json"]) == {
        "app": "demo",
        "environment": "dev",
        "region": REGION,
        "maxUploadMb": 25,
        "maxUploadBytes": 25 * 1024 * 1024,
        "thumbnailSizes": [128, 512],
        "greeting": "Welcome",
        "theme": "dark",
    }


DATA_ONLY_APP = """\
from infra.app import App, Bucket, Site, Table, UserPool

notes = Table("notes", partition_key="pk", sort_key="sk")
media = Bucket("media", browser_reads=True)
user_pool = UserPool()

app = App(
    tables=(notes,),
    buckets=(media,),
    user_pool=user_pool,
    site=Site(
        "public",
        config={
            "userPoolId": user_pool.pool_id,
            "userPoolClientId": user_pool.client_id,
            "mediaBucket": media.bucket_name,
        },
    ),
)
"""


def test_a_site_without_an_api_reads_only_the_data_stack(
    aws: LocalAws, tmp_path: Path, web: Path
) -> None:
    """No functions, so no backend stack: nothing under /demo/dev/backend exists or is read.

    Without --web the folder is the one the Site declares, beside infra.toml.
    """
    config = declared_app(tmp_path / "demo", DATA_ONLY_APP, CONFIG.replace("photos", "demo"))
    shutil.copytree(web, tmp_path / "demo" / "public")
    aws.share(
        "demo",
        {
            ("data", "UserPoolId"): USER_POOL_ID,
            ("data", "UserPoolClientId"): USER_POOL_CLIENT_ID,
            ("data", "MediaBucketName"): "demo-dev-data-mediabucket-1a2b3c",
        },
    )
    aws.share_site("demo")
    args = ["publish", "--config", str(config), "--env", "dev", "--endpoint-url", aws.endpoint]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert json.loads(aws.objects()["config.json"]) == {
        "app": "demo",
        "environment": "dev",
        "region": REGION,
        "userPoolId": USER_POOL_ID,
        "userPoolClientId": USER_POOL_CLIENT_ID,
        "mediaBucket": "demo-dev-data-mediabucket-1a2b3c",
    }
    assert set(aws.objects()) == set(EXPECTED_HEADERS)


NO_SITE_APP = """\
from infra.app import App, Table

app = App(tables=(Table("notes", partition_key="pk"),))
"""


def test_an_app_without_a_site_has_nothing_to_publish(
    aws: LocalAws, tmp_path: Path, web: Path
) -> None:
    config = declared_app(tmp_path / "demo", NO_SITE_APP, CONFIG.replace("photos", "demo"))
    aws.share_site("demo")

    result = publish(aws, config, web)

    assert result.exit_code == 2  # a usage error
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{config}: the app declares no site; there is nothing to publish"
    ]
    assert aws.objects() == {}
    assert aws.invalidations() == []


def test_second_publish_uploads_nothing_and_invalidates_nothing(
    aws: LocalAws, config: Path, web: Path
) -> None:
    published(aws, config, web)
    lines = published(aws, config, web)
    assert lines == [f"publish: nothing changed (6 files in s3://{BUCKET})"]
    assert len(aws.invalidations()) == 1


def test_a_failed_invalidation_says_how_to_finish_and_invalidate_does(
    aws: LocalAws, config: Path, web: Path
) -> None:
    aws.ssm.put_parameter(
        Name="/photos/dev/frontend/DistributionId", Value="EGONE", Type="String", Overwrite=True
    )
    result = publish(aws, config, web)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("invalidating /* on CloudFront distribution EGONE: ")
    assert line.endswith(
        "; the files are in place: run `python -m infra publish --env dev --invalidate` to finish"
    )
    assert "index.html" in aws.objects()  # uploaded before the invalidation failed

    aws.ssm.put_parameter(
        Name="/photos/dev/frontend/DistributionId",
        Value=aws.distribution_id,
        Type="String",
        Overwrite=True,
    )
    assert published(aws, config, web) == [f"publish: nothing changed (6 files in s3://{BUCKET})"]
    assert aws.invalidations() == []
    lines = published_with(aws, config, web, "--invalidate")
    [invalidation] = aws.invalidations()
    assert lines == [
        f"publish: 0 uploaded, 0 deleted, 6 unchanged; invalidation {invalidation} of /*"
    ]


def test_a_changed_file_is_the_only_upload(aws: LocalAws, config: Path, web: Path) -> None:
    published(aws, config, web)
    (web / "app.js").write_text("console.log('changed');\n", encoding="utf-8")
    lines = published(aws, config, web)
    assert lines[:-1] == [f"uploaded s3://{BUCKET}/app.js"]
    assert lines[-1].startswith("publish: 1 uploaded, 0 deleted, 5 unchanged; invalidation ")
    assert aws.objects()["app.js"] == b"console.log('changed');\n"
    assert len(aws.invalidations()) == 2


def test_a_removed_file_is_deleted(aws: LocalAws, config: Path, web: Path) -> None:
    published(aws, config, web)
    (web / "assets" / "photo.png").unlink()
    lines = published(aws, config, web)
    assert lines[:-1] == [f"deleted  s3://{BUCKET}/assets/photo.png"]
    assert lines[-1].startswith("publish: 0 uploaded, 1 deleted, 5 unchanged; invalidation ")
    assert set(aws.objects()) == set(EXPECTED_HEADERS) - {"assets/photo.png"}
    assert len(aws.invalidations()) == 2


def test_stale_objects_beyond_one_listing_page_are_all_deleted(
    aws: LocalAws, config: Path, web: Path
) -> None:
    """S3 lists 1,000 keys a page and deletes 1,000 a request; both limits are crossed here."""
    stale = [f"old/{index:04}.js" for index in range(DELETE_BATCH + 5)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"old"), stale))
    lines = published(aws, config, web)
    assert sum(line.startswith("deleted ") for line in lines) == len(stale)
    assert set(aws.objects()) == set(EXPECTED_HEADERS)


@pytest.mark.parametrize(
    ("stack", "name"),
    [*REFERENCE_SHARED, *SITE_SHARED],
    ids=[f"{stack}/{name}" for stack, name in [*REFERENCE_SHARED, *SITE_SHARED]],
)
def test_a_missing_parameter_names_the_stack_to_deploy(
    aws: LocalAws, config: Path, web: Path, stack: str, name: str
) -> None:
    path = f"/photos/dev/{stack}/{name}"
    aws.ssm.delete_parameter(Name=path)
    result = publish(aws, config, web)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"SSM parameter {path} not found: deploy the dev {stack} stack first"
    ]
    assert aws.objects() == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "remove index.html",
            "{web}: no index.html (CloudFront serves it for / and unknown paths)",
        ),
        (
            "add config.json",
            "{web}/config.json: publish writes config.json itself; remove this file",
        ),
    ],
)
def test_a_web_folder_that_would_break_the_site_is_refused(
    aws: LocalAws, config: Path, web: Path, change: str, message: str
) -> None:
    if change == "remove index.html":
        (web / "index.html").unlink()
    else:
        (web / "config.json").write_text("{}", encoding="utf-8")
    result = publish(aws, config, web)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message.format(web=web)]
    assert aws.objects() == {}


def test_the_only_environment_needs_no_env_option(aws: LocalAws, config: Path, web: Path) -> None:
    args = ["publish", "--config", str(config), "--web", str(web), "--endpoint-url", aws.endpoint]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "config.json" in aws.objects()


def test_publish_works_on_one_environment_at_a_time(aws: LocalAws, config: Path, web: Path) -> None:
    result = publish(aws, config, web, "--env", "prod")
    assert result.exit_code == 2  # a usage error
    assert result.stderr.splitlines() == ["one environment at a time, got: dev, prod"]
    assert aws.objects() == {}


class PageReferences(HTMLParser):
    """What a page loads, and anything the frontend's Content-Security-Policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.blocked: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.references += [values[a] or "" for a in ("src", "href") if a in values]
        if tag == "style" or "style" in values or any(a.startswith("on") for a in values):
            self.blocked.append(f"inline style or handler on <{tag}>")
        self.in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.blocked.append("inline <script>")


def test_the_shipped_page_loads_only_its_own_files(aws: LocalAws, config: Path) -> None:
    """script-src and style-src are 'self': no inline code, nothing from other origins."""
    shipped = REPO / "web"
    page = PageReferences()
    page.feed((shipped / "index.html").read_text(encoding="utf-8"))
    assert page.blocked == []
    local = [ref for ref in page.references if not ref.startswith("data:")]
    assert local, "the page loads its script and styles from files"
    for reference in local:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        assert (shipped / reference.lstrip("/")).is_file(), reference
    assert "/config.json" in (shipped / "app.js").read_text(encoding="utf-8")

    published(aws, config, shipped)
    assert set(aws.objects()) == {*local_keys(shipped), "config.json"}


def local_keys(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
