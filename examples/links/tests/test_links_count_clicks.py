"""The table's stream -> count-clicks: each click is added to its link exactly once.

The events are the records moto's stream holds for writes the other handlers made
(create-link, redirect), shaped as Lambda's event source mapping delivers them.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import count_clicks_logic
import link_codes
import links_testing as lt
import pytest
from botocore.exceptions import ClientError

URL = "https://example.com/"


@pytest.fixture
def count(
    count_clicks_handler: ModuleType, context: Any
) -> Callable[..., dict[str, list[dict[str, str]]]]:
    """Run count-clicks on a batch of records."""

    def call(*records: Any) -> dict[str, list[dict[str, str]]]:
        return count_clicks_handler.lambda_handler(lt.stream_event(*records), context)

    return call


@pytest.fixture
def make_link(create_link_handler: ModuleType, context: Any) -> Callable[[str], str]:
    """Create a link through create-link; returns its code."""

    def make(code: str) -> str:
        event = lt.create_link_event({"url": URL, "code": code})
        assert create_link_handler.lambda_handler(event, context)["statusCode"] == 201
        return code

    return make


@pytest.fixture
def click(redirect_handler: ModuleType, context: Any) -> Callable[[str], None]:
    """Visit a short link through the redirect function."""

    def visit(code: str) -> None:
        response = redirect_handler.lambda_handler(lt.redirect_event(code), context)
        assert response["statusCode"] == 302

    return visit


def clicks_of(get_item: Any, code: str) -> int:
    return int(get_item(f"LINK#{code}", "LINK")["clicks"])


def inserts_of_clicks(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["sk"]["S"].startswith("CLICK#")
    ]


def test_clicks_are_added_to_their_links(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, get_item: Any, all_items: Any
) -> None:
    make_link("first1")
    make_link("second")
    for code in ("first1", "second", "first1", "first1"):
        click(code)
    records = stream.read()
    assert [r["eventName"] for r in records] == ["INSERT"] * 6
    assert count(*records) == {"batchItemFailures": []}
    assert clicks_of(get_item, "first1") == 3
    assert clicks_of(get_item, "second") == 1
    click_items = [item for item in all_items() if item["sk"].startswith("CLICK#")]
    assert len(click_items) == 4
    for item in click_items:  # marked with the time it was counted
        datetime.strptime(item["counted"], link_codes.ISO_FORMAT)


def test_a_retried_batch_counts_nothing_twice(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, get_item: Any
) -> None:
    make_link("retry1")
    click("retry1")
    click("retry1")
    records = stream.read()
    for _ in range(3):  # Lambda delivers the same batch again after a failure or timeout
        assert count(*records) == {"batchItemFailures": []}
    assert clicks_of(get_item, "retry1") == 2


def test_a_record_twice_in_one_batch_counts_once(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, get_item: Any
) -> None:
    make_link("dupe01")
    click("dupe01")
    (insert,) = inserts_of_clicks(stream.read())
    assert count(insert, copy.deepcopy(insert), insert) == {"batchItemFailures": []}
    assert clicks_of(get_item, "dupe01") == 1


def test_modify_and_remove_records_are_ignored(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, get_item: Any, table: Any
) -> None:
    make_link("events")
    click("events")
    count(*stream.read())
    # Counting wrote two MODIFYs (the click marked, the link's clicks); then a removal.
    table.delete_item(Key=link_codes.link_key("events"))
    table.put_item(Item={**link_codes.link_key("events"), "url": URL, "clicks": 1})
    records = stream.read()
    assert sorted(r["eventName"] for r in records) == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]
    assert count(*records) == {"batchItemFailures": []}
    assert clicks_of(get_item, "events") == 1  # no click was inserted: nothing counted


def test_a_ttl_removal_is_ignored(count: Any) -> None:
    removal = {
        "eventID": "c81e728d9d4c2f636f067f89cc14862c",
        "eventName": "REMOVE",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": lt.REGION,
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
        "dynamodb": {
            "ApproximateCreationDateTime": 1735787045.0,
            "Keys": {"pk": {"S": "LINK#gone01"}, "sk": {"S": "CLICK#x"}},
            "SequenceNumber": "4421584500000000017450439091",
            "SizeBytes": 58,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2025",
    }
    assert count(removal) == {"batchItemFailures": []}


def test_a_click_on_a_link_that_is_gone_is_skipped(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, table: Any, all_items: Any
) -> None:
    make_link("gone01")
    click("gone01")
    table.delete_item(Key={"pk": "LINK#gone01", "sk": "LINK"})
    records = stream.read()
    assert count(*records) == {"batchItemFailures": []}
    items = all_items()
    assert [item["sk"][:6] for item in items] == ["CLICK#"]  # the link is not brought back
    assert "counted" not in items[0]


def test_a_click_that_ttl_removed_is_not_brought_back(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, table: Any, get_item: Any
) -> None:
    make_link("late01")
    click("late01")
    (insert,) = inserts_of_clicks(stream.read())
    table.delete_item(Key={k: v["S"] for k, v in insert["dynamodb"]["Keys"].items()})
    assert count(insert) == {"batchItemFailures": []}
    assert get_item("LINK#late01", insert["dynamodb"]["Keys"]["sk"]["S"]) is None
    assert clicks_of(get_item, "late01") == 0


def malformed_records(good: dict[str, Any]) -> dict[str, Any]:
    """Records a stream should never hold, each built from a good one."""

    def changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
        record = copy.deepcopy(good)
        target = record
        for name in path[:-1]:
            target = target[name]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return record

    return {
        "not an object": "INSERT",
        "a list": [good],
        "no eventName": changed(("eventName",), DELETE),
        "odd eventName": changed(("eventName",), "UPSERT"),
        "no dynamodb": changed(("dynamodb",), DELETE),
        "dynamodb not an object": changed(("dynamodb",), "x"),
        "no NewImage (KEYS_ONLY stream)": changed(("dynamodb", "NewImage"), DELETE),
        "NewImage not an object": changed(("dynamodb", "NewImage"), ["pk"]),
        "pk a number": changed(("dynamodb", "NewImage", "pk"), {"N": "1"}),
        "pk plain": changed(("dynamodb", "NewImage", "pk"), "LINK#abcd"),
        "sk missing": changed(("dynamodb", "NewImage", "sk"), DELETE),
        "pk not a link": changed(("dynamodb", "NewImage", "pk"), {"S": "USER#abcd"}),
        "pk bad code": changed(("dynamodb", "NewImage", "pk"), {"S": "LINK#a/b"}),
        "sk bad click": changed(("dynamodb", "NewImage", "sk"), {"S": "CLICK#yesterday"}),
        "no SequenceNumber": changed(("dynamodb", "SequenceNumber"), DELETE),
        "SequenceNumber a number": changed(("dynamodb", "SequenceNumber"), 17),
    }


DELETE = object()


def test_malformed_records_are_logged_and_skipped(
    make_link: Any,
    click: Any,
    stream: lt.Stream,
    count: Any,
    get_item: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_link("poison")
    click("poison")
    click("poison")
    first, second = inserts_of_clicks(stream.read())
    bad = malformed_records(first)
    with caplog.at_level(logging.ERROR):
        assert count(*bad.values(), second) == {"batchItemFailures": []}
    assert clicks_of(get_item, "poison") == 1  # the good record behind them was counted
    skipped = [r for r in caplog.records if "Skipping malformed stream record" in r.getMessage()]
    assert len(skipped) == len(bad)


@pytest.mark.parametrize("event", [{}, {"Records": None}, {"Records": "x"}, [], None])
def test_an_event_that_is_not_a_batch_is_logged(
    count_clicks_handler: ModuleType, context: Any, event: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        assert count_clicks_handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert "Not a stream batch" in caplog.text


TRANSACT = "before-parameter-build.dynamodb.TransactWriteItems"


def fail_transactions_for(client: Any, sk: str, error: Exception) -> Callable[..., None]:
    """Make TransactWriteItems fail for one click; returns the hook, to unregister it."""

    def fail(params: dict[str, Any], **_: Any) -> None:
        if params["TransactItems"][0]["Update"]["Key"]["sk"]["S"] == sk:
            raise error

    client.meta.events.register(TRANSACT, fail)
    return fail


THROTTLED = ClientError(
    {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
)
CONFLICT = ClientError(
    {
        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
        "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
    },
    "TransactWriteItems",
)


@pytest.mark.parametrize("error", [THROTTLED, CONFLICT, RuntimeError("bug")])
def test_an_unexpected_error_stops_the_batch_at_that_record(
    make_link: Any,
    click: Any,
    stream: lt.Stream,
    count: Any,
    count_clicks_handler: ModuleType,
    get_item: Any,
    error: Exception,
) -> None:
    make_link("fault1")
    for _ in range(3):
        click("fault1")
    records = stream.read()
    _, second, third = inserts_of_clicks(records)
    client = count_clicks_handler._dynamodb()
    hook = fail_transactions_for(client, second["dynamodb"]["Keys"]["sk"]["S"], error)

    response = count(*records)
    assert response == {
        "batchItemFailures": [{"itemIdentifier": second["dynamodb"]["SequenceNumber"]}]
    }
    assert clicks_of(get_item, "fault1") == 1  # the first; the third waits for the retry

    # Lambda retries from the failed record; now DynamoDB answers.
    client.meta.events.unregister(TRANSACT, hook)
    retried = records[records.index(second) :]
    assert retried[0] is second and third in retried
    assert count(*retried) == {"batchItemFailures": []}
    assert clicks_of(get_item, "fault1") == 3


def test_the_transaction_uses_only_update_item(
    make_link: Any, click: Any, stream: lt.Stream, count: Any, count_clicks_handler: ModuleType
) -> None:
    """The function's role allows dynamodb:UpdateItem only: every part must be an Update."""
    make_link("grant1")
    click("grant1")
    seen: list[dict[str, Any]] = []
    calls: list[str] = []
    client = count_clicks_handler._dynamodb()
    client.meta.events.register(
        "before-parameter-build.dynamodb",
        lambda params, model, **_: (calls.append(model.name), seen.append(params)),
    )
    count(*stream.read())
    assert calls == ["TransactWriteItems"]
    (params,) = seen
    assert [list(part) for part in params["TransactItems"]] == [["Update"], ["Update"]]
    assert {part["Update"]["TableName"] for part in params["TransactItems"]} == {lt.TABLE_NAME}


