"""The environment's data: images table, user pool, upload and media buckets, upload events.

Everything stateful lives here and is retained, so the backend and frontend
stacks can be replaced freely. S3 notifies one SNS topic per upload, and SNS
fans out to the backend's subscribers.
"""

from __future__ import annotations

from awacs import kms as kms_actions
from awacs import sns as sns_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    Statement,
    StringEquals,
)
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

from infra.blocks.bucket import private_bucket, tls_only_policy
from infra.blocks.kms import kms_alias, kms_key, logs_may_use_key
from infra.blocks.policy import arn, deny_insecure_transport, document, service_principal
from infra.stack import Stack, resource, retain

UPLOAD_PREFIX = "uploads/"
IMAGES_INDEX = "ByCreated"
TTL_ATTRIBUTE = "expires_at"


class DataStack(Stack):
    name = "data"
    description = "images table, user pool, upload and media buckets, upload events"

    def bucket_name(self, purpose: str) -> Sub:
        """Globally unique and known before the bucket exists (the topic policy needs it)."""
        return Sub(f"{self.physical_name(purpose)}-${{AWS::AccountId}}-${{AWS::Region}}")

    @property
    def upload_bucket_arn(self) -> Sub:
        return Sub(
            f"arn:${{AWS::Partition}}:s3:::{self.physical_name('uploads')}"
            "-${AWS::AccountId}-${AWS::Region}"
        )

    @property
    def access_logs_bucket(self):
        return self.consume("base", "AccessLogsBucketName", "S3 access-log target bucket")

    # -- encryption ----------------------------------------------------------------------------

    @resource
    def data_key(self) -> Key:
        """Encrypts the table, the upload topic and this env's log groups."""
        logs = logs_may_use_key("CloudWatchLogsEncryptsLogGroups", f"*{self.app}-{self.scope}-*")
        s3_publishes = Statement(
            Sid="S3PublishesToEncryptedTopic",
            Effect=Allow,
            Principal=service_principal("s3"),
            Action=[kms_actions.GenerateDataKey, kms_actions.Decrypt],
            Resource=["*"],
            Condition=Condition(
                [
                    StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                    ArnLike("aws:SourceArn", self.upload_bucket_arn),
                ]
            ),
        )
        alarms = Statement(
            Sid="CloudWatchAlarmsPublishToEncryptedTopics",
            Effect=Allow,
            Principal=service_principal("cloudwatch"),
            Action=[kms_actions.GenerateDataKey, kms_actions.Decrypt],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
        )
        key = kms_key(
            "DataKey", f"{self.stack_name} table, topics and logs", logs, s3_publishes, alarms
        )
        self.publish("KeyArn", GetAtt(key, "Arn"), "KMS key for this env's data and logs")
        return key

    @resource
    def data_key_alias(self) -> Alias:
        return kms_alias("DataKeyAlias", self.data_key, self.physical_name("data"))

    # -- images table --------------------------------------------------------------------------

    @resource
    def images_table(self) -> Table:
        """One item per image: pk USER#<sub>, sk IMAGE#<id>; ByCreated lists newest first."""
        table = retain(
            Table(
                "ImagesTable",
                TableName=self.physical_name("images", limit=255),
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    AttributeDefinition(AttributeName=name, AttributeType="S")
                    for name in ("pk", "sk", "gsi1pk", "gsi1sk")
                ],
                KeySchema=[
                    KeySchema(AttributeName="pk", KeyType="HASH"),
                    KeySchema(AttributeName="sk", KeyType="RANGE"),
                ],
                GlobalSecondaryIndexes=[
                    GlobalSecondaryIndex(
                        IndexName=IMAGES_INDEX,
                        KeySchema=[
                            KeySchema(AttributeName="gsi1pk", KeyType="HASH"),
                            KeySchema(AttributeName="gsi1sk", KeyType="RANGE"),
                        ],
                        Projection=Projection(ProjectionType="ALL"),
                    )
                ],
                PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(
                    PointInTimeRecoveryEnabled=True
                ),
                SSESpecification=SSESpecification(
                    SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(self.data_key, "Arn")
                ),
                TimeToLiveSpecification=TimeToLiveSpecification(
                    AttributeName=TTL_ATTRIBUTE, Enabled=True
                ),
                StreamSpecification=StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
                DeletionProtectionEnabled=True,
            )
        )
        self.publish("TableName", Ref(table), "Images table name")
        self.publish("TableArn", GetAtt(table, "Arn"), "Images table ARN")
        self.publish("TableStreamArn", GetAtt(table, "StreamArn"), "Images table stream ARN")
        return table

    # -- users ---------------------------------------------------------------------------------

    @resource
    def user_pool(self) -> UserPool:
        """E-mail sign-in; deletion-protected and retained: users are not re-creatable."""
        pool = retain(
            UserPool(
                "UserPool",
                UserPoolName=self.physical_name("users", limit=128),
                UsernameAttributes=["email"],
                AutoVerifiedAttributes=["email"],
                UsernameConfiguration=UsernameConfiguration(CaseSensitive=False),
                Policies=Policies(
                    PasswordPolicy=PasswordPolicy(
                        MinimumLength=12,
                        RequireLowercase=True,
                        RequireUppercase=True,
                        RequireNumbers=True,
                        RequireSymbols=True,
                        TemporaryPasswordValidityDays=3,
                    )
                ),
                AccountRecoverySetting=AccountRecoverySetting(
                    RecoveryMechanisms=[
                        RecoveryOption(Name="verified_email", Priority=1),
                    ]
                ),
                AdminCreateUserConfig=AdminCreateUserConfig(AllowAdminCreateUserOnly=False),
                MfaConfiguration="OPTIONAL",
                EnabledMfas=["SOFTWARE_TOKEN_MFA"],
                DeletionProtection="ACTIVE",
            )
        )
        self.publish("UserPoolId", Ref(pool), "Cognito user pool id")
        pool_arn = arn("cognito-idp", "userpool/${Pool}", Pool=Ref(pool))
        self.publish("UserPoolArn", pool_arn, "Cognito user pool ARN")
        self.publish(
            "UserPoolIssuerUrl",
            Sub("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${Pool}", Pool=Ref(pool)),
            "JWT issuer of the user pool",
        )
        return pool

    @resource
    def user_pool_client(self) -> UserPoolClient:
        """The browser app's client: public (no secret), SRP sign-in, revocable tokens."""
        client = UserPoolClient(
            "UserPoolClient",
            ClientName=self.physical_name("web", limit=128),
            UserPoolId=Ref(self.user_pool),
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
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
        self.publish("UserPoolClientId", Ref(client), "Cognito app client id for the web app")
        return client

    # -- uploads and their events --------------------------------------------------------------

    @resource
    def upload_topic(self) -> Topic:
        """Receives the upload bucket's ObjectCreated events and fans them out."""
        topic = Topic(
            "UploadTopic",
            TopicName=self.physical_name("uploads", limit=256),
            KmsMasterKeyId=GetAtt(self.data_key, "Arn"),
        )
        self.publish("UploadTopicArn", Ref(topic), "SNS topic of new uploads")
        return topic

    @resource
    def upload_topic_policy(self) -> TopicPolicy:
        """Only S3, for the upload bucket in this account, may publish; only over TLS."""
        topic = Ref(self.upload_topic)
        s3_publishes = Statement(
            Sid="UploadBucketPublishes",
            Effect=Allow,
            Principal=service_principal("s3"),
            Action=[sns_actions.Publish],
            Resource=[topic],
            Condition=Condition(
                [
                    StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                    ArnLike("aws:SourceArn", self.upload_bucket_arn),
                ]
            ),
        )
        tls_only = deny_insecure_transport([topic], [sns_actions.Publish])
        return TopicPolicy(
            "UploadTopicPolicy",
            Topics=[topic],
            PolicyDocument=document(s3_publishes, tls_only),
        )

    @resource
    def upload_bucket(self) -> Bucket:
        """Browsers POST originals here (presigned); each new object notifies the topic."""
        environment = self.environment
        cors = CorsConfiguration(
            CorsRules=[
                CorsRules(
                    Id="BrowserUploads",
                    AllowedMethods=["POST"],
                    AllowedOrigins=list(environment.cors_origins),
                    AllowedHeaders=["*"],
                    MaxAge=3000,
                )
            ]
        )
        abandoned = LifecycleRule(
            Id="AbortAbandonedUploads",
            Status="Enabled",
            Prefix=UPLOAD_PREFIX,
            AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=1),
        )
        notify = NotificationConfiguration(
            TopicConfigurations=[
                TopicConfigurations(
                    Event="s3:ObjectCreated:*",
                    Topic=Ref(self.upload_topic),
                    Filter=Filter(S3Key=S3Key(Rules=[Rules(Name="prefix", Value=UPLOAD_PREFIX)])),
                )
            ]
        )
        bucket = private_bucket(
            "UploadBucket",
            BucketName=self.bucket_name("uploads"),
            access_logs=(Ref(self.access_logs_bucket), f"{self.scope}/uploads/"),
            lifecycle=[abandoned],
            CorsConfiguration=cors,
            NotificationConfiguration=notify,
            DependsOn=[self.upload_topic_policy.title],
        )
        self.publish("UploadBucketName", Ref(bucket), "Bucket that receives browser uploads")
        self.publish("UploadBucketArn", GetAtt(bucket, "Arn"), "Upload bucket ARN")
        return bucket

    @resource
    def upload_bucket_policy(self) -> BucketPolicy:
        return tls_only_policy("UploadBucketPolicy", self.upload_bucket)

    @resource
    def media_bucket(self) -> Bucket:
        """Thumbnails written by the backend and read through presigned URLs."""
        bucket = private_bucket(
            "MediaBucket",
            BucketName=self.bucket_name("media"),
            access_logs=(Ref(self.access_logs_bucket), f"{self.scope}/media/"),
        )
        self.publish("MediaBucketName", Ref(bucket), "Bucket of generated thumbnails")
        self.publish("MediaBucketArn", GetAtt(bucket, "Arn"), "Media bucket ARN")
        return bucket

    @resource
    def media_bucket_policy(self) -> BucketPolicy:
        return tls_only_policy("MediaBucketPolicy", self.media_bucket)
