"""Events delivered to local functions as the AWS services deliver them (`infra.local.events`).

A real local AWS (moto's server with our fixes, one per module) holds the queues, topics
and tables; a `Topology` built by hand wires them to real `LocalFunction`s, and `Delivery`
runs the pollers. The handlers write every event they get to a file, so the tests check
what arrived (Lambda's event shapes, batch sizes, order) and what the services were left
with (deleted messages, redelivery after the visibility timeout, the DLQ per the redrive
policy, on-failure destination records). Retries wait tenths of a second, queues' visibility
timeouts one second, so the module runs in well under a minute. Every function process and
poller a test starts is stopped by the `running` fixture; the local AWS by its process id.
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.app import Function, Schedule
from infra.config import LambdaDefaults
from infra.local.events import Delivery, failed_ids, stream_failure
from infra.local.functions import (
    FunctionConfiguration,
    FunctionFleet,
    Invocation,
    LocalFunction,
    local_packager,
)
from infra.local.topology import (
    AsyncConfig,
    QueueSource,
    ScheduleRule,
    StreamSource,
    TopicSubscription,
    Topology,
)
from tests.support.local_http import eventually as wait_for_truthy

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # the local AWS's account
DEFAULTS = LambdaDefaults(runtime="python3.12", architecture="arm64", memory=128, timeout=3)
WAIT = 20.0
eventually = partial(wait_for_truthy, seconds=WAIT)

# One handler for every test: it writes each event to RECORD, then does what MODE says.
RECORDER = """
import json
import os

MODE = os.environ.get("MODE", "ok")


