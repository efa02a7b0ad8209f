"""The data stack: table, user pool, buckets, and the upload topic S3 notifies."""

from __future__ import annotations

import pytest

from tests.support.apps import reference_app
from tests.templates.conftest import Template, only, props, resources


@pytest.fixture(scope="module", params=["dev", "prod"])
def data(request: pytest.FixtureRequest, templates: dict[str, Template]) -> Template:
    return templates[f"{request.param}/data"]


def test_table_is_on_demand_with_keys_index_pitr_ttl_stream_and_protection(data: Template) -> None:
    table = props(data, "ImagesTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByCreated"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["gsi1pk", "gsi1sk"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["DeletionProtectionEnabled"] is True


def test_user_pool_signs_in_by_email_with_a_strong_password_and_protection(data: Template) -> None:
    pool = props(data, "UserPool")
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["DeletionProtection"] == "ACTIVE"
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(password[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers"))


def test_spa_client_has_no_secret(data: Template) -> None:
    client = props(data, "UserPoolClient")
    assert client["GenerateSecret"] is False
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"


@pytest.mark.parametrize("bucket", ["UploadBucket", "MediaBucket"])
def test_buckets_are_private_encrypted_versioned_and_logged(data: Template, bucket: str) -> None:
    properties = props(data, bucket)
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    logging = properties["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": "BaseAccessLogsBucketName"}


def test_upload_bucket_cors_allows_browser_post_from_the_frontend_only(
    templates: dict[str, Template],
) -> None:
    dev_cors = props(templates["dev/data"], "UploadBucket")["CorsConfiguration"]["CorsRules"]
    prod_cors = props(templates["prod/data"], "UploadBucket")["CorsConfiguration"]["CorsRules"]
    assert [rule["AllowedMethods"] for rule in dev_cors] == [["POST"]]
    assert dev_cors[0]["AllowedOrigins"] == ["http://localhost:5173"]
    assert prod_cors[0]["AllowedOrigins"] == ["https://photos.example.com"]


def test_upload_bucket_aborts_abandoned_uploads(data: Template) -> None:
    rules = props(data, "UploadBucket")["LifecycleConfiguration"]["Rules"]
    abandoned = next(rule for rule in rules if rule["Id"] == "AbortAbandonedMultipartUpload")
    assert abandoned["Prefix"] == "uploads/"
    assert abandoned["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_upload_bucket_notifies_the_topic_after_its_policy_exists(data: Template) -> None:
    bucket = data["Resources"]["UploadBucket"]
    [config] = bucket["Properties"]["NotificationConfiguration"]["TopicConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Topic"] == {"Ref": "UploadTopic"}
    assert config["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "uploads/"}]
    assert "UploadTopicPolicy" in bucket["DependsOn"]


def test_only_s3_for_the_upload_bucket_in_this_account_may_publish(data: Template) -> None:
    policy = only(data, "AWS::SNS::TopicPolicy")["Properties"]
    assert policy["Topics"] == [{"Ref": "UploadTopic"}]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    publish = by_sid["UploadBucketPublishes"]
    assert publish["Principal"] == {"Service": {"Fn::Sub": "s3.${AWS::URLSuffix}"}}
    assert publish["Action"] == ["sns:Publish"]
    assert publish["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}
    }
    source_arn = publish["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert source_arn.startswith("arn:${AWS::Partition}:s3:::photos-")
    assert "-uploads-${AWS::AccountId}-${AWS::Region}" in source_arn
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"


def test_the_topic_policy_names_the_bucket_the_stack_creates(data: Template) -> None:
    """The policy cannot GetAtt the bucket (the bucket depends on it): the names must agree."""
    bucket_name = props(data, "UploadBucket")["BucketName"]["Fn::Sub"]
    policy = only(data, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]
    publish = next(s for s in policy["Statement"] if s["Sid"] == "UploadBucketPublishes")
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"] == (
        f"arn:${{AWS::Partition}}:s3:::{bucket_name}"
    )


def test_encrypted_topic_key_lets_s3_and_alarms_use_it(data: Template) -> None:
    assert props(data, "UploadTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    sids = {s["Sid"] for s in props(data, "DataKey")["KeyPolicy"]["Statement"]}
    assert {"S3PublishesToEncryptedTopic", "CloudWatchLogsEncryptsLogGroups"} <= sids
    assert "CloudWatchAlarmsPublishToEncryptedTopics" in sids


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_publishes_values_under_the_env_path(templates: dict[str, Template], env: str) -> None:
    data = templates[f"{env}/data"]
    names = {p["Properties"]["Name"] for p in resources(data, "AWS::SSM::Parameter").values()}
    expected = {
        "ImagesTableName", "ImagesTableArn", "ImagesTableStreamArn", "UserPoolId", "UserPoolArn",
        "UserPoolClientId", "UserPoolIssuerUrl", "UploadBucketName", "UploadBucketArn",
        "MediaBucketName", "MediaBucketArn", "UploadTopicArn", "KeyArn",
    }  # fmt: skip
    assert names == {f"/photos/{env}/data/{name}" for name in expected}
    assert expected <= set(data["Outputs"])
    # What the declaration checks references against is what the stack really shares.
    assert reference_app().shared_values("data") == expected
