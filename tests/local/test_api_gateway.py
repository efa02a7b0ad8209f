"""The local HTTP API answers as API Gateway's HTTP API does, over a real socket.

Route selection, CORS, the payload 2.0 event, the mapping of a function's answer and the
JWT authorizer's 401, each with the case that must pass beside the one that must not.
The functions are fakes with the fleet's interface (`by_arn` -> `invoke(event, trigger)`
-> `Invocation`), so every event they receive is kept; the tokens are signed here with a
key the verifier is given, so no network is involved beyond 127.0.0.1.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from infra.errors import InfraError
from infra.local.api_gateway import MAX_BODY, LocalHttpApi, select_route
from infra.local.functions import Invocation
from infra.local.jwt_authorizer import JwtVerifier
from infra.local.topology import Authorizer, Cors, Route

POOL = "eu-west-1_LocalPool"
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}"
CLIENT = "web-client-id"
ORIGIN = "http://localhost:5173"
AUTHORIZER = Authorizer(ISSUER, (CLIENT,))
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
STRANGER_KEY = RSAKey.generate_key(2048, parameters={"kid": "pool-key"})
CORS = Cors(
    origins=(ORIGIN,),
    methods=("DELETE", "GET", "OPTIONS", "POST"),
    headers=("authorization", "content-type"),
    expose=("x-request-id",),
    max_age=600,
)


def token(key: RSAKey = SIGNING_KEY, **changes: Any) -> str:
    """An ID token of the pool, valid for five minutes, with `changes` (None: left out)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "user-1",
        "token_use": "id",
        "iat": now,
        "exp": now + 300,
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": "pool-key"}, claims, key)


def verifier() -> JwtVerifier:
    """A verifier holding the pool's public keys; its endpoint is a closed port."""
    public = KeySet.import_key_set({"keys": [SIGNING_KEY.as_dict(private=False)]})
    return JwtVerifier("http://127.0.0.1:9", keys={POOL: public})


# -- fakes with FunctionFleet's interface -------------------------------------------------------


@dataclass
class FakeFunction:
    """Answers `result` (or fails, when `fails`), keeping every event it was given."""

    name: str
    result: Any = None
    fails: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: Any, trigger: str) -> Invocation:
        self.events.append(json.loads(json.dumps(event)))  # Lambda gets JSON, nothing else
        if self.fails:
            return Invocation(self.name, trigger, False, 0.01, None, "Boom", "it broke", ("x",))
        return Invocation(self.name, trigger, True, 0.01, self.result)


@dataclass
class FakeFleet:
    functions: dict[str, FakeFunction]

    def by_arn(self, arn: str) -> FakeFunction:
        if arn not in self.functions:
            raise InfraError(f"no local function for {arn}")
        return self.functions[arn]


def route(key: str, function: str = "fn", authorizer: Authorizer | None = None) -> Route:
    method, _, path = key.partition(" ") if key != "$default" else ("ANY", "", "$default")
    return Route(method, path, key, function, authorizer)


@dataclass
class Api:
    port: int
    functions: dict[str, FakeFunction]
    reported: list[Invocation]
    logged: list[str]

    @property
    def fn(self) -> FakeFunction:
        return self.functions["fn"]