def lambda_handler(event, context):
    with open(os.environ["RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps(event) + "\\n")
    text = json.dumps(event)
    if MODE == "raise-on-poison" and "poison" in text:
        raise RuntimeError("poison in batch")
    if MODE == "always-raise":
        raise RuntimeError("the payment service is down")
    if MODE == "fail-once":
        marker = os.environ["RECORD"] + ".failed"
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("a transient failure")
    if MODE == "report-poison-messages":
        return {"batchItemFailures": [
            {"itemIdentifier": record["messageId"]}
            for record in event["Records"] if "poison" in record["body"]
        ]}
    if MODE == "report-poison-records":
        return {"batchItemFailures": [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
            for record in event["Records"]
            if record["dynamodb"]["NewImage"]["status"]["S"] == "poison"
        ]}
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def endpoint(moto_server: str) -> str:
    return moto_server


def client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


@dataclass
class Running:
    """Functions and a Delivery under test, and what they did."""

    endpoint: str
    root: Path
    fleet: FunctionFleet = field(default_factory=FunctionFleet)
    invocations: list[Invocation] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    delivery: Delivery | None = None

    def client(self, service: str) -> Any:
        return client(self.endpoint, service)

    def function(self, name: str, mode: str = "ok", timeout: int = 3) -> str:
        """A recording function; returns its physical name."""
        code = self.root / "functions" / name
        code.mkdir(parents=True)
        (code / "handler.py").write_text(textwrap.dedent(RECORDER), encoding="utf-8")
        physical = f"shop-dev-{name}"
        configuration = FunctionConfiguration(
            declared=Function(
                name=name,
                code=f"functions/{name}",
                trigger=Schedule("rate(1 day)"),
                description=f"records its events ({mode})",
            ),
            name=physical,
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}",
            handler="handler.lambda_handler",
            timeout=timeout,
            memory=128,
            environment={"RECORD": str(self.record_file(physical)), "MODE": mode},
            log_group=f"/aws/lambda/{physical}",
        )
        state = self.root / "state"
        packager = local_packager(self.root, state, "shared")
        self.fleet.add(
            LocalFunction(
                configuration, packager, DEFAULTS, state, self.endpoint, REGION, self.logs.append
            )
        )
        return physical

    def record_file(self, physical: str) -> Path:
        return self.root / f"{physical}.jsonl"

    def events(self, physical: str) -> list[dict[str, Any]]:
        path = self.record_file(physical)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def start(self, topology: Topology) -> Delivery:
        self.delivery = Delivery(
            topology,
            self.fleet,
            self.client,
            REGION,
            self.invocations.append,
            self.logs.append,
            retry_delay=0.1,
        )
        self.delivery.start()
        return self.delivery

    def stop(self) -> None:
        if self.delivery is not None:
            self.delivery.stop()
        self.fleet.stop()


@pytest.fixture
def running(endpoint: str, tmp_path: Path) -> Iterator[Running]:
    run = Running(endpoint, tmp_path)
    yield run
    run.stop()


def create_queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def queue_with_dlq(sqs: Any, stem: str, max_receive_count: int) -> tuple[str, str, str]:
    """A work queue (1 s visibility) whose redrive policy moves messages to its DLQ."""
    dlq_url, dlq_arn = create_queue(sqs, unique(f"{stem}-dlq"))
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
    url, arn = create_queue(
        sqs, unique(stem), VisibilityTimeout="1", RedrivePolicy=json.dumps(policy)
    )
    return url, arn, dlq_url


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message now on a queue (received once, left in flight)."""
    found: list[dict[str, Any]] = []
    while True:
        page = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
        ).get("Messages", [])
        if not page:
            return found
        found += page


def drain_into(sqs: Any, url: str, into: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`into`, with what is now on the queue added: for waiting on several messages."""
    into += drain(sqs, url)
    return into


def queue_count(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def bodies(events: list[dict[str, Any]]) -> list[list[str]]:
    return [[record["body"] for record in event["Records"]] for event in events]


# -- SQS event source mappings ----------------------------------------------------------------


def test_queue_messages_arrive_as_lambdas_sqs_event_in_batches_and_are_deleted(
    running: Running,
) -> None:
    sqs = running.client("sqs")
    url, arn = create_queue(sqs, unique("orders"))
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"orderId": "o-1"}),
        MessageAttributes={
            "source": {"DataType": "String", "StringValue": "checkout"},
            "signature": {"DataType": "Binary", "BinaryValue": b"\x00\xffsig"},
        },
    )
    for number in range(2, 8):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"orderId": f"o-{number}"}))
    function = running.function("orders")
    running.start(Topology(queue_sources=[QueueSource(function, arn, 3, True)]))

    eventually(lambda: sum(map(len, bodies(running.events(function)))) >= 7)
    events = running.events(function)

    sizes = [len(event["Records"]) for event in events]
    assert sum(sizes) == 7 and max(sizes) == 3  # BatchSize 3 honoured
    records = [record for event in events for record in event["Records"]]
    assert sorted(json.loads(r["body"])["orderId"] for r in records) == [
        f"o-{n}" for n in range(1, 8)
    ]
    first = next(r for r in records if json.loads(r["body"])["orderId"] == "o-1")
    assert set(first) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert (first["eventSource"], first["eventSourceARN"], first["awsRegion"]) == (
        "aws:sqs",
        arn,
        REGION,
    )
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        first["attributes"]
    )
    assert first["messageAttributes"] == {
        "source": {
            "stringValue": "checkout",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "signature": {
            "binaryValue": "AP9zaWc=",  # base64, as Lambda writes binary values
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert all(r["receiptHandle"] and r["md5OfBody"] for r in records)
    eventually(lambda: queue_count(sqs, url) == 0)  # every message succeeded: all deleted
    assert all(invocation.ok for invocation in running.invocations)


def test_reported_batch_item_failures_return_after_the_visibility_timeout_then_go_to_the_dlq(
    running: Running,
) -> None:
    sqs = running.client("sqs")
    url, arn, dlq_url = queue_with_dlq(sqs, "thumbnails", max_receive_count=2)
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "MessageBody": body}
            for i, body in enumerate(["photo-1", "poison-photo", "photo-2"])
        ],
    )
    function = running.function("thumbnails", mode="report-poison-messages")
    running.start(Topology(queue_sources=[QueueSource(function, arn, 10, True)]))

    dead = eventually(lambda: drain(sqs, dlq_url))

    assert [message["Body"] for message in dead] == ["poison-photo"]
    seen = [r for event in running.events(function) for r in event["Records"]]
    by_body: dict[str, list[dict[str, Any]]] = {}
    for record in seen:
        by_body.setdefault(record["body"], []).append(record)
    # The successful ones were deleted after the first batch: delivered once each.
    assert len(by_body["photo-1"]) == len(by_body["photo-2"]) == 1
    # The reported one came back after the visibility timeout, maxReceiveCount times.
    assert [r["attributes"]["ApproximateReceiveCount"] for r in by_body["poison-photo"]] == [
        "1",
        "2",
    ]
    first, second = (int(r["attributes"]["SentTimestamp"]) for r in by_body["poison-photo"])
    assert first == second  # the same message, redelivered
    assert queue_count(sqs, url) == 0


