"""The environment's data: the tables, buckets, topics, queues and user pool the app declares.

Everything stateful lives here and is retained, so the backend and frontend stacks can
be replaced freely. The environment's KMS key is here too: it encrypts the tables, the
topics and every log group of the environment. A bucket that notifies a topic may do so
through the topic's policy and the key's; SNS then fans out to the backend's subscribers.
Logical IDs follow the declaration's naming rule (`infra.app.resources`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from awacs import kms as kms_actions
from awacs import sns as sns_actions
from awacs.aws import Allow, ArnLike, Condition, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub
from troposphere.cognito import (
    AccountRecoverySetting,
    AdminCreateUserConfig,
    PasswordPolicy,
    Policies,
    RecoveryOption,
    TokenValidityUnits,
    UsernameConfiguration,
    UserPool,
    UserPoolClient,
)
from troposphere.dynamodb import (
    AttributeDefinition,
    GlobalSecondaryIndex,
    KeySchema,
    PointInTimeRecoverySpecification,
    Projection,
    SSESpecification,
    StreamSpecification,
    Table,
    TimeToLiveSpecification,
)
from troposphere.kms import Alias, Key
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketPolicy,
    CorsConfiguration,
    CorsRules,
    Filter,
    LifecycleRule,
    NotificationConfiguration,
    Rules,
    S3Key,
    TopicConfigurations,
)
from troposphere.sns import Topic, TopicPolicy
from troposphere.sqs import Queue

from infra.app import resources as declared
from infra.blocks.bucket import private_bucket, tls_only_policy
from infra.blocks.kms import kms_alias, kms_key, logs_may_use_key
from infra.blocks.policy import arn, deny_insecure_transport, document, service_principal
from infra.blocks.queue import dead_letter_queue, work_queue
from infra.stack import Stack, resource, retain


def one_or_many(values: list[Any]) -> Any:
    """A condition value: the item itself when there is one, else the list."""
    return values[0] if len(values) == 1 else values


class DataStack(Stack):
    name = "data"
    description = "the app's tables, buckets, topics, queues and user pool"

    def summary(self) -> str:
        """What this environment's data stack holds, for its description."""
        app = self.declaration
        parts = [
            f"{label} {', '.join(item.name for item in items)}"
            for label, items in (
                ("tables", app.tables),
                ("buckets", app.buckets),
                ("topics", app.topics),
                ("queues", app.queues),
            )
            if items
        ]
        if app.user_pool is not None:
            parts.append("the user pool")
        return "; ".join(parts) or "the environment's key"

    # -- names ---------------------------------------------------------------------------------

    def bucket_name(self, bucket: declared.Bucket) -> Sub:
        """Globally unique and known before the bucket exists (the topic policy needs it)."""
        return Sub(f"{self.physical_name(bucket.aws_name)}-${{AWS::AccountId}}-${{AWS::Region}}")

    def bucket_arn(self, bucket: declared.Bucket) -> Sub:
        return Sub(
            f"arn:${{AWS::Partition}}:s3:::{self.physical_name(bucket.aws_name)}"
            "-${AWS::AccountId}-${AWS::Region}"
        )

    def notifying_buckets(self, topic: declared.Topic | None = None) -> list[declared.Bucket]:
        """Buckets whose notifications go to `topic` (to any topic when None)."""
        return [
            bucket
            for bucket in self.declaration.buckets
            if any(topic is None or n.topic is topic for n in bucket.notifications)
        ]

    @property
    def access_logs_bucket(self):
        return self.consume("base", "AccessLogsBucketName", "S3 access-log target bucket")

    # -- encryption ----------------------------------------------------------------------------

    @resource
    def data_key(self) -> Key:
        """Encrypts the tables, the topics and this env's log groups."""
        statements = [
            logs_may_use_key("CloudWatchLogsEncryptsLogGroups", f"*{self.app}-{self.scope}-*")
        ]
        buckets = self.notifying_buckets()
        if buckets:
            statements.append(
                Statement(
                    Sid="S3PublishesToEncryptedTopic",
                    Effect=Allow,
                    Principal=service_principal("s3"),
                    Action=[kms_actions.GenerateDataKey, kms_actions.Decrypt],
                    Resource=["*"],
                    Condition=Condition(
                        [
                            StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                            ArnLike(
                                "aws:SourceArn", one_or_many([self.bucket_arn(b) for b in buckets])
                            ),
                        ]
                    ),
                )
            )
        statements.append(
            Statement(
                Sid="CloudWatchAlarmsPublishToEncryptedTopics",
                Effect=Allow,
                Principal=service_principal("cloudwatch"),
                Action=[kms_actions.GenerateDataKey, kms_actions.Decrypt],
                Resource=["*"],
                Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
            )
        )
        key = kms_key("DataKey", f"{self.stack_name} tables, topics and logs", *statements)
        self.share("KeyArn", GetAtt(key, "Arn"), "KMS key for this env's data and logs")
        return key

    @resource
    def data_key_alias(self) -> Alias:
        return kms_alias("DataKeyAlias", self.data_key, self.physical_name("data"))

    # -- tables --------------------------------------------------------------------------------

    @resource
    def tables(self) -> tuple[Table, ...]:
        return tuple(self.table(table) for table in self.declaration.tables)

    def table(self, table: declared.Table) -> Table:
        """On demand, KMS-encrypted, recoverable, deletion-protected and retained."""
        properties: dict[str, Any] = {
            "TableName": self.physical_name(table.name, limit=255),
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                AttributeDefinition(AttributeName=key.name, AttributeType=key.type)
                for key in table.attributes
            ],
            "KeySchema": key_schema(table.keys),
            "PointInTimeRecoverySpecification": PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            "SSESpecification": SSESpecification(
                SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(self.data_key, "Arn")
            ),
            "DeletionProtectionEnabled": True,
        }
        if table.indexes:
            properties["GlobalSecondaryIndexes"] = [
                GlobalSecondaryIndex(
                    IndexName=index.name,
                    KeySchema=key_schema(index.keys),
                    Projection=Projection(ProjectionType=index.projection),
                )
                for index in table.indexes
            ]
        if table.ttl_attribute:
            properties["TimeToLiveSpecification"] = TimeToLiveSpecification(
                AttributeName=table.ttl_attribute, Enabled=True
            )
        if table.stream:
            properties["StreamSpecification"] = StreamSpecification(StreamViewType=table.stream)
        resource_ = retain(Table(table.logical_id, **properties))
        self.share(table.table_name.name, Ref(resource_), f"Name of the {table.name} table")
        self.share(table.table_arn.name, GetAtt(resource_, "Arn"), f"{table.name} table ARN")
        if table.stream:
            self.share(
                table.stream_arn.name,
                GetAtt(resource_, "StreamArn"),
                f"{table.name} table stream ARN",
            )
        return resource_

    # -- users ---------------------------------------------------------------------------------

    @resource
    def user_pool(self) -> tuple[UserPool, ...]:
        """E-mail sign-in; deletion-protected and retained: users are not re-creatable."""
        declared_pool = self.declaration.user_pool
        if declared_pool is None:
            return ()
        pool = retain(
            UserPool(
                declared_pool.logical_id,
                UserPoolName=self.physical_name("users", limit=128),
                UsernameAttributes=["email"],
                AutoVerifiedAttributes=["email"],
                UsernameConfiguration=UsernameConfiguration(CaseSensitive=False),
                Policies=Policies(
                    PasswordPolicy=PasswordPolicy(
                        MinimumLength=declared_pool.password_min_length,
                        RequireLowercase=True,
                        RequireUppercase=True,
                        RequireNumbers=True,
                        RequireSymbols=True,
                        TemporaryPasswordValidityDays=3,
                    )
                ),
                AccountRecoverySetting=AccountRecoverySetting(
                    RecoveryMechanisms=[RecoveryOption(Name="verified_email", Priority=1)]
                ),
                AdminCreateUserConfig=AdminCreateUserConfig(AllowAdminCreateUserOnly=False),
                MfaConfiguration=declared_pool.mfa,
                DeletionProtection="ACTIVE",
            )
        )
        if declared_pool.mfa != "OFF":
            pool.EnabledMfas = ["SOFTWARE_TOKEN_MFA"]
        self.share(declared_pool.pool_id.name, Ref(pool), "Cognito user pool id")
        pool_arn = arn("cognito-idp", "userpool/${Pool}", Pool=Ref(pool))
        self.share(declared_pool.pool_arn.name, pool_arn, "Cognito user pool ARN")
        self.share(
            declared_pool.issuer_url.name,
            Sub("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${Pool}", Pool=Ref(pool)),
            "JWT issuer of the user pool",
        )
        return (pool,)

    @resource
    def user_pool_client(self) -> tuple[UserPoolClient, ...]:
        """The browser app's client: public (no secret), SRP sign-in, revocable tokens."""
        declared_pool = self.declaration.user_pool
        if declared_pool is None:
            return ()
        (pool,) = self.user_pool
        client = UserPoolClient(
            f"{declared_pool.logical_id}Client",
            ClientName=self.physical_name("web", limit=128),
            UserPoolId=Ref(pool),
            GenerateSecret=False,
            ExplicitAuthFlows=list(declared_pool.client_auth_flows),
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
            SupportedIdentityProviders=["COGNITO"],
            AccessTokenValidity=60,
            IdTokenValidity=60,
            RefreshTokenValidity=30,
            TokenValidityUnits=TokenValidityUnits(
                AccessToken="minutes", IdToken="minutes", RefreshToken="days"
            ),
        )
        self.share(declared_pool.client_id.name, Ref(client), "Cognito app client id")
        return (client,)

    # -- topics --------------------------------------------------------------------------------

    @cached_property
    def topic_resources(self) -> dict[declared.Topic, Topic]:
        return {topic: self.topic(topic) for topic in self.declaration.topics}

    @resource
    def topics(self) -> tuple[Topic, ...]:
        return tuple(self.topic_resources.values())

    def topic(self, topic: declared.Topic) -> Topic:
        """Encrypted with the env's key; buckets notify it, the backend subscribes to it."""
        resource_ = Topic(
            topic.logical_id,
            TopicName=self.physical_name(topic.aws_name, limit=256),
            KmsMasterKeyId=GetAtt(self.data_key, "Arn"),
        )
        self.share(topic.topic_arn.name, Ref(resource_), f"SNS topic {topic.name}")
        return resource_

    @cached_property
    def topic_policy_resources(self) -> dict[declared.Topic, TopicPolicy]:
        return {topic: self.topic_policy(topic) for topic in self.declaration.topics}

    @resource
    def topic_policies(self) -> tuple[TopicPolicy, ...]:
        return tuple(self.topic_policy_resources.values())

    def topic_policy(self, topic: declared.Topic) -> TopicPolicy:
        """Only the buckets that notify it (from this account) may publish; only over TLS."""
        arn_ref = Ref(self.topic_resources[topic])
        statements = [
            Statement(
                Sid=f"{bucket.logical_id}Publishes",
                Effect=Allow,
                Principal=service_principal("s3"),
                Action=[sns_actions.Publish],
                Resource=[arn_ref],
                Condition=Condition(
                    [
                        StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                        ArnLike("aws:SourceArn", self.bucket_arn(bucket)),
                    ]
                ),
            )
            for bucket in self.notifying_buckets(topic)
        ]
        statements.append(deny_insecure_transport([arn_ref], [sns_actions.Publish]))
        return TopicPolicy(
            f"{topic.logical_id}Policy", Topics=[arn_ref], PolicyDocument=document(*statements)
        )

    # -- buckets -------------------------------------------------------------------------------

    @cached_property
    def bucket_resources(self) -> dict[declared.Bucket, Bucket]:
        return {bucket: self.bucket(bucket) for bucket in self.declaration.buckets}

    @resource
    def buckets(self) -> tuple[Bucket, ...]:
        return tuple(self.bucket_resources.values())

    def bucket(self, bucket: declared.Bucket) -> Bucket:
        """Private, versioned, retained; CORS when browsers POST to it; notifications to topics."""
        properties: dict[str, Any] = {}
        lifecycle = []
        if bucket.browser_upload is not None:
            properties["CorsConfiguration"] = CorsConfiguration(
                CorsRules=[
                    CorsRules(
                        Id="BrowserUpload",
                        AllowedMethods=["POST"],
                        AllowedOrigins=list(self.environment.cors_origins),
                        AllowedHeaders=["*"],
                        MaxAge=3000,
                    )
                ]
            )
            abandoned = LifecycleRule(
                Id="AbortAbandonedMultipartUpload",
                Status="Enabled",
                AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                    DaysAfterInitiation=1
                ),
            )
            if bucket.browser_upload.prefix:
                abandoned.Prefix = bucket.browser_upload.prefix
            lifecycle.append(abandoned)
        if bucket.notifications:
            properties["NotificationConfiguration"] = NotificationConfiguration(
                TopicConfigurations=[
                    topic_configuration(event, Ref(self.topic_resources[n.topic]), n)
                    for n in bucket.notifications
                    for event in n.events
                ]
            )
            policies = {n.topic: self.topic_policy_resources[n.topic] for n in bucket.notifications}
            properties["DependsOn"] = [policy.title for policy in policies.values()]
        resource_ = private_bucket(
            bucket.logical_id,
            BucketName=self.bucket_name(bucket),
            access_logs=(Ref(self.access_logs_bucket), f"{self.scope}/{bucket.aws_name}/"),
            lifecycle=lifecycle,
            **properties,
        )
        self.share(bucket.bucket_name.name, Ref(resource_), f"Name of the {bucket.name} bucket")
        self.share(bucket.bucket_arn.name, GetAtt(resource_, "Arn"), f"{bucket.name} bucket ARN")
        return resource_

    @resource
    def bucket_policies(self) -> tuple[BucketPolicy, ...]:
        return tuple(
            tls_only_policy(f"{bucket.logical_id}Policy", resource_)
            for bucket, resource_ in self.bucket_resources.items()
        )

    # -- queues --------------------------------------------------------------------------------

    @resource
    def queues(self) -> tuple[Queue, ...]:
        items: list[Queue] = []
        for queue in self.declaration.queues:
            dlq = dead_letter_queue(
                queue.dead_letter_logical_id,
                self.physical_name(queue.aws_name, "dlq"),
            )
            work = work_queue(
                queue.logical_id,
                self.physical_name(queue.aws_name),
                visibility_timeout=queue.visibility_timeout,
                dlq=dlq,
                max_receive_count=queue.max_receive_count,
            )
            self.share(queue.queue_url.name, Ref(work), f"URL of the {queue.name} queue")
            self.share(queue.queue_arn.name, GetAtt(work, "Arn"), f"{queue.name} queue ARN")
            items += [work, dlq]
        return tuple(items)


def key_schema(keys: tuple[declared.Key, ...]) -> list[KeySchema]:
    kinds = ("HASH", "RANGE")[: len(keys)]
    return [
        KeySchema(AttributeName=key.name, KeyType=kind)
        for key, kind in zip(keys, kinds, strict=True)
    ]


def topic_configuration(event: str, topic: Any, notification: declared.Notification) -> Any:
    configuration = TopicConfigurations(Event=event, Topic=topic)
    rules = [Rules(Name="prefix", Value=notification.prefix)] if notification.prefix else []
    if notification.suffix:
        rules.append(Rules(Name="suffix", Value=notification.suffix))
    if rules:
        configuration.Filter = Filter(S3Key=S3Key(Rules=rules))
    return configuration
