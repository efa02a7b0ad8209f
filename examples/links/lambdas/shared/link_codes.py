"""The links table's contract, shared by every function of the app: keys, codes and URLs.

One item per link and one per click, under the link's partition:

    pk LINK#<code>  sk LINK                          the link: url, owner, created_at,
                                                     expires_at (epoch seconds, TTL), clicks
    pk LINK#<code>  sk CLICK#<iso time>#<uuid>       one click: expires_at (a day later),
                                                     counted (set once count-clicks added it)

Also the small helpers the functions share: reading their settings from the environment
(each names the variable it refuses) and fixed-width ISO times. Stdlib only.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

LINK_PREFIX = "LINK#"
LINK_SK = "LINK"
CLICK_PREFIX = "CLICK#"

# A code is a path segment of the short URL: URL-safe, case-sensitive, never `#` or `/`.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{4,32}")
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
GENERATED_CODE_LENGTH = 7
# Paths that must never become codes: `GET /links` reaches the redirect route (only
# `POST /links` is routed elsewhere), and a few names people expect a site to own.
# Compared without case, so `Links` cannot pass for `links` either.
RESERVED_CODES = frozenset(
    {
        "links",
        "admin",
        "assets",
        "auth",
        "favicon",
        "health",
        "login",
        "logout",
        "robots",
        "sitemap",
        "static",
    }
)

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LINK_PK_PATTERN = re.compile(re.escape(LINK_PREFIX) + f"(?P<code>{CODE_PATTERN.pattern})")
CLICK_SK_PATTERN = re.compile(
    re.escape(CLICK_PREFIX) + f"(?P<time>{_ISO_TIME})#(?P<click_id>{_UUID})"
)

# What a link may point to. The URL ends up in a Location header, so the rules are
# strict: visible ASCII only (no spaces, CR, LF or other controls, nothing a browser
# would reinterpret), http(s) with a host, and no user:password@ (a phishing favourite).
MAX_URL_LENGTH = 2048
URL_SCHEMES = ("http", "https")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_HOST = re.compile(r"(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}\.?")
_IPV6_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]")


class ConfigError(RuntimeError):
    """The function's environment is wrong: a deploy problem, not a caller problem."""


# --- codes and keys ---------------------------------------------------------------------


def is_valid_code(code: object) -> bool:
    """True for a string of the code pattern (reserved or not)."""
    return isinstance(code, str) and CODE_PATTERN.fullmatch(code) is not None


def is_reserved(code: str) -> bool:
    return code.lower() in RESERVED_CODES


def is_usable_code(code: object) -> bool:
    """True for a code a link may have: the pattern, and not reserved."""
    return isinstance(code, str) and is_valid_code(code) and not is_reserved(code)


def new_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random code: 7 base62 characters (62**7, about 3.5e12 codes)."""
    while True:
        code = "".join(choice(BASE62) for _ in range(GENERATED_CODE_LENGTH))
        if not is_reserved(code):
            return code


def link_pk(code: str) -> str:
    return f"{LINK_PREFIX}{code}"


def link_key(code: str) -> dict[str, str]:
    """The key of a link's item."""
    return {"pk": link_pk(code), "sk": LINK_SK}


def code_from_pk(pk: object) -> str | None:
    """The code in a `LINK#<code>` partition key, or None when it is not one."""
    match = LINK_PK_PATTERN.fullmatch(pk) if isinstance(pk, str) else None
    return match["code"] if match else None


def click_sk(moment: datetime, click_id: uuid.UUID | str) -> str:
    """`CLICK#<iso time>#<uuid>`: sorts by time within the link's partition."""
    return f"{CLICK_PREFIX}{iso_utc(moment)}#{uuid.UUID(str(click_id))}"


def click_key(code: str, moment: datetime, click_id: uuid.UUID | str) -> dict[str, str]:
    """The key of one click's item."""
    return {"pk": link_pk(code), "sk": click_sk(moment, click_id)}


def is_click_sk(sk: object) -> bool:
    """True for a well-formed click sort key."""
    return isinstance(sk, str) and CLICK_SK_PATTERN.fullmatch(sk) is not None


# --- target URLs -------------------------------------------------------------------------


def url_problem(url: object) -> str | None:
    """Why `url` may not be a link's target (a message safe to show), or None when it may.

    Used when a link is created and again before a stored URL goes into a Location header.
    """
    if not isinstance(url, str) or not url:
        return "'url' must be a non-empty string"
    if len(url) > MAX_URL_LENGTH:
        return f"'url' is longer than {MAX_URL_LENGTH} characters"
    if not _VISIBLE_ASCII.fullmatch(url):
        return "'url' may hold only visible ASCII characters (percent-encode the rest)"
    if "\\" in url:
        return "'url' may not contain a backslash"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "'url' is not a valid URL"
    if parts.scheme.lower() not in URL_SCHEMES:
        return "'url' must start with http:// or https://"
    if "@" in parts.netloc:
        return "'url' may not contain a user name or password"
    host = parts.hostname or ""
    if not host or not (_HOST.fullmatch(host) or _IPV6_HOST.fullmatch(f"[{host}]")):
        return "'url' must name a valid host"
    return None


def url_host(url: str) -> str:
    """The lowercase host of a URL that passed url_problem."""
    return (urlsplit(url).hostname or "").rstrip(".").lower()


# --- times -------------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC with microseconds, so string order is time order."""
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch: what DynamoDB's TTL reads."""
    return int(moment.timestamp())


# --- settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvReader:
    """Reads a function's settings from its environment; every refusal names the variable."""

    env: Mapping[str, str]

    def text(self, name: str) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            raise ConfigError(f"{name} is not set: the stack must pass it to the function")
        return value

    def integer(
        self,
        name: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: Container[int] | None = None,
    ) -> int:
        raw = self.text(name)
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if choices is not None and value not in choices:
            raise ConfigError(f"{name} must be one of {choices}, got {value}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(f"{name} must be {minimum}..{maximum}, got {value}")
        return value

    def matching(self, name: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(name)
        if not pattern.fullmatch(value):
            raise ConfigError(f"{name} must be {what}, got {value!r}")
        return value
