"""GET /{code}: the redirect handler against moto's table."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import link_codes
import links_testing as lt
import pytest
import redirect_logic
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError, ConnectTimeoutError

pytestmark = pytest.mark.usefixtures("aws")

URL = "https://example.com/landing?utm_source=short"


@pytest.fixture
def visit(redirect_handler: ModuleType, context: Any) -> Callable[[str | None], dict[str, Any]]:
    """Call the handler with a public GET /{code} event; returns the response."""

    def call(code: str | None) -> dict[str, Any]:
        response = redirect_handler.lambda_handler(lt.redirect_event(code), context)
        assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
        assert response["headers"]["cache-control"] == "no-store"
        for name, value in response["headers"].items():
            assert "\r" not in name + value and "\n" not in name + value
        return response

    return call


@pytest.fixture
def clicks(table: Any) -> Callable[[str], list[dict[str, Any]]]:
    """The click items of one link."""

    def query(code: str) -> list[dict[str, Any]]:
        condition = Key("pk").eq(f"LINK#{code}") & Key("sk").begins_with("CLICK#")
        return table.query(KeyConditionExpression=condition, ConsistentRead=True)["Items"]

    return query


def test_a_link_redirects_and_records_the_click(visit: Any, seed_link: Any, clicks: Any) -> None:
    seed_link("abc1234", URL)
    before = int(time.time())
    response = visit("abc1234")
    assert response["statusCode"] == 302
    assert response["headers"]["location"] == URL
    (click,) = clicks("abc1234")
    assert link_codes.is_click_sk(click["sk"])
    assert set(click) == {"pk", "sk", "expires_at"}
    assert before + 86400 <= click["expires_at"] <= int(time.time()) + 86400
    clicked = datetime.strptime(click["sk"].split("#")[1], link_codes.ISO_FORMAT)
    assert abs(clicked.replace(tzinfo=UTC).timestamp() - before) < 5


def test_each_visit_is_its_own_click(
    visit: Any, seed_link: Any, clicks: Any, get_item: Any
) -> None:
    seed_link("abc1234", URL, clicks=3)
    for _ in range(3):
        assert visit("abc1234")["statusCode"] == 302
    assert len({click["sk"] for click in clicks("abc1234")}) == 3
    assert get_item("LINK#abc1234", "LINK")["clicks"] == 3  # count-clicks adds them later


@pytest.mark.parametrize("status", ["301", "307", "308"])
def test_the_status_is_the_setting(
    visit: Any, seed_link: Any, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    monkeypatch.setenv("REDIRECT_STATUS", status)
    seed_link("abc1234", URL)
    assert visit("abc1234")["statusCode"] == int(status)


def test_an_unknown_code_is_404_plain_text(visit: Any, clicks: Any) -> None:
    response = visit("nosuchcode")
    assert response["statusCode"] == 404
    assert response["headers"]["content-type"].startswith("text/plain")
    assert "location" not in response["headers"]
    assert clicks("nosuchcode") == []


def test_an_expired_link_is_gone_before_ttl_removes_it(
    visit: Any, seed_link: Any, clicks: Any
) -> None:
    seed_link("expired1", URL, expires_at=int(time.time()) - 1)
    response = visit("expired1")
    assert response["statusCode"] == 404
    assert "location" not in response["headers"]
    assert clicks("expired1") == []


def test_a_reserved_code_is_not_found(visit: Any, seed_link: Any) -> None:
    """GET /links reaches this route; even an item under it must not redirect."""
    seed_link("links", URL)
    assert visit("links")["statusCode"] == 404


@pytest.mark.parametrize(
    "code",
    [None, "", "abc", "a" * 33, "favicon.ico", "a/b/c/d", "abcd\r\n", "ab cd", "ćódę", "%41bcd"],
)
def test_a_bad_code_is_400(visit: Any, code: str | None) -> None:
    response = visit(code)
    assert response["statusCode"] == 400
    assert response["headers"]["content-type"].startswith("text/plain")
    assert "location" not in response["headers"]


def test_the_redirect_needs_no_caller(visit: Any, seed_link: Any) -> None:
    event = lt.redirect_event("abc1234")
    assert "authorizer" not in event["requestContext"]
    seed_link("abc1234", URL)
    assert visit("abc1234")["statusCode"] == 302


def test_another_route_is_not_found(redirect_handler: ModuleType, context: Any) -> None:
    event = lt.http_event("POST", "/abcd", route_key="POST /{code}", signed_in=False)
    assert redirect_handler.lambda_handler(event, context)["statusCode"] == 404


@pytest.mark.parametrize(
    "fault",
    [
        ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "PutItem",
        ),
        ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutItem"),
        ConnectTimeoutError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
    ],
    ids=["throttled", "denied", "timeout"],
)
def test_a_click_that_cannot_be_recorded_still_redirects(
    visit: Any,
    redirect_handler: ModuleType,
    seed_link: Any,
    clicks: Any,
    caplog: pytest.LogCaptureFixture,
    fault: Exception,
) -> None:
    seed_link("abc1234", URL)

    def fail(**_: Any) -> None:
        raise fault

    client = redirect_handler._table().meta.client
    client.meta.events.register("before-parameter-build.dynamodb.PutItem", fail)
    with caplog.at_level(logging.INFO):
        response = visit("abc1234")
    assert response["statusCode"] == 302
    assert response["headers"]["location"] == URL
    assert clicks("abc1234") == []
    assert any("Could not record a click on abc1234" in r.getMessage() for r in caplog.records)


def test_a_failed_lookup_is_an_error(visit: Any, redirect_handler: ModuleType) -> None:
    def fail(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "GetItem")

    client = redirect_handler._table().meta.client
    client.meta.events.register("before-parameter-build.dynamodb.GetItem", fail)
    with pytest.raises(ClientError):
        visit("abc1234")


# --- the Location header can never carry CR or LF ------------------------------------------

STORED_HOSTILE_URLS = [
    "https://example.com/\r\nSet-Cookie: session=stolen",
    "https://example.com/\nLocation: https://evil.example/",
    "https://example.com/\r",
    "\r\nhttps://example.com/",
    "https://example.com/\x00",
    "https://example.com/\t",
    "https://example.com/\u2028",
    "https://example.com/\u0085",
    "https://example.com/\x0b\x0c",
    "javascript:alert(1)",
    "https://user:pw@example.com/",
    "",
]


@pytest.mark.parametrize("url", STORED_HOSTILE_URLS)
def test_a_stored_url_that_could_split_the_response_is_never_sent(
    visit: Any, seed_link: Any, clicks: Any, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    """An item written by anything but create-link (a console edit, a bug, a restore)."""
    seed_link("hostile1", url)
    with caplog.at_level(logging.ERROR):
        response = visit("hostile1")
    assert response["statusCode"] == 404
    assert "location" not in response["headers"]
    assert clicks("hostile1") == []
    assert any("may not be redirected to" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("url", STORED_HOSTILE_URLS[:9])
def test_create_then_visit_never_puts_cr_or_lf_in_location(
    create_link_handler: ModuleType, visit: Any, context: Any, url: str
) -> None:
    """End to end: what create-link accepts, the redirect sends; CR/LF never gets through."""
    for candidate in (url, f"https://example.com/?q={url}", url.replace("https://", "http://")):
        event = lt.create_link_event({"url": candidate})
        created = create_link_handler.lambda_handler(event, context)
        assert created["statusCode"] == 400


def test_percent_encoded_crlf_is_inert_and_kept(visit: Any, seed_link: Any) -> None:
    url = "https://example.com/a%0D%0ASet-Cookie:%20x"
    seed_link("encoded1", url)
    response = visit("encoded1")
    assert response["statusCode"] == 302
    assert response["headers"]["location"] == url


def test_every_control_character_is_refused_somewhere(seed_link: Any, table: Any) -> None:
    """All 33 ASCII controls: find_target never returns a URL holding one."""
    now = datetime.now(UTC)
    for index, char in enumerate([*map(chr, range(0x20)), "\x7f"]):
        code = f"ctrl{index:02d}"
        seed_link(code, f"https://example.com/{char}x")
        assert redirect_logic.find_target(table, code, now) is None


# --- settings and logic ----------------------------------------------------------------------


class TestSettings:
    def test_reads_its_two_variables(self) -> None:
        settings = redirect_logic.Settings.from_env({"TABLE_NAME": "t", "REDIRECT_STATUS": "308"})
        assert settings == redirect_logic.Settings(table_name="t", redirect_status=308)

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"REDIRECT_STATUS": "302"}, "TABLE_NAME is not set"),
            ({"TABLE_NAME": "t"}, "REDIRECT_STATUS is not set"),
            ({"TABLE_NAME": "t", "REDIRECT_STATUS": "303"}, "REDIRECT_STATUS must be one of"),
            ({"TABLE_NAME": "t", "REDIRECT_STATUS": "200"}, "REDIRECT_STATUS must be one of"),
            ({"TABLE_NAME": "t", "REDIRECT_STATUS": "found"}, "REDIRECT_STATUS must be a whole"),
        ],
    )
    def test_a_bad_environment_names_the_variable(self, env: dict[str, str], message: str) -> None:
        with pytest.raises(link_codes.ConfigError, match=message):
            redirect_logic.Settings.from_env(env)

    def test_the_handler_fails_on_a_bad_environment(
        self, redirect_handler: ModuleType, context: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("REDIRECT_STATUS", "200")
        with pytest.raises(link_codes.ConfigError, match="REDIRECT_STATUS"):
            redirect_handler.lambda_handler(lt.redirect_event("abcd"), context)


def test_expiry_is_exact_to_the_second(seed_link: Any, table: Any) -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    seed_link("edge0001", URL, expires_at=link_codes.epoch_seconds(now) + 1)
    seed_link("edge0002", URL, expires_at=link_codes.epoch_seconds(now))
    assert redirect_logic.find_target(table, "edge0001", now) == URL
    assert redirect_logic.find_target(table, "edge0002", now) is None


def test_a_link_without_an_expiry_number_is_not_followed(table: Any) -> None:
    table.put_item(Item={**link_codes.link_key("noexpiry"), "url": URL, "expires_at": "soon"})
    assert redirect_logic.find_target(table, "noexpiry", datetime.now(UTC)) is None


def test_a_click_is_never_written_twice(table: Any) -> None:
    now, click_id = datetime.now(UTC), uuid.uuid4()
    redirect_logic.record_click(table, "abc1234", now, click_id)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        redirect_logic.record_click(table, "abc1234", now, click_id)
