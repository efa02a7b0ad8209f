"""boto3 sessions for the commands that talk to AWS, and their errors as one line.

boto3 itself honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL; the
command-line options override them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra.errors import InfraError


@dataclass(frozen=True)
class AwsTarget:
    """Where to send AWS calls: profile, region and endpoint (None: boto3's defaults)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        import boto3

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
