"""POST /links: the create-link handler against moto's table."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import create_link_logic
import link_codes
import links_testing as lt
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.usefixtures("aws")

URL = "https://example.com/some/page?ref=newsletter"


@pytest.fixture
def create(create_link_handler: ModuleType, context: Any) -> Callable[..., dict[str, Any]]:
    """Call the handler with a POST /links event; returns the response, body decoded."""

    def call(body: Any = None, **kwargs: Any) -> dict[str, Any]:
        response = create_link_handler.lambda_handler(lt.create_link_event(body, **kwargs), context)
        assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
        assert response["headers"]["content-type"] == "application/json"
        return response | {"json": json.loads(response["body"])}

    return call


def test_a_generated_code(create: Any, get_item: Any) -> None:
    before = int(time.time())
    response = create({"url": URL})
    after = int(time.time())
    assert response["statusCode"] == 201
    body = response["json"]
    code = body["code"]
    assert len(code) == 7 and link_codes.is_usable_code(code)
    assert body["url"] == URL
    assert body["shortUrl"] == f"https://{lt.API_DOMAIN}/{code}"
    assert response["headers"]["location"] == body["shortUrl"]

    item = get_item(f"LINK#{code}", "LINK")
    assert item is not None
    assert item["url"] == URL
    assert item["owner"] == lt.ALICE
    assert item["clicks"] == 0
    week = 7 * 86400  # LINK_TTL_DAYS is 7
    assert before + week <= item["expires_at"] <= after + week
    created = datetime.strptime(item["created_at"], link_codes.ISO_FORMAT).replace(tzinfo=UTC)
    assert before - 1 <= created.timestamp() <= after + 1
    expires = datetime.fromtimestamp(int(item["expires_at"]), UTC)
    assert body["expiresAt"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(item) == {"pk", "sk", "url", "owner", "created_at", "expires_at", "clicks"}


def test_two_links_get_two_codes(create: Any, all_items: Any) -> None:
    first, second = create({"url": URL}), create({"url": URL})
    assert first["json"]["code"] != second["json"]["code"]
    assert len(all_items()) == 2


def test_a_custom_code(create: Any, get_item: Any) -> None:
    response = create({"url": URL, "code": "spring-sale_25"})
    assert response["statusCode"] == 201
    assert response["json"]["code"] == "spring-sale_25"
    assert get_item("LINK#spring-sale_25", "LINK")["url"] == URL


def test_a_custom_code_that_exists_is_a_conflict(
    create: Any, seed_link: Any, get_item: Any
) -> None:
    original = seed_link("taken1", "https://first.example/", owner=lt.BOB, clicks=5)
    response = create({"url": URL, "code": "taken1"})
    assert response["statusCode"] == 409
    assert "taken" in response["json"]["message"]
    assert get_item("LINK#taken1", "LINK") == original


def test_an_expired_code_is_free_again(create: Any, seed_link: Any, get_item: Any) -> None:
    """TTL deletes late; the redirect already treats the link as gone, so may we."""
    seed_link("oldone", "https://first.example/", owner=lt.BOB, expires_at=int(time.time()) - 60)
    response = create({"url": URL, "code": "oldone"})
    assert response["statusCode"] == 201
    item = get_item("LINK#oldone", "LINK")
    assert (item["url"], item["owner"], item["clicks"]) == (URL, lt.ALICE, 0)


def test_codes_differ_only_by_case(create: Any) -> None:
    assert create({"url": URL, "code": "CaseCode"})["statusCode"] == 201
    assert create({"url": URL, "code": "casecode"})["statusCode"] == 201


def test_generated_collisions_are_retried(
    create: Any, seed_link: Any, monkeypatch: pytest.MonkeyPatch, get_item: Any
) -> None:
    for code in ("aaaaaaa", "bbbbbbb"):
        seed_link(code, "https://first.example/")
    draws = iter(["aaaaaaa", "bbbbbbb", "ccccccc"])
    monkeypatch.setattr(link_codes, "new_code", lambda: next(draws))
    response = create({"url": URL})
    assert response["statusCode"] == 201
    assert response["json"]["code"] == "ccccccc"
    assert get_item("LINK#aaaaaaa", "LINK")["url"] == "https://first.example/"


def test_five_collisions_in_a_row_give_up(
    create: Any, seed_link: Any, monkeypatch: pytest.MonkeyPatch, all_items: Any
) -> None:
    seed_link("aaaaaaa", "https://first.example/")
    draws: list[str] = []
    monkeypatch.setattr(link_codes, "new_code", lambda: draws.append("aaaaaaa") or "aaaaaaa")
    response = create({"url": URL})
    assert response["statusCode"] == 503
    assert response["headers"]["retry-after"] == "1"
    assert len(draws) == create_link_logic.MAX_CODE_ATTEMPTS == 5
    assert len(all_items()) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"sub": None}, {"signed_in": False}, {"sub": ""}, {"sub": "../../etc"}],
    ids=["no sub claim", "no authorizer", "empty sub", "odd sub"],
)
def test_no_caller_is_unauthorized(create: Any, all_items: Any, kwargs: dict[str, Any]) -> None:
    response = create({"url": URL}, **kwargs)
    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == "Bearer"
    assert all_items() == []


def test_the_caller_is_checked_before_the_body(create: Any) -> None:
    assert create("not json", sub=None)["statusCode"] == 401


def test_a_base64_body(create: Any) -> None:
    response = create({"url": URL, "code": "b64code"}, base64_body=True)
    assert response["statusCode"] == 201
    assert response["json"]["code"] == "b64code"


BAD_BODIES = {
    "no body": None,
    "not json": "url=https://example.com",
    "array": [URL],
    "string": URL,
    "number": 7,
    "null": "null",
    "deep arrays": "[" * 2000 + "]" * 2000,
    "deep objects": '{"url":' * 600 + '"x"' + "}" * 600,
    "huge": {"url": URL + "a" * 5000},
    "lone surrogate": '{"url": "https://example.com/\\ud800"}',
    "no url": {"code": "abcd"},
    "url null": {"url": None},
    "url number": {"url": 42},
    "url list": {"url": [URL]},
    "url object": {"url": {"href": URL}},
    "url empty": {"url": ""},
    "code number": {"url": URL, "code": 1234},
    "code list": {"url": URL, "code": ["abcd"]},
    "code empty": {"url": URL, "code": ""},
    "code short": {"url": URL, "code": "abc"},
    "code long": {"url": URL, "code": "a" * 33},
    "code slash": {"url": URL, "code": "a/b/c/d"},
    "code crlf": {"url": URL, "code": "abcd\r\n"},
    "code unicode": {"url": URL, "code": "ćódę"},
    "code reserved": {"url": URL, "code": "links"},
    "code reserved upper": {"url": URL, "code": "LINKS"},
    "unknown field": {"url": URL, "owner": lt.BOB},
    "duplicate url": '{"url": "https://a.example/", "url": "https://b.example/"}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_are_400_with_a_message(create: Any, all_items: Any, body: Any) -> None:
    response = create(body)
    assert response["statusCode"] == 400
    assert isinstance(response["json"]["message"], str) and response["json"]["message"]
    assert all_items() == []


BAD_TARGETS = {
    "ftp": "ftp://example.com/",
    "javascript": "javascript:alert(document.cookie)",
    "data": "data:text/html;base64,PHNjcmlwdD4=",
    "no host": "https:///x",
    "relative": "/somewhere",
    "too long": "https://example.com/" + "a" * 2029,
    "whitespace": "https://example.com/a b",
    "crlf": "https://example.com/\r\nSet-Cookie: session=stolen",
    "lf": "https://example.com/\nLocation: https://evil.example/",
    "nul": "https://example.com/\x00",
    "non-ascii": "https://例え.jp/",
    "userinfo": "https://paypal.com:login@evil.example/",
    "backslash": "https:\\\\evil.example",
    "itself": f"https://{lt.API_DOMAIN}/abcd",
    "itself upper": f"HTTPS://{lt.API_DOMAIN.upper()}/abcd",
}


@pytest.mark.parametrize("url", BAD_TARGETS.values(), ids=BAD_TARGETS.keys())
def test_bad_urls_are_refused(create: Any, all_items: Any, url: str) -> None:
    response = create({"url": url})
    assert response["statusCode"] == 400
    assert "'url'" in response["json"]["message"]
    assert all_items() == []


def test_the_longest_url_is_accepted(create: Any) -> None:
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    response = create({"url": url})
    assert response["statusCode"] == 201
    assert response["json"]["url"] == url


def test_another_route_is_not_found(create_link_handler: ModuleType, context: Any) -> None:
    event = lt.http_event("GET", "/links", route_key="GET /links", sub=lt.ALICE)
    assert create_link_handler.lambda_handler(event, context)["statusCode"] == 404


def test_a_table_fault_is_an_error_not_a_conflict(
    create_link_handler: ModuleType, context: Any
) -> None:
    def throttle(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "PutItem",
        )

    client = create_link_handler._table().meta.client
    client.meta.events.register("before-parameter-build.dynamodb.PutItem", throttle)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        create_link_handler.lambda_handler(lt.create_link_event({"url": URL}), context)


ENV = {"TABLE_NAME": "t", "LINK_TTL_DAYS": "90"}


class TestSettings:
    def test_reads_its_two_variables(self) -> None:
        settings = create_link_logic.Settings.from_env(ENV)
        assert settings == create_link_logic.Settings(table_name="t", link_ttl_days=90)

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"LINK_TTL_DAYS": "90"}, "TABLE_NAME is not set"),
            ({"TABLE_NAME": "t"}, "LINK_TTL_DAYS is not set"),
            ({**ENV, "LINK_TTL_DAYS": "ninety"}, "LINK_TTL_DAYS must be a whole number"),
            ({**ENV, "LINK_TTL_DAYS": "0"}, r"LINK_TTL_DAYS must be 1\.\.3650"),
            ({**ENV, "LINK_TTL_DAYS": "3651"}, r"LINK_TTL_DAYS must be 1\.\.3650"),
        ],
    )
    def test_a_bad_environment_names_the_variable(self, env: dict[str, str], message: str) -> None:
        with pytest.raises(link_codes.ConfigError, match=message):
            create_link_logic.Settings.from_env(env)

    def test_the_handler_fails_on_a_bad_environment(
        self, create_link_handler: ModuleType, context: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("LINK_TTL_DAYS")
        with pytest.raises(link_codes.ConfigError, match="LINK_TTL_DAYS"):
            create_link_handler.lambda_handler(lt.create_link_event({"url": URL}), context)


def test_the_logic_computes_expiry_from_the_settings(table: Any) -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    settings = create_link_logic.Settings(table_name=lt.TABLE_NAME, link_ttl_days=30)
    link = create_link_logic.create_link(
        table=table,
        settings=settings,
        owner=lt.ALICE,
        request=create_link_logic.LinkRequest(url=URL, code="fixedcode"),
        now=now,
    )
    assert link.expires_at == int((now + timedelta(days=30)).timestamp())
    assert link.expires_at_iso == "2025-02-01T03:04:05Z"
    assert table.get_item(Key=link_codes.link_key("fixedcode"))["Item"]["created_at"] == (
        "2025-01-02T03:04:05.000000Z"
    )
