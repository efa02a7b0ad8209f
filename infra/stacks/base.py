"""The account's base: CloudTrail, VPC flow logs, access logs and pipeline artifacts.

One per account, deployed first. Its outward values are published under
`/<app>/<account>/base/...` for the pipeline and the environment stacks.
"""

from __future__ import annotations

from typing import Any

from awacs import kms as kms_actions
from awacs import s3 as s3_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import GetAtt, Ref, Sub
from troposphere.cloudtrail import Trail
from troposphere.kms import Alias, Key
from troposphere.s3 import Bucket, BucketPolicy, LifecycleRule

from infra.blocks.bucket import private_bucket, tls_only_policy
from infra.blocks.kms import kms_alias, kms_key, logs_may_use_key
from infra.blocks.policy import arn, objects, service_principal
from infra.naming import codebuild_log_group, pipeline_artifact_prefix, pipeline_name
from infra.stack import Stack, resource, skip_checks

ARTIFACT_RETENTION_DAYS = 90


class BaseStack(Stack):
    name = "base"
    description = "account audit trail, flow logs and pipeline artifacts"

    @property
    def trail_name(self) -> str:
        return self.physical_name("trail")

    @property
    def trail_arn(self) -> Sub:
        return arn("cloudtrail", f"trail/{self.trail_name}")

    def source_account(self) -> Condition:
        return Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")))

    # -- access logs -------------------------------------------------------------------------

    @resource
    def access_logs_bucket(self) -> Bucket:
        """Where S3 server access logs of every bucket in this account land."""
        bucket = private_bucket(
            "AccessLogsBucket",
            lifecycle=[
                LifecycleRule(Id="ExpireAccessLogs", Status="Enabled", ExpirationInDays=365)
            ],
        )
        self.share("AccessLogsBucketName", Ref(bucket), "Target bucket for S3 access logs")
        return skip_checks(
            bucket,
            {
                "CKV_AWS_18": "This is the access-log target; logging it into itself would loop.",
            },
        )

    @resource
    def access_logs_bucket_policy(self) -> BucketPolicy:
        deliver = Statement(
            Sid="S3ServerAccessLogDelivery",
            Effect=Allow,
            Principal=service_principal("logging.s3"),
            Action=[s3_actions.PutObject],
            Resource=[objects(self.access_logs_bucket)],
            Condition=self.source_account(),
        )
        return tls_only_policy("AccessLogsBucketPolicy", self.access_logs_bucket, deliver)

    # -- CloudTrail --------------------------------------------------------------------------

    @resource
    def trail_key(self) -> Key:
        """Encrypts the trail's log files; only CloudTrail for this trail may use it."""
        encrypt = Statement(
            Sid="CloudTrailEncryptsLogs",
            Effect=Allow,
            Principal=service_principal("cloudtrail"),
            Action=[kms_actions.GenerateDataKey],
            Resource=["*"],
            Condition=Condition(
                [
                    StringLike(
                        "kms:EncryptionContext:aws:cloudtrail:arn",
                        arn("cloudtrail", "trail/*", region=False),
                    ),
                    StringEquals("aws:SourceArn", self.trail_arn),
                ]
            ),
        )
        describe = Statement(
            Sid="CloudTrailDescribesKey",
            Effect=Allow,
            Principal=service_principal("cloudtrail"),
            Action=[kms_actions.DescribeKey],
            Resource=["*"],
            Condition=Condition(StringEquals("aws:SourceArn", self.trail_arn)),
        )
        return kms_key("TrailKey", f"{self.app} CloudTrail log files", encrypt, describe)

    @resource
    def trail_key_alias(self) -> Alias:
        return kms_alias("TrailKeyAlias", self.trail_key, self.physical_name("trail"))

    @resource
    def trail_bucket(self) -> Bucket:
        """Trail and flow-log files, kept for the configured number of days."""
        expiry = LifecycleRule(
            Id="ExpireAuditLogs",
            Status="Enabled",
            ExpirationInDays=self.context.account.trail_log_expiry_days,
        )
        return private_bucket(
            "TrailBucket",
            access_logs=(Ref(self.access_logs_bucket), "trail/"),
            lifecycle=[expiry],
        )

    @resource
    def trail_bucket_policy(self) -> BucketPolicy:
        bucket = self.trail_bucket
        statements = [
            Statement(
                Sid="CloudTrailChecksAcl",
                Effect=Allow,
                Principal=service_principal("cloudtrail"),
                Action=[s3_actions.GetBucketAcl],
                Resource=[GetAtt(bucket, "Arn")],
                Condition=Condition(StringEquals("aws:SourceArn", self.trail_arn)),
            ),
            Statement(
                Sid="CloudTrailWritesLogs",
                Effect=Allow,
                Principal=service_principal("cloudtrail"),
                Action=[s3_actions.PutObject],
                Resource=[objects(bucket, "AWSLogs/${AWS::AccountId}/")],
                Condition=Condition(
                    StringEquals(
                        {
                            "s3:x-amz-acl": "bucket-owner-full-control",
                            "aws:SourceArn": self.trail_arn,
                        }
                    )
                ),
            ),
        ]
        if self.context.account.flow_logs_vpc_id:
            statements += self.flow_log_delivery_statements(bucket)
        return tls_only_policy("TrailBucketPolicy", bucket, *statements)

    def flow_log_delivery_statements(self, bucket: Bucket) -> list[Statement]:
        """What VPC flow-log delivery needs on the bucket (from the EC2 user guide)."""
        source = Condition(
            [
                StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}")),
                ArnLike("aws:SourceArn", arn("logs", "*")),
            ]
        )
        return [
            Statement(
                Sid="FlowLogsCheckAcl",
                Effect=Allow,
                Principal=service_principal("delivery.logs"),
                Action=[s3_actions.GetBucketAcl],
                Resource=[GetAtt(bucket, "Arn")],
                Condition=source,
            ),
            Statement(
                Sid="FlowLogsWrite",
                Effect=Allow,
                Principal=service_principal("delivery.logs"),
                Action=[s3_actions.PutObject],
                Resource=[objects(bucket, "flow-logs/AWSLogs/${AWS::AccountId}/")],
                Condition=Condition(
                    [
                        StringEquals(
                            {
                                "s3:x-amz-acl": "bucket-owner-full-control",
                                "aws:SourceAccount": Sub("${AWS::AccountId}"),
                            }
                        ),
                        ArnLike("aws:SourceArn", arn("logs", "*")),
                    ]
                ),
            ),
        ]

    @resource
    def trail(self) -> Trail:
        trail = Trail(
            "Trail",
            TrailName=self.trail_name,
            IsLogging=True,
            IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=True,
            KMSKeyId=GetAtt(self.trail_key, "Arn"),
            S3BucketName=Ref(self.trail_bucket),
            DependsOn=[self.trail_bucket_policy.title],
        )
        self.share("TrailArn", self.trail_arn, "The account's CloudTrail trail")
        return skip_checks(
            trail,
            {
                "CKV_AWS_252": "Log files are read in S3; no notification per file is wanted.",
            },
        )

    # -- VPC flow logs -----------------------------------------------------------------------

    @resource
    def flow_logs(self) -> tuple[Any, ...]:
        """All traffic of the configured VPC, to the trail bucket; none without a VPC.

        troposphere.ec2 takes longer to import than the whole base stack takes to build,
        so it is imported only for an account that has flow logs.
        """
        vpc_id = self.context.account.flow_logs_vpc_id
        if not vpc_id:
            return ()
        from troposphere.ec2 import FlowLog

        return (
            FlowLog(
                "VpcFlowLog",
                ResourceId=vpc_id,
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination=Sub("${Arn}/flow-logs/", Arn=GetAtt(self.trail_bucket, "Arn")),
                MaxAggregationInterval=600,
                DependsOn=[self.trail_bucket_policy.title],
            ),
        )

    # -- pipeline artifacts ------------------------------------------------------------------

    @resource
    def artifact_key(self) -> Key:
        """Artifacts and Lambda zips; also the pipeline's log groups and notification topic.

        CloudWatch Logs and CodeStar Notifications act as themselves, not through a
        role, so only the key policy can let them use the key: logs for the pipeline's
        CodeBuild log groups only, notifications only through SNS in this region.
        """
        pipeline = pipeline_name(self.app, self.scope)
        logs = logs_may_use_key(
            "CloudWatchLogsEncryptsPipelineLogs", f"{codebuild_log_group(pipeline)}-*"
        )
        notifications = Statement(
            Sid="CodeStarNotificationsPublishToEncryptedTopic",
            Effect=Allow,
            Principal=service_principal("codestar-notifications"),
            Action=[kms_actions.GenerateDataKey, kms_actions.Decrypt],
            Resource=["*"],
            Condition=Condition(
                StringEquals("kms:ViaService", Sub("sns.${AWS::Region}.${AWS::URLSuffix}"))
            ),
        )
        key = kms_key(
            "ArtifactKey", f"{self.app} pipeline artifacts and Lambda code", logs, notifications
        )
        self.share("ArtifactKeyArn", GetAtt(key, "Arn"), "KMS key of the artifact bucket")
        return key

    @resource
    def artifact_key_alias(self) -> Alias:
        return kms_alias("ArtifactKeyAlias", self.artifact_key, self.physical_name("artifacts"))

    @resource
    def artifact_bucket(self) -> Bucket:
        """Pipeline artifacts (expire) and content-addressed Lambda zips (kept).

        CodePipeline chooses where a run's artifacts go: under the first 20 characters
        of the pipeline's name, so that is the prefix that expires.
        """
        pipeline_runs = LifecycleRule(
            Id="ExpirePipelineRuns",
            Status="Enabled",
            Prefix=pipeline_artifact_prefix(self.app, self.scope),
            ExpirationInDays=ARTIFACT_RETENTION_DAYS,
        )
        bucket = private_bucket(
            "ArtifactBucket",
            kms_key_arn=GetAtt(self.artifact_key, "Arn"),
            access_logs=(Ref(self.access_logs_bucket), "artifacts/"),
            lifecycle=[pipeline_runs],
        )
        self.share("ArtifactBucketName", Ref(bucket), "Pipeline artifacts and Lambda zips")
        return bucket

    @resource
    def artifact_bucket_policy(self) -> BucketPolicy:
        return tls_only_policy("ArtifactBucketPolicy", self.artifact_bucket)
