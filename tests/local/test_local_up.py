"""`infra local up`, end to end: each app deployed into its own local AWS and used as a user would.

The example app (links: a signed-in route, a public route, a table stream with filters and
a schedule) and the reference app (photos: a presigned upload, S3 -> SNS -> SQS and SNS ->
function, a site with its CSP and config.json) run on this machine; the tests talk to them
over HTTP and check what the local AWS then holds. The command itself is run once as a
user runs it, and stopped by its process id.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.apps import EXAMPLE, REPO
from tests.support.local_http import call, eventually, jpeg, post_form
from tests.support.local_run import LocalUser, Running, free_base_port, running_app

# -- the example app: links ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def links_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app copied, so a test may edit its code as a developer would."""
    copy = tmp_path_factory.mktemp("links-app") / "links"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("build", "tests", "__pycache__"))
    return copy


@pytest.fixture(scope="module")
def links(links_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_app(links_copy / "infra.toml", "dev", tmp_path_factory.mktemp("links")) as run:
        yield run


@pytest.fixture(scope="module")
def links_user(links: Running) -> LocalUser:
    return LocalUser(links).sign_up()


def links_table(run: Running) -> Any:
    name = run.physical_id("data", "AWS::DynamoDB::Table")
    return run.client("dynamodb"), name


def test_the_run_says_where_everything_is(links: Running) -> None:
    assert links.output.wait_for("HTTP API on") == f"HTTP API on {links.api_url}"
    assert "site on" not in links.output.text()  # links declares no site
    for stack in ("links-main-base", "links-dev-data", "links-dev-backend"):
        links.output.wait_for(f"deployed {stack} (created)")


def test_a_signed_in_route_refuses_a_caller_without_a_valid_token(
    links: Running, links_user: LocalUser
) -> None:
    body = {"url": "https://example.com/a"}
    assert call("POST", f"{links.api_url}/links", body).status == 401
    forged = links_user.id_token[:-4] + ("AAAA" if links_user.id_token[-4:] != "AAAA" else "BBBB")
    headers = {"authorization": f"Bearer {forged}", "content-type": "application/json"}
    assert call("POST", f"{links.api_url}/links", body, headers).status == 401
    # No function ran for either: the authorizer answered.
    assert "create-link" not in links.output.text()


def test_a_link_is_created_followed_and_its_clicks_counted(
    links: Running, links_user: LocalUser
) -> None:
    created = call(
        "POST", f"{links.api_url}/links", {"url": "https://example.com/docs?a=1"},
        links_user.headers(),
    )  # fmt: skip
    assert created.status == 201, created.body
    code = created.json()["code"]
    dynamodb, table = links_table(links)
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": f"LINK#{code}"}, "sk": {"S": "LINK"}}
    )
    assert item["Item"]["url"]["S"] == "https://example.com/docs?a=1"

    for _ in range(3):  # public: no token
        followed = call("GET", f"{links.api_url}/{code}")
        assert followed.status == 302
        assert followed.headers["location"] == "https://example.com/docs?a=1"

    def clicks() -> int:
        found = dynamodb.get_item(
            TableName=table, Key={"pk": {"S": f"LINK#{code}"}, "sk": {"S": "LINK"}}
        )["Item"]
        return int(found.get("clicks", {"N": "0"})["N"]) == 3

    eventually(clicks, "three clicks counted from the table's stream")
    # The stream's filter keeps the link items and the counter's updates away from it.
    lines = [line for line in links.output.lines if "count-clicks" in line and " ms " in line]
    assert lines and all(line.endswith("ok") for line in lines)


def test_an_unknown_code_is_a_404_and_a_bad_body_a_400(
    links: Running, links_user: LocalUser
) -> None:
    assert call("GET", f"{links.api_url}/nosuchcode").status == 404
    bad = call(
        "POST", f"{links.api_url}/links", {"url": "javascript:alert(1)"}, links_user.headers()
    )
    assert bad.status == 400


def test_an_edited_handler_answers_the_next_request_without_a_restart(
    links: Running, links_copy: Path
) -> None:
    before = call("GET", f"{links.api_url}/not-a-code!")
    assert (before.status, before.body) == (400, b"Not a link code\n")
    handler = links_copy / "lambdas" / "redirect" / "handler.py"
    text = handler.read_text(encoding="utf-8")
    assert '"Not a link code\\n"' in text
    handler.write_text(text.replace('"Not a link code\\n"', '"Not a short code\\n"'), "utf-8")

    after = call("GET", f"{links.api_url}/not-a-code!")
    assert (after.status, after.body) == (400, b"Not a short code\n")


def test_the_nightly_report_fires_on_demand_and_reaches_the_topic(links: Running) -> None:
    sns, sqs = links.client("sns"), links.client("sqs")
    topic = links.physical_id("data", "AWS::SNS::Topic")
    queue = sqs.create_queue(QueueName="report-reader")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])

    assert links.app.delivery is not None
    assert links.app.delivery.fire("links-dev-nightly-report")

    def report() -> Any:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        return messages and json.loads(messages[0]["Body"])

    message = eventually(report, "the nightly report published to the reports topic")
    assert message["Subject"].startswith("Links report ")
    assert "links" in message["Subject"]


def test_preflight_lets_the_configured_origins_in_and_no_others(links: Running) -> None:
    asked = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
    }
    allowed = call(
        "OPTIONS", f"{links.api_url}/links", headers={"origin": "http://localhost:5173", **asked}
    )
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    refused = call(
        "OPTIONS", f"{links.api_url}/links", headers={"origin": "https://evil.example", **asked}
    )
    assert "access-control-allow-origin" not in refused.headers


