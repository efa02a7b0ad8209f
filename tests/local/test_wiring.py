"""Deployed values resolved as CloudFormation resolved them: Ref, GetAtt, Sub, Join, Select.

The stacks are built by hand: a template, the parameter values CloudFormation reports
and the physical ids of the resources. The expected ARNs are AWS's documented formats,
spelled out here, so a wrong format in the resolver shows as a difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.errors import InfraError
from infra.local.wiring import DeployedStack, Resolver, read_stack

REGION = "eu-west-1"
ACCOUNT = "123456789012"
QUEUE_URL = f"http://sqs.{REGION}.localhost:4566/{ACCOUNT}/photos-dev-thumbnail"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:photos-dev-uploads"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/photos-dev-images"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-12-01T00:00:00.000"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:photos-dev-images"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:photos-dev-thumbnail"
MEDIA = f"photos-dev-media-{ACCOUNT}-{REGION}"
QUEUE_NAME = {"Fn::GetAtt": ["ThumbnailQueue", "QueueName"]}

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "UploadTopicArn": {"Type": "AWS::SSM::Parameter::Value<String>"},
    },
    "Resources": {
        "ImagesFunction": {"Type": "AWS::Lambda::Function"},
        "ThumbnailQueue": {"Type": "AWS::SQS::Queue"},
        "AlarmTopic": {"Type": "AWS::SNS::Topic"},
        "MediaBucket": {"Type": "AWS::S3::Bucket"},
        "ImagesTable": {"Type": "AWS::DynamoDB::Table"},
        "NightlyRule": {"Type": "AWS::Events::Rule"},
        "ImagesLogGroup": {"Type": "AWS::Logs::LogGroup"},
        "ImagesRole": {"Type": "AWS::IAM::Role"},
        "DataKey": {"Type": "AWS::KMS::Key"},
        "NotDeployed": {"Type": "AWS::SQS::Queue"},
        # The pipeline stack's: ARNs built from the Name property, resolved first.
        "TestReportGroup": {
            "Type": "AWS::CodeBuild::ReportGroup",
            "Properties": {"Name": {"Fn::Sub": "links-main-${Stage}-tests"}},
        },
        "BuildProject": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {"Name": "links-main-pipeline-build"},
        },
        "Pipeline": {"Type": "AWS::CodePipeline::Pipeline"},  # no Name: the physical id
    },
}
PHYSICAL = {
    "ImagesFunction": "photos-dev-images",
    "ThumbnailQueue": QUEUE_URL,
    "AlarmTopic": TOPIC_ARN.replace("uploads", "alarms"),
    "MediaBucket": f"photos-dev-media-{ACCOUNT}-{REGION}",
    "ImagesTable": "photos-dev-images",
    "NightlyRule": "links-dev-nightly-report",
    "ImagesLogGroup": "/aws/lambda/photos-dev-images",
    "ImagesRole": "photos-dev-images-role",
    "DataKey": "0c1d2e3f-key",
    "TestReportGroup": "TestReportGroup",  # what the local AWS gives a type it only accepts
    "BuildProject": "BuildProject",
    "Pipeline": "links-main-pipeline",
}


@dataclass
class FakeDynamoDb:
    described: list[str] = field(default_factory=list)

    def describe_table(self, TableName: str) -> dict[str, Any]:
        self.described.append(TableName)
        return {"Table": {"TableArn": TABLE_ARN, "LatestStreamArn": STREAM_ARN}}


@pytest.fixture
def dynamodb() -> FakeDynamoDb:
    return FakeDynamoDb()


@pytest.fixture
def resolver(dynamodb: FakeDynamoDb) -> Resolver:
    stack = DeployedStack(
        "photos-dev-backend", TEMPLATE, {"Stage": "dev", "UploadTopicArn": TOPIC_ARN}, PHYSICAL
    )
    clients = {"dynamodb": dynamodb}
    return Resolver(stack, REGION, ACCOUNT, clients.__getitem__)


# -- Ref ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Stage", "dev"),
        ("UploadTopicArn", TOPIC_ARN),
        ("AWS::Region", REGION),
        ("AWS::AccountId", ACCOUNT),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
        ("AWS::StackName", "photos-dev-backend"),
        ("ImagesFunction", "photos-dev-images"),
        ("ThumbnailQueue", QUEUE_URL),
        ("MediaBucket", f"photos-dev-media-{ACCOUNT}-{REGION}"),
    ],
)
def test_ref_is_a_parameters_value_a_pseudo_parameter_or_a_physical_id(
    resolver: Resolver, name: str, value: str
) -> None:
    assert resolver.value({"Ref": name}) == value


@pytest.mark.parametrize("name", ["Nowhere", "NotDeployed", "AWS::NotAPseudo", "stage"])
def test_a_ref_to_nothing_deployed_names_the_stack_and_the_name(
    resolver: Resolver, name: str
) -> None:
    with pytest.raises(InfraError) as raised:
        resolver.value({"Ref": name})
    assert "photos-dev-backend" in str(raised.value)
    assert name in str(raised.value)


# -- Fn::GetAtt -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logical_id", "attribute", "value"),
    [
        ("ImagesFunction", "Arn", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:photos-dev-images"),
        ("ThumbnailQueue", "Arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:photos-dev-thumbnail"),
        ("ThumbnailQueue", "QueueName", "photos-dev-thumbnail"),
        ("ThumbnailQueue", "QueueUrl", QUEUE_URL),
        ("AlarmTopic", "TopicArn", PHYSICAL["AlarmTopic"]),
        ("MediaBucket", "Arn", f"arn:aws:s3:::photos-dev-media-{ACCOUNT}-{REGION}"),
        ("ImagesTable", "Arn", TABLE_ARN),
        ("ImagesTable", "StreamArn", STREAM_ARN),
        (
            "NightlyRule",
            "Arn",
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/links-dev-nightly-report",
        ),
        (
            "ImagesLogGroup",
            "Arn",
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/photos-dev-images:*",
        ),
        ("ImagesRole", "Arn", f"arn:aws:iam::{ACCOUNT}:role/photos-dev-images-role"),
        (
            "TestReportGroup",
            "Arn",
            f"arn:aws:codebuild:{REGION}:{ACCOUNT}:report-group/links-main-dev-tests",
        ),
        (
            "BuildProject",
            "Arn",
            f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/links-main-pipeline-build",
        ),
        ("Pipeline", "Arn", f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:links-main-pipeline"),
    ],
)
def test_get_att_gives_each_attribute_in_aws_format(
    resolver: Resolver, logical_id: str, attribute: str, value: str
) -> None:
    assert resolver.value({"Fn::GetAtt": [logical_id, attribute]}) == value
    assert resolver.value({"Fn::GetAtt": f"{logical_id}.{attribute}"}) == value


def test_a_tables_arns_come_from_the_table_and_are_asked_for_once(
    resolver: Resolver, dynamodb: FakeDynamoDb
) -> None:
    for _ in range(3):
        resolver.value({"Fn::GetAtt": ["ImagesTable", "StreamArn"]})
    assert dynamodb.described == ["photos-dev-images"]


@pytest.mark.parametrize(
    ("logical_id", "attribute", "named"),
    [
        ("DataKey", "Arn", "DataKey.Arn"),  # a type the resolver does not know
        ("ImagesFunction", "Version", "ImagesFunction.Version"),  # an attribute it does not know
        ("AlarmTopic", "Arn", "AlarmTopic.Arn"),  # SNS's is TopicArn
        ("Ghost", "Arn", "Ghost"),  # no such resource
    ],
)
def test_an_attribute_it_cannot_give_names_the_stack_and_the_resource(
    resolver: Resolver, logical_id: str, attribute: str, named: str
) -> None:
    with pytest.raises(InfraError) as raised:
        resolver.value({"Fn::GetAtt": [logical_id, attribute]})
    assert "photos-dev-backend" in str(raised.value)
    assert named in str(raised.value)


def test_a_table_the_local_aws_does_not_know_is_an_infra_error(resolver: Resolver) -> None:
    class Refusing:
        def describe_table(self, TableName: str) -> Any:
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}
            raise ClientError(error, "DescribeTable")

    refusing = Resolver(resolver.stack, REGION, ACCOUNT, lambda service: Refusing())
    with pytest.raises(InfraError, match=r"photos-dev-images.*ResourceNotFoundException"):
        refusing.value({"Fn::GetAtt": ["ImagesTable", "Arn"]})


# -- Fn::Sub --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("plain text", "plain text"),
        ("arn:${AWS::Partition}:s3:::${MediaBucket}/*", f"arn:aws:s3:::{MEDIA}/*"),
        ("${ImagesFunction.Arn}:live", f"{FUNCTION_ARN}:live"),
        ("https://x.${AWS::Region}.${AWS::URLSuffix}/${Stage}", f"https://x.{REGION}.amazonaws.com/dev"),
        # ${!Literal} is the text ${Literal}, never a variable.
        ("${!Literal}", "${Literal}"),
        ("${!Stage}-${Stage}", "${Stage}-dev"),
        ("{\"widgets\": [\"${!AWS::Region}\"]}", "{\"widgets\": [\"${AWS::Region}\"]}"),
        (["${Api}/x", {"Api": {"Ref": "Stage"}}], "dev/x"),
        (["${Api}-${AWS::Region}", {"Api": QUEUE_NAME}], f"photos-dev-thumbnail-{REGION}"),
        # A variable of the list form hides a resource or parameter of the same name.
        (["${Stage}", {"Stage": "from-the-map"}], "from-the-map"),
        (["${Stage}", {}], "dev"),
        # A value that contains ${!...} is a value: it is not read as Sub's syntax again.
        (["${Text}", {"Text": "${!kept}"}], "${!kept}"),
    ],
)  # fmt: skip
def test_sub_resolves_variables_in_both_forms(
    resolver: Resolver, argument: Any, value: str
) -> None:
    assert resolver.value({"Fn::Sub": argument}) == value


@pytest.mark.parametrize(
    "argument",
    ["${Nothing}", "${Ghost.Arn}", ["${Missing}", {"Other": "x"}], "${DataKey.Arn}"],
)
def test_sub_with_an_unknown_variable_names_the_stack(resolver: Resolver, argument: Any) -> None:
    with pytest.raises(InfraError, match="photos-dev-backend"):
        resolver.value({"Fn::Sub": argument})


# -- Fn::Join, Fn::Select and the rest ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        (["", ["a", "b"]], "ab"),
        ([",", []], ""),
        (["/", [{"Ref": "Stage"}, "x", QUEUE_NAME]], "dev/x/photos-dev-thumbnail"),
        (["-", [{"Fn::Sub": "${AWS::Region}"}, {"Fn::Join": [".", ["a", "b"]]}]], f"{REGION}-a.b"),
    ],
)  # fmt: skip
def test_join_joins_the_resolved_parts(resolver: Resolver, argument: Any, value: str) -> None:
    assert resolver.value({"Fn::Join": argument}) == value


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ([0, ["a", "b", "c"]], "a"),
        (["2", ["a", "b", "c"]], "c"),
        ([1, [{"Ref": "Stage"}, {"Ref": "AWS::Region"}]], REGION),
    ],
)
def test_select_picks_one_resolved_item(resolver: Resolver, argument: Any, value: str) -> None:
    assert resolver.value({"Fn::Select": argument}) == value


@pytest.mark.parametrize("argument", [[3, ["a", "b", "c"]], [-1, ["a"]], [0, []]])
def test_select_out_of_range_names_the_stack(resolver: Resolver, argument: Any) -> None:
    with pytest.raises(InfraError, match="photos-dev-backend"):
        resolver.value({"Fn::Select": argument})


@pytest.mark.parametrize(
    "expression",
    [
        {"Fn::If": ["IsProd", "a", "b"]},
        {"Fn::ImportValue": "shared-thing"},
        {"Fn::Split": [",", "a,b"]},
        {"Fn::GetAZs": ""},
        {"Fn::Base64": "x"},
        {"Properties": {"Nested": [{"Fn::FindInMap": ["M", "a", "b"]}]}},
    ],
)
def test_a_function_it_cannot_resolve_names_the_stack_and_the_function(
    resolver: Resolver, expression: dict[str, Any]
) -> None:
    with pytest.raises(InfraError) as raised:
        resolver.value(expression)
    assert "photos-dev-backend" in str(raised.value)
    assert "Fn::" in str(raised.value)


def test_nested_properties_are_resolved_throughout_and_literals_kept(resolver: Resolver) -> None:
    properties = {
        "FunctionName": {"Ref": "ImagesFunction"},
        "Timeout": 30,
        "Enabled": True,
        "Environment": {"Variables": {"TOPIC": {"Ref": "UploadTopicArn"}, "MODE": "fast"}},
        "Targets": [{"Arn": {"Fn::GetAtt": ["ThumbnailQueue", "Arn"]}, "Id": "queue"}],
        "Tags": {"Ref": "Stage", "Other": "x"},  # two keys: a plain map, not a Ref
        "Nothing": None,
    }
    assert resolver.value(properties) == {
        "FunctionName": "photos-dev-images",
        "Timeout": 30,
        "Enabled": True,
        "Environment": {"Variables": {"TOPIC": TOPIC_ARN, "MODE": "fast"}},
        "Targets": [{"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:photos-dev-thumbnail", "Id": "queue"}],
        "Tags": {"Ref": "Stage", "Other": "x"},
        "Nothing": None,
    }


def test_resources_of_a_type_by_logical_id() -> None:
    stack = DeployedStack("s", TEMPLATE, {}, {})
    assert set(stack.resources("AWS::SQS::Queue")) == {"ThumbnailQueue", "NotDeployed"}
    assert stack.resources("AWS::Lambda::Url") == {}
    assert DeployedStack("empty", {}, {}, {}).resources("AWS::SQS::Queue") == {}


# -- reading a deployed stack ---------------------------------------------------------------------


@dataclass
class FakeCloudFormation:
    """CloudFormation's answers for one stack: a template, parameters, two pages of resources."""

    body: Any
    parameters: list[dict[str, str]]
    pages: list[list[dict[str, str]]]
    asked: list[tuple[str, str]] = field(default_factory=list)

    def get_template(self, StackName: str, TemplateStage: str) -> dict[str, Any]:
        self.asked.append(("get_template", TemplateStage))
        return {"TemplateBody": self.body}

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        return {"Stacks": [{"StackName": StackName, "Parameters": self.parameters}]}

    def get_paginator(self, name: str) -> Any:
        assert name == "list_stack_resources"
        pages = self.pages

        class Paginator:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:
                return [{"StackResourceSummaries": page} for page in pages]

        return Paginator()


