"""Least privilege across both apps' templates: no wildcard actions, `Resource: *` only where
the library lists why, or the app's declaration does (an `Unscoped` grant gives its reason)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.app.grants import Unscoped
from tests.support.apps import reference_app
from tests.templates.conftest import Template, as_list

# (resource type, Sid) -> why nothing narrower than "*" is possible there.
RESOURCE_STAR_ALLOWED = {
    ("AWS::IAM::Role", "SendTraces"): "X-Ray PutTraceSegments/PutTelemetryRecords take no resource",
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


def declared_unscoped() -> dict[tuple[str, str], str]:
    """The reference app's own `Resource: *` grants, with the reasons it declares."""
    return {
        ("AWS::IAM::Role", grant.sid): grant.target.reason
        for function in reference_app().functions
        for grant in function.grants
        if isinstance(grant.target, Unscoped)
    }


# The reference app's Unscoped grants, pinned: a new `Resource: *` grant must be added here.
REFERENCE_APP_UNSCOPED = {
    ("AWS::IAM::Role", "RekognitionAccess"): "DetectLabels supports no resource-level permissions"
}


def test_the_app_declares_exactly_the_unscoped_grants_reviewed_here() -> None:
    assert declared_unscoped() == REFERENCE_APP_UNSCOPED


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


def test_every_policy_statement_is_found(every_template: dict[str, Template]) -> None:
    kinds = {kind for _, _, kind, _ in all_statements(every_template)}
    assert kinds == set(POLICY_PROPERTIES)


def test_no_allow_statement_has_a_wildcard_action(every_template: dict[str, Template]) -> None:
    offenders = []
    for name, logical_id, kind, statement in all_statements(every_template):
        if statement["Effect"] != "Allow":
            continue
        wild = [a for a in as_list(statement["Action"]) if "*" in a]
        if wild and ACTION_STAR_ALLOWED.get((kind, statement.get("Sid"))) != wild:
            offenders.append(f"{name} {logical_id} {statement.get('Sid')}: {wild}")
    assert offenders == []


def test_resource_star_only_where_the_service_allows_nothing_narrower(
    every_template: dict[str, Template],
) -> None:
    offenders = []
    for name, logical_id, kind, statement in all_statements(every_template):
        star = statement["Effect"] == "Allow" and "*" in as_list(statement.get("Resource", []))
        allowed = RESOURCE_STAR_ALLOWED | REFERENCE_APP_UNSCOPED
        if star and (kind, statement.get("Sid")) not in allowed:
            offenders.append(f"{name} {logical_id} {statement.get('Sid')}")
    assert offenders == []


def test_no_statement_names_a_hand_typed_partition(every_template: dict[str, Template]) -> None:
    for name, logical_id, _, statement in all_statements(every_template):
        assert "arn:aws:" not in str(statement), f"{name} {logical_id}"


def test_principals_are_never_everyone_on_an_allow(every_template: dict[str, Template]) -> None:
    for name, logical_id, _, statement in all_statements(every_template):
        if statement["Effect"] == "Allow" and "Principal" in statement:
            assert statement["Principal"] != "*", f"{name} {logical_id}"
            assert statement["Principal"] != {"AWS": "*"}, f"{name} {logical_id}"
