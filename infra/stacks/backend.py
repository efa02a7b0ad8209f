"""The environment's backend: the functions the app declares, their triggers and the HTTP API.

It reads the data stack's shared values through SSM-typed parameters, so data and
backend update independently. Each function gets a role with exactly its grants, a
log group, its trigger's resources (queues, dead-letter queues, subscriptions, event
source mappings, schedules, routes) and alarms, all named `<Function><Role>`.
The HTTP API exists when a function has routes; its JWT authorizer when a route is
not public.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from typing import Any

from awacs import dynamodb as dynamodb_actions
from awacs import kms as kms_actions
from awacs import sns as sns_actions
from awacs import sqs as sqs_actions
from awacs.aws import Statement
from troposphere import GetAtt, Parameter, Ref, Sub
from troposphere.apigatewayv2 import Api, Authorizer, Stage
from troposphere.awslambda import (
    DestinationConfig,
    EventInvokeConfig,
    EventSourceMapping,
    Filter,
    FilterCriteria,
    OnFailure,
    Permission,
)
from troposphere.cloudwatch import Alarm, MetricDimension
from troposphere.events import DeadLetterConfig, RetryPolicy, Rule
from troposphere.events import Target as RuleTarget
from troposphere.logs import LogGroup
from troposphere.sns import Subscription, Topic

from infra.app import Function, SharedValue
from infra.app.grants import Grant, GrantTarget, Unscoped
from infra.app.resources import Bucket, BucketObjects, Queue, Table, TableIndex, UserPool
from infra.app.resources import Topic as TopicDecl
from infra.app.settings import SettingValue
from infra.app.triggers import (
    WITH_DEAD_LETTER_QUEUE,
    HttpRoutes,
    QueueMessages,
    QueueSubscription,
    Schedule,
    TableStream,
    TopicSubscription,
)
from infra.blocks.function import BuiltFunction, build_function, code_key_default
from infra.blocks.http_api import default_stage, http_api, jwt_authorizer, lambda_routes
from infra.blocks.policy import allow
from infra.blocks.queue import (
    dead_letter_queue,
    service_may_send,
    subscription,
    topic_may_send,
    work_queue,
)
from infra.stack import Stack, delete_with_stack, resource, skip_checks

# SQS redelivers a message only after its visibility timeout; AWS advises six times
# the function timeout so a batch that is retried by Lambda is not seen twice.
VISIBILITY_TIMEOUT_FACTOR = 6
KEY_ARN = SharedValue("data", "KeyArn")
# What a function needs to read a DynamoDB stream (Lambda's event source mapping).
STREAM_ACTIONS = [
    dynamodb_actions.DescribeStream,
    dynamodb_actions.GetRecords,
    dynamodb_actions.GetShardIterator,
    dynamodb_actions.ListStreams,
]
QUEUE_CONSUMER_ACTIONS = [
    sqs_actions.ReceiveMessage,
    sqs_actions.DeleteMessage,
    sqs_actions.GetQueueAttributes,
    sqs_actions.ChangeMessageVisibility,
]


class BackendStack(Stack):
    name = "backend"
    description = "HTTP API, functions, queues and event subscribers"

    @property
    def functions(self) -> tuple[Function, ...]:
        return self.declaration.functions

    # -- inputs --------------------------------------------------------------------------------

    @property
    def data_key_arn(self) -> Parameter:
        return self.read(KEY_ARN)

    def env_value(self, value: Any) -> Any:
        if isinstance(value, SharedValue):
            return Ref(self.read(value))
        if isinstance(value, SettingValue):
            return value.resolve(dict(self.environment.settings))
        return value

    def grant_resources(self, target: GrantTarget) -> list[Any]:
        """The ARNs a grant's target names: the narrowest its service accepts."""
        if isinstance(target, TableIndex):
            table = Ref(self.read(target.table.table_arn))
            return [Sub(f"${{Table}}/index/{target.index_name}", Table=table)]
        if isinstance(target, BucketObjects):
            bucket = Ref(self.read(target.bucket.bucket_arn))
            return [Sub(f"${{Bucket}}/{target.prefix}*", Bucket=bucket)]
        if isinstance(target, Table):
            return [Ref(self.read(target.table_arn))]
        if isinstance(target, Bucket):
            return [Ref(self.read(target.bucket_arn))]
        if isinstance(target, TopicDecl):
            return [Ref(self.read(target.topic_arn))]
        if isinstance(target, Queue):
            return [Ref(self.read(target.queue_arn))]
        if isinstance(target, UserPool):
            return [Ref(self.read(target.pool_arn))]
        if isinstance(target, Unscoped):
            return ["*"]
        raise TypeError(f"no ARNs for grant target {target!r}")

    def grant_statements(self, grants: tuple[Grant, ...]) -> list[Statement]:
        """One statement per grant (Sids unique in order), plus the key for encrypted topics."""
        statements, seen = [], {}
        for grant in grants:
            count = seen[grant.sid] = seen.get(grant.sid, 0) + 1
            sid = grant.sid if count == 1 else f"{grant.sid}{count}"
            statements.append(allow(sid, list(grant.actions), self.grant_resources(grant.target)))
        publishes = any(
            isinstance(grant.target, TopicDecl)
            and any(action.action == sns_actions.Publish.action for action in grant.actions)
            for grant in grants
        )
        if publishes:
            # The app's topics are encrypted with the env's key; publishers need it (SNS docs).
            statements.append(
                allow(
                    "EncryptForTopics",
                    [kms_actions.GenerateDataKey, kms_actions.Decrypt],
                    [Ref(self.data_key_arn)],
                )
            )
        return statements

    # -- API -----------------------------------------------------------------------------------

    @resource
    def api_log_group(self) -> tuple[LogGroup, ...]:
        if not self.declaration.has_http_api:
            return ()
        return (
            delete_with_stack(
                LogGroup(
                    "ApiAccessLogGroup",
                    LogGroupName=f"/aws/apigateway/{self.physical_name('api')}",
                    RetentionInDays=self.environment.log_retention_days,
                    KmsKeyId=Ref(self.data_key_arn),
                )
            ),
        )

    @resource
    def api(self) -> tuple[Api, ...]:
        if not self.declaration.has_http_api:
            return ()
        methods = {*self.declaration.route_methods, "OPTIONS"}  # preflight, once
        api = http_api(
            "HttpApi", self.physical_name("api"), self.environment.cors_origins, sorted(methods)
        )
        # The documented form of an HTTP API's endpoint, built from its id (a Ref).
        endpoint = Sub("https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}", Api=Ref(api))
        self.share("ApiUrl", endpoint, "Base URL of the HTTP API")
        return (api,)

    @resource
    def authorizer(self) -> tuple[Authorizer, ...]:
        """Checks the user pool's token before any function behind a signed-in route runs."""
        pool = self.declaration.user_pool
        if not self.declaration.has_authenticated_routes or pool is None:
            return ()
        (api,) = self.api
        issuer, client = self.read(pool.issuer_url), self.read(pool.client_id)
        return (jwt_authorizer("CognitoAuthorizer", api, Ref(issuer), Ref(client)),)

    @resource
    def api_stage(self) -> tuple[Stage, ...]:
        if not self.declaration.has_http_api:
            return ()
        environment = self.environment
        (api,), (log_group,) = self.api, self.api_log_group
        return (
            default_stage(
                "DefaultStage",
                api,
                log_group,
                environment.api_throttle_rate,
                environment.api_throttle_burst,
            ),
        )

    # -- functions -----------------------------------------------------------------------------

    @resource
    def alarm_topic(self) -> Topic:
        """Alarms of this environment; e-mailed when `alarm_email` is set."""
        email = self.environment.alarm_email
        topic = Topic(
            "AlarmTopic",
            TopicName=self.physical_name("alarms", limit=256),
            KmsMasterKeyId=Ref(self.data_key_arn),
        )
        if email:
            topic.Subscription = [Subscription(Endpoint=email, Protocol="email")]
        self.share("AlarmTopicArn", Ref(topic), "Where this environment's alarms go")
        return topic

    @resource
    def function_resources(self) -> tuple[Any, ...]:
        """Every declared function with its role, log group, trigger and alarms."""
        return tuple(item for spec in self.functions for item in self.function_with_trigger(spec))

    @cached_property
    def code_bucket(self) -> Parameter:
        return self.consume("base", "ArtifactBucketName", "Artifact bucket")

    def function_with_trigger(self, spec: Function) -> Iterator[Any]:
        stem = spec.logical_name
        code_key = self.template.add_parameter(
            Parameter(
                spec.code_key_parameter,
                Type="String",
                Default=code_key_default(spec),
                Description=f"S3 key of the {spec.name} zip in the artifact bucket",
            )
        )
        trigger = spec.trigger
        trigger_statements: list[Statement] = []
        queue = dlq = None
        if isinstance(trigger, WITH_DEAD_LETTER_QUEUE):
            dlq = dead_letter_queue(f"{stem}DeadLetterQueue", self.physical_name(spec.name, "dlq"))
            trigger_statements.append(
                allow("SendToOwnDeadLetterQueue", [sqs_actions.SendMessage], [GetAtt(dlq, "Arn")])
            )
        if isinstance(trigger, QueueSubscription):
            timeout = spec.timeout or self.environment.lambda_defaults.timeout
            queue = work_queue(
                f"{stem}Queue",
                self.physical_name(spec.name),
                visibility_timeout=VISIBILITY_TIMEOUT_FACTOR * timeout,
                dlq=dlq,
                max_receive_count=trigger.max_receive_count,
            )
            trigger_statements.append(
                allow("ConsumeOwnQueue", QUEUE_CONSUMER_ACTIONS, [GetAtt(queue, "Arn")])
            )
        elif isinstance(trigger, QueueMessages):
            trigger_statements.append(
                allow(
                    "ConsumeQueue",
                    QUEUE_CONSUMER_ACTIONS,
                    [Ref(self.read(trigger.queue.queue_arn))],
                )
            )
        elif isinstance(trigger, TableStream):
            trigger_statements.append(
                allow("ReadTableStream", STREAM_ACTIONS, [Ref(self.read(trigger.table.stream_arn))])
            )

        built = build_function(
            spec,
            function_name=self.physical_name(spec.name),
            defaults=self.environment.lambda_defaults,
            code_bucket=Ref(self.code_bucket),
            code_key=Ref(code_key),
            environment={
                "POWERTOOLS_SERVICE_NAME": spec.name,
                "LOG_LEVEL": "INFO",
                **{key: self.env_value(value) for key, value in spec.environment.items()},
            },
            statements=[*self.grant_statements(spec.grants), *trigger_statements],
            log_retention_days=self.environment.log_retention_days,
            log_kms_key_arn=Ref(self.data_key_arn),
        )
        yield from built.resources
        self.share(f"{stem}FunctionArn", GetAtt(built.function, "Arn"), spec.description)

        if isinstance(trigger, HttpRoutes):
            (api,) = self.api
            authorizer = None if trigger.public else self.authorizer[0]
            yield from lambda_routes(api, authorizer, built.function, stem, trigger.routes)
        elif isinstance(trigger, QueueSubscription):
            yield from self.queue_subscription(built, trigger, queue, dlq)
        elif isinstance(trigger, TopicSubscription):
            yield from self.topic_subscription(built, trigger, dlq)
        elif isinstance(trigger, QueueMessages):
            yield self.queue_messages(built, trigger)
        elif isinstance(trigger, TableStream):
            yield from self.table_stream(built, trigger, dlq)
        elif isinstance(trigger, Schedule):
            yield from self.schedule(built, trigger, dlq)
        yield from self.error_alarms(built, dlq)

    def sqs_event_source(
        self, built: BuiltFunction, queue_arn: Any, batch_size: int, max_concurrency: int
    ) -> EventSourceMapping:
        """Batches from a queue; partial failures reported; failures stay with the queue."""
        mapping = EventSourceMapping(
            f"{built.spec.logical_name}EventSourceMapping",
            EventSourceArn=queue_arn,
            FunctionName=Ref(built.function),
            BatchSize=batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DependsOn=[built.role.title],
        )
        # troposphere's ScalingConfig class is shadowed by another of the same name in
        # 4.11, so the SQS one (MaximumConcurrency) is written as plain JSON.
        mapping.properties["ScalingConfig"] = {"MaximumConcurrency": max_concurrency}
        return skip_checks(
            mapping,
            {
                "ES1001": "SQS sources take no OnFailure destination; the queue's redrive "
                "policy moves failed messages to its dead-letter queue.",
            },
        )

    def queue_subscription(
        self, built: BuiltFunction, trigger: QueueSubscription, queue: Any, dlq: Any
    ) -> Iterator[Any]:
        """Topic -> queue (raw SNS envelopes kept) -> function, reporting partial failures."""
        stem = built.spec.logical_name
        topic_arn = Ref(self.read(trigger.topic.topic_arn))
        yield queue
        yield dlq
        yield topic_may_send(f"{stem}QueuePolicy", topic_arn, [queue, dlq])
        yield subscription(
            f"{stem}Subscription",
            topic_arn,
            "sqs",
            GetAtt(queue, "Arn"),
            dlq,
            RawMessageDelivery=False,
        )
        yield self.sqs_event_source(
            built, GetAtt(queue, "Arn"), trigger.batch_size, trigger.max_concurrency
        )

    def queue_messages(self, built: BuiltFunction, trigger: QueueMessages) -> EventSourceMapping:
        """A declared queue -> function; the queue's own redrive policy keeps what fails."""
        queue_arn = Ref(self.read(trigger.queue.queue_arn))
        return self.sqs_event_source(built, queue_arn, trigger.batch_size, trigger.max_concurrency)

    def topic_subscription(
        self, built: BuiltFunction, trigger: TopicSubscription, dlq: Any
    ) -> Iterator[Any]:
        """Topic -> function (async); failed invocations and deliveries go to the DLQ."""
        stem = built.spec.logical_name
        topic_arn = Ref(self.read(trigger.topic.topic_arn))
        yield dlq
        yield topic_may_send(f"{stem}DeadLetterQueuePolicy", topic_arn, [dlq])
        yield Permission(
            f"{stem}TopicPermission",
            Action="lambda:InvokeFunction",
            FunctionName=Ref(built.function),
            Principal=Sub("sns.${AWS::URLSuffix}"),
            SourceArn=topic_arn,
        )
        yield subscription(
            f"{stem}Subscription", topic_arn, "lambda", GetAtt(built.function, "Arn"), dlq
        )
        yield self.on_failure(built, trigger.maximum_retry_attempts, dlq)

    def on_failure(self, built: BuiltFunction, retries: int, dlq: Any) -> EventInvokeConfig:
        """Asynchronous invocations retry `retries` times, then go to the DLQ."""
        return EventInvokeConfig(
            f"{built.spec.logical_name}EventInvokeConfig",
            FunctionName=Ref(built.function),
            Qualifier="$LATEST",
            MaximumRetryAttempts=retries,
            DestinationConfig=DestinationConfig(
                OnFailure=OnFailure(Destination=GetAtt(dlq, "Arn"))
            ),
        )

    def table_stream(self, built: BuiltFunction, trigger: TableStream, dlq: Any) -> Iterator[Any]:
        """Stream -> function in batches; a failing batch bisects, retries, then goes to the DLQ.

        The DLQ receives a record of the failed batch (shard and sequence numbers), not
        the records themselves: they stay readable in the stream for 24 hours.
        """
        yield dlq
        mapping = EventSourceMapping(
            f"{built.spec.logical_name}EventSourceMapping",
            EventSourceArn=Ref(self.read(trigger.table.stream_arn)),
            FunctionName=Ref(built.function),
            StartingPosition=trigger.starting_position,
            BatchSize=trigger.batch_size,
            MaximumRetryAttempts=trigger.maximum_retry_attempts,
            MaximumRecordAgeInSeconds=trigger.maximum_record_age_seconds,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig=DestinationConfig(
                OnFailure=OnFailure(Destination=GetAtt(dlq, "Arn"))
            ),
            DependsOn=[built.role.title],
        )
        if trigger.filters:
            mapping.FilterCriteria = FilterCriteria(
                Filters=[
                    Filter(Pattern=json.dumps(pattern, sort_keys=True, separators=(",", ":")))
                    for pattern in trigger.filters
                ]
            )
        yield mapping

    def schedule(self, built: BuiltFunction, trigger: Schedule, dlq: Any) -> Iterator[Any]:
        """An EventBridge rule invokes the function; undeliverable events and failures: DLQ."""
        stem = built.spec.logical_name
        rule = Rule(
            f"{stem}Schedule",
            Name=self.physical_name(built.spec.name),
            Description=trigger.description or f"Runs {built.spec.name} on {trigger.expression}",
            ScheduleExpression=trigger.expression,
            State="ENABLED",
            Targets=[
                RuleTarget(
                    Id="function",
                    Arn=GetAtt(built.function, "Arn"),
                    DeadLetterConfig=DeadLetterConfig(Arn=GetAtt(dlq, "Arn")),
                    RetryPolicy=RetryPolicy(
                        MaximumRetryAttempts=trigger.maximum_retry_attempts,
                        MaximumEventAgeInSeconds=3600,
                    ),
                )
            ],
        )
        yield dlq
        yield rule
        yield service_may_send(
            f"{stem}DeadLetterQueuePolicy", "events", GetAtt(rule, "Arn"), [dlq], "RuleDelivers"
        )
        yield Permission(
            f"{stem}SchedulePermission",
            Action="lambda:InvokeFunction",
            FunctionName=Ref(built.function),
            Principal=Sub("events.${AWS::URLSuffix}"),
            SourceArn=GetAtt(rule, "Arn"),
        )
        yield self.on_failure(built, trigger.maximum_retry_attempts, dlq)

    def error_alarms(self, built: BuiltFunction, dlq: Any) -> Iterator[Alarm]:
        """Alarm on function errors, and on anything reaching the dead-letter queue."""
        stem = built.spec.logical_name
        yield Alarm(
            f"{stem}ErrorsAlarm",
            AlarmDescription=f"{built.spec.name} raised errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[MetricDimension(Name="FunctionName", Value=Ref(built.function))],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[Ref(self.alarm_topic)],
        )
        if dlq is not None:
            yield Alarm(
                f"{stem}DeadLetterAlarm",
                AlarmDescription=f"messages for {built.spec.name} reached its dead-letter queue",
                Namespace="AWS/SQS",
                MetricName="ApproximateNumberOfMessagesVisible",
                Dimensions=[MetricDimension(Name="QueueName", Value=GetAtt(dlq, "QueueName"))],
                Statistic="Maximum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
                AlarmActions=[Ref(self.alarm_topic)],
            )
