"""The local site serves what `infra publish` uploads, as the frontend's CloudFront serves it.

Files with publish's content types and cache headers, config.json from memory, the
distribution's error responses (403/404 -> /index.html, 200) as the SPA fallback, and the
response headers policy's security headers with AWS's origins turned into this machine's.
Every request that tries to leave the folder must get the fallback page, never the file.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.config import load_config
from infra.local.site import LocalSite, rewrite, security_headers
from infra.local.wiring import DeployedStack, Resolver
from infra.publish import local_site, web_files
from infra.render import render
from tests.support.apps import REPO

INDEX = b"<!doctype html><title>the app</title>"
SECRET = b"the secret outside the site folder"
CONFIG = b'{"apiUrl": "http://localhost:8001"}\n'
HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff"}


@pytest.fixture
def site_folder(tmp_path: Path) -> Path:
    """A site folder, with a secret beside it and links that point inside and outside."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "index.html").write_bytes(SECRET)
    site = tmp_path / "site"
    (site / "assets" / "img").mkdir(parents=True)
    (site / ".well-known").mkdir()
    files = {
        "index.html": INDEX,
        "app.js": b"console.log('app')",
        "style.css": b"body{}",
        "assets/img/logo.png": b"\x89PNG\r\n\x1a\n",
        "assets/icon.svg": b"<svg/>",
        "assets/data.json": b"{}",
        "assets/font.woff2": b"wOF2",
        "assets/blob.bin": b"\x00\x01",
        ".well-known/security.txt": b"Contact: mailto:security@example.com",
        ".DS_Store": b"finder junk",
        "config.json": b'{"stale": "a file on disk, never served"}',
    }
    for name, body in files.items():
        (site / name).write_bytes(body)
    (site / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    (site / "dir-out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (site / "link-in.js").symlink_to(site / "app.js")
    return site


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@contextmanager
def serving(site: LocalSite) -> Iterator[int]:
    server = site.server("127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def get(port: int, target: str, method: str = "GET") -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, response.read())
    finally:
        connection.close()


def raw_get(port: int, target: bytes) -> bytes:
    """The request line exactly as given (http.client would refuse some of these)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


# -- what is served, and how ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/", INDEX, "text/html; charset=utf-8"),
        ("/index.html", INDEX, "text/html; charset=utf-8"),
        ("/app.js", b"console.log('app')", "text/javascript; charset=utf-8"),
        ("/style.css", b"body{}", "text/css; charset=utf-8"),
        ("/assets/img/logo.png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("/assets/icon.svg", b"<svg/>", "image/svg+xml; charset=utf-8"),
        ("/assets/data.json", b"{}", "application/json"),
        ("/assets/font.woff2", b"wOF2", "font/woff2"),
        ("/assets/blob.bin", b"\x00\x01", "application/octet-stream"),
        ("/app.js?v=3#top", b"console.log('app')", "text/javascript; charset=utf-8"),
        ("/assets/img/%6Cogo.png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("/link-in.js", b"console.log('app')", "text/javascript; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_content_type(
    site_folder: Path, path: str, body: bytes, content_type: str
) -> None:
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        answer = get(port, path)
    assert (answer.status, answer.body) == (200, body)
    assert answer.headers["content-type"] == content_type
    assert answer.headers["content-length"] == str(len(body))
    for name, value in HEADERS.items():
        assert answer.headers[name] == value


def test_the_reference_sites_files_are_served_as_publish_uploads_them() -> None:
    """Every file `infra publish` would upload from web/, with the same bytes and headers."""
    folder = REPO / "web"
    uploads = local_site(folder)
    assert len(uploads) > 5
    site = LocalSite(folder, CONFIG, {}, print)
    with serving(site) as port:
        for item in uploads:
            answer = get(port, "/" + item.key)
            assert (answer.status, answer.body) == (200, item.body), item.key
            assert answer.headers["content-type"] == item.content_type, item.key
            assert answer.headers["cache-control"] == item.cache_control, item.key


def test_what_publish_leaves_out_the_site_leaves_out(site_folder: Path) -> None:
    published = {key for key, _ in web_files(site_folder)}
    assert ".well-known/security.txt" in published
    assert ".DS_Store" not in published
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        well_known = get(port, "/.well-known/security.txt")
        hidden = get(port, "/.DS_Store")
    assert well_known.body == b"Contact: mailto:security@example.com"
    assert well_known.headers["content-type"] == "text/plain; charset=utf-8"
    assert (hidden.status, hidden.body) == (200, INDEX)  # not uploaded: the fallback page


@pytest.mark.parametrize("path", ["/config.json", "/config.json?fresh=1"])
def test_config_json_comes_from_memory_and_is_never_cached(site_folder: Path, path: str) -> None:
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        answer = get(port, path)
        index = get(port, "/index.html")
        script = get(port, "/app.js")
    assert (answer.status, answer.body) == (200, CONFIG)
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-frame-options"] == "DENY"
    # Read on every visit, as publish uploads them; other files are cached briefly.
    assert answer.headers["cache-control"] == index.headers["cache-control"] == "no-cache"
    assert script.headers["cache-control"] != "no-cache"


# -- the SPA fallback, as the frontend stack's distribution does it -----------------------------


@pytest.fixture(scope="module")
def frontend_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rendered = render(load_config(REPO / "infra.toml"), tmp_path_factory.mktemp("templates"))
    [frontend] = [r for r in rendered if (r.scope, r.stack) == ("dev", "frontend")]
    return json.loads(frontend.path.read_text())


def test_the_distribution_answers_missing_keys_with_the_index(
    frontend_template: dict[str, Any],
) -> None:
    """What the fallback tests below copy: 403 and 404, for every path, become /index.html."""
    config = frontend_template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    errors = {
        item["ErrorCode"]: (item["ResponsePagePath"], item["ResponseCode"])
        for item in config["CustomErrorResponses"]
    }
    assert errors == {403: ("/index.html", 200), 404: ("/index.html", 200)}
    assert config["DefaultRootObject"] == "index.html"


@pytest.mark.parametrize(
    "path",
    [
        "/gallery",
        "/photos/123",
        "/photos/123/",
        "/assets/",
        "/assets",
        "/missing.js",  # CloudFront rewrites by status, not by extension
        "/assets/img/missing.png",
        "/app.js/",  # no such S3 key
        "/config.json/",
        "/index.html/",
    ],
)
def test_a_path_naming_no_file_gets_the_index_page(site_folder: Path, path: str) -> None:
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        answer = get(port, path)
    assert (answer.status, answer.body) == (200, INDEX)
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["x-frame-options"] == "DENY"


def test_head_answers_the_headers_of_get_without_the_body(site_folder: Path) -> None:
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        head = get(port, "/app.js", "HEAD")
        got = get(port, "/app.js")
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"] == "18"
    assert head.headers["content-type"] == got.headers["content-type"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_methods_the_distribution_does_not_allow_get_no_file(
    site_folder: Path, method: str
) -> None:
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        answer = get(port, "/app.js", method)
    assert answer.status >= 400
    assert b"console.log" not in answer.body


def test_a_folder_without_an_index_answers_404_instead_of_failing(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_bytes(b"x")
    with serving(LocalSite(tmp_path, CONFIG, HEADERS, print)) as port:
        missing = get(port, "/gallery")
        present = get(port, "/app.js")
    assert (missing.status, missing.body) == (404, b"")
    assert missing.headers["x-frame-options"] == "DENY"
    assert (present.status, present.body) == (200, b"x")


def test_an_index_that_links_outside_the_folder_is_not_served(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_bytes(SECRET)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").symlink_to(tmp_path / "secret.txt")
    with serving(LocalSite(site, CONFIG, HEADERS, print)) as port:
        answers = [get(port, path) for path in ("/", "/index.html", "/gallery")]
    assert [answer.status for answer in answers] == [404, 404, 404]
    assert all(SECRET not in answer.body for answer in answers)


# -- nothing outside the folder ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/../secret.txt",
        b"/../../../../../../etc/passwd",
        b"/%2e%2e/secret.txt",
        b"/%2E%2E%2Fsecret.txt",
        b"/..%2fsecret.txt",
        b"/assets/../../secret.txt",
        b"/assets/%2e%2e/%2e%2e/secret.txt",
        b"/%252e%252e/secret.txt",  # encoded twice: a literal "%2e%2e" folder, not a step up
        b"//etc/passwd",
        b"/etc/passwd",
        b"/%2fetc%2fpasswd",
        b"http://evil.example/../secret.txt",
        b"/..\\secret.txt",
        b"/%5c..%5csecret.txt",
        b"/link-out.txt",  # a link in the folder to a file outside it
        b"/dir-out/index.html",  # a linked folder outside it
        b"/%00",
        b"/index.html%00.png",
        b"/app.js%00",
        b"/" + b"a" * 5000,  # a name longer than the file system takes
        b"/" + b"a/" * 3000 + b"x",
        b"/\xff\xfe",
    ],
)
def test_no_request_reads_outside_the_folder(site_folder: Path, target: bytes) -> None:
    with serving(LocalSite(site_folder, CONFIG, HEADERS, print)) as port:
        received = raw_get(port, target)
        after = get(port, "/app.js")  # the server is still there
    status = int(received.split(b" ", 2)[1])
    assert SECRET not in received
    assert b"root:" not in received
    assert (status == 200 and received.endswith(INDEX)) or status >= 400
    assert after.body == b"console.log('app')"


def test_the_folder_is_the_one_given_even_through_a_symlinked_path(tmp_path: Path) -> None:
    """A site folder reached through a link serves its own files and still nothing else."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "index.html").write_bytes(INDEX)
    (real / "app.js").write_bytes(b"real")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    os.symlink(real, tmp_path / "via-link", target_is_directory=True)
    site = LocalSite(tmp_path / "via-link", CONFIG, {}, print)
    assert site.file_for("/app.js") == (real / "app.js").resolve()
    assert site.file_for("/../secret.txt") is None
    assert site.file_for("/../real/app.js") is None  # a step up is no step: /real/app.js


# -- security headers and origins ----------------------------------------------------------------

API = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
COGNITO = "https://cognito-idp.eu-west-1.amazonaws.com"
UPLOADS = "photos-dev-uploads-123456789012-eu-west-1"
MEDIA = "photos-dev-media-123456789012-eu-west-1"
LOCAL_AWS = "http://localhost:4568"
ORIGINS = {
    COGNITO: LOCAL_AWS,
    API: "http://localhost:4567",
    f"https://{UPLOADS}.s3.eu-west-1.amazonaws.com": f"http://{UPLOADS}.localhost:4568",
    f"https://{MEDIA}.s3.eu-west-1.amazonaws.com": f"http://{MEDIA}.localhost:4568",
}


def test_rewrite_replaces_each_aws_origin_and_the_longest_first() -> None:
    origins = {"https://a.example": "http://short", "https://a.example.com": "http://long"}
    text = "connect-src https://a.example.com https://a.example https://b.example"
    assert rewrite(text, origins) == "connect-src http://long http://short https://b.example"
    assert rewrite(text, {}) == text


def test_security_headers_follow_the_frontend_templates_policy(
    frontend_template: dict[str, Any],
) -> None:
    """The deployed policy, resolved with deployed values, with origins made local."""
    stack = DeployedStack(
        "photos-dev-frontend",
        frontend_template,
        {
            "BackendApiUrl": API,
            "DataUploadBucketName": UPLOADS,
            "DataMediaBucketName": MEDIA,
            "BaseAccessLogsBucketName": "photos-main-logs",
        },
        {},
    )
    resolver = Resolver(stack, "eu-west-1", "123456789012", clients=None)
    [policy] = stack.resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    config = resolver.value(policy["Properties"]["ResponseHeadersPolicyConfig"])
    headers = security_headers(config, ORIGINS)

    declared = config["SecurityHeadersConfig"]
    assert headers["x-frame-options"] == declared["FrameOptions"]["FrameOption"]
    assert headers["referrer-policy"] == declared["ReferrerPolicy"]["ReferrerPolicy"]
    assert headers["x-content-type-options"] == "nosniff"
    csp = headers["content-security-policy"]
    deployed = declared["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "amazonaws.com" in deployed and "amazonaws.com" not in csp
    for aws, local in ORIGINS.items():
        assert (aws in deployed) == (local in csp), aws
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src"))
    assert {"http://localhost:4567", LOCAL_AWS} <= set(connect.split())
    # Only the origins changed: every directive keeps its name and its 'self' sources.
    assert [d.split()[0] for d in csp.split("; ")] == [d.split()[0] for d in deployed.split("; ")]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, {}),
        ({"SecurityHeadersConfig": {}}, {}),
        (
            {"SecurityHeadersConfig": {"ContentTypeOptions": {"Override": True}}},
            {"x-content-type-options": "nosniff"},
        ),
        (
            {"SecurityHeadersConfig": {"FrameOptions": {"FrameOption": "SAMEORIGIN"}}},
            {"x-frame-options": "SAMEORIGIN"},
        ),
        (
            {"SecurityHeadersConfig": {"ReferrerPolicy": {"ReferrerPolicy": "no-referrer"}}},
            {"referrer-policy": "no-referrer"},
        ),
        (
            {
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": f"connect-src {API}"}
                }
            },
            {"content-security-policy": "connect-src http://localhost:4567"},
        ),
    ],
)
def test_each_configured_security_header_and_no_other(
    config: dict[str, Any], expected: dict[str, str]
) -> None:
    assert security_headers(config, ORIGINS) == expected
