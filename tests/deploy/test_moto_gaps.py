"""The gaps in plain moto that tests/support/local_aws.py fixes for the suite's `moto_server`.

Each test shows a gap on moto as installed (in-process `mock_aws`, no fixes). When one fails,
moto has closed that gap: drop the matching fix from local_aws.py and this test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.gate import evaluate_change_set

REGION = "eu-west-1"


@pytest.fixture
def cfn() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def table(key: str) -> dict:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        },
    }


def body(**resources: dict) -> str:
    return json.dumps({"Resources": resources})


def create(cfn: Any, name: str, template: str) -> None:
    cfn.create_stack(StackName=name, TemplateBody=template)


def change_set(cfn: Any, stack: str, template: str) -> str:
    cfn.create_change_set(
        StackName=stack, ChangeSetName="next", TemplateBody=template, ChangeSetType="UPDATE"
    )
    return "next"


def test_get_template_ignores_change_set_name(cfn: Any) -> None:
    create(cfn, "s", body(Table=table("pk")))
    name = change_set(cfn, "s", body(Table=table("id")))

    served = cfn.get_template(StackName="s", ChangeSetName=name)["TemplateBody"]

    assert served == json.loads(body(Table=table("pk")))


def test_change_list_alone_still_blocks_a_removal(cfn: Any) -> None:
    """With moto's GetTemplate our comparison sees no change; CloudFormation's list still blocks."""
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    create(cfn, "s", body(Table=table("pk"), Topic=topic))
    name = change_set(cfn, "s", body(Topic=topic))

    report = evaluate_change_set(cfn, "s", name)

    assert report.blocking == (
        "s: Table (AWS::DynamoDB::Table): CloudFormation would delete it (change set: Remove)",
    )


def test_ssm_parameter_tags_must_be_pairs(cfn: Any) -> None:
    """CloudFormation's AWS::SSM::Parameter takes Tags as a map; moto fails on it."""
    parameter = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": "/a/b", "Type": "String", "Value": "v", "Tags": {"app": "a"}},
    }
    with pytest.raises(Exception, match="string indices"):
        create(cfn, "s", body(Parameter=parameter))


def test_kms_key_tags_must_be_tagkey_pairs(cfn: Any) -> None:
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
            "Tags": [{"Key": "app", "Value": "a"}],
        },
    }
    with pytest.raises(Exception, match="TagKey"):
        create(cfn, "s", body(Key=key))


def test_ref_to_an_unmodelled_type_is_empty(cfn: Any) -> None:
    """A Cognito client has no moto model: its Ref is nothing, so a parameter holding it fails."""
    client = {"Type": "AWS::Cognito::UserPoolClient", "Properties": {"UserPoolId": "p"}}
    parameter = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": "/a/client", "Type": "String", "Value": {"Ref": "Client"}},
    }
    with pytest.raises(ClientError, match="length greater than or equal to 1"):
        create(cfn, "s", body(Client=client, Parameter=parameter))


def test_outputs_stay_empty_after_a_create_change_set(cfn: Any) -> None:
    topic = {"Type": "AWS::SNS::Topic", "Properties": {}}
    template = {"Resources": {"Topic": topic}, "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}}}
    cfn.create_change_set(
        StackName="s",
        ChangeSetName="new",
        TemplateBody=json.dumps(template),
        ChangeSetType="CREATE",
    )
    cfn.execute_change_set(StackName="s", ChangeSetName="new")

    described = cfn.describe_stacks(StackName="s")["Stacks"][0]

    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert "Outputs" not in described


def test_a_change_set_reading_a_missing_ssm_parameter_is_created(cfn: Any) -> None:
    """AWS refuses it ("Unable to fetch parameters ..."); moto creates the change set."""
    template = {
        "Parameters": {
            "Table": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/nowhere/x"}
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}},
    }
    cfn.create_change_set(
        StackName="s",
        ChangeSetName="new",
        TemplateBody=json.dumps(template),
        ChangeSetType="CREATE",
    )

    described = cfn.describe_change_set(StackName="s", ChangeSetName="new")

    assert described["Status"] == "CREATE_COMPLETE"
