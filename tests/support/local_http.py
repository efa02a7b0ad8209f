"""HTTP as a browser or a script speaks it to a local run: plain calls, the bucket's form POST.

Shared by the local-run tests and `benchmarks/local.py`, so both drive the app the same way.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw

from tests.support.local_run import Running

WAIT_SECONDS = 90


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, dict(err.headers.items()), err.read())


def eventually(check: Callable[[], Any], what: str = "", seconds: float = WAIT_SECONDS) -> Any:
    """`check()`'s first truthy answer, asked again until `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never happened after {seconds} s: {what or check}")


def jpeg() -> bytes:
    image = Image.new("RGB", (900, 600), (30, 90, 160))
    draw = ImageDraw.Draw(image)
    for step in range(0, 900, 60):
        draw.ellipse(
            (step, step // 3, step + 120, step // 3 + 120), fill=(220, 200 - step // 6, 40)
        )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def post_form(run: Running, upload: dict[str, Any], body: bytes, content_type: str) -> Answer:
    """The browser's multipart POST to the bucket, to the address the function signed."""
    boundary = "----photos-test"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in upload["fields"].items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + body
        + b"\r\n"
    )
    data = b"".join(parts) + f"--{boundary}--\r\n".encode()
    url = upload["url"]
    # `<bucket>.localhost` is this machine (browsers know it); urllib asks the resolver.
    host = url.split("//", 1)[1].split("/", 1)[0]
    request = urllib.request.Request(
        f"http://127.0.0.1:{run.ports.aws}/",
        data=data,
        method="POST",
        headers={"host": host, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, dict(err.headers.items()), err.read())