@contextmanager
def running(
    routes: list[Route],
    cors: Cors | None = CORS,
    functions: dict[str, FakeFunction] | None = None,
) -> Iterator[Api]:
    """The API on 127.0.0.1 (a free port), stopped when the block ends."""
    functions = functions or {"fn": FakeFunction("fn", {"statusCode": 200, "body": "ok"})}
    reported: list[Invocation] = []
    logged: list[str] = []
    api = LocalHttpApi(
        routes, cors, "api1234", FakeFleet(functions), verifier(), reported.append, logged.append
    )
    server = api.server("127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield Api(server.server_address[1], functions, reported, logged)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Answer:
    """One request with exactly these headers (repeats kept), as a browser or curl sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        own_host = any(name.lower() == "host" for name, _ in headers)
        connection.putrequest(method, target, skip_host=own_host, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def raw(port: int, data: bytes, seconds: float = 5.0) -> bytes:
    """Bytes sent as they are; what comes back until the server closes (or `seconds` pass)."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as connection:
        connection.sendall(data)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            received += b"<no more>"
        return received


# -- route selection ----------------------------------------------------------------------------

ROUTES = [
    route("GET /images"),
    route("ANY /images"),
    route("GET /images/special"),
    route("GET /images/{id}"),
    route("DELETE /images/{id}"),
    route("ANY /images/{id}"),
    route("GET /files/{proxy+}"),
    route("ANY /{proxy+}"),
    route("$default"),
]


@pytest.mark.parametrize(
    ("method", "path", "key", "parameters"),
    [
        # A literal route beats a {param} one, which beats {proxy+}, which beats $default.
        ("GET", "/images/special", "GET /images/special", {}),
        ("GET", "/images/42", "GET /images/{id}", {"id": "42"}),
        ("GET", "/files/a/b/c.txt", "GET /files/{proxy+}", {"proxy": "a/b/c.txt"}),
        ("GET", "/other/x", "ANY /{proxy+}", {"proxy": "other/x"}),
        # A {param} is one whole segment: more segments fall through to {proxy+}.
        ("GET", "/images/42/extra", "ANY /{proxy+}", {"proxy": "images/42/extra"}),
        # The request's own method beats ANY for the same path; ANY takes the others.
        ("GET", "/images", "GET /images", {}),
        ("POST", "/images", "ANY /images", {}),
        ("DELETE", "/images/7", "DELETE /images/{id}", {"id": "7"}),
        ("PUT", "/images/7", "ANY /images/{id}", {"id": "7"}),
        # {proxy+} needs at least one character: "/" is left to $default.
        ("GET", "/", "$default", {}),
    ],
)
def test_the_most_specific_route_is_chosen(
    method: str, path: str, key: str, parameters: dict[str, str]
) -> None:
    found = select_route(ROUTES, method, path)
    assert found is not None
    assert (found.route.key, found.parameters) == (key, parameters)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/images/special"),  # only GET is declared for it, and no ANY catches it
        ("GET", "/images/"),  # the empty segment is no {id}
        ("GET", "/imagesX"),
        ("GET", "/"),
    ],
)
def test_without_a_catch_all_an_unmatched_request_has_no_route(method: str, path: str) -> None:
    routes = [route("GET /images"), route("GET /images/special"), route("GET /images/{id}")]
    assert select_route(routes, method, path) is None


def test_an_unrouted_request_is_a_404_and_invokes_nothing() -> None:
    with running([route("GET /images")]) as api:
        missing = call(api.port, "POST", "/images")
        found = call(api.port, "GET", "/images")
    assert (missing.status, missing.json) == (404, {"message": "Not Found"})
    assert found.status == 200
    assert [event["routeKey"] for event in api.fn.events] == ["GET /images"]


def test_each_route_invokes_its_own_function() -> None:
    functions = {
        name: FakeFunction(name, {"statusCode": 200, "body": name}) for name in ("one", "two")
    }
    routes = [route("GET /one", "one"), route("GET /{other}", "two")]
    with running(routes, functions=functions) as api:
        answers = [call(api.port, "GET", path).body for path in ("/one", "/two", "/one")]
    assert answers == [b"one", b"two", b"one"]
    assert len(functions["one"].events) == 2
    assert functions["two"].events[0]["pathParameters"] == {"other": "two"}
    assert [invocation.function for invocation in api.reported] == ["one", "two", "one"]


# -- CORS ---------------------------------------------------------------------------------------


def preflight_headers(origin: str = ORIGIN, method: str = "POST", wanted: str = "") -> list:
    headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    return [*headers, ("Access-Control-Request-Headers", wanted)] if wanted else headers


def test_an_allowed_preflight_is_answered_by_the_api_itself() -> None:
    with running([route("POST /images", authorizer=AUTHORIZER)]) as api:
        answer = call(
            api.port, "OPTIONS", "/images", preflight_headers(wanted="Authorization, Content-Type")
        )
    assert answer.status == 204
    assert answer.header("access-control-allow-origin") == ORIGIN
    assert set(answer.header("access-control-allow-methods").split(",")) == set(CORS.methods)
    assert set(answer.header("access-control-allow-headers").split(",")) == set(CORS.headers)
    assert answer.header("access-control-max-age") == str(CORS.max_age)
    assert answer.header("access-control-allow-credentials") is None
    assert api.fn.events == []  # no OPTIONS route, no token: the API answers alone


