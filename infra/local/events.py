"""Events delivered along the wiring the templates declare, as the AWS services deliver them.

- an SQS event source mapping: batches of up to BatchSize messages, a partial batch
  failure deletes only what succeeded, the rest returns after its visibility timeout and
  the queue's redrive policy (kept by the local AWS) moves it to its DLQ;
- SNS to a function: asynchronous invocation, retried MaximumRetryAttempts times, then
  sent to the on-failure destination; SNS to a queue: a real subscription;
- a DynamoDB stream mapping: records in order per shard, filtered, in batches; a failed
  batch is bisected (a split uses no retry, as on AWS) and retried, then its description
  goes to the on-failure destination;
- a schedule: fired when its expression says, or on demand.
Asynchronous retries wait `retry_delay` (seconds, not AWS's minutes) between attempts.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.local.functions import FunctionFleet, Invocation
from infra.local.topology import AsyncConfig, QueueSource, ScheduleRule, StreamSource, Topology

Report = Callable[[Invocation], None]
Log = Callable[[str], None]
POLL_SECONDS = 1


def queue_url(sqs: Any, arn: str) -> str:
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An SQS message attribute as Lambda puts it in an event: binary values in base64."""
    attribute: dict[str, Any] = {"dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [
        base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])
    ]
    return attribute