def test_a_function_error_returns_the_whole_batch_even_with_partial_reporting_on(
    running: Running,
) -> None:
    sqs = running.client("sqs")
    url, arn, dlq_url = queue_with_dlq(sqs, "invoices", max_receive_count=2)
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "MessageBody": body}
            for i, body in enumerate(["invoice-1", "poison-invoice"])
        ],
    )
    function = running.function("invoices", mode="raise-on-poison")
    running.start(Topology(queue_sources=[QueueSource(function, arn, 10, True)]))

    dead: list[dict[str, Any]] = []
    eventually(lambda: len(drain_into(sqs, dlq_url, dead)) >= 2)

    assert sorted(message["Body"] for message in dead) == ["invoice-1", "poison-invoice"]
    assert [sorted(batch) for batch in bodies(running.events(function))] == [
        ["invoice-1", "poison-invoice"]
    ] * 2
    assert [i.error_message for i in running.invocations] == ["poison in batch"] * 2


def test_without_report_batch_item_failures_a_reported_failure_is_ignored_and_deleted(
    running: Running,
) -> None:
    """The mapping decides: a response listing failures, without the setting, is a success."""
    sqs = running.client("sqs")
    url, arn, dlq_url = queue_with_dlq(sqs, "emails", max_receive_count=1)
    sqs.send_message(QueueUrl=url, MessageBody="poison-email")
    function = running.function("emails", mode="report-poison-messages")
    running.start(Topology(queue_sources=[QueueSource(function, arn, 10, False)]))

    eventually(lambda: running.events(function))
    eventually(lambda: queue_count(sqs, url) == 0)
    time.sleep(1.5)  # past the visibility timeout: nothing comes back

    assert bodies(running.events(function)) == [["poison-email"]]
    assert drain(sqs, dlq_url) == []


MESSAGES = [{"MessageId": "m-1"}, {"MessageId": "m-2"}, {"MessageId": "m-3"}]
EVERY = {"m-1", "m-2", "m-3"}


def answered(result: Any) -> Invocation:
    return Invocation("worker", "test", True, 0.1, result)


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m-2"}]}, {"m-2"}),
        ({"batchItemFailures": [{"itemIdentifier": "m-3"}, {"itemIdentifier": "m-1"}]},
         {"m-1", "m-3"}),
        # Lambda's "complete failure" answers: the whole batch returns to the queue.
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, EVERY),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, EVERY),
        ({"batchItemFailures": [{"messageId": "m-2"}]}, EVERY),
        ({"batchItemFailures": [{"itemIdentifier": "m-9"}]}, EVERY),
    ],
)  # fmt: skip
def test_which_messages_lambda_treats_as_failed(result: Any, failed: set[str]) -> None:
    assert failed_ids(answered(result), MESSAGES, report=True) == failed


def test_an_error_fails_every_message_and_reports_are_ignored_unless_enabled() -> None:
    error = Invocation("worker", "test", False, 0.1, error_type="RuntimeError")
    report = answered({"batchItemFailures": [{"itemIdentifier": "m-2"}]})

    assert failed_ids(error, MESSAGES, report=True) == EVERY
    assert failed_ids(error, MESSAGES, report=False) == EVERY
    assert failed_ids(report, MESSAGES, report=False) == set()


# -- SNS to a function (asynchronous invocation) ----------------------------------------------