@pytest.mark.parametrize(
    "headers",
    [
        preflight_headers(origin="https://evil.example"),
        preflight_headers(origin=ORIGIN + ".evil.example"),
        preflight_headers(origin="http://localhost:5174"),
        preflight_headers(method="PUT"),
        preflight_headers(wanted="authorization, x-secret"),
    ],
    ids=["other-origin", "origin-prefix", "other-port", "method", "header"],
)
def test_a_refused_preflight_gets_no_cors_headers(headers: list) -> None:
    with running([route("ANY /{proxy+}")]) as api:
        answer = call(api.port, "OPTIONS", "/images", headers)
    assert answer.status == 204
    assert not [name for name, _ in answer.headers if name.lower().startswith("access-control-")]
    assert api.fn.events == []


def test_credentials_and_wildcards_as_the_cors_configuration_says() -> None:
    cors = Cors(origins=("*",), methods=("*",), headers=("*",), credentials=True)
    with running([route("GET /images")], cors=cors) as api:
        answer = call(
            api.port, "OPTIONS", "/images", preflight_headers("https://any.example", "PATCH", "x")
        )
        normal = call(api.port, "GET", "/images", [("Origin", "https://any.example")])
    assert answer.status == 204
    assert answer.header("access-control-allow-origin") == "*"
    assert answer.header("access-control-allow-credentials") == "true"
    assert normal.header("access-control-allow-credentials") == "true"


def test_an_options_request_that_is_no_preflight_is_routed() -> None:
    with running([route("GET /images"), route("OPTIONS /images")]) as api:
        answer = call(api.port, "OPTIONS", "/images", [("Origin", ORIGIN)])
    assert answer.status == 200
    assert [event["routeKey"] for event in api.fn.events] == ["OPTIONS /images"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [(ORIGIN, True), ("https://evil.example", False), (None, False)],
)
def test_answers_carry_cors_headers_for_allowed_origins_only(
    origin: str | None, allowed: bool
) -> None:
    headers = [("Origin", origin)] if origin else []
    with running([route("GET /images"), route("GET /private", authorizer=AUTHORIZER)]) as api:
        ok = call(api.port, "GET", "/images", headers)
        refused = call(api.port, "GET", "/private", headers)
        missing = call(api.port, "GET", "/nothing", headers)
    assert (ok.status, refused.status, missing.status) == (200, 401, 404)
    for answer in (ok, refused, missing):
        assert answer.header("access-control-allow-origin") == (ORIGIN if allowed else None)
        assert answer.header("access-control-expose-headers") == (
            "x-request-id" if allowed else None
        )


def test_the_functions_own_cors_headers_are_ignored_when_the_api_has_cors() -> None:
    """API Gateway ignores CORS headers from the integration once the API configures CORS."""
    lax = {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*", "X-Kept": "1"}}
    functions = {"fn": FakeFunction("fn", lax)}
    with running([route("GET /images")], functions=functions) as api:
        stranger = call(api.port, "GET", "/images", [("Origin", "https://evil.example")])
        friend = call(api.port, "GET", "/images", [("Origin", ORIGIN)])
    with running([route("GET /images")], cors=None, functions=functions) as api:
        no_cors = call(api.port, "GET", "/images", [("Origin", "https://evil.example")])
    assert stranger.header("access-control-allow-origin") is None
    assert friend.header("access-control-allow-origin") == ORIGIN
    assert no_cors.header("access-control-allow-origin") == "*"
    assert stranger.header("x-kept") == friend.header("x-kept") == "1"


# -- the payload 2.0 event ----------------------------------------------------------------------


def test_the_event_is_payload_format_2_0() -> None:
    with running([route("GET /images/{id}")]) as api:
        call(
            api.port,
            "GET",
            "/images/42?size=big&tag=a&tag=b&q=x%20y&empty=",
            [
                ("X-Multi", "one"),
                ("X-Multi", "two"),
                ("Cookie", "session=abc; theme=dark"),
                ("Cookie", "lang=en"),
                ("User-Agent", "tests/1.0"),
                ("Host", "api.localhost"),
            ],
        )
    [event] = api.fn.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /images/{id}"
    assert event["rawPath"] == "/images/42"
    assert event["rawQueryString"] == "size=big&tag=a&tag=b&q=x%20y&empty="
    assert event["queryStringParameters"] == {"size": "big", "tag": "a,b", "q": "x y", "empty": ""}
    assert event["pathParameters"] == {"id": "42"}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["user-agent"] == "tests/1.0"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=en"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/images/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests/1.0",
    }
    assert (context["apiId"], context["stage"]) == ("api1234", "$default")
    assert (context["domainName"], context["domainPrefix"]) == ("api.localhost", "api")
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60
    assert "authorizer" not in context


