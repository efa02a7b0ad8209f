"""Helpers for an app's own handler tests: its code as its zip runs it, the events AWS sends.

Every function's entry module is `handler.py`, so two functions' handlers cannot share the
module name `handler` in one test session. `Handlers` imports each under a name of its own,
once, and forgets what the handlers cached (settings, boto3 clients made against an earlier
test's AWS) between tests. `http_api_event` and `LambdaContext` are what API Gateway and
Lambda hand a handler, with fixed values so a test's event is the same on every run.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

REGION = "eu-west-1"
ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"


class Handlers:
    """The handlers under `lambdas/`, imported on first use as `<prefix><folder>_handler`."""

    def __init__(self, lambdas: Path, prefix: str = "") -> None:
        self.lambdas = lambdas
        self.prefix = prefix
        self.loaded: dict[str, ModuleType] = {}

    def load(self, folder: str) -> ModuleType:
        """`lambdas/<folder>/handler.py`, imported once."""
        if folder not in self.loaded:
            path = self.lambdas / folder / "handler.py"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no handler.py for function folder {folder!r}")
            spec = importlib.util.spec_from_file_location(f"{self.prefix}{folder}_handler", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"{path}: cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            self.loaded[folder] = module
        return self.loaded[folder]

    def clear_caches(self) -> None:
        """Forget every `functools.cache`d value of the loaded handlers (settings, clients)."""
        for module in self.loaded.values():
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that handlers and powertools' Logger read."""

    function_name: str = "test-fn"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    region: str = REGION
    account: str = ACCOUNT

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"


def jwt_claims(sub: str | None, username: str = "alice", region: str = REGION) -> dict[str, str]:
    """The claims a Cognito access token gives a JWT authorizer's context (`sub` when given)."""
    claims = {
        "iss": f"https://cognito-idp.{region}.amazonaws.com/{region}_AbCdEfGhI",
        "client_id": "4k9d1c2b3a4e5f6g7h8i9j0k1l",
        "token_use": "access",
        "scope": "openid email",
        "auth_time": "1735787045",
        "exp": "1735790645",
        "iat": "1735787045",
        "username": username,
    }
    if sub is not None:
        claims["sub"] = sub
    return claims


def http_api_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    claims: dict[str, str] | None = None,
    body: Any = None,
    base64_body: bool = False,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    region: str = REGION,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event, as API Gateway sends it to the route's function.

    `claims` given: the route is behind the JWT authorizer (see `jwt_claims`); None: a
    public route, with no authorizer context and no Authorization header. A body that is
    not text is sent as JSON; bytes, or `base64_body`, arrive base64-encoded.
    """
    domain = f"{API_ID}.execute-api.{region}.amazonaws.com"
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    if isinstance(body, bytes):
        body, base64_body = base64.b64encode(body).decode(), True
    elif body is not None and base64_body:
        body = base64.b64encode(body.encode()).decode()
    route = route_key or f"{method} {path}"
    headers = {
        "accept": "*/*",
        "host": domain,
        "user-agent": "Mozilla/5.0 (pytest)",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    context: dict[str, Any] = {
        "accountId": account,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.10",
            "userAgent": headers["user-agent"],
        },
        "requestId": "Jc2cOjLkDoEEMmA=",
        "routeKey": route,
        "stage": "$default",
        "time": "02/Jan/2025:03:04:05 +0000",
        "timeEpoch": 1735787045000,
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
        headers["authorization"] = "Bearer eyJraWQiOi.example.signature"
    if body is not None:
        headers["content-type"] = "application/json"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    if path_parameters is not None:
        event["pathParameters"] = path_parameters
    return event