def test_outcomes_of_the_logic(table: Any, seed_link: Any) -> None:
    client = boto3.client("dynamodb")
    settings = count_clicks_logic.Settings(table_name=lt.TABLE_NAME)
    now = datetime.now(UTC)

    def click_on(code: str, *, stored: bool = True) -> count_clicks_logic.Click:
        key = link_codes.click_key(code, now, uuid.uuid4())
        if stored:
            table.put_item(Item={**key, "expires_at": int(time.time()) + 60})
        return count_clicks_logic.Click(code=code, sk=key["sk"], sequence_number="1")

    def outcome(found: count_clicks_logic.Click) -> str:
        return count_clicks_logic.count_click(client, settings, found, now).value

    seed_link("logic1")
    counted = click_on("logic1")
    assert outcome(counted) == "counted"
    assert outcome(counted) == "already counted or gone"
    assert outcome(click_on("logic1", stored=False)) == "already counted or gone"
    assert outcome(click_on("nolink")) == "link gone"
    assert int(table.get_item(Key=link_codes.link_key("logic1"))["Item"]["clicks"]) == 1


def test_settings() -> None:
    assert count_clicks_logic.Settings.from_env({"TABLE_NAME": "t"}).table_name == "t"
    with pytest.raises(link_codes.ConfigError, match="TABLE_NAME is not set"):
        count_clicks_logic.Settings.from_env({})
