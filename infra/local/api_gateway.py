"""An HTTP API (API Gateway v2) on localhost, routed from the deployed backend template.

Route selection as API Gateway does it: the most specific route whose method and path
match (literal segments before `{param}`, `{proxy+}` last, `$default` when nothing
else does); CORS preflights answered from the API's CorsConfiguration; a JWT authorizer's
401 before any function runs; the function invoked with a payload 2.0 event built as
AWS builds it, and its answer mapped back (a dict without `statusCode` is a JSON 200).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.functions import FunctionFleet, Invocation
from infra.local.jwt_authorizer import JwtVerifier, Unauthorized, request_claims
from infra.local.topology import Cors, Route

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
TOO_LARGE = (413, "Request Entity Too Large")
# Content types API Gateway passes as text; any other body is base64 (isBase64Encoded),
# a form post (application/x-www-form-urlencoded) too.
TEXT_TYPES = re.compile(r"^(text/.*|application/(json|xml|javascript)|.*\+json|.*\+xml)")

Log = Callable[[str], None]


@dataclass(frozen=True)
class Match:
    route: Route
    parameters: dict[str, str]


def route_pattern(path: str) -> tuple[re.Pattern[str], int, int]:
    """A regex for a route path, and its specificity (literal segments, then fewer greedy)."""
    if path == "$default":
        return re.compile(r".*"), -1, -1
    parts, literal, greedy = [], 0, 0
    for segment in path.strip("/").split("/") if path != "/" else []:
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
            greedy += 1
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            literal += 1
    return re.compile("/" + "/".join(parts)), literal, -greedy


def select_route(routes: list[Route], method: str, path: str) -> Match | None:
    """The route API Gateway would pick for `method path`, with its path parameters."""
    best: tuple[tuple[int, int, int], Match] | None = None
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        pattern, literal, greedy = route_pattern(route.path)
        found = pattern.fullmatch(path)
        if found is None:
            continue
        rank = (literal, greedy, 1 if route.method == method else 0)
        if best is None or rank > best[0]:
            best = (rank, Match(route, {k: v for k, v in found.groupdict().items()}))
    return best[1] if best else None


def allowed_origin(cors: Cors, origin: str) -> str | None:
    if "*" in cors.origins:
        return "*"
    return origin if origin in cors.origins else None


def cors_headers(cors: Cors | None, origin: str | None) -> dict[str, str]:
    """What API Gateway adds to an answer for a cross-origin request."""
    if cors is None or not origin:
        return {}
    allowed = allowed_origin(cors, origin)
    if allowed is None:
        return {}
    headers = {"access-control-allow-origin": allowed, "vary": "origin"}
    if cors.expose:
        headers["access-control-expose-headers"] = ",".join(cors.expose)
    if cors.credentials:
        headers["access-control-allow-credentials"] = "true"
    return headers


def preflight(cors: Cors, headers: dict[str, str]) -> tuple[int, dict[str, str]] | None:
    """API Gateway's answer to a CORS preflight, or None when it is not one."""
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    if not origin or not method:
        return None
    allowed = allowed_origin(cors, origin)
    methods = {m.upper() for m in cors.methods}
    if allowed is None or ("*" not in methods and method.upper() not in methods):
        return 204, {}
    wanted = [
        h.strip().lower()
        for h in headers.get("access-control-request-headers", "").split(",")
        if h.strip()
    ]
    if "*" not in cors.headers and any(h not in cors.headers for h in wanted):
        return 204, {}
    answer = {
        "access-control-allow-origin": allowed,
        "access-control-allow-methods": ",".join(cors.methods),
        "access-control-allow-headers": ",".join(cors.headers),
        "vary": "origin",
    }
    if cors.max_age:
        answer["access-control-max-age"] = str(cors.max_age)
    if cors.credentials:
        answer["access-control-allow-credentials"] = "true"
    return 204, answer


