"""The site, served from its folder as CloudFront serves it, with a config.json for local use.

Same files, same content types and cache headers as `infra publish` puts in the bucket, the
security headers of the frontend template's response headers policy, and the SPA
fallback (an unknown path answers index.html). The Content-Security-Policy and
config.json are the deployed ones with AWS's origins turned into the local ones, so
the page talks to the local API, Cognito and buckets under the same rules.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.publish import CONFIG_KEY, INDEX_KEY, cache_control, content_type

Log = Callable[[str], None]


def rewrite(text: str, origins: Mapping[str, str]) -> str:
    """`text` with every AWS origin replaced by its local counterpart (longest first)."""
    for aws in sorted(origins, key=len, reverse=True):
        text = text.replace(aws, origins[aws])
    return text


def security_headers(config: Mapping[str, Any], origins: Mapping[str, str]) -> dict[str, str]:
    """The headers a CloudFront response headers policy's SecurityHeadersConfig adds."""
    headers: dict[str, str] = {}
    security = config.get("SecurityHeadersConfig") or {}
    policy = (security.get("ContentSecurityPolicy") or {}).get("ContentSecurityPolicy")
    if policy:
        headers["content-security-policy"] = rewrite(str(policy), origins)
    if security.get("ContentTypeOptions") is not None:
        headers["x-content-type-options"] = "nosniff"
    frame = (security.get("FrameOptions") or {}).get("FrameOption")
    if frame:
        headers["x-frame-options"] = str(frame)
    referrer = (security.get("ReferrerPolicy") or {}).get("ReferrerPolicy")
    if referrer:
        headers["referrer-policy"] = str(referrer)
    return headers


class LocalSite:
    """Serves `folder` plus `config` (the bytes of config.json) with `headers` on each answer."""

    def __init__(self, folder: Path, config: bytes, headers: dict[str, str], log: Log) -> None:
        self.folder = folder.resolve()
        self.config = config
        self.headers = headers
        self.log = log

    def file_for(self, path: str) -> Path | None:
        """The file a URL path names inside the folder; never anything outside it.

        As `infra publish` publishes: no hidden file (.DS_Store), but .well-known/ is there;
        and as S3 keys go, `/app.js/` names no file.
        """
        decoded = unquote(path)
        clean = posixpath.normpath("/" + decoded).lstrip("/")
        if clean in ("", "."):
            clean = INDEX_KEY
        elif decoded.endswith("/"):
            return None
        try:
            candidate = (self.folder / clean).resolve()
            if not candidate.is_relative_to(self.folder) or not candidate.is_file():
                return None
        except (OSError, ValueError):  # a NUL byte, a name too long: no such file
            return None
        if candidate.name.startswith("."):
            return None
        return candidate

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        target = urlsplit(path).path
        key = posixpath.normpath("/" + unquote(target)).lstrip("/")
        if key == CONFIG_KEY and not unquote(target).endswith("/"):
            body, name = self.config, CONFIG_KEY
        else:
            found = self.file_for(target)
            if found is None:  # CloudFront's SPA fallback: 403/404 become index.html, 200
                found = self.file_for("/")
            if found is None:  # no index.html in the folder: the error itself
                return 404, {"content-type": "text/plain; charset=utf-8", **self.headers}, b""
            body, name = found.read_bytes(), found.relative_to(self.folder).as_posix()
        headers = {
            "content-type": content_type(name),
            "cache-control": cache_control(name),
            **self.headers,
        }
        return 200, headers, body

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                status, headers, body = site.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET

        return ThreadingHTTPServer((host, port), Handler)