def sqs_event(messages: list[dict[str, Any]], arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from received SQS messages."""
    records = []
    for message in messages:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: message_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


def stream_json(value: Any) -> Any:
    """A stream record's value as Lambda writes it: times in epoch seconds, bytes in base64."""
    if isinstance(value, dict):
        return {key: stream_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stream_json(item) for item in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def stream_record(record: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda puts it in an event."""
    return {**stream_json(record), "awsRegion": region, "eventSourceARN": arn}


def failed_ids(invocation: Invocation, messages: list[dict[str, Any]], report: bool) -> set[str]:
    """The message ids Lambda treats as failed: all of them on an error or a bad answer."""
    every = {message["MessageId"] for message in messages}
    if not invocation.ok:
        return every
    if not report:
        return set()
    result = invocation.result
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set()
    try:
        failures = {str(item["itemIdentifier"]) for item in result["batchItemFailures"]}
    except (KeyError, TypeError):
        return every  # an answer Lambda cannot read fails the whole batch
    return failures if failures <= every else every


@dataclass
class Delivery:
    """Every event source of one environment, on threads of its own."""

    topology: Topology
    functions: FunctionFleet
    clients: Callable[[str], Any]
    region: str
    report: Report
    log: Log
    retry_delay: float = 1.0
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    schedule_triggers: dict[str, threading.Event] = field(default_factory=dict)

    def start(self) -> None:
        self.wire_buckets()
        self.wire_topics()
        for source in self.topology.queue_sources:
            self.spawn(self.poll_queue, source)
        for source in self.topology.stream_sources:
            self.spawn(self.poll_stream, source)
        for rule in self.topology.schedules:
            self.schedule_triggers[rule.function] = threading.Event()
            self.spawn(self.run_schedule, rule)

    def spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=self.guarded, args=(target, *args), daemon=True)
        thread.start()
        self.threads.append(thread)

    def guarded(self, target: Callable[..., None], *args: Any) -> None:
        while not self.stopping.is_set():
            try:
                target(*args)
                return
            except Exception as err:  # a poller must outlive the errors it meets
                self.log(f"{target.__name__}: {type(err).__name__}: {err}; retrying")
                self.stopping.wait(POLL_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        for event in self.schedule_triggers.values():
            event.set()
        for thread in self.threads:
            thread.join(timeout=5)

    # -- buckets and topics ---------------------------------------------------------------------

    def wire_buckets(self) -> None:
        """Notifications and CORS as the data template declares them (moto ignores them there)."""
        s3 = self.clients("s3")
        for bucket in self.topology.buckets:
            if bucket.notifications:
                s3.put_bucket_notification_configuration(
                    Bucket=bucket.name, NotificationConfiguration=bucket.notifications
                )
            if bucket.cors:
                s3.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": bucket.cors})

    def wire_topics(self) -> None:
        """Queue subscriptions for real; function subscriptions through a queue we read."""
        sns, sqs = self.clients("sns"), self.clients("sqs")
        for item in self.topology.subscriptions:
            if item.protocol == "sqs":
                sns.subscribe(
                    TopicArn=item.topic_arn,
                    Protocol="sqs",
                    Endpoint=item.endpoint,
                    Attributes={"RawMessageDelivery": "true" if item.raw else "false"},
                )
            elif item.protocol == "lambda":
                digest = uuid.uuid5(uuid.NAMESPACE_URL, item.topic_arn + item.endpoint).hex
                name = f"infra-local-{digest[:12]}"
                url = sqs.create_queue(QueueName=name)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"]
                subscription = sns.subscribe(
                    TopicArn=item.topic_arn, Protocol="sqs", Endpoint=arn,
                    Attributes={"RawMessageDelivery": "false"},
                )["SubscriptionArn"]  # fmt: skip
                self.spawn(self.poll_topic, item.endpoint, url, subscription)

    def poll_topic(self, function: str, url: str, subscription: str) -> None:
        """SNS invokes a subscribed function asynchronously, one message per invocation."""
        sqs = self.clients("sqs")
        while not self.stopping.is_set():
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=POLL_SECONDS
            ).get("Messages", [])
            for message in messages:
                envelope = json.loads(message["Body"])
                event = {"Records": [sns_record(envelope, subscription)]}
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                self.invoke_async(
                    function, event, f"sns {envelope.get('TopicArn', '').rsplit(':', 1)[-1]}"
                )

    # -- asynchronous invocation ----------------------------------------------------------------

    def invoke_async(self, function: str, event: Any, trigger: str) -> None:
        """Lambda's asynchronous invocation: retries, then the on-failure destination."""
        config = self.topology.async_configs.get(function, AsyncConfig())
        local = self.functions.by_arn(function)
        attempts = config.retries + 1
        for attempt in range(1, attempts + 1):
            invocation = local.invoke(
                event, trigger if attempt == 1 else f"{trigger} (retry {attempt - 1})"
            )
            self.report(invocation)
            if invocation.ok:
                return
            if attempt < attempts and self.stopping.wait(self.retry_delay * attempt):
                return  # stopping: the run ends before the retry would
        if config.on_failure:
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": f"{local.configuration.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                    "functionError": "Unhandled"},
                "responsePayload": invocation.error,
            }  # fmt: skip
            self.send(config.on_failure, record)
            self.log(
                f"{local.name}: retries exhausted; sent to {config.on_failure.rsplit(':', 1)[-1]}"
            )

    def send(self, arn: str, body: Any) -> None:
        sqs = self.clients("sqs")
        sqs.send_message(QueueUrl=queue_url(sqs, arn), MessageBody=json.dumps(body, default=str))

    # -- SQS event sources ----------------------------------------------------------------------

    def poll_queue(self, source: QueueSource) -> None:
        sqs = self.clients("sqs")
        url = queue_url(sqs, source.queue_arn)
        local = self.functions.by_arn(source.function)
        while not self.stopping.is_set():
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(source.batch_size, 10),
                WaitTimeSeconds=POLL_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                continue
            event = sqs_event(messages, source.queue_arn, self.region)
            name = source.queue_arn.rsplit(":", 1)[-1]
            invocation = local.invoke(event, f"sqs {name} ({len(messages)})")
            self.report(invocation)
            failed = failed_ids(invocation, messages, source.report_failures)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done)
                    ],
                )

    # -- DynamoDB streams -----------------------------------------------------------------------

    def poll_stream(self, source: StreamSource) -> None:
        from infra.local.event_filters import compile_filters

        streams = self.clients("dynamodbstreams")
        local = self.functions.by_arn(source.function)
        matcher = compile_filters(list(source.filters))
        shards = streams.describe_stream(StreamArn=source.stream_arn)["StreamDescription"]["Shards"]
        iterators = {
            shard["ShardId"]: streams.get_shard_iterator(
                StreamArn=source.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="LATEST"
                if source.starting_position == "LATEST"
                else "TRIM_HORIZON",
            )["ShardIterator"]
            for shard in shards
        }
        while not self.stopping.is_set():
            delivered = False
            for shard, iterator in list(iterators.items()):
                page = streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
                iterators[shard] = page.get("NextShardIterator") or iterator
                records = [
                    stream_record(record, source.stream_arn, self.region)
                    for record in page.get("Records", [])
                ]
                records = [record for record in records if matcher.matches(record)]
                if records:
                    delivered = True
                    self.deliver_stream_batch(source, local, records, shard)
            if not delivered:
                self.stopping.wait(POLL_SECONDS)

    def deliver_stream_batch(
        self, source: StreamSource, local: Any, records: list[dict], shard: str = ""
    ) -> None:
        """A batch until it succeeds; bisected on errors; what still fails goes to the DLQ.

        As on AWS, splitting a failed batch in two uses none of its retries: each half
        keeps the retries its batch had used, and a batch (or what follows its first
        reported failure) retried whole uses one.
        """
        pending: list[tuple[list[dict], int]] = [(records, 0)]
        while pending and not self.stopping.is_set():
            batch, retries = pending.pop(0)
            invocation = local.invoke(
                json.loads(json.dumps({"Records": batch}, default=str)),
                f"stream {source.stream_arn.split('/')[1]} ({len(batch)})",
            )
            self.report(invocation)
            failed_from = stream_failure(invocation, batch, source.report_failures)
            if failed_from is None:
                continue
            rest = batch[failed_from:]
            if source.bisect and len(rest) > 1 and not invocation.ok:
                middle = len(rest) // 2
                pending[:0] = [(rest[:middle], retries), (rest[middle:], retries)]
                continue
            if 0 <= source.maximum_retry_attempts <= retries:
                self.stream_failure_record(source, rest, invocation, shard, retries + 1)
                continue
            pending.insert(0, (rest, retries + 1))
            self.stopping.wait(self.retry_delay)

    def stream_failure_record(
        self,
        source: StreamSource,
        batch: list[dict],
        invocation: Invocation,
        shard: str = "",
        invocations: int = 1,
    ) -> None:
        """The description of a discarded batch Lambda sends to the on-failure destination."""
        self.log(f"{invocation.function}: stream batch of {len(batch)} failed; giving up")
        if not source.on_failure:
            return
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        self.send(
            source.on_failure,
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": self.functions.by_arn(source.function).configuration.arn,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": invocations,
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "DDBStreamBatchInfo": {
                    "shardId": shard,
                    "startSequenceNumber": first.get("SequenceNumber"),
                    "endSequenceNumber": last.get("SequenceNumber"),
                    "approximateArrivalOfFirstRecord": arrival(first),
                    "approximateArrivalOfLastRecord": arrival(last),
                    "batchSize": len(batch),
                    "streamArn": source.stream_arn,
                },
            },
        )

    # -- schedules ------------------------------------------------------------------------------

    def run_schedule(self, rule: ScheduleRule) -> None:
        from infra.local.schedules import parse_schedule

        schedule = parse_schedule(rule.expression)
        trigger = self.schedule_triggers[rule.function]
        moment = datetime.now(UTC)
        while not self.stopping.is_set():
            upcoming = schedule.next_after(moment)
            wait = (
                None
                if upcoming is None
                else max(0.0, (upcoming - datetime.now(UTC)).total_seconds())
            )
            fired_on_demand = trigger.wait(wait)
            if self.stopping.is_set():
                return
            trigger.clear()
            moment = datetime.now(UTC) if fired_on_demand or upcoming is None else upcoming
            if not rule.enabled and not fired_on_demand:
                continue
            event = scheduled_event(rule, moment, self.region)
            trigger_name = f"schedule {rule.name}" + (" (on demand)" if fired_on_demand else "")
            self.spawn(self.invoke_async, rule.function, event, trigger_name)

    def fire(self, function: str) -> bool:
        """Fire a function's schedule now; False when it has none."""
        trigger = self.schedule_triggers.get(function)
        for rule in self.topology.schedules:
            if function in (rule.function, rule.name):
                trigger = self.schedule_triggers.get(rule.function)
        if trigger is None:
            return False
        trigger.set()
        return True