def test_a_topic_invokes_its_function_with_one_sns_record_per_message(running: Running) -> None:
    sns = running.client("sns")
    topic = sns.create_topic(Name=unique("uploads"))["TopicArn"]
    function = running.function("analyze")
    running.start(Topology(subscriptions=[TopicSubscription(topic, "lambda", function)]))
    time.sleep(0.5)  # the delivery's subscription is made as it starts
    published = sns.publish(
        TopicArn=topic,
        Subject="New upload",
        Message=json.dumps({"key": "photos/cat.jpg"}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "photo"}},
    )
    sns.publish(TopicArn=topic, Message="second")

    events = eventually(lambda: len(running.events(function)) >= 2 and running.events(function))

    assert [len(event["Records"]) for event in events] == [1, 1]
    record = next(e["Records"][0] for e in events if e["Records"][0]["Sns"]["Message"] != "second")
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"].startswith(topic + ":")
    message = record["Sns"]
    assert json.loads(message["Message"]) == {"key": "photos/cat.jpg"}
    assert message["TopicArn"] == topic
    assert message["MessageId"] == published["MessageId"]
    assert message["Subject"] == "New upload"
    assert message["Type"] == "Notification"
    assert message["MessageAttributes"] == {"kind": {"Type": "String", "Value": "photo"}}
    assert message["Timestamp"].endswith("Z")
    other = next(
        e["Records"][0]["Sns"] for e in events if e["Records"][0]["Sns"]["Message"] == "second"
    )
    assert other["Subject"] is None and other["MessageAttributes"] == {}


def test_a_failing_async_invocation_is_retried_twice_then_sent_to_the_on_failure_destination(
    running: Running,
) -> None:
    sns, sqs = running.client("sns"), running.client("sqs")
    topic = sns.create_topic(Name=unique("payments"))["TopicArn"]
    dlq_url, dlq_arn = create_queue(sqs, unique("charge-dlq"))
    function = running.function("charge", mode="always-raise")
    running.start(
        Topology(
            subscriptions=[TopicSubscription(topic, "lambda", function)],
            async_configs={function: AsyncConfig(retries=2, on_failure=dlq_arn)},
        )
    )
    time.sleep(0.5)
    sns.publish(TopicArn=topic, Message=json.dumps({"paymentId": "p-1"}))

    (dead,) = eventually(lambda: drain(sqs, dlq_url))

    events = running.events(function)
    assert len(events) == 3  # the first attempt and MaximumRetryAttempts (2) retries
    assert events[0] == events[1] == events[2]
    assert [i.trigger.rsplit(" ", 2)[-2:] for i in running.invocations][1:] == [
        ["(retry", "1)"],
        ["(retry", "2)"],
    ]
    record = json.loads(dead["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(f":function:{function}:$LATEST")
    assert record["requestPayload"] == events[0]
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "the payment service is down"
    assert record["responsePayload"]["stackTrace"]


@pytest.mark.parametrize(
    ("mode", "retries", "invocations", "dead_letters"),
    [("fail-once", 2, 2, 0), ("always-raise", 0, 1, 1), ("ok", 2, 1, 0)],
    ids=["recovers-on-retry", "no-retries", "succeeds"],
)
def test_async_retries_stop_at_the_first_success_or_the_configured_count(
    running: Running, mode: str, retries: int, invocations: int, dead_letters: int
) -> None:
    sns, sqs = running.client("sns"), running.client("sqs")
    topic = sns.create_topic(Name=unique("alerts"))["TopicArn"]
    dlq_url, dlq_arn = create_queue(sqs, unique("alerts-dlq"))
    function = running.function("alert", mode=mode)
    running.start(
        Topology(
            subscriptions=[TopicSubscription(topic, "lambda", function)],
            async_configs={function: AsyncConfig(retries=retries, on_failure=dlq_arn)},
        )
    )
    time.sleep(0.5)
    sns.publish(TopicArn=topic, Message="disk almost full")

    eventually(lambda: len(running.invocations) >= invocations)
    time.sleep(0.8)  # room for a retry (0.1 s, then 0.2 s) that must not happen
    dead: list[dict[str, Any]] = []
    if dead_letters:
        eventually(lambda: drain_into(sqs, dlq_url, dead))

    assert len(running.events(function)) == invocations
    assert [i.ok for i in running.invocations][-1] == (dead_letters == 0)
    assert len(drain_into(sqs, dlq_url, dead)) == dead_letters


# -- DynamoDB streams -------------------------------------------------------------------------


def stream_table(dynamodb: Any, stem: str) -> str:
    """A table with a NEW_AND_OLD_IMAGES stream; returns the stream's ARN."""
    name = unique(stem)
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"])


def put_orders(dynamodb: Any, stream_arn: str, statuses: list[str]) -> None:
    table = stream_arn.split("/")[1]
    for number, status in enumerate(statuses, start=1):
        dynamodb.put_item(
            TableName=table,
            Item={"id": {"S": f"o-{number}"}, "status": {"S": status}, "total": {"N": "9.5"}},
        )


def stream_source(function: str, stream_arn: str, **changes: Any) -> StreamSource:
    settings: dict[str, Any] = {
        "batch_size": 100,
        "starting_position": "TRIM_HORIZON",
        "maximum_retry_attempts": 1,
        "maximum_record_age_seconds": -1,
        "bisect": True,
        "report_failures": False,
        "on_failure": None,
        "filters": (),
    }
    return StreamSource(function=function, stream_arn=stream_arn, **{**settings, **changes})


def ids(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["Keys"]["id"]["S"] for record in event["Records"]]


def test_stream_records_matching_the_filter_arrive_in_order_as_lambdas_event(
    running: Running,
) -> None:
    dynamodb = running.client("dynamodb")
    stream_arn = stream_table(dynamodb, "orders")
    put_orders(dynamodb, stream_arn, ["paid", "pending", "paid", "refunded"])
    function = running.function("fulfil")
    paid = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}
    running.start(
        Topology(stream_sources=[stream_source(function, stream_arn, filters=(json.dumps(paid),))])
    )

    (event,) = eventually(lambda: running.events(function))
    time.sleep(1.2)  # another poll: the filtered-out records never arrive

    assert running.events(function) == [event]
    assert ids(event) == ["o-1", "o-3"]
    record = event["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == stream_arn
    assert record["awsRegion"] == REGION
    change = record["dynamodb"]
    assert change["NewImage"] == {
        "id": {"S": "o-1"},
        "status": {"S": "paid"},
        "total": {"N": "9.5"},
    }
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(change["ApproximateCreationDateTime"], int)  # epoch seconds
    assert abs(change["ApproximateCreationDateTime"] - time.time()) < 120
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]]
    assert sequence == sorted(sequence)


