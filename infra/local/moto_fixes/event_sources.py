"""Fixes to moto's Lambda event source mappings: the local runtime polls their sources."""

from __future__ import annotations

from typing import Any


def leave_event_sources_to_the_local_runtime() -> None:
    """moto's Lambda never consumes what an event source mapping points at.

    AWS's pollers belong to Lambda: a message is received once per delivery and deleted
    only when the function succeeds. moto's queue, table stream and Kinesis stream call
    their mappings' functions as soon as a record exists: an SQS message is received by
    moto (its ApproximateReceiveCount goes up, so a redrive policy moves it to the
    dead-letter queue early) and dropped when moto's Lambda "succeeds". The local runtime
    reads queues and streams as Lambda's pollers do, so a mapping stays listed in Lambda
    but is taken off its source: moto only stores.
    """
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    create = LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self: LambdaBackend, spec: dict[str, Any]) -> Any:
        mapping = create(self, spec)
        account, region = self.account_id, self.region_name
        sources = [
            *sqs_backends[account][region].queues.values(),
            *dynamodb_backends[account][region].tables.values(),
            *kinesis_backends[account][region].streams.values(),
        ]
        for source in sources:
            found = getattr(source, "lambda_event_source_mappings", {})
            for key in [key for key, value in found.items() if value is mapping]:
                del found[key]
        return mapping

    LambdaBackend.create_event_source_mapping = create_event_source_mapping  # type: ignore[method-assign]
