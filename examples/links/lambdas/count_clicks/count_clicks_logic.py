"""Add each recorded click to its link, exactly once, from the table's stream.

A click is counted by one transaction of two updates: the click item gets `counted`
(only if it has none yet) and the link's `clicks` grows by one (only if the link is
still there). A retried batch replays clicks already counted: their first condition
fails and they are skipped, so the count stays right. Both parts are UpdateItem, the
one action the function is granted (a transaction needs its parts' actions).

Plain functions with their client as an argument, so they are tested without Lambda.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeAlias

import link_codes
from botocore.exceptions import ClientError

DynamoDBClient: TypeAlias = Any  # botocore DynamoDB client (no type stubs in the runtime)

logger = logging.getLogger("links.count_clicks")


# attribute_exists: a click TTL has already removed is not brought back as a bare item.
CLICK_NOT_COUNTED = "attribute_exists(pk) AND attribute_not_exists(counted)"


class MalformedRecord(ValueError):
    """A stream record we cannot read; skipped, so it never blocks the shard."""


class Outcome(Enum):
    COUNTED = "counted"
    # Counted before (a retried batch, a duplicate record) or already removed by TTL. The
    # two are not told apart: ReturnValuesOnConditionCheckFailure could, but reading the
    # item back may need more than the UpdateItem the function is granted.
    ALREADY_COUNTED = "already counted or gone"
    LINK_GONE = "link gone"


@dataclass(frozen=True)
class Settings:
    """What the function reads from its environment, validated once."""

    table_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(table_name=link_codes.EnvReader(env).text("TABLE_NAME"))


@dataclass(frozen=True)
class Click:
    """A click item's insertion, as its stream record tells it."""

    code: str
    sk: str
    sequence_number: str

    @property
    def key(self) -> dict[str, dict[str, str]]:
        return {"pk": {"S": link_codes.link_pk(self.code)}, "sk": {"S": self.sk}}

    @property
    def link_key(self) -> dict[str, dict[str, str]]:
        return {"pk": {"S": link_codes.link_pk(self.code)}, "sk": {"S": link_codes.LINK_SK}}


def _string(image: Mapping[str, Any], name: str) -> str:
    value = image.get(name)
    if not isinstance(value, Mapping) or not isinstance(value.get("S"), str):
        raise MalformedRecord(f"NewImage.{name} is not a string attribute")
    return value["S"]


def parse_record(record: object) -> Click | None:
    """The click a record inserts; None for records that are not clicks being inserted
    (MODIFY, REMOVE, link items). Raises MalformedRecord for one we cannot read."""
    if not isinstance(record, Mapping):
        raise MalformedRecord("the record is not an object")
    event_name = record.get("eventName")
    if event_name in ("MODIFY", "REMOVE"):
        return None
    if event_name != "INSERT":
        raise MalformedRecord(f"unknown eventName {str(event_name)[:40]!r}")
    data = record.get("dynamodb")
    if not isinstance(data, Mapping):
        raise MalformedRecord("an INSERT without dynamodb")
    image = data.get("NewImage")
    if not isinstance(image, Mapping):
        raise MalformedRecord("an INSERT without dynamodb.NewImage (is the stream NEW_IMAGE?)")
    pk, sk = _string(image, "pk"), _string(image, "sk")
    if not sk.startswith(link_codes.CLICK_PREFIX):
        return None
    code = link_codes.code_from_pk(pk)
    if code is None or not link_codes.is_click_sk(sk):
        raise MalformedRecord(f"not a click's key: pk {pk[:80]!r}, sk {sk[:80]!r}")
    sequence_number = data.get("SequenceNumber")
    if not isinstance(sequence_number, str) or not sequence_number:
        raise MalformedRecord("the record has no dynamodb.SequenceNumber")
    return Click(code=code, sk=sk, sequence_number=sequence_number)


def count_click(client: DynamoDBClient, settings: Settings, click: Click, now: datetime) -> Outcome:
    """Mark the click counted and add it to its link, in one transaction."""
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": settings.table_name,
                        "Key": click.key,
                        "UpdateExpression": "SET counted = :now",
                        "ConditionExpression": CLICK_NOT_COUNTED,
                        "ExpressionAttributeValues": {":now": {"S": link_codes.iso_utc(now)}},
                    }
                },
                {
                    "Update": {
                        "TableName": settings.table_name,
                        "Key": click.link_key,
                        "UpdateExpression": "ADD clicks :one",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    except ClientError as exc:
        outcome = _cancelled_by_condition(exc)
        if outcome is None:
            raise
        return outcome
    return Outcome.COUNTED


def _cancelled_by_condition(exc: ClientError) -> Outcome | None:
    """Why a transaction was cancelled, when a condition (not a fault) cancelled it."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    reasons = exc.response.get("CancellationReasons") or []
    codes = [reason.get("Code") for reason in reasons]
    if len(codes) != 2 or any(code not in ("None", "ConditionalCheckFailed") for code in codes):
        return None  # a conflict, throttling or validation: retry the record
    if codes[0] == "ConditionalCheckFailed":
        return Outcome.ALREADY_COUNTED
    if codes[1] == "ConditionalCheckFailed":
        return Outcome.LINK_GONE
    return None


def count_batch(
    records: Iterable[object], client: DynamoDBClient, settings: Settings, now: datetime
) -> dict[str, list[dict[str, str]]]:
    """Count the batch's clicks in order; stop at the first unexpected failure.

    The answer is Lambda's partial batch response: the failed record's sequence number,
    so the stream is retried from there (the records before it are done).
    """
    counts = dict.fromkeys(Outcome, 0)
    for index, record in enumerate(records):
        try:
            click = parse_record(record)
        except MalformedRecord as exc:
            logger.error("Skipping malformed stream record %d: %s", index, exc)
            continue
        if click is None:
            continue
        try:
            outcome = count_click(client, settings, click, now)
        except Exception:
            logger.exception(
                "Could not count click %s on %s; retrying from %s",
                click.sk,
                click.code,
                click.sequence_number,
            )
            return {"batchItemFailures": [{"itemIdentifier": click.sequence_number}]}
        counts[outcome] += 1
        if outcome is not Outcome.COUNTED:
            logger.info("Click %s on %s not counted: %s", click.sk, click.code, outcome.value)
    logger.info("Batch done: %s", {outcome.value: n for outcome, n in counts.items()})
    return {"batchItemFailures": []}
