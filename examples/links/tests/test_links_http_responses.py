"""http_responses: reading payload 2.0 events, hostile bodies, and safe responses."""

from __future__ import annotations

import base64
import json
from typing import Any

import http_responses
import links_testing as lt
import pytest

LIMIT = http_responses.MAX_BODY_BYTES


def event_with(body: Any, *, base64_body: bool = False) -> dict[str, Any]:
    return lt.create_link_event(body, base64_body=base64_body)


def padded(size: int) -> str:
    """A JSON object of exactly `size` bytes."""
    text = '{"url": "https://example.com/", "pad": ""}'
    return text[:-2] + "x" * (size - len(text)) + '"}'


HOSTILE = {
    "missing": (None, "must be a JSON object"),
    "empty": ("", "must be a JSON object"),
    "not json": ("url=https://example.com", "not valid JSON"),
    "truncated": ('{"url": "https://exa', "not valid JSON"),
    "trailing garbage": ('{"url": "x"} {}', "not valid JSON"),
    "array": ('["https://example.com"]', "must be a JSON object"),
    "string": ('"https://example.com"', "must be a JSON object"),
    "number": ("42", "must be a JSON object"),
    "null": ("null", "must be a JSON object"),
    "true": ("true", "must be a JSON object"),
    "NaN": ('{"url": NaN}', "NaN"),
    "Infinity": ('{"url": -Infinity}', "Infinity"),
    "duplicate key": ('{"url": "a", "url": "b"}', "names a field twice"),
    "deep arrays": ("[" * 3000 + "]" * 3000, "larger than"),
    "deep arrays in limit": ("[" * 2000 + "]" * 2000, "nested"),  # the parser's own limit
    "deep objects in limit": ('{"a":' * 680 + "1" + "}" * 680, "nested more than 20 deep"),
    "21 deep": ('{"a":' * 21 + "1" + "}" * 21, "nested more than 20 deep"),
    "20 deep": ('{"a":' * 20 + "1" + "}" * 20, None),
    "mixed deep": ('{"url": ' + "[" * 20 + "]" * 20 + "}", "nested more than 20 deep"),
    "huge": (padded(LIMIT + 1), f"larger than {LIMIT} bytes"),
    "megabyte": ('{"url": "' + "a" * 1_000_000 + '"}', "larger than"),
    "escaped lone surrogate": ('{"url": "\\ud800"}', "UTF-8"),
    "raw lone surrogate": ('{"url": "\ud800"}', "UTF-8"),
    "surrogate key": ('{"\\udfff": 1}', "UTF-8"),
    "long integer": ('{"n": ' + "9" * 4080 + "}", None),
}

BAD_BASE64 = {
    "not base64": "this is not base64!",
    "bad padding": "eyJ1cmwiOiAiYSJ",
    "latin-1 bytes": base64.b64encode('{"url": "caf\xe9"}'.encode("latin-1")).decode(),
    "huge": base64.b64encode(padded(LIMIT + 1).encode()).decode(),
    "very huge": "A" * 10_000_000,
    "binary": base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00").decode(),
}