def test_a_failing_stream_batch_is_bisected_to_isolate_the_bad_record(running: Running) -> None:
    """Splitting uses no retries: with one retry, only the poison record is given up."""
    dynamodb, sqs = running.client("dynamodb"), running.client("sqs")
    stream_arn = stream_table(dynamodb, "ledger")
    put_orders(dynamodb, stream_arn, ["paid", "poison", "paid", "paid"])
    dlq_url, dlq_arn = create_queue(sqs, unique("ledger-dlq"))
    function = running.function("ledger", mode="raise-on-poison")
    source = stream_source(function, stream_arn, on_failure=dlq_arn, maximum_retry_attempts=1)
    running.start(Topology(stream_sources=[source]))

    (dead,) = eventually(lambda: drain(sqs, dlq_url))
    eventually(lambda: len(running.events(function)) >= 6)

    batches = [ids(event) for event in running.events(function)]
    assert batches == [
        ["o-1", "o-2", "o-3", "o-4"],  # fails: split
        ["o-1", "o-2"],  # fails: split
        ["o-1"],  # succeeds
        ["o-2"],  # fails, then its one retry fails
        ["o-2"],
        ["o-3", "o-4"],  # the rest succeeds
    ]
    record = json.loads(dead["Body"])
    shard = running.client("dynamodbstreams").describe_stream(StreamArn=stream_arn)
    poison = running.events(function)[3]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert info["shardId"] == shard["StreamDescription"]["Shards"][0]["ShardId"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream_arn
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")


def test_a_reported_stream_failure_retries_from_that_record_then_gives_the_rest_up(
    running: Running,
) -> None:
    dynamodb, sqs = running.client("dynamodb"), running.client("sqs")
    stream_arn = stream_table(dynamodb, "shipments")
    put_orders(dynamodb, stream_arn, ["paid", "poison", "paid"])
    dlq_url, dlq_arn = create_queue(sqs, unique("shipments-dlq"))
    function = running.function("ship", mode="report-poison-records")
    source = stream_source(
        function, stream_arn, on_failure=dlq_arn, report_failures=True, maximum_retry_attempts=1
    )
    running.start(Topology(stream_sources=[source]))

    (dead,) = eventually(lambda: drain(sqs, dlq_url))

    batches = [ids(event) for event in running.events(function)]
    # Checkpointed before the reported record; the rest retried once, then given up.
    assert batches == [["o-1", "o-2", "o-3"], ["o-2", "o-3"]]
    info = json.loads(dead["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 2


def test_a_stream_failure_with_no_retries_and_no_bisect_gives_the_batch_up_at_once(
    running: Running,
) -> None:
    dynamodb, sqs = running.client("dynamodb"), running.client("sqs")
    stream_arn = stream_table(dynamodb, "audit")
    put_orders(dynamodb, stream_arn, ["paid", "poison"])
    dlq_url, dlq_arn = create_queue(sqs, unique("audit-dlq"))
    function = running.function("audit", mode="raise-on-poison")
    source = stream_source(
        function, stream_arn, on_failure=dlq_arn, bisect=False, maximum_retry_attempts=0
    )
    running.start(Topology(stream_sources=[source]))

    (dead,) = eventually(lambda: drain(sqs, dlq_url))

    assert [ids(event) for event in running.events(function)] == [["o-1", "o-2"]]
    assert json.loads(dead["Body"])["DDBStreamBatchInfo"]["batchSize"] == 2


@pytest.mark.parametrize(
    ("result", "failed_from"),
    [
        (None, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": "999"}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, 0),
    ],
)
def test_where_a_stream_batch_is_retried_from(result: Any, failed_from: int | None) -> None:
    batch = [{"dynamodb": {"SequenceNumber": n}} for n in ("100", "200", "300")]

    assert stream_failure(answered(result), batch, report=True) == failed_from


# -- schedules --------------------------------------------------------------------------------


def test_fire_runs_the_function_with_an_eventbridge_scheduled_event(running: Running) -> None:
    function = running.function("nightly-report")
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/shop-dev-nightly-report"
    rule = ScheduleRule(
        name="shop-dev-nightly-report",
        arn=rule_arn,
        expression="cron(0 6 * * ? *)",
        function=function,
        enabled=True,
        retries=2,
        dead_letter=None,
    )
    delivery = running.start(Topology(schedules=[rule]))

    assert delivery.fire(function) is True
    (event,) = eventually(lambda: running.events(function))
    assert delivery.fire("shop-dev-nightly-report") is True  # by the rule's name too
    eventually(lambda: len(running.events(function)) == 2)
    assert delivery.fire("shop-dev-no-such-function") is False

    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert (event["version"], event["detail-type"], event["source"]) == (
        "0",
        "Scheduled Event",
        "aws.events",
    )
    assert (event["account"], event["region"], event["resources"]) == (ACCOUNT, REGION, [rule_arn])
    assert event["detail"] == {}
    assert time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert running.events(function)[1]["id"] != event["id"]
    assert all("(on demand)" in invocation.trigger for invocation in running.invocations)


def test_a_failing_scheduled_run_retries_then_goes_to_the_on_failure_destination(
    running: Running,
) -> None:
    sqs = running.client("sqs")
    dlq_url, dlq_arn = create_queue(sqs, unique("cleanup-dlq"))
    function = running.function("cleanup", mode="always-raise")
    rule = ScheduleRule(
        name="shop-dev-cleanup",
        arn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/shop-dev-cleanup",
        expression="rate(1 day)",
        function=function,
        enabled=True,
        retries=1,
        dead_letter=dlq_arn,
    )
    delivery = running.start(
        Topology(
            schedules=[rule],
            async_configs={function: AsyncConfig(retries=1, on_failure=dlq_arn)},
        )
    )

    delivery.fire(function)
    (dead,) = eventually(lambda: drain(sqs, dlq_url))

    assert len(running.events(function)) == 2
    record = json.loads(dead["Body"])
    assert record["requestPayload"]["detail-type"] == "Scheduled Event"
    assert record["requestContext"]["approximateInvokeCount"] == 2