def test_an_event_without_query_cookies_or_parameters_leaves_those_fields_out() -> None:
    with running([route("GET /images")]) as api:
        call(api.port, "GET", "/images")
    [event] = api.fn.events
    assert event["rawQueryString"] == ""
    assert not {"queryStringParameters", "cookies", "pathParameters", "body"} & set(event)


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", b'{"name": "caf\xc3\xa9"}', False),
        ("application/json; charset=utf-8", b"[1, 2]", False),
        ("text/plain", b"hello", False),
        ("application/problem+json", b"{}", False),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\xff", True),
        ("application/octet-stream", b"\x00\x01\x02", True),
        # A form post arrives base64-encoded on an HTTP API, as does a body of no type.
        ("application/x-www-form-urlencoded", b"a=1&b=2", True),
        (None, b"plain?", True),
    ],
)
def test_a_body_is_text_or_base64_by_its_content_type(
    content_type: str | None, body: bytes, encoded: bool
) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    with running([route("POST /upload")]) as api:
        call(api.port, "POST", "/upload", headers, body)
    [event] = api.fn.events
    assert event["isBase64Encoded"] is encoded
    received = base64.b64decode(event["body"]) if encoded else event["body"].encode()
    assert received == body


def test_a_verified_tokens_claims_reach_the_function_as_strings() -> None:
    signed = token(**{"cognito:groups": ["admins", "editors"], "email_verified": True})
    access = token(aud=None, client_id=CLIENT, token_use="access", scope="photos/read openid")
    with running([route("GET /me", authorizer=AUTHORIZER)]) as api:
        first = call(api.port, "GET", "/me", [("Authorization", f"Bearer {signed}")])
        second = call(api.port, "GET", "/me", [("Authorization", f"Bearer {access}")])
    assert (first.status, second.status) == (200, 200)
    id_event, access_event = api.fn.events
    claims = id_event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "user-1"
    assert claims["cognito:groups"] == "[admins editors]"
    assert claims["email_verified"] == "true"
    assert claims["exp"] == str(int(claims["exp"]))
    assert id_event["requestContext"]["authorizer"]["jwt"]["scopes"] is None
    scopes = access_event["requestContext"]["authorizer"]["jwt"]["scopes"]
    assert scopes == ["photos/read", "openid"]


# -- the function's answer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        (
            {"statusCode": 201, "headers": {"X-Made": "yes"}, "body": "made"},
            201,
            {"x-made": "yes"},
            b"made",
        ),
        (
            {"statusCode": 302, "headers": {"Location": "https://example.com/x"}},
            302,
            {"location": "https://example.com/x"},
            b"",
        ),
        (
            {
                "statusCode": 200,
                "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\x89PNG\x00\xff").decode(),
                "isBase64Encoded": True,
            },
            200,
            {"content-type": "image/png"},
            b"\x89PNG\x00\xff",
        ),
        # No statusCode: API Gateway makes a JSON 200 of it; a string is the body itself.
        ({"message": "hi"}, 200, {"content-type": "application/json"}, b'{"message": "hi"}'),
        ([1, 2], 200, {"content-type": "application/json"}, b"[1, 2]"),
        ("Hello from Lambda!", 200, {"content-type": "application/json"}, b"Hello from Lambda!"),
    ],
)
def test_the_functions_answer_is_mapped_as_api_gateway_maps_it(
    result: Any, status: int, headers: dict[str, str], body: bytes
) -> None:
    with running([route("GET /x")], functions={"fn": FakeFunction("fn", result)}) as api:
        answer = call(api.port, "GET", "/x")
    assert answer.status == status
    assert answer.body == body
    for name, value in headers.items():
        assert answer.header(name) == value
    assert answer.header("content-length") == str(len(body))


