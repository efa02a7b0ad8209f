"""The environment's backend: HTTP API, functions, queues and the upload fan-out subscribers.

It reads the data stack's values through SSM-typed parameters, so data and
backend update independently. Functions come from `infra.functions.FUNCTIONS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

from awacs import sqs as sqs_actions
from awacs.aws import Statement
from troposphere import GetAtt, Parameter, Ref, Sub
from troposphere.apigatewayv2 import Api, Authorizer, Stage
from troposphere.awslambda import (
    DestinationConfig,
    EventInvokeConfig,
    EventSourceMapping,
    OnFailure,
    Permission,
)
from troposphere.cloudwatch import Alarm, MetricDimension
from troposphere.logs import LogGroup
from troposphere.sns import Subscription, Topic

from infra.blocks.function import BuiltFunction, build_function, code_key_default
from infra.blocks.http_api import default_stage, http_api, jwt_authorizer, lambda_routes
from infra.blocks.policy import allow
from infra.blocks.queue import dead_letter_queue, subscription, topic_may_send, work_queue
from infra.function_spec import (
    FunctionSpec,
    HttpRoutes,
    Published,
    QueueSubscription,
    Setting,
    TopicSubscription,
)
from infra.functions import FUNCTIONS
from infra.naming import unique
from infra.stack import Stack, delete_with_stack, resource, skip_checks
from infra.stacks.data import IMAGES_INDEX

# SQS redelivers a message only after its visibility timeout; AWS advises six times
# the function timeout so a batch that is retried by Lambda is not seen twice.
VISIBILITY_TIMEOUT_FACTOR = 6


class BackendStack(Stack):
    name = "backend"
    description = "HTTP API, functions, queues and upload subscribers"
    functions: tuple[FunctionSpec, ...] = FUNCTIONS

    # -- inputs --------------------------------------------------------------------------------

    def published(self, value: Published) -> Parameter:
        return self.consume(value.stack, value.name, f"{value.name} of the {value.stack} stack")

    @property
    def data_key_arn(self) -> Parameter:
        return self.published(Published("data", "KeyArn"))

    @cached_property
    def settings(self) -> dict[str, str]:
        """Values functions may take from the environment's settings (`Setting(name)`)."""
        environment = self.environment
        return {
            "max_upload_bytes": str(environment.max_upload_mb * 1024 * 1024),
            "thumbnail_sizes": ",".join(str(size) for size in environment.thumbnail_sizes),
        }

    def env_value(self, value: Any) -> Any:
        if isinstance(value, Published):
            return Ref(self.published(value))
        if isinstance(value, Setting):
            return self.settings[value.name]
        return value

    def grant_resources(self, target: str, prefix: str) -> list[Any]:
        """The ARNs a `Grant` target names: the narrowest each service accepts."""
        table = Ref(self.published(Published("data", "TableArn")))
        buckets = {"upload-bucket": "UploadBucketArn", "media-bucket": "MediaBucketArn"}
        if target == "table":
            return [table]
        if target == "table-index":
            return [Sub(f"${{Table}}/index/{IMAGES_INDEX}", Table=table)]
        if target in buckets:
            bucket_arn = Ref(self.published(Published("data", buckets[target])))
            return [Sub(f"${{Bucket}}/{prefix}*", Bucket=bucket_arn)]
        if target == "rekognition":
            return ["*"]  # DetectLabels supports no resource-level permissions.
        raise ValueError(f"unknown grant target {target!r}")

    # -- API -----------------------------------------------------------------------------------

    @resource
    def api_log_group(self) -> LogGroup:
        return delete_with_stack(
            LogGroup(
                "ApiAccessLogGroup",
                LogGroupName=f"/aws/apigateway/{self.physical_name('api')}",
                RetentionInDays=self.environment.log_retention_days,
                KmsKeyId=Ref(self.data_key_arn),
            )
        )

    @resource
    def api(self) -> Api:
        api = http_api("HttpApi", self.physical_name("api"), self.environment.cors_origins)
        # The documented form of an HTTP API's endpoint, built from its id (a Ref).
        endpoint = Sub("https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}", Api=Ref(api))
        self.publish("ApiUrl", endpoint, "Base URL of the HTTP API")
        return api

    @resource
    def authorizer(self) -> Authorizer:
        issuer = self.published(Published("data", "UserPoolIssuerUrl"))
        client = self.published(Published("data", "UserPoolClientId"))
        return jwt_authorizer("CognitoAuthorizer", self.api, Ref(issuer), Ref(client))

    @resource
    def api_stage(self) -> Stage:
        environment = self.environment
        return default_stage(
            "DefaultStage",
            self.api,
            self.api_log_group,
            environment.api_throttle_rate,
            environment.api_throttle_burst,
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
        self.publish("AlarmTopicArn", Ref(topic), "Where this environment's alarms go")
        return topic

    @resource
    def function_resources(self) -> tuple[Any, ...]:
        """Every declared function with its role, log group, trigger and alarms."""
        unique([spec.name for spec in self.functions], "function")
        return tuple(item for spec in self.functions for item in self.function_with_trigger(spec))

    def function_with_trigger(self, spec: FunctionSpec) -> Iterator[Any]:
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
        if isinstance(trigger, (QueueSubscription, TopicSubscription)):
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
                allow(
                    "ConsumeOwnQueue",
                    [
                        sqs_actions.ReceiveMessage,
                        sqs_actions.DeleteMessage,
                        sqs_actions.GetQueueAttributes,
                        sqs_actions.ChangeMessageVisibility,
                    ],
                    [GetAtt(queue, "Arn")],
                )
            )

        statements = [
            allow(
                f"{grant.target.title().replace('-', '')}Access",
                list(grant.actions),
                self.grant_resources(grant.target, grant.prefix),
            )
            for grant in spec.grants
        ]
        built = build_function(
            spec,
            function_name=self.physical_name(spec.name),
            defaults=self.environment.lambda_defaults,
            code_bucket=Ref(self.consume("base", "ArtifactBucketName", "Artifact bucket")),
            code_key=Ref(code_key),
            environment={
                "POWERTOOLS_SERVICE_NAME": spec.name,
                "LOG_LEVEL": "INFO",
                **{key: self.env_value(value) for key, value in spec.environment.items()},
            },
            statements=[*statements, *trigger_statements],
            log_retention_days=self.environment.log_retention_days,
            log_kms_key_arn=Ref(self.data_key_arn),
        )
        yield from built.resources
        self.publish(f"{stem}FunctionArn", GetAtt(built.function, "Arn"), spec.description)

        if isinstance(trigger, HttpRoutes):
            yield from lambda_routes(
                self.api, self.authorizer, built.function, stem, trigger.routes
            )
        elif isinstance(trigger, QueueSubscription):
            yield from self.queue_trigger(built, trigger, queue, dlq)
        elif isinstance(trigger, TopicSubscription):
            yield from self.topic_trigger(built, trigger, dlq)
        yield from self.error_alarms(built, dlq)

    def queue_trigger(
        self, built: BuiltFunction, trigger: QueueSubscription, queue: Any, dlq: Any
    ) -> Iterator[Any]:
        """Topic -> queue (raw SNS envelopes kept) -> function, reporting partial failures."""
        stem = built.spec.logical_name
        topic_arn = Ref(self.published(trigger.topic))
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
        mapping = EventSourceMapping(
            f"{stem}EventSourceMapping",
            EventSourceArn=GetAtt(queue, "Arn"),
            FunctionName=Ref(built.function),
            BatchSize=trigger.batch_size,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DependsOn=[built.role.title],
        )
        # troposphere's ScalingConfig class is shadowed by another of the same name in
        # 4.11, so the SQS one (MaximumConcurrency) is written as plain JSON.
        mapping.properties["ScalingConfig"] = {"MaximumConcurrency": trigger.max_concurrency}
        yield skip_checks(
            mapping,
            {
                "ES1001": "SQS sources take no OnFailure destination; the queue's redrive "
                "policy moves failed messages to its dead-letter queue.",
            },
        )

    def topic_trigger(
        self, built: BuiltFunction, trigger: TopicSubscription, dlq: Any
    ) -> Iterator[Any]:
        """Topic -> function (async); failed invocations and deliveries go to the DLQ."""
        stem = built.spec.logical_name
        topic_arn = Ref(self.published(trigger.topic))
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
        yield EventInvokeConfig(
            f"{stem}EventInvokeConfig",
            FunctionName=Ref(built.function),
            Qualifier="$LATEST",
            MaximumRetryAttempts=trigger.maximum_retry_attempts,
            DestinationConfig=DestinationConfig(
                OnFailure=OnFailure(Destination=GetAtt(dlq, "Arn"))
            ),
        )

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
