"""Fixtures for the links app's functions, run in-process against moto.

Each function's folder is its zip root, so its logic module is imported the way Lambda
imports it (folder on sys.path, see links_testing); every function has a module called
`handler`, so the handlers are loaded by file path under distinct names instead.

The table is created as the data stack creates it (pk/sk, stream NEW_IMAGE, TTL on
expires_at), and stream events are the records moto's stream really holds, shaped the
way Lambda's event source mapping delivers them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import links_testing as lt
import pytest
from moto import mock_aws

from infra.testing import LambdaContext


@pytest.fixture(autouse=True)
def function_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The functions' variables (the root fixtures give credentials and the region)."""
    for name, value in lt.FUNCTION_ENV.items():
        monkeypatch.setenv(name, value)
    lt.clear_cached_clients()
    yield
    lt.clear_cached_clients()


@dataclass
class Aws:
    stream_arn: str
    queue_url: str


@pytest.fixture(scope="module")
def moto_for_module() -> Iterator[Aws]:
    """moto's in-process AWS, once per test module (each start costs a new boto3 session):
    the links table, the reports topic and a queue subscribed to it. Tests get it through
    `aws`, which empties it first."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in lt.SANDBOX_ENV.items():
            patch.setenv(name, value)
        with mock_aws():
            stream_arn = lt.create_links_table(boto3.client("dynamodb"))
            sns, sqs = boto3.client("sns"), boto3.client("sqs")
            assert sns.create_topic(Name=lt.TOPIC_NAME)["TopicArn"] == lt.TOPIC_ARN
            queue_url = sqs.create_queue(QueueName="links-test-report-reader")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            sns.subscribe(TopicArn=lt.TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn)
            yield Aws(stream_arn=stream_arn, queue_url=queue_url)


@pytest.fixture
def aws(moto_for_module: Aws) -> Aws:
    """moto with an empty links table (keys pk/sk, stream NEW_IMAGE, TTL on expires_at)
    and an empty report queue."""
    table = boto3.resource("dynamodb").Table(lt.TABLE_NAME)
    keys = table.meta.client.get_paginator("scan").paginate(
        TableName=lt.TABLE_NAME, ProjectionExpression="pk, sk"
    )
    with table.batch_writer() as batch:
        for page in keys:
            for key in page["Items"]:
                batch.delete_item(Key={"pk": key["pk"], "sk": key["sk"]})
    _receive_all(moto_for_module.queue_url)  # (PurgeQueue: once a minute)
    return moto_for_module


def _receive_all(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue, each deleted once received."""
    sqs, found = boto3.client("sqs"), []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        found += messages


@pytest.fixture
def table(aws: Aws) -> Any:
    """The links table (boto3 Table resource)."""
    return boto3.resource("dynamodb").Table(lt.TABLE_NAME)


@pytest.fixture
def get_item(table: Any) -> Callable[[str, str], dict[str, Any] | None]:
    """One item by its key, read consistently."""

    def get(pk: str, sk: str) -> dict[str, Any] | None:
        return table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")

    return get


@pytest.fixture
def all_items(table: Any) -> Callable[[], list[dict[str, Any]]]:
    """Every item in the table, in key order."""

    def scan() -> list[dict[str, Any]]:
        return sorted(table.scan()["Items"], key=lambda item: (item["pk"], item["sk"]))

    return scan


@pytest.fixture
def seed_link(table: Any) -> Callable[..., dict[str, Any]]:
    """Write a link item in the contract's shape (as create-link writes it); returns it."""

    def seed(
        code: str,
        url: str = "https://example.com/",
        *,
        owner: str = lt.ALICE,
        clicks: int = 0,
        expires_at: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        item = {
            "pk": f"LINK#{code}",
            "sk": "LINK",
            "url": url,
            "owner": owner,
            "created_at": "2025-01-02T03:04:05.000000Z",
            "expires_at": int(time.time()) + 86400 if expires_at is None else expires_at,
            "clicks": clicks,
            **extra,
        }
        table.put_item(Item=item)
        return item

    return seed


@pytest.fixture
def stream(aws: Aws) -> lt.Stream:
    """The table's stream, from this test's first write on."""
    reader = lt.Stream(aws.stream_arn)
    while reader.read():  # what earlier tests (and emptying the table) wrote
        pass
    return reader


@pytest.fixture
def read_reports(aws: Aws) -> Callable[[], list[lt.Notification]]:
    """A reader of every report the topic delivered to the subscribed queue since the
    last read (SNS's envelope: the subject and the message)."""

    def read() -> list[lt.Notification]:
        envelopes = [json.loads(message["Body"]) for message in _receive_all(aws.queue_url)]
        return [lt.Notification(e.get("Subject", ""), e["Message"]) for e in envelopes]

    return read


@pytest.fixture
def context() -> LambdaContext:
    return lt.FakeLambdaContext()


@pytest.fixture
def create_link_handler() -> ModuleType:
    return lt.load_handler("create_link")


@pytest.fixture
def redirect_handler() -> ModuleType:
    return lt.load_handler("redirect")


@pytest.fixture
def count_clicks_handler() -> ModuleType:
    return lt.load_handler("count_clicks")


@pytest.fixture
def nightly_report_handler() -> ModuleType:
    return lt.load_handler("nightly_report")