def test_each_cookie_of_the_answer_is_a_set_cookie_header() -> None:
    result = {"statusCode": 200, "cookies": ["a=1; Path=/; HttpOnly", "b=2"], "body": ""}
    with running([route("GET /x")], functions={"fn": FakeFunction("fn", result)}) as api:
        answer = call(api.port, "GET", "/x")
    assert answer.all("set-cookie") == ["a=1; Path=/; HttpOnly", "b=2"]


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "teapot"},
        {"statusCode": 99},
        {"statusCode": 1000},
        {"statusCode": True},
        {"statusCode": 200, "headers": ["x-not", "a-map"]},
        # A header value with a line break would split the answer: API Gateway refuses it.
        {"statusCode": 302, "headers": {"Location": "https://x\r\nSet-Cookie: stolen=1"}},
    ],
)
def test_an_answer_that_cannot_be_mapped_is_a_500(result: Any) -> None:
    with running([route("GET /x")], functions={"fn": FakeFunction("fn", result)}) as api:
        answer = call(api.port, "GET", "/x", [("Origin", ORIGIN)])
        after = call(api.port, "GET", "/x")  # the server is still there
    assert (answer.status, answer.json) == (500, {"message": "Internal Server Error"})
    assert answer.header("set-cookie") is None
    assert answer.header("access-control-allow-origin") == ORIGIN
    assert after.status == 500


def test_a_function_error_is_a_500_with_cors_and_is_reported() -> None:
    functions = {"fn": FakeFunction("fn", fails=True)}
    with running([route("GET /x")], functions=functions) as api:
        answer = call(api.port, "GET", "/x", [("Origin", ORIGIN)])
    assert (answer.status, answer.json) == (500, {"message": "Internal Server Error"})
    assert answer.header("content-type") == "application/json"
    assert answer.header("access-control-allow-origin") == ORIGIN
    assert b"it broke" not in answer.body  # the error stays in the log, not with the caller
    [invocation] = api.reported
    assert (invocation.ok, invocation.error_type) == (False, "Boom")


def test_a_head_answer_has_no_body_and_the_connection_stays_usable() -> None:
    result = {"statusCode": 200, "body": "twelve bytes"}
    routes = [route("HEAD /x"), route("GET /x")]
    with running(routes, functions={"fn": FakeFunction("fn", result)}) as api:
        connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
        try:
            connection.request("HEAD", "/x")
            head = connection.getresponse()
            head_body = head.read()
            connection.request("GET", "/x")  # the same connection: keep-alive
            get = connection.getresponse()
            get_body = get.read()
        finally:
            connection.close()
    assert (head.status, head_body, head.getheader("content-length")) == (200, b"", "12")
    assert (get.status, get_body) == (200, b"twelve bytes")


# -- the JWT authorizer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        lambda: None,
        lambda: "",
        lambda: "Bearer",
        lambda: "Bearer ",
        lambda: "Bearer not-a-token",
        lambda: "Basic dXNlcjpwYXNz",
        lambda: f"Bearer {token(exp=int(time.time()) - 1)}",
        lambda: f"Bearer {token(aud='another-client')}",
        lambda: f"Bearer {token(iss=ISSUER.replace(POOL, 'eu-west-1_Other'))}",
        lambda: f"Bearer {token(key=STRANGER_KEY)}",
        lambda: f"Bearer {token()[:-4]}AAAA",
    ],
    ids=[
        "none", "empty", "bearer-only", "bearer-space", "garbage", "basic", "expired",
        "audience", "issuer", "other-key", "signature",
    ],
)  # fmt: skip
def test_a_missing_or_bad_token_is_a_401_before_any_function_runs(
    authorization: Callable[[], str | None],
) -> None:
    value = authorization()  # made now: a token's times count from the test, not collection
    headers = [("Authorization", value)] if value is not None else []
    with running([route("GET /me", authorizer=AUTHORIZER)]) as api:
        answer = call(api.port, "GET", "/me", [*headers, ("Origin", ORIGIN)])
    assert (answer.status, answer.json) == (401, {"message": "Unauthorized"})
    assert answer.header("access-control-allow-origin") == ORIGIN
    assert api.fn.events == []
    assert api.reported == []
    assert len(api.logged) == 1 and "401" in api.logged[0]


@pytest.mark.parametrize(
    "authorization",
    [
        lambda: f"Bearer {token()}",
        lambda: f"bearer {token()}",
        lambda: f"BEARER  {token()}",
        lambda: token(),
    ],
    ids=["bearer", "lowercase", "uppercase-spaces", "bare-token"],
)
def test_a_valid_token_reaches_the_function(authorization: Callable[[], str]) -> None:
    with running([route("GET /me", authorizer=AUTHORIZER), route("GET /open")]) as api:
        answer = call(api.port, "GET", "/me", [("Authorization", authorization())])
        public = call(api.port, "GET", "/open")
    assert (answer.status, public.status) == (200, 200)
    signed, anonymous = api.fn.events
    assert signed["requestContext"]["authorizer"]["jwt"]["claims"]["aud"] == CLIENT
    assert "authorizer" not in anonymous["requestContext"]


