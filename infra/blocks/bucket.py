"""Private, encrypted, retained S3 buckets and their TLS-only policies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs.aws import Statement
from troposphere import GetAtt, Ref
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    LoggingConfiguration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from infra.blocks.policy import deny_insecure_transport, document, objects
from infra.stack import retain


def encryption(kms_key_arn: Any | None = None) -> BucketEncryption:
    """SSE-KMS with the given key (bucket keys on, to cut KMS calls), else SSE-S3."""
    if kms_key_arn is None:
        default = ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
        return BucketEncryption(
            ServerSideEncryptionConfiguration=[
                ServerSideEncryptionRule(ServerSideEncryptionByDefault=default)
            ]
        )
    default = ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=kms_key_arn)
    return BucketEncryption(
        ServerSideEncryptionConfiguration=[
            ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, BucketKeyEnabled=True)
        ]
    )


def expire_noncurrent(days: int = 30) -> LifecycleRule:
    """Old versions of overwritten or deleted objects go after `days`."""
    return LifecycleRule(
        Id="ExpireNoncurrentVersions",
        Status="Enabled",
        NoncurrentVersionExpirationInDays=days,
        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
    )


def private_bucket(
    logical_id: str,
    *,
    kms_key_arn: Any | None = None,
    access_logs: tuple[Any, str] | None = None,
    lifecycle: Sequence[LifecycleRule] = (),
    **properties: Any,
) -> Bucket:
    """A bucket no one reaches publicly: owner-enforced, versioned, encrypted, retained.

    `access_logs` is (target bucket, prefix) for S3 server access logging.
    """
    bucket = Bucket(
        logical_id,
        BucketEncryption=encryption(kms_key_arn),
        PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=LifecycleConfiguration(Rules=[expire_noncurrent(), *lifecycle]),
        **properties,
    )
    if access_logs is not None:
        target, prefix = access_logs
        bucket.LoggingConfiguration = LoggingConfiguration(
            DestinationBucketName=target, LogFilePrefix=prefix
        )
    return retain(bucket)


def tls_only_policy(logical_id: str, bucket: Bucket, *statements: Statement) -> BucketPolicy:
    """The bucket's policy: refuse plain HTTP, then allow what `statements` allow."""
    resources = [GetAtt(bucket, "Arn"), objects(bucket)]
    return BucketPolicy(
        logical_id,
        Bucket=Ref(bucket),
        PolicyDocument=document(deny_insecure_transport(resources), *statements),
    )
