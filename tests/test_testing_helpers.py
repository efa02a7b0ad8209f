"""`infra.testing.Handlers`: each function's handler.py under its own name, caches forgotten."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from infra.testing import Handlers, LambdaContext, http_api_event, jwt_claims


def write_handler(lambdas: Path, folder: str, body: str) -> None:
    (lambdas / folder).mkdir(parents=True)
    (lambdas / folder / "handler.py").write_text(body, encoding="utf-8")


def test_two_handlers_load_side_by_side_once_each_and_forget_their_caches(tmp_path: Path) -> None:
    cached = "import functools\n@functools.cache\ndef settings():\n    return object()\n"
    write_handler(tmp_path, "one", f"NAME = 'one'\n{cached}")
    write_handler(tmp_path, "two", f"NAME = 'two'\n{cached}")
    handlers = Handlers(tmp_path, prefix="t1_")
    one, two = handlers.load("one"), handlers.load("two")
    assert (one.NAME, two.NAME) == ("one", "two")
    assert one.__name__ == "t1_one_handler"
    assert handlers.load("one") is one
    first = one.settings()
    assert one.settings() is first
    handlers.clear_caches()
    assert one.settings() is not first


def test_a_folder_without_a_handler_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError, match=re.escape("no handler.py for function folder 'missing'")
    ):
        Handlers(tmp_path).load("missing")


def test_a_signed_in_event_carries_the_authorizer_context_and_a_public_one_none() -> None:
    signed = http_api_event("POST", "/links", claims=jwt_claims("sub-1"), body={"url": "x"})
    assert signed["routeKey"] == "POST /links"
    assert signed["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "sub-1"
    assert signed["headers"]["authorization"].startswith("Bearer ")
    assert json.loads(signed["body"]) == {"url": "x"}
    assert signed["headers"]["content-type"] == "application/json"
    public = http_api_event("GET", "/abc", route_key="GET /{code}", path_parameters={"code": "abc"})
    assert "authorizer" not in public["requestContext"]
    assert "authorization" not in public["headers"]
    assert "body" not in public and "content-type" not in public["headers"]
    assert public["pathParameters"] == {"code": "abc"}
    assert "sub" not in jwt_claims(None)


def test_bytes_arrive_base64_encoded_and_a_query_in_both_forms() -> None:
    event = http_api_event("PUT", "/x", body=b"\xff\x00", query={"a": "1 2"})
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["rawQueryString"] == "a=1+2"
    assert event["queryStringParameters"] == {"a": "1 2"}


def test_the_context_names_the_function_in_its_arn() -> None:
    context = LambdaContext(function_name="links-dev-redirect")
    assert context.invoked_function_arn.endswith(":function:links-dev-redirect")