# -- attacks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/images/..%2Fadmin", "/images/%2e%2e%2fadmin", "/images/a%2Fb", "/images/%00"],
)
def test_an_encoded_slash_or_dot_segment_stays_inside_its_path_parameter(target: str) -> None:
    functions = {"images": FakeFunction("images", "img"), "admin": FakeFunction("admin", "adm")}
    routes = [route("GET /images/{id}", "images"), route("GET /admin", "admin")]
    with running(routes, functions=functions) as api:
        answer = call(api.port, "GET", target)
        admin = call(api.port, "GET", "/admin")
    assert (answer.status, answer.body) == (200, b"img")
    assert (admin.status, admin.body) == (200, b"adm")
    [event] = functions["images"].events
    assert event["routeKey"] == "GET /images/{id}"
    assert len(functions["admin"].events) == 1


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /x HTTP/1.1\r\nHost: a\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\r\n" + b"X-Many: v\r\n" * 150 + b"\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    ],
    ids=["huge-header", "too-many-headers", "huge-path"],
)  # fmt: skip
def test_oversized_requests_are_refused_and_the_server_carries_on(request_bytes: bytes) -> None:
    with running([route("ANY /{proxy+}")]) as api:
        refused = raw(api.port, request_bytes)
        after = call(api.port, "GET", "/x")
    status = int(refused.split(b" ", 2)[1])
    assert status in (414, 431)
    assert after.status == 200
    assert len(api.fn.events) == 1  # only the request after


@pytest.mark.parametrize(
    ("length", "status"),
    [("abc", 400), ("-1", 400), ("1e3", 400), (str(MAX_BODY + 1), 413), ("9" * 30, 413)],
)
def test_a_bad_or_oversized_content_length_is_refused_without_reading(
    length: str, status: int
) -> None:
    request = f"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n\r\n".encode()
    with running([route("ANY /{proxy+}")]) as api:
        started = time.monotonic()
        refused = raw(api.port, request)
        seconds = time.monotonic() - started
    assert refused.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"<no more>" not in refused and seconds < 4  # answered, and the connection closed
    assert api.fn.events == []


def test_a_large_body_within_the_limit_is_delivered_whole() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB of every byte value
    with running([route("POST /x")]) as api:
        answer = call(api.port, "POST", "/x", [("Content-Type", "application/octet-stream")], body)
    assert answer.status == 200
    assert base64.b64decode(api.fn.events[0]["body"]) == body


@pytest.mark.parametrize("body", [b"\xff\xfe\xfd", b'{"a": "\xc3"}', b"\xed\xa0\x80"])
def test_a_text_body_that_is_not_utf8_still_reaches_the_function_as_json(body: bytes) -> None:
    with running([route("POST /x")]) as api:
        answer = call(api.port, "POST", "/x", [("Content-Type", "application/json")], body)
        after = call(api.port, "POST", "/x", [("Content-Type", "application/json")], b"{}")
    assert (answer.status, after.status) == (200, 200)
    first, second = api.fn.events
    assert isinstance(first["body"], str) and first["isBase64Encoded"] is False
    assert second["body"] == "{}"


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "CONNECT", "BREW"])
def test_a_method_the_api_does_not_know_invokes_nothing(method: str) -> None:
    with running([route("ANY /{proxy+}"), route("$default")]) as api:
        refused = raw(api.port, f"{method} /x HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        after = call(api.port, "GET", "/x")
    assert int(refused.split(b" ", 2)[1]) >= 400
    assert after.status == 200
    assert [event["requestContext"]["http"]["method"] for event in api.fn.events] == ["GET"]


def test_a_path_with_raw_non_ascii_bytes_is_routed_without_breaking_the_event() -> None:
    with running([route("GET /images/{id}")]) as api:
        answer = raw(
            api.port, b"GET /images/\xff\xfe HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
    assert answer.startswith(b"HTTP/1.1 200 ")
    [event] = api.fn.events
    assert event["routeKey"] == "GET /images/{id}"