def stream_failure(invocation: Invocation, batch: list[dict], report: bool) -> int | None:
    """The index from which a stream batch failed, or None when it all succeeded."""
    if not invocation.ok:
        return 0
    result = invocation.result
    if not report or not isinstance(result, dict) or not result.get("batchItemFailures"):
        return None
    sequence = {record["dynamodb"].get("SequenceNumber"): i for i, record in enumerate(batch)}
    try:
        failed = [sequence[str(item["itemIdentifier"])] for item in result["batchItemFailures"]]
    except (KeyError, TypeError):
        return 0
    return min(failed)


def arrival(change: dict[str, Any]) -> str | None:
    """A record's ApproximateCreationDateTime (epoch seconds) as an ISO time, or None."""
    moment = change.get("ApproximateCreationDateTime")
    if not isinstance(moment, int | float):
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sns_record(envelope: dict[str, Any], subscription: str) -> dict[str, Any]:
    """The record SNS puts in a Lambda event, from the envelope it sends to queues."""
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": {
            "Type": envelope.get("Type", "Notification"),
            "MessageId": envelope.get("MessageId", ""),
            "TopicArn": envelope.get("TopicArn", ""),
            "Subject": envelope.get("Subject"),
            "Message": envelope.get("Message", ""),
            "Timestamp": envelope.get("Timestamp", ""),
            "SignatureVersion": envelope.get("SignatureVersion", "1"),
            "Signature": envelope.get("Signature", ""),
            "SigningCertUrl": envelope.get("SigningCertURL", ""),
            "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
            "MessageAttributes": envelope.get("MessageAttributes", {}),
        },
    }


def scheduled_event(rule: ScheduleRule, moment: datetime, region: str) -> dict[str, Any]:
    """EventBridge's Scheduled Event."""
    account = rule.arn.split(":")[4]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule.arn],
        "detail": {},
    }
