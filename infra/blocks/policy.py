"""awacs helpers for the few shapes every policy repeats: no hand-typed ARNs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from awacs.aws import (
    Action,
    Allow,
    Bool,
    Condition,
    Deny,
    Policy,
    PolicyDocument,
    Principal,
    Statement,
)
from troposphere import GetAtt, Sub

AnyValue = Any  # a string or a troposphere intrinsic function


def document(*statements: Statement) -> Policy:
    return PolicyDocument(Version="2012-10-17", Statement=list(statements))


def allow(
    sid: str, actions: Sequence[Action], resources: Sequence[AnyValue], **kw: Any
) -> Statement:
    """One Allow statement; actions come from awacs, resources from GetAtt/Sub."""
    return Statement(Sid=sid, Effect=Allow, Action=list(actions), Resource=list(resources), **kw)


def service_principal(service: str) -> Principal:
    """`lambda` -> the Lambda service principal, in any partition."""
    return Principal("Service", Sub(f"{service}.${{AWS::URLSuffix}}"))


def account_root() -> Principal:
    return Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))


def arn(
    service: str, resource: str, *, region: bool = True, account: bool = True, **values: Any
) -> Sub:
    """An ARN in this stack's partition, region and account.

    `resource` may use ${AWS::...} and ${Name} for each `Name=value` given.
    """
    region_part = "${AWS::Region}" if region else ""
    account_part = "${AWS::AccountId}" if account else ""
    text = f"arn:${{AWS::Partition}}:{service}:{region_part}:{account_part}:{resource}"
    return Sub(text, **values)


def objects(bucket: Any, prefix: str = "") -> Sub:
    """The ARN of a bucket's objects under `prefix` (may use ${AWS::...}); all when empty."""
    return Sub(f"${{Arn}}/{prefix}*", Arn=GetAtt(bucket, "Arn"))


def deny_insecure_transport(
    resources: Iterable[AnyValue], actions: Sequence[Action] = (Action("s3", "*"),)
) -> Statement:
    """Refuse every request for `actions` (default: all of S3) that is not over TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=list(actions),
        Resource=list(resources),
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )
