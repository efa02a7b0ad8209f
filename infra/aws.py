"""boto3 sessions for the commands that talk to AWS, and their errors as one line.

boto3 itself honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL; the
command-line options override them. An endpoint URL, from either, is checked before
boto3 sees it: boto3 answers a malformed one with a bare ValueError.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.errors import InfraError, UsageError
from infra.naming import full_match

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
# botocore's rule for a host name: dot-separated labels of letters, digits and hyphens.
_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_NAME = rf"({_HOST_LABEL}\.)*{_HOST_LABEL}\.?"


def endpoint_url_problem(url: str) -> str | None:
    """Why `url` is not an endpoint URL (http:// or https://, then a host), or None."""
    plain = url.isascii() and url.isprintable()
    reason = (
        f"{repr(url) if plain else ascii(url)} is not an endpoint URL: give http:// or "
        "https:// and a host (e.g. http://localhost:4566)"
    )
    if not plain or " " in url:
        return reason
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    except ValueError:
        return reason
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return reason
    if parts.netloc.startswith("[") or ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return reason
    elif not full_match(_HOST_NAME, host) or len(host) > 255:
        return reason
    return None


def check_endpoint_url(url: str, where: str) -> None:
    """A UsageError naming `where` (an option or a variable) when `url` is not usable."""
    problem = endpoint_url_problem(url)
    if problem is not None:
        raise UsageError(f"{where}: {problem}")


def configured_endpoint(
    service: str | None = None, environ: Mapping[str, str] = os.environ
) -> tuple[str, str] | None:
    """The endpoint URL boto3 would take from the environment, and the variable holding it.

    AWS_ENDPOINT_URL_<SERVICE> (when `service` is given) before AWS_ENDPOINT_URL; none
    when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. <SERVICE> is the client's name in
    capitals (botocore uses the service id: the same for every service these commands call).
    """
    if environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true":
        return None
    names = [ENDPOINT_VARIABLE]
    if service is not None:
        names.insert(0, f"{ENDPOINT_VARIABLE}_{service.upper().replace('-', '_')}")
    for name in names:
        value = environ.get(name)
        if value:
            return value, name
    return None


@dataclass(frozen=True)
class AwsTarget:
    """Where to send AWS calls: profile, region and endpoint (None: boto3's defaults)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def __post_init__(self) -> None:
        if self.endpoint_url is not None:
            check_endpoint_url(self.endpoint_url, "--endpoint-url")

    def client(self, service: str, region: str | None = None) -> Any:
        import boto3

        if self.endpoint_url is None:
            configured = configured_endpoint(service)
            if configured is not None:
                check_endpoint_url(*configured)
        with aws_errors(f"{service}: session"):
            session = boto3.session.Session(profile_name=self.profile)
            return session.client(
                service, region_name=self.region or region, endpoint_url=self.endpoint_url
            )


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn botocore's errors into one readable line naming what was being done."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    try:
        yield
    except ClientError as err:
        error = err.response.get("Error", {})
        raise InfraError(
            f"{doing}: {error.get('Code', 'Error')}: {error.get('Message', err)}"
        ) from None
    except (BotoCoreError, ResponseParserError) as err:
        raise InfraError(f"{doing}: {err}") from None