def payload_event(
    route: Match,
    method: str,
    target: str,
    headers: dict[str, list[str]],
    body: bytes,
    source_ip: str,
    api_id: str,
    domain: str,
    claims: dict[str, Any] | None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends a Lambda integration."""
    url = urlsplit(target)
    joined = {name: ",".join(values) for name, values in headers.items()}
    cookies = [c.strip() for v in headers.get("cookie", []) for c in v.split(";") if c.strip()]
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    now = datetime.now(UTC)
    content_type = joined.get("content-type", "")
    text = bool(TEXT_TYPES.match(content_type.lower())) if body else True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route.key,
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": {k: v for k, v in joined.items() if k != "cookie"},
        "requestContext": {
            "accountId": "anonymous" if claims is None else "local",
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=").lower(),
            "routeKey": route.route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    if route.parameters:
        event["pathParameters"] = route.parameters
    if body:
        event["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
    if claims is not None:
        scopes = str(claims.get("scope", "")).split()
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": request_claims(claims), "scopes": scopes or None}
        }
    return event


def message(
    status: int, text: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes, list[str]]:
    """An answer API Gateway makes itself: `{"message": ...}` as JSON."""
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return status, {**headers, "content-type": "application/json"}, body, []


def integration_response(invocation: Invocation) -> tuple[int, dict[str, str], bytes, list[str]]:
    """(status, headers, body, cookies) API Gateway returns for a payload 2.0 answer.

    A failed invocation, or an answer API Gateway cannot map, is its 500.
    """
    if not invocation.ok:
        return message(500, "Internal Server Error", {})
    try:
        return mapped_answer(invocation.result)
    except (TypeError, ValueError, AttributeError):  # binascii.Error is a ValueError
        return message(500, "Internal Server Error", {})


def mapped_answer(result: Any) -> tuple[int, dict[str, str], bytes, list[str]]:
    """A JSON 200 for an answer without `statusCode` (a string is the body itself)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = (result if isinstance(result, str) else json.dumps(result)).encode()
        return 200, {"content-type": "application/json"}, body, []
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ",".join(str(v) for v in values)
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        data = base64.b64decode(str(body))
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    status = result["statusCode"]
    if isinstance(status, bool) or not 100 <= int(status) <= 599:
        raise ValueError(f"statusCode {status!r}")
    if any("\r" in text or "\n" in text for item in headers.items() for text in item):
        raise ValueError("a header with a line break")
    return int(status), headers, data, [str(c) for c in result.get("cookies") or []]


class LocalHttpApi:
    """The API's server: one thread per request, as many at once as the machine takes."""

    def __init__(
        self,
        routes: list[Route],
        cors: Cors | None,
        api_id: str,
        functions: FunctionFleet,
        verifier: JwtVerifier,
        report: Callable[[Invocation], None],
        log: Log,
    ) -> None:
        self.routes = routes
        self.cors = cors
        self.api_id = api_id
        self.functions = functions
        self.verifier = verifier
        self.report = report
        self.log = log

    def handle(
        self, method: str, target: str, headers: dict[str, list[str]], body: bytes, peer: str,
        host: str,
    ) -> tuple[int, dict[str, str], bytes, list[str]]:  # fmt: skip
        """(status, headers, body, cookies) for one request."""
        single = {name: values[-1] for name, values in headers.items()}
        origin = single.get("origin")
        path = urlsplit(target).path or "/"
        if method == "OPTIONS" and self.cors is not None:
            answered = preflight(self.cors, single)
            if answered is not None:
                return answered[0], answered[1], b"", []
        found = select_route(self.routes, method, path)
        extra = cors_headers(self.cors, origin)
        if found is None:
            return (
                404,
                {**extra, "content-type": "application/json"},
                b'{"message":"Not Found"}',
                [],
            )
        claims = None
        if found.route.authorizer is not None:
            try:
                claims = self.verifier.claims(found.route.authorizer, single)
            except Unauthorized as err:
                self.log(f"{method} {path}: 401 ({err})")
                return message(401, "Unauthorized", {**extra, "www-authenticate": "Bearer"})
        if len(body) > MAX_BODY:
            return message(*TOO_LARGE, extra)
        event = payload_event(found, method, target, headers, body, peer, self.api_id, host, claims)
        function = self.functions.by_arn(found.route.function)
        invocation = function.invoke(event, f"{found.route.key}")
        self.report(invocation)
        status, answer, data, cookies = integration_response(invocation)
        if self.cors is not None:  # API Gateway ignores the function's own CORS headers
            answer = {k: v for k, v in answer.items() if not k.startswith("access-control-")}
        return status, {**answer, **extra}, data, cookies

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                try:
                    length = int(self.headers.get("content-length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY:  # answered unread: the connection closes
                    self.close_connection = True
                    extra = cors_headers(api.cors, self.headers.get("origin"))
                    status, text = (400, "Bad Request") if length < 0 else TOO_LARGE
                    self._send(*message(status, text, {**extra, "connection": "close"}))
                    return
                body = self.rfile.read(length) if length else b""
                headers: dict[str, list[str]] = {}
                for name, value in self.headers.items():
                    headers.setdefault(name.lower(), []).append(value)
                self._send(
                    *api.handle(
                        self.command, self.path, headers, body, self.client_address[0],
                        self.headers.get("host", "localhost"),
                    )
                )  # fmt: skip

            def _send(
                self, status: int, answer: dict[str, str], data: bytes, cookies: list[str]
            ) -> None:
                self.send_response(status)
                for name, value in answer.items():
                    if name != "content-length":  # the length is the body's, as on AWS
                        self.send_header(name, value)
                for cookie in cookies:
                    self.send_header("set-cookie", cookie)
                self.send_header("content-length", str(len(data)))
                self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
                self.end_headers()
                if self.command != "HEAD":  # a HEAD answer has the headers of a GET, no body
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        return ThreadingHTTPServer((host, port), Handler)
