"""link_codes: the codes, keys and URL rules every links function relies on."""

from __future__ import annotations

import inspect
import itertools
import re
import secrets
import time
import uuid
from datetime import UTC, datetime

import link_codes
import pytest

MOMENT = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.mark.parametrize("code", ["abcd", "a" * 32, "Ab3_-x9", "0000", "my-link_2025"])
def test_valid_codes(code: str) -> None:
    assert link_codes.is_valid_code(code)
    assert link_codes.is_usable_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "abc",  # too short
        "a" * 33,  # too long
        "has space",
        "dot.ted",
        "slash/ed",
        "hash#ed",
        "percent%41",
        "abcd\n",  # a trailing newline must not pass ($ would let it)
        "\nabcd",
        "ünïcode",
        "abc\u0661",  # an Arabic-Indic digit: \d would take it, our class does not
        "",
        None,
        1234,
        ["abcd"],
    ],
)
def test_invalid_codes(code: object) -> None:
    assert not link_codes.is_valid_code(code)
    assert not link_codes.is_usable_code(code)


@pytest.mark.parametrize("code", ["links", "LINKS", "Links", "favicon", "robots", "admin"])
def test_reserved_codes_are_valid_but_not_usable(code: str) -> None:
    assert link_codes.is_valid_code(code)
    assert link_codes.is_reserved(code)
    assert not link_codes.is_usable_code(code)


def test_the_links_route_is_reserved() -> None:
    """`GET /links` reaches the redirect route: `links` may never be a code."""
    assert "links" in link_codes.RESERVED_CODES
    for code in link_codes.RESERVED_CODES:  # lowercase, and a code it could otherwise be
        assert code == code.lower() and link_codes.is_valid_code(code)


def test_generated_codes_are_seven_base62_characters() -> None:
    codes = {link_codes.new_code() for _ in range(500)}
    assert len(codes) == 500  # 62**7 codes: 500 draws do not collide
    for code in codes:
        assert re.fullmatch(r"[0-9A-Za-z]{7}", code)
        assert link_codes.is_usable_code(code)
    assert len(set(link_codes.BASE62)) == 62


def test_a_generated_code_is_never_reserved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link_codes, "RESERVED_CODES", frozenset({"aaaaaaa"}))
    draws = itertools.chain("aaaaaaa", "bbbbbbb")
    assert link_codes.new_code(choice=lambda _alphabet: next(draws)) == "bbbbbbb"


def test_generated_codes_come_from_secrets() -> None:
    """Codes are unguessable: the default draw is `secrets.choice`, over base62."""
    default = inspect.signature(link_codes.new_code).parameters["choice"].default
    assert default is secrets.choice
    calls: list[str] = []

    def choice(alphabet: str) -> str:
        calls.append(alphabet)
        return "Z"

    assert link_codes.new_code(choice=choice) == "ZZZZZZZ"
    assert calls == [link_codes.BASE62] * 7


def test_link_keys() -> None:
    assert link_codes.link_key("abc123") == {"pk": "LINK#abc123", "sk": "LINK"}
    assert link_codes.code_from_pk("LINK#abc123") == "abc123"
    for pk in ("LINK#", "LINK#ab", "USER#abc123", "LINK#abc123#x", None, 7, "link#abcd"):
        assert link_codes.code_from_pk(pk) is None


def test_click_keys_sort_by_time_and_round_trip() -> None:
    click_id = uuid.UUID("8f14e45f-ceea-467f-a8f3-3a4c5e6b7d8e")
    key = link_codes.click_key("abc123", MOMENT, click_id)
    assert key == {
        "pk": "LINK#abc123",
        "sk": f"CLICK#2025-01-02T03:04:05.678901Z#{click_id}",
    }
    assert link_codes.is_click_sk(key["sk"])
    later = link_codes.click_sk(MOMENT.replace(second=6, microsecond=0), uuid.uuid4())
    assert later > key["sk"]
    for sk in ("CLICK#", "CLICK#2025-01-02#x", "LINK", f"CLICK#{MOMENT}#{click_id}", None):
        assert not link_codes.is_click_sk(sk)


def test_times() -> None:
    assert link_codes.iso_utc(MOMENT) == "2025-01-02T03:04:05.678901Z"
    assert link_codes.epoch_seconds(MOMENT) == 1735787045
    assert abs(link_codes.epoch_seconds(datetime.now(UTC)) - time.time()) < 2


