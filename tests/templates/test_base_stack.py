"""The account's base stack: audit trail, flow logs, access logs, pipeline artifacts."""

from __future__ import annotations

import json

import pytest

from infra.config import load_config
from infra.render import template_json
from infra.stack import StackContext
from infra.stacks.base import BaseStack
from tests.templates.conftest import REPO, Template, only, props, resources


@pytest.fixture(scope="module")
def base(templates: dict[str, Template]) -> Template:
    return templates["main/base"]


def render_base(*overrides: str) -> Template:
    config = load_config(REPO / "infra.toml", overrides)
    account = config.accounts["main"]
    return json.loads(template_json(BaseStack(StackContext(config, account))))


def test_trail_covers_all_regions_with_validated_encrypted_logs(base: Template) -> None:
    trail = only(base, "AWS::CloudTrail::Trail")["Properties"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["IsLogging"] is True
    assert trail["KMSKeyId"] == {"Fn::GetAtt": ["TrailKey", "Arn"]}
    assert trail["S3BucketName"] == {"Ref": "TrailBucket"}
    assert "TrailBucketPolicy" in base["Resources"]["Trail"]["DependsOn"]


def test_trail_key_rotates_and_only_cloudtrail_for_this_trail_encrypts(base: Template) -> None:
    key = props(base, "TrailKey")
    assert key["EnableKeyRotation"] is True
    by_sid = {s["Sid"]: s for s in key["KeyPolicy"]["Statement"]}
    encrypt = by_sid["CloudTrailEncryptsLogs"]
    assert encrypt["Action"] == ["kms:GenerateDataKey"]
    assert "aws:SourceArn" in encrypt["Condition"]["StringEquals"]


def test_trail_bucket_policy_is_tls_only_and_scoped_to_the_trail(base: Template) -> None:
    policy = props(base, "TrailBucketPolicy")["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    deny = by_sid["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    write = by_sid["CloudTrailWritesLogs"]
    assert write["Action"] == ["s3:PutObject"]
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert write["Resource"] == [
        {
            "Fn::Sub": [
                "${Arn}/AWSLogs/${AWS::AccountId}/*",
                {"Arn": {"Fn::GetAtt": ["TrailBucket", "Arn"]}},
            ]
        }
    ]
    assert by_sid["CloudTrailChecksAcl"]["Action"] == ["s3:GetBucketAcl"]


def test_trail_logs_expire_after_the_configured_days(base: Template) -> None:
    rules = props(base, "TrailBucket")["LifecycleConfiguration"]["Rules"]
    expiry = next(rule for rule in rules if rule["Id"] == "ExpireAuditLogs")
    assert expiry["ExpirationInDays"] == 365
    changed = render_base("accounts.main.trail_log_expiry_days=90")
    rules = props(changed, "TrailBucket")["LifecycleConfiguration"]["Rules"]
    assert next(r for r in rules if r["Id"] == "ExpireAuditLogs")["ExpirationInDays"] == 90


def test_no_vpc_configured_means_no_flow_log_and_no_delivery_grant(base: Template) -> None:
    assert resources(base, "AWS::EC2::FlowLog") == {}
    sids = {s["Sid"] for s in props(base, "TrailBucketPolicy")["PolicyDocument"]["Statement"]}
    assert not any(sid.startswith("FlowLogs") for sid in sids)


def test_a_configured_vpc_gets_flow_logs_into_the_trail_bucket() -> None:
    template = render_base('accounts.main.flow_logs_vpc_id="vpc-0123456789abcdef0"')
    flow_log = only(template, "AWS::EC2::FlowLog")["Properties"]
    assert flow_log["ResourceId"] == "vpc-0123456789abcdef0"
    assert flow_log["ResourceType"] == "VPC"
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogDestinationType"] == "s3"
    sids = {s["Sid"] for s in props(template, "TrailBucketPolicy")["PolicyDocument"]["Statement"]}
    assert {"FlowLogsCheckAcl", "FlowLogsWrite"} <= sids


def test_artifact_bucket_is_kms_encrypted_with_its_own_key(base: Template) -> None:
    bucket = props(base, "ArtifactBucket")
    default = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert default["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": ["ArtifactKey", "Arn"]},
    }
    assert default["BucketKeyEnabled"] is True
    assert props(base, "ArtifactKey")["EnableKeyRotation"] is True


@pytest.mark.parametrize("bucket", ["ArtifactBucket", "TrailBucket"])
def test_buckets_log_access_to_the_access_log_bucket(base: Template, bucket: str) -> None:
    logging = props(base, bucket)["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


def test_publishes_what_the_other_stacks_read(base: Template) -> None:
    names = {p["Properties"]["Name"] for p in resources(base, "AWS::SSM::Parameter").values()}
    assert names == {
        "/photos/main/base/AccessLogsBucketName",
        "/photos/main/base/ArtifactBucketName",
        "/photos/main/base/ArtifactKeyArn",
        "/photos/main/base/TrailArn",
    }
    assert {"ArtifactBucketName", "ArtifactKeyArn", "TrailArn"} <= set(base["Outputs"])


def test_pipeline_runs_expire_where_codepipeline_writes_them(base: Template) -> None:
    """CodePipeline keys a run's artifacts by the first 20 characters of the pipeline's name."""
    rules = props(base, "ArtifactBucket")["LifecycleConfiguration"]["Rules"]
    runs = next(rule for rule in rules if rule["Id"] == "ExpirePipelineRuns")
    assert runs["Prefix"] == "photos-main-pipeline/"
    assert runs["ExpirationInDays"] == 90


def test_artifact_key_serves_the_pipelines_logs_and_topic_only(base: Template) -> None:
    by_sid = {s["Sid"]: s for s in props(base, "ArtifactKey")["KeyPolicy"]["Statement"]}
    logs = by_sid["CloudWatchLogsEncryptsPipelineLogs"]
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                "log-group:/aws/codebuild/photos-main-pipeline-*"
            }
        }
    }
    notifications = by_sid["CodeStarNotificationsPublishToEncryptedTopic"]
    assert notifications["Principal"] == {
        "Service": {"Fn::Sub": "codestar-notifications.${AWS::URLSuffix}"}
    }
    assert notifications["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert notifications["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "sns.${AWS::Region}.${AWS::URLSuffix}"}}
    }