class TestJsonObject:
    def test_plain_and_base64_bodies(self) -> None:
        body = {"url": "https://example.com/", "code": "abcd"}
        assert http_responses.json_object(event_with(body)) == body
        assert http_responses.json_object(event_with(body, base64_body=True)) == body

    def test_utf8_text_survives(self) -> None:
        body = {"note": "café ✓ 🙂"}
        assert http_responses.json_object(event_with(json.dumps(body, ensure_ascii=False))) == body
        raw = json.dumps(body, ensure_ascii=False).encode()
        assert http_responses.json_object(event_with(raw)) == body

    def test_exactly_the_limit_is_accepted(self) -> None:
        text = padded(LIMIT)
        assert len(text.encode()) == LIMIT
        assert http_responses.json_object(event_with(text))["url"] == "https://example.com/"
        assert http_responses.json_object(event_with(text.encode()))["url"]

    @pytest.mark.parametrize(("body", "message"), HOSTILE.values(), ids=HOSTILE.keys())
    def test_hostile_bodies_are_bad_requests(self, body: str | None, message: str | None) -> None:
        if message is None:  # fits the limit and is valid: parsed, not refused
            assert http_responses.json_object(event_with(body))
            return
        with pytest.raises(http_responses.BadRequest, match=message):
            http_responses.json_object(event_with(body))

    @pytest.mark.parametrize("body", BAD_BASE64.values(), ids=BAD_BASE64.keys())
    def test_bad_base64_bodies_are_bad_requests(self, body: str) -> None:
        event = event_with("{}")
        event.update(body=body, isBase64Encoded=True)
        with pytest.raises(http_responses.BadRequest):
            http_responses.json_object(event)

    @pytest.mark.parametrize("body", [42, ["a"], {"url": "x"}, b"{}"])
    def test_a_body_that_is_not_text_is_a_bad_request(self, body: object) -> None:
        event = event_with("{}")
        event["body"] = body
        with pytest.raises(http_responses.BadRequest):
            http_responses.json_object(event)

    def test_messages_never_echo_the_body(self) -> None:
        secret = "s3cr3t-" + "x" * 20
        for body in (secret, "[" + secret, f'"{secret}"'):
            with pytest.raises(http_responses.BadRequest) as caught:
                http_responses.json_object(event_with(body))
            assert secret not in str(caught.value)


class TestCaller:
    def test_the_sub_claim(self) -> None:
        assert http_responses.jwt_sub(lt.create_link_event(sub=lt.ALICE)) == lt.ALICE

    def test_no_claim_no_authorizer_no_context(self) -> None:
        assert http_responses.jwt_sub(lt.create_link_event(sub=None)) is None
        assert http_responses.jwt_sub(lt.redirect_event("abcd")) is None
        assert http_responses.jwt_sub({}) is None
        assert http_responses.jwt_sub({"requestContext": "x"}) is None
        assert http_responses.jwt_sub(None) is None

    @pytest.mark.parametrize("sub", ["", 42, ["a"], {"a": 1}, "a/b", "a\nb", "x" * 129])
    def test_odd_subs_are_no_caller(self, sub: object) -> None:
        event = lt.create_link_event()
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
        assert http_responses.jwt_sub(event) is None

    def test_domain_name(self) -> None:
        assert http_responses.domain_name(lt.create_link_event()) == lt.API_DOMAIN
        event = lt.create_link_event()
        event["requestContext"]["domainName"] = "evil.com/\r\nx"
        assert http_responses.domain_name(event) is None

    def test_route_and_path(self) -> None:
        event = lt.redirect_event("abcd")
        assert http_responses.route_key(event) == "GET /{code}"
        assert http_responses.path_parameter(event, "code") == "abcd"
        assert http_responses.path_parameter(lt.redirect_event(None), "code") is None


class TestResponses:
    def test_json_response_shape(self) -> None:
        answer = http_responses.json_response(201, {"code": "abcd"}, {"location": "https://x/y"})
        assert answer == {
            "statusCode": 201,
            "headers": {"content-type": "application/json", "location": "https://x/y"},
            "body": '{"code": "abcd"}',
            "isBase64Encoded": False,
        }

    def test_json_escapes_everything_not_ascii(self) -> None:
        body = http_responses.json_error(400, "caf\xe9 \ud800")["body"]
        assert body.isascii()
        json.loads(body)

    def test_text_response(self) -> None:
        answer = http_responses.text_response(404, "No such link\n")
        assert answer["headers"]["content-type"].startswith("text/plain")
        assert answer["statusCode"] == 404

    @pytest.mark.parametrize(
        "value", ["a\r\nSet-Cookie: x=y", "a\nb", "a\rb", "a\x00b", "a\tb", "a\x7fb"]
    )
    def test_no_header_can_carry_control_characters(self, value: str) -> None:
        with pytest.raises(ValueError, match="control character"):
            http_responses.text_response(302, "", {"location": value})
        with pytest.raises(ValueError, match="control character"):
            http_responses.text_response(302, "", {value: "x"})
