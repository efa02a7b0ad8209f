"""SQS queues with dead-letter queues, and the SNS subscriptions that feed them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs import sqs as sqs_actions
from awacs.aws import Allow, ArnEquals, Condition, Statement
from troposphere import GetAtt, Ref
from troposphere.sns import SubscriptionResource
from troposphere.sqs import Queue, QueuePolicy, RedrivePolicy

from infra.blocks.policy import document, service_principal
from infra.stack import delete_with_stack, skip_checks

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to look at what failed
WORK_RETENTION_SECONDS = 4 * 24 * 3600  # the SQS default, said explicitly
SQS_MANAGED_SSE = "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which this "
SQS_MANAGED_SSE += "check does not recognise; a CMK would add KMS grants to every producer."


def dead_letter_queue(logical_id: str, name: str) -> Queue:
    """Keeps what could not be processed for the longest time SQS allows."""
    queue = Queue(
        logical_id,
        QueueName=name,
        MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
        SqsManagedSseEnabled=True,
    )
    return skip_checks(
        delete_with_stack(queue),
        {
            "ES6000": "This is the dead-letter queue: the end of the line for failed messages.",
            "CKV_AWS_27": SQS_MANAGED_SSE,
        },
    )


def work_queue(
    logical_id: str, name: str, *, visibility_timeout: int, dlq: Queue, max_receive_count: int
) -> Queue:
    """A queue whose messages move to `dlq` after `max_receive_count` failed receives."""
    queue = Queue(
        logical_id,
        QueueName=name,
        VisibilityTimeout=visibility_timeout,
        MessageRetentionPeriod=WORK_RETENTION_SECONDS,
        SqsManagedSseEnabled=True,
        RedrivePolicy=RedrivePolicy(
            deadLetterTargetArn=GetAtt(dlq, "Arn"), maxReceiveCount=max_receive_count
        ),
    )
    return skip_checks(delete_with_stack(queue), {"CKV_AWS_27": SQS_MANAGED_SSE})


def service_may_send(
    logical_id: str, service: str, source_arn: Any, queues: Sequence[Queue], sid: str
) -> QueuePolicy:
    """Only `service`, on behalf of the one resource `source_arn`, may send to these queues."""
    statement = Statement(
        Sid=sid,
        Effect=Allow,
        Principal=service_principal(service),
        Action=[sqs_actions.SendMessage],
        Resource=[GetAtt(queue, "Arn") for queue in queues],
        Condition=Condition(ArnEquals("aws:SourceArn", source_arn)),
    )
    return QueuePolicy(
        logical_id, Queues=[Ref(queue) for queue in queues], PolicyDocument=document(statement)
    )


def topic_may_send(logical_id: str, topic_arn: Any, queues: Sequence[Queue]) -> QueuePolicy:
    """Only SNS, for this one topic, may put messages on these queues."""
    return service_may_send(logical_id, "sns", topic_arn, queues, "TopicDelivers")


def subscription(
    logical_id: str, topic_arn: Any, protocol: str, endpoint: Any, dlq: Queue, **properties: Any
) -> SubscriptionResource:
    """A topic subscription whose undeliverable messages go to `dlq` (SNS redrive)."""
    return SubscriptionResource(
        logical_id,
        TopicArn=topic_arn,
        Protocol=protocol,
        Endpoint=endpoint,
        RedrivePolicy={"deadLetterTargetArn": GetAtt(dlq, "Arn")},
        **properties,
    )
