"""Nothing lost: stateful resources retained; everything tagged app / env / stack."""

from __future__ import annotations

import pytest

from tests.templates.conftest import Template

RETAINED_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::Cognito::UserPool",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::CodeCommit::Repository",
}
# Said explicitly (cfn-lint I3011 asks), and deleted with the stack on purpose.
DELETED_WITH_STACK = {
    "AWS::Logs::LogGroup": "named after its function or project: a retained one would block "
    "re-creation",
    "AWS::SQS::Queue": "work in flight only; failures are alarmed on, not archived",
}


def test_every_stateful_resource_is_retained(every_template: dict[str, Template]) -> None:
    seen = set()
    for name, template in every_template.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in RETAINED_TYPES:
                seen.add(resource["Type"])
                assert resource.get("DeletionPolicy") == "Retain", f"{name} {logical_id}"
                assert resource.get("UpdateReplacePolicy") == "Retain", f"{name} {logical_id}"
    assert seen == RETAINED_TYPES


def test_operational_state_says_its_deletion_policy(every_template: dict[str, Template]) -> None:
    for name, template in every_template.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in DELETED_WITH_STACK:
                assert resource.get("DeletionPolicy") == "Delete", f"{name} {logical_id}"
                assert resource.get("UpdateReplacePolicy") == "Delete", f"{name} {logical_id}"


def tags_of(resource: Template) -> dict[str, str] | None:
    properties = resource.get("Properties", {})
    for key in ("Tags", "UserPoolTags"):
        if key in properties:
            value = properties[key]
            return value if isinstance(value, dict) else {t["Key"]: t["Value"] for t in value}
    return None


# Types whose CloudFormation schema takes no tags at all.
UNTAGGABLE = {
    "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::KMS::Alias",
    "AWS::Cognito::UserPoolClient", "AWS::ApiGatewayV2::Authorizer", "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration", "AWS::Lambda::Permission", "AWS::Lambda::EventInvokeConfig",
    "AWS::SNS::Subscription", "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy", "AWS::CloudWatch::Dashboard",
}  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        "photos:main/base",
        "photos:main/pipeline",
        "photos:dev/data",
        "photos:dev/backend",
        "photos:prod/frontend",
        "links:main/pipeline",
        "links:dev/data",
        "links:prod/backend",
    ],
)
def test_every_taggable_resource_is_tagged(every_template: dict[str, Template], name: str) -> None:
    app, stack_name = name.split(":")
    scope, stack = stack_name.split("/")
    for logical_id, resource in every_template[name]["Resources"].items():
        if resource["Type"] in UNTAGGABLE:
            continue
        tags = tags_of(resource)
        assert tags is not None, f"{name} {logical_id} ({resource['Type']}) has no tags"
        assert {k: tags[k] for k in ("app", "env", "stack")} == {
            "app": app,
            "env": scope,
            "stack": stack,
        }, logical_id
