"""Least privilege across every template: no wildcard actions, `Resource: *` only where listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.templates.conftest import Template, as_list

# (resource type, Sid) -> why nothing narrower than "*" is possible there.
RESOURCE_STAR_ALLOWED = {
    ("AWS::IAM::Role", "SendTraces"): "X-Ray PutTraceSegments/PutTelemetryRecords take no resource",
    ("AWS::IAM::Role", "RekognitionAccess"): "DetectLabels supports no resource-level permissions",
    # The environments' deploy roles (pipelines/cfn_roles.py): calls that name no resource yet.
    ("AWS::IAM::Role", "CreateKeys"): "kms:CreateKey and kms:ListAliases take no resource; the "
    "keys themselves are managed only when tagged with this app and env",
    ("AWS::IAM::Role", "CreateUserPools"): "cognito-idp:CreateUserPool takes no resource; pools "
    "are managed only when tagged with this app and env",
    ("AWS::IAM::Role", "CreateEventSourceMappings"): "lambda:CreateEventSourceMapping takes no "
    "resource; the lambda:FunctionArn condition keeps it to the env's functions",
    ("AWS::IAM::Role", "HttpApiAccessLogDelivery"): "CloudWatch Logs' log-delivery and resource "
    "policy calls, which API Gateway makes for HTTP API access logs, take no resource",
    # In a key policy "*" means "this key".
    ("AWS::KMS::Key", "AccountAdministersKeyThroughIam"): "key policy: this key",
    ("AWS::KMS::Key", "CloudTrailEncryptsLogs"): "key policy: this key",
    ("AWS::KMS::Key", "CloudTrailDescribesKey"): "key policy: this key",
    ("AWS::KMS::Key", "CloudWatchLogsEncryptsLogGroups"): "key policy: this key",
    ("AWS::KMS::Key", "S3PublishesToEncryptedTopic"): "key policy: this key",
    ("AWS::KMS::Key", "CloudWatchAlarmsPublishToEncryptedTopics"): "key policy: this key",
    ("AWS::KMS::Key", "CloudWatchLogsEncryptsPipelineLogs"): "key policy: this key",
    ("AWS::KMS::Key", "CodeStarNotificationsPublishToEncryptedTopic"): "key policy: this key",
}
# The only wildcard action: the default key policy that hands the key to the account's IAM.
ACTION_STAR_ALLOWED = {("AWS::KMS::Key", "AccountAdministersKeyThroughIam"): ["kms:*"]}

POLICY_PROPERTIES = {
    "AWS::IAM::Role": "Policies",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
}


def all_statements(
    templates: dict[str, Template],
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(template, logical id, type, statement) for every policy statement in every template."""
    for name, template in templates.items():
        for logical_id, resource in template["Resources"].items():
            kind = resource["Type"]
            prop = POLICY_PROPERTIES.get(kind)
            if prop is None:
                continue
            value = resource["Properties"][prop]
            documents = (
                [p["PolicyDocument"] for p in value] if kind == "AWS::IAM::Role" else [value]
            )
            for document in documents:
                for statement in document["Statement"]:
                    yield name, logical_id, kind, statement


def test_every_policy_statement_is_found(templates: dict[str, Template]) -> None:
    kinds = {kind for _, _, kind, _ in all_statements(templates)}
    assert kinds == set(POLICY_PROPERTIES)


def test_no_allow_statement_has_a_wildcard_action(templates: dict[str, Template]) -> None:
    offenders = []
    for name, logical_id, kind, statement in all_statements(templates):
        if statement["Effect"] != "Allow":
            continue
        wild = [a for a in as_list(statement["Action"]) if "*" in a]
        if wild and ACTION_STAR_ALLOWED.get((kind, statement.get("Sid"))) != wild:
            offenders.append(f"{name} {logical_id} {statement.get('Sid')}: {wild}")
    assert offenders == []


def test_resource_star_only_where_the_service_allows_nothing_narrower(
    templates: dict[str, Template],
) -> None:
    offenders = []
    for name, logical_id, kind, statement in all_statements(templates):
        star = statement["Effect"] == "Allow" and "*" in as_list(statement.get("Resource", []))
        if star and (kind, statement.get("Sid")) not in RESOURCE_STAR_ALLOWED:
            offenders.append(f"{name} {logical_id} {statement.get('Sid')}")
    assert offenders == []


def test_no_statement_names_a_hand_typed_partition(templates: dict[str, Template]) -> None:
    for name, logical_id, _, statement in all_statements(templates):
        assert "arn:aws:" not in str(statement), f"{name} {logical_id}"


def test_principals_are_never_everyone_on_an_allow(templates: dict[str, Template]) -> None:
    for name, logical_id, _, statement in all_statements(templates):
        if statement["Effect"] == "Allow" and "Principal" in statement:
            assert statement["Principal"] != "*", f"{name} {logical_id}"
            assert statement["Principal"] != {"AWS": "*"}, f"{name} {logical_id}"