@pytest.mark.parametrize("as_text", [True, False], ids=["json-text", "parsed"])
def test_read_stack_takes_resolved_parameters_and_every_page_of_resources(as_text: bool) -> None:
    template = {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev"},
            "TopicArn": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/a/b"},
            "Unreported": {"Type": "String", "Default": "the default"},
        },
        "Resources": {"A": {"Type": "AWS::SQS::Queue"}, "B": {"Type": "AWS::SNS::Topic"}},
    }
    cfn = FakeCloudFormation(
        json.dumps(template) if as_text else template,
        [
            {"ParameterKey": "Stage", "ParameterValue": "prod"},
            # An SSM parameter: the value CloudFormation resolved, not the parameter's name.
            {"ParameterKey": "TopicArn", "ParameterValue": "/a/b", "ResolvedValue": TOPIC_ARN},
        ],
        [
            [{"LogicalResourceId": "A", "PhysicalResourceId": QUEUE_URL}],
            [{"LogicalResourceId": "B", "PhysicalResourceId": TOPIC_ARN}],
        ],
    )
    stack = read_stack(cfn, "photos-prod-backend")
    assert stack.name == "photos-prod-backend"
    assert stack.template == template
    assert dict(stack.parameters) == {
        "Stage": "prod",
        "TopicArn": TOPIC_ARN,
        "Unreported": "the default",
    }
    assert dict(stack.physical_ids) == {"A": QUEUE_URL, "B": TOPIC_ARN}
    assert cfn.asked == [("get_template", "Original")]  # what was deployed, not processed


def test_read_stack_turns_cloudformations_refusal_into_one_line_naming_the_stack() -> None:
    class Missing:
        def get_template(self, **kwargs: Any) -> Any:
            error = {"Error": {"Code": "ValidationError", "Message": "Stack does not exist"}}
            raise ClientError(error, "GetTemplate")

    with pytest.raises(InfraError, match=r"photos-dev-backend.*Stack does not exist"):
        read_stack(Missing(), "photos-dev-backend")