# -- the reference app: photos ------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_app(REPO / "infra.toml", "dev", tmp_path_factory.mktemp("photos")) as run:
        yield run


def test_an_upload_becomes_a_labelled_image_the_owner_alone_sees_and_deletes(
    photos: Running,
) -> None:
    user = LocalUser(photos).sign_up()
    asked = call(
        "POST", f"{photos.api_url}/uploads", {"content_type": "image/jpeg", "filename": "sea.jpg"},
        user.headers(),
    )  # fmt: skip
    assert asked.status == 201, asked.body
    upload = asked.json()
    image_id = upload["image_id"]
    assert upload["upload"]["url"].startswith("http://photos-dev-uploads-")
    assert ".localhost:" in upload["upload"]["url"]

    # The bucket holds the POST to its policy: a page may not change the signed type.
    fields = {**upload["upload"]["fields"], "Content-Type": "text/html"}
    refused = post_form(photos, {**upload["upload"], "fields": fields}, b"<script>", "text/html")
    assert refused.status == 403, refused.body
    assert b"Policy Condition failed" in refused.body
    assert post_form(photos, upload["upload"], jpeg(), "image/jpeg").status == 204

    def ready() -> Any:
        listed = call("GET", f"{photos.api_url}/images", headers=user.headers()).json()["items"]
        return listed and listed[0]["status"] == "ready" and listed[0]

    image = eventually(ready, "the upload processed into a ready image")
    assert image["image_id"] == image_id
    assert image["filename"] == "sea.jpg"
    assert image["labels"], "the analyze function stored labels"
    assert set(image["thumbnails"]) == {"256", "1024"}
    s3 = photos.client("s3")
    media = ""
    for size, url in image["thumbnails"].items():
        address = urllib.parse.urlsplit(url)
        media = address.hostname.removesuffix(".localhost") if address.hostname else ""
        assert media.startswith("photos-dev-media-")
        held = s3.get_object(Bucket=media, Key=address.path.lstrip("/"))
        width, height = Image.open(io.BytesIO(held["Body"].read())).size
        assert max(width, height) == min(int(size), 900)  # never enlarged

    stranger = LocalUser(photos).sign_up()
    assert call("GET", f"{photos.api_url}/images", headers=stranger.headers()).json()["items"] == []
    theirs = f"{photos.api_url}/images/{image_id}"
    assert call("GET", theirs, headers=stranger.headers()).status == 404
    assert call("DELETE", theirs, headers=stranger.headers()).status == 404
    assert call("GET", theirs, headers=user.headers()).status == 200

    deleted = call("DELETE", theirs, headers=user.headers())
    assert deleted.status == 204, photos.output.text()[-3000:]
    assert call("GET", theirs, headers=user.headers()).status == 404
    assert call("GET", f"{photos.api_url}/images", headers=user.headers()).json()["items"] == []
    left = s3.list_objects_v2(Bucket=media).get("Contents", [])
    assert not [item["Key"] for item in left if image_id in item["Key"]]


def test_the_site_is_served_with_its_stack_headers_and_local_config(photos: Running) -> None:
    page = call("GET", f"{photos.site_url}/")
    assert page.status == 200
    assert b"<script" in page.body
    csp = page.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    # The stack's CSP, with AWS's origins swapped for this machine's.
    assert directives["script-src"] == ["'self'"]
    assert photos.api_url in directives["connect-src"]
    assert "blob:" in directives["img-src"]
    assert not any("amazonaws.com" in source for source in csp.split())
    assert page.headers["x-frame-options"] == "DENY"

    config = call("GET", f"{photos.site_url}/config.json").json()
    assert config["apiUrl"] == photos.api_url
    assert config["userPoolId"] == photos.physical_id("data", "AWS::Cognito::UserPool")
    assert config["maxUploadBytes"] == 10 * 1024 * 1024
    assert config["cognitoEndpoint"].startswith(f"http://localhost:{photos.ports.aws}")

    deep_link = call("GET", f"{photos.site_url}/photos/some-id")
    assert deep_link.status == 200 and deep_link.body == page.body  # the SPA's fallback


# -- the command, as a user runs it -------------------------------------------------------------


def fire(state: Path, function: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "infra", "local", "fire", function, "--state", str(state)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_local_up_runs_until_interrupted_and_stops_everything(tmp_path: Path) -> None:
    base = free_base_port()
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "infra", "local", "up", "--config", str(EXAMPLE / "infra.toml"),
        "--env", "dev", "--port", str(base), "--state", str(state),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            if line.startswith("ready"):
                break
        assert lines and lines[-1].startswith("ready"), "\n".join(lines)
        fired = fire(state, "nightly-report")
        assert fired.returncode == 0, fired.stderr
        assert fired.stdout.strip() == "fired nightly-report"
        unknown = fire(state, "no-such")
        assert unknown.returncode != 0
        assert "no-such" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
        server = json.loads((state / "local.json").read_text())["ports"]
        assert server == {"site": base, "api": base + 1, "aws": base + 2, "control": base + 3}
    finally:
        os.kill(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert rest.strip().endswith("stopped")
    assert "nightly-report" in rest
    # Nothing it started is left: no one listens on its ports (Linux refuses this bind
    # while a socket listens there; closed connections waiting out TIME_WAIT don't count).
    for port in (base + 1, base + 2, base + 3):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            probe.listen()