GOOD_URLS = [
    "https://example.com",
    "http://example.com/",
    "HTTPS://EXAMPLE.COM/Path?q=1&r=%20#frag",
    "https://sub.example.co.uk:8443/a/b;c?d=e",
    "https://192.0.2.1/x",
    "https://[2001:db8::1]/x",
    "https://example.com/%0D%0ASet-Cookie:%20x",  # percent-encoded: inert in a header
    "https://example.com/" + "a" * (link_codes.MAX_URL_LENGTH - len("https://example.com/")),
]


@pytest.mark.parametrize("url", GOOD_URLS)
def test_good_urls(url: str) -> None:
    assert link_codes.url_problem(url) is None


BAD_URLS = {
    "ftp": "ftp://example.com/file",
    "javascript": "javascript:alert(1)",
    "data": "data:text/html,<script>alert(1)</script>",
    "file": "file:///etc/passwd",
    "no scheme": "example.com",
    "scheme relative": "//example.com/x",
    "no host": "https:///path",
    "no slashes": "https:example.com",
    "empty": "",
    "too long": "https://example.com/" + "a" * link_codes.MAX_URL_LENGTH,
    "space": "https://example.com/a b",
    "tab": "https://example.com/a\tb",
    "crlf": "https://example.com/\r\nSet-Cookie: a=b",
    "lf": "https://example.com/\nx",
    "cr": "https://example.com/\rx",
    "nul": "https://example.com/\x00",
    "del": "https://example.com/\x7f",
    "non-ascii": "https://exämple.com/",
    "unicode line separator": "https://example.com/\u2028x",
    "next line": "https://example.com/\x85x",
    "lone surrogate": "https://example.com/\ud800",
    "userinfo": "https://user:password@example.com/",
    "user only": "https://user@example.com/",
    "backslash": "https://example.com\\@evil.com/",
    "backslash host": "https:\\\\evil.com",
    "bad port": "https://example.com:99999/",
    "port word": "https://example.com:http/",
    "bad ipv6": "https://[::1/",
    "host underscore": "https://ex_ample.com/",
    "host percent": "https://%65xample.com/",
    "not a string": 42,
    "none": None,
}


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_bad_urls(url: object) -> None:
    problem = link_codes.url_problem(url)
    assert problem is not None and "'url'" in problem


def test_url_check_is_fast_on_hostile_hosts() -> None:
    started = time.perf_counter()
    for host in ("a" * 2000, "a." * 1000, "a-" * 999 + "!", "-" * 2000):
        link_codes.url_problem(f"http://{host}"[: link_codes.MAX_URL_LENGTH])
    assert time.perf_counter() - started < 0.5


def test_url_host() -> None:
    assert link_codes.url_host("https://Example.COM.:443/x") == "example.com"


class TestEnvReader:
    def test_reads_text_and_numbers(self) -> None:
        read = link_codes.EnvReader({"A": " value ", "N": "7"})
        assert read.text("A") == "value"
        assert read.integer("N", minimum=1, maximum=10) == 7

    @pytest.mark.parametrize("env", [{}, {"NAME": ""}, {"NAME": "   "}])
    def test_missing_names_the_variable(self, env: dict[str, str]) -> None:
        with pytest.raises(link_codes.ConfigError, match=r"NAME is not set"):
            link_codes.EnvReader(env).text("NAME")

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ("seven", r"N must be a whole number, got 'seven'"),
            ("1.5", r"N must be a whole number"),
            ("0", r"N must be 1\.\.10, got 0"),
            ("11", r"N must be 1\.\.10, got 11"),
        ],
    )
    def test_wrong_numbers_name_the_variable(self, raw: str, message: str) -> None:
        with pytest.raises(link_codes.ConfigError, match=message):
            link_codes.EnvReader({"N": raw}).integer("N", minimum=1, maximum=10)

    def test_choices(self) -> None:
        read = link_codes.EnvReader({"S": "303"})
        with pytest.raises(link_codes.ConfigError, match=r"S must be one of \(301, 302\)"):
            read.integer("S", choices=(301, 302))

    def test_matching(self) -> None:
        read = link_codes.EnvReader({"ARN": "not-an-arn"})
        with pytest.raises(link_codes.ConfigError, match="ARN must be an ARN, got 'not-an-arn'"):
            read.matching("ARN", re.compile(r"arn:.*"), "an ARN")
