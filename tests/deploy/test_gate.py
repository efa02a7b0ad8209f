"""The deployment gate: which changes to stateful resources block a deploy, which IAM changes
are reported, and the `gate` command against a local CloudFormation (moto).

moto's GetTemplate ignores `ChangeSetName` and returns the deployed template; the suite's
`moto_server` fixes that (infra/local/moto_fixes/, pinned in test_moto_gaps.py).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from infra import cli as cli_module
from infra.gate.evaluation import GateReport, evaluate_change_set
from infra.gate.iam import iam_findings
from infra.gate.stateful import (
    STATEFUL_TYPES,
    change_findings,
    merged_findings,
    stateful_findings,
)
from infra.gate.values import pointer_value

REGION = "eu-west-1"
STACK = "app-data"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
TABLE_ARN = {"Fn::GetAtt": ["Table", "Arn"]}


def template(**resources: dict) -> dict:
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def retained(resource_type: str, **properties: Any) -> dict:
    return {
        "Type": resource_type,
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def table(key: str = "pk", key_type: str = "S", **properties: Any) -> dict:
    """A retained on-demand table keyed on one attribute, with extra properties."""
    base = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": key_type}],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
    }
    return retained("AWS::DynamoDB::Table", **{**base, **properties})


def table_with_index(gsi_key_type: str = "S") -> dict:
    return table(
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "created", "AttributeType": gsi_key_type},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByCreated",
                "KeySchema": [{"AttributeName": "created", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def user_pool(**properties: Any) -> dict:
    base = {
        "UsernameAttributes": ["email"],
        "Schema": [
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}
        ],
    }
    return retained("AWS::Cognito::UserPool", **{**base, **properties})


def function(name: str = "api") -> dict:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"FunctionName": name, "Runtime": "python3.12", "Handler": "h.handler"},
    }


def statement(actions: list[str], resource: Any = TABLE_ARN, effect: str = "Allow") -> dict:
    return {"Effect": effect, "Action": actions, "Resource": resource}


def role(*statements: dict, trust: dict = LAMBDA_TRUST) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": trust,
            "Policies": [
                {
                    "PolicyName": "table",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
                }
            ],
        },
    }


def queue_policy(*statements: dict) -> dict:
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": "Queue"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
        },
    }


def send_from(principal: dict) -> dict:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
    }


TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sqs:*",
    "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
SNS = {"Service": "sns.amazonaws.com"}

TABLE = f"{STACK}: Table (AWS::DynamoDB::Table): "
REPLACED = "CloudFormation would replace it"


def blocking_lines(deployed: dict | None, proposed: dict) -> list[str]:
    """The template comparison's lines as `evaluate_change_set` reports them (merged)."""
    return [
        f.line for f in merged_findings(stateful_findings(STACK, deployed, proposed, REGION), [])
    ]


def change_list_lines(stack: str, changes: list[dict]) -> list[str]:
    """CloudFormation's change list alone, as `evaluate_change_set` reports it (merged)."""
    return [f.line for f in merged_findings([], change_findings(stack, changes))]


# --- blocking: pure template comparisons --------------------------------------------------------

BLOCKED = [
    pytest.param(
        template(Table=table()),
        template(Table=table(key="id")),
        [
            TABLE + "KeySchema changes from [{AttributeName: pk, KeyType: HASH}] to "
            "[{AttributeName: id, KeyType: HASH}]: "
            f"a table's key schema is fixed at creation, {REPLACED}"
        ],
        id="key-schema",
    ),
    pytest.param(
        template(Table=table()),
        template(Table=table(key_type="N")),
        [
            TABLE + "attribute pk type changes from S to N: "
            f"an attribute's type is fixed once defined, {REPLACED}"
        ],
        id="key-attribute-type",
    ),
    pytest.param(
        template(Table=table_with_index("S")),
        template(Table=table_with_index("N")),
        [
            TABLE + "attribute created type changes from S to N: "
            f"an attribute's type is fixed once defined, {REPLACED}"
        ],
        id="gsi-only-attribute-type",
    ),
    pytest.param(
        template(Table=table(TableName="items")),
        template(Table=table(TableName="items-v2")),
        [
            TABLE + "TableName changes from items to items-v2: "
            f"create-only in the resource schema, {REPLACED}"
        ],
        id="table-name-from-schema",
    ),
    pytest.param(
        template(Files=retained("AWS::EFS::FileSystem", PerformanceMode="generalPurpose")),
        template(Files=retained("AWS::EFS::FileSystem", PerformanceMode="maxIO")),
        [
            f"{STACK}: Files (AWS::EFS::FileSystem): PerformanceMode changes from "
            f"generalPurpose to maxIO: create-only in the resource schema, {REPLACED}"
        ],
        id="efs-performance-mode-only-the-schema-knows",
    ),
    pytest.param(
        template(Key=retained("AWS::KMS::Key", KeySpec="SYMMETRIC_DEFAULT")),
        template(Key=retained("AWS::KMS::Key", KeySpec="RSA_2048")),
        [
            f"{STACK}: Key (AWS::KMS::Key): KeySpec changes from SYMMETRIC_DEFAULT to RSA_2048: "
            "KeySpec is fixed when the key is created: "
            "CloudFormation fails the update or replaces the key"
        ],
        id="kms-key-spec",
    ),
    pytest.param(
        template(Users=user_pool()),
        template(Users=user_pool(UsernameAttributes=["email", "phone_number"])),
        [
            f"{STACK}: Users (AWS::Cognito::UserPool): UsernameAttributes changes from [email] "
            f"to [email, phone_number]: how users sign in is fixed when the pool is created, "
            f"{REPLACED}"
        ],
        id="user-pool-username-attributes",
    ),
    pytest.param(
        template(Users=user_pool()),
        template(
            Users=user_pool(
                Schema=[
                    {
                        "Name": "email",
                        "AttributeDataType": "String",
                        "Required": True,
                        "Mutable": False,
                    }
                ]
            )
        ),
        [
            f"{STACK}: Users (AWS::Cognito::UserPool): Schema attribute email changes: "
            "Cognito cannot change or remove a user pool attribute, "
            "the pool would be replaced or the update fail"
        ],
        id="user-pool-attribute-changed",
    ),
    pytest.param(
        template(Users=user_pool()),
        template(Users=user_pool(Schema=[])),
        [
            f"{STACK}: Users (AWS::Cognito::UserPool): Schema attribute email is removed: "
            "Cognito cannot change or remove a user pool attribute, "
            "the pool would be replaced or the update fail"
        ],
        id="user-pool-attribute-removed",
    ),
    pytest.param(
        template(Table={**table(), "DeletionPolicy": "Delete"}, Api=function()),
        template(Api=function()),
        [TABLE + "removed (or renamed): CloudFormation would delete it"],
        id="table-removed",
    ),
    pytest.param(
        template(Media=retained("AWS::S3::Bucket")),
        template(MediaBucket=retained("AWS::S3::Bucket")),
        [
            f"{STACK}: Media (AWS::S3::Bucket): removed (or renamed): CloudFormation would orphan "
            "it (kept by its DeletionPolicy, no longer managed) "
            "(new logical ID of the same type: MediaBucket)"
        ],
        id="bucket-renamed",
    ),
    pytest.param(
        template(Table=table()),
        template(Table={**table(), "DeletionPolicy": "Delete"}),
        [TABLE + "DeletionPolicy Retain -> Delete: would no longer be retained"],
        id="deletion-policy-delete",
    ),
    pytest.param(
        template(Table=table()),
        template(Table={"Type": "AWS::DynamoDB::Table", "Properties": table()["Properties"]}),
        [
            TABLE + "DeletionPolicy Retain -> (unset: Delete): would no longer be retained",
            TABLE + "UpdateReplacePolicy Retain -> (unset: Delete): "
            "would no longer be retained when replaced",
        ],
        id="retention-policies-removed",
    ),
    pytest.param(
        template(Table=table()),
        {
            **template(
                Table={**table(), "DeletionPolicy": {"Fn::If": ["IsProd", "Retain", "Delete"]}}
            ),
            "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        },
        [TABLE + "DeletionPolicy Retain -> Delete: would no longer be retained"],
        id="deletion-policy-chosen-by-condition",
    ),
    pytest.param(
        template(Table=table()),
        template(Table={**table(), "DeletionPolicy": {"Fn::If": ["IsProd", "Retain", "Delete"]}}),
        [
            TABLE + "DeletionPolicy cannot be resolved (condition IsProd is not defined): "
            "it may no longer be retained"
        ],
        id="deletion-policy-on-an-undefined-condition",
    ),
    pytest.param(
        template(Table=table()),
        template(Table=retained("AWS::DynamoDB::GlobalTable")),
        [TABLE + f"type changes to AWS::DynamoDB::GlobalTable: {REPLACED}"],
        id="type-changed",
    ),
    pytest.param(
        template(Table=table(TableName={"Fn::Sub": "${AWS::StackName}-items"})),
        template(Table=table(TableName={"Fn::Sub": "${AWS::StackName}-things"})),
        [
            TABLE + f"TableName changes from {STACK}-items to {STACK}-things: "
            f"create-only in the resource schema, {REPLACED}"
        ],
        id="intrinsic-value-changed",
    ),
]


@pytest.mark.parametrize(("deployed", "proposed", "expected"), BLOCKED)
def test_stateful_change_blocks(deployed: dict, proposed: dict, expected: list[str]) -> None:
    assert blocking_lines(deployed, proposed) == expected
    assert iam_findings(STACK, deployed, proposed) == []


PASSED = [
    pytest.param(
        template(Table=table()),
        template(Table=table(BillingMode="PROVISIONED")),
        id="billing-mode",
    ),
    pytest.param(
        template(Table=table()),
        template(Table=table(Tags=[{"Key": "team", "Value": "photos"}])),
        id="tags",
    ),
    pytest.param(template(Table=table()), template(Table=table_with_index()), id="gsi-added"),
    pytest.param(
        template(Users=user_pool()),
        template(
            Users=user_pool(
                Schema=[
                    *user_pool()["Properties"]["Schema"],
                    {"Name": "plan", "AttributeDataType": "String", "Mutable": True},
                ]
            )
        ),
        id="user-pool-attribute-added",
    ),
    pytest.param(
        template(Table=table(TableName={"Fn::Sub": "${AWS::StackName}-items"})),
        template(Table=table(TableName={"Fn::Sub": "${AWS::StackName}-items"})),
        id="same-intrinsic",
    ),
    pytest.param(
        template(Table=table()),
        template(
            Table=table(KeySchema=[{"KeyType": "HASH", "AttributeName": "pk"}]),
        ),
        id="same-value-other-key-order",
    ),
    pytest.param(
        template(Key=retained("AWS::KMS::Key", MultiRegion=False)),
        template(Key=retained("AWS::KMS::Key", MultiRegion="false")),
        id="same-boolean-as-string",
    ),
    pytest.param(template(Api=function("api")), template(Api2=function("api")), id="fn-renamed"),
    pytest.param(
        template(Logs={"Type": "AWS::Logs::LogGroup"}), template(), id="log-group-removed"
    ),
    pytest.param(None, template(Table=table(), Media=retained("AWS::S3::Bucket")), id="new-stack"),
]


@pytest.mark.parametrize(("deployed", "proposed"), PASSED)
def test_harmless_change_passes(deployed: dict | None, proposed: dict) -> None:
    assert blocking_lines(deployed, proposed) == []


def test_the_gate_guards_data_not_logs_or_queues() -> None:
    assert "AWS::DynamoDB::Table" in STATEFUL_TYPES
    assert "AWS::Cognito::UserPool" in STATEFUL_TYPES
    assert "AWS::Logs::LogGroup" not in STATEFUL_TYPES
    assert "AWS::SQS::Queue" not in STATEFUL_TYPES


def test_removing_the_pipeline_repository_is_blocked() -> None:
    repository = retained("AWS::CodeCommit::Repository", RepositoryName="photos")
    blocking = blocking_lines(template(Repo=repository), template())
    assert len(blocking) == 1
    assert blocking[0].startswith(f"{STACK}: Repo (AWS::CodeCommit::Repository): ")


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/properties/KeySchema/0/AttributeName", "pk"),
        ("/properties/KeySchema/*/KeyType", ["HASH", "RANGE"]),
        ("/properties/Missing/Deeper", None),
        ("/properties/TableName/Anything", {"Ref": "Name"}),
        ("/properties/KeySchema/\u00b2/KeyType", None),  # a superscript two is no index
        ("/properties/KeySchema/\u0661/KeyType", None),  # nor an Arabic-Indic one
    ],
)
def test_pointer_value_reads_nested_and_starred_pointers(pointer: str, expected: Any) -> None:
    document = {
        "properties": {
            "TableName": {"Ref": "Name"},
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        }
    }
    assert pointer_value(document, pointer) == expected


# --- IAM broadening ------------------------------------------------------------------------------

IAM_CASES = [
    pytest.param(
        template(Role=role(statement(["dynamodb:GetItem"]))),
        template(Role=role(statement(["dynamodb:GetItem", "dynamodb:PutItem"]))),
        [f"{STACK}: Role: allows dynamodb:PutItem on Table.Arn"],
        id="new-action",
    ),
    pytest.param(
        template(Role=role(statement(["dynamodb:GetItem"]))),
        template(
            Role=role(
                statement(
                    ["dynamodb:GetItem"],
                    [TABLE_ARN, {"Fn::Sub": "${Table.Arn}/index/*"}],
                )
            )
        ),
        [f"{STACK}: Role: allows dynamodb:GetItem on ${{Table.Arn}}/index/*"],
        id="new-resource",
    ),
    pytest.param(
        template(),
        template(Role=role(statement(["dynamodb:GetItem"], {"Ref": "TableArn"}))),
        [
            f"{STACK}: Role: new AWS::IAM::Role",
            f"{STACK}: Role: allows dynamodb:GetItem on Ref:TableArn",
            f"{STACK}: Role: trusts Service:lambda.amazonaws.com (sts:AssumeRole)",
        ],
        id="new-role",
    ),
    pytest.param(
        template(Role=role(statement(["dynamodb:GetItem"]))),
        template(
            Role=role(
                statement(["dynamodb:GetItem"]),
                trust={
                    "Statement": [
                        *LAMBDA_TRUST["Statement"],
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::1:root"}},
                            "Action": "sts:AssumeRole",
                        },
                    ]
                },
            )
        ),
        [f"{STACK}: Role: trusts AWS:arn:aws:iam::1:root (sts:AssumeRole)"],
        id="new-trust-principal",
    ),
    pytest.param(
        template(Policy=queue_policy(send_from(SNS))),
        template(Policy=queue_policy(send_from(SNS), send_from({"Service": "s3.amazonaws.com"}))),
        [
            f"{STACK}: Policy: allows Service:s3.amazonaws.com sqs:SendMessage on Queue.Arn",
            f"{STACK}: Policy: new principal Service:s3.amazonaws.com",
        ],
        id="new-resource-policy-principal",
    ),
    pytest.param(
        template(Policy=queue_policy(send_from(SNS), TLS_ONLY)),
        template(Policy=queue_policy(send_from(SNS))),
        [
            f"{STACK}: Policy: no longer denies * sqs:* on Queue.Arn "
            "when {Bool: {aws:SecureTransport: false}}"
        ],
        id="removed-deny",
    ),
    pytest.param(
        template(),
        template(
            Invoke={
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Ref": "Api"},
                    "Principal": "sns.amazonaws.com",
                    "SourceArn": {"Ref": "Topic"},
                },
            }
        ),
        [
            f"{STACK}: Invoke: new AWS::Lambda::Permission",
            f"{STACK}: Invoke: allows sns.amazonaws.com lambda:InvokeFunction on Ref:Api "
            "when {SourceArn: Ref:Topic}",
            f"{STACK}: Invoke: new principal sns.amazonaws.com",
        ],
        id="new-lambda-permission",
    ),
    pytest.param(
        template(Role=role(statement(["dynamodb:GetItem", "dynamodb:PutItem"]))),
        template(Role=role(statement(["dynamodb:GetItem"]))),
        [],
        id="removed-permission",
    ),
    pytest.param(
        template(Policy=queue_policy(send_from(SNS))),
        template(Policy=queue_policy(send_from(SNS), TLS_ONLY)),
        [],
        id="added-deny",
    ),
    pytest.param(
        template(Role=role(statement(["dynamodb:GetItem"]))),
        template(Role=role(statement(["dynamodb:GetItem"]))),
        [],
        id="unchanged",
    ),
]


@pytest.mark.parametrize(("deployed", "proposed", "expected"), IAM_CASES)
def test_iam_broadening_is_reported(deployed: dict, proposed: dict, expected: list[str]) -> None:
    assert iam_findings(STACK, deployed, proposed) == expected
    assert blocking_lines(deployed, proposed) == []


# --- CloudFormation's own verdict ----------------------------------------------------------------


def resource_change(
    action: str,
    resource_type: str = "AWS::DynamoDB::Table",
    logical_id: str = "Table",
    replacement: str | None = None,
    recreation: str = "Always",
) -> dict:
    """One entry of describe_change_set()['Changes'] as CloudFormation writes it."""
    change: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": "app-data-Table-1X2Y3Z",
        "ResourceType": resource_type,
        "Scope": ["Properties"] if action == "Modify" else [],
        "Details": [],
    }
    if replacement is not None:
        change["Replacement"] = replacement
        change["Details"] = [
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": "KeySchema",
                    "RequiresRecreation": recreation,
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            },
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": "BillingMode",
                    "RequiresRecreation": "Never",
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            },
        ]
    return {"Type": "Resource", "ResourceChange": change}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            resource_change("Modify", replacement="True"),
            [TABLE + "CloudFormation would replace it (change set: Replacement True; KeySchema)"],
            id="replacement-true",
        ),
        pytest.param(
            resource_change("Modify", replacement="Conditional", recreation="Conditionally"),
            [
                TABLE + "CloudFormation may replace it "
                "(change set: Replacement Conditional; KeySchema)"
            ],
            id="replacement-conditional",
        ),
        pytest.param(
            resource_change("Modify", replacement="False", recreation="Never"),
            [],
            id="replacement-false",
        ),
        pytest.param(resource_change("Modify"), [], id="modify-without-replacement-like-moto"),
        pytest.param(
            resource_change("Remove"),
            [TABLE + "CloudFormation would delete it (change set: Remove)"],
            id="remove-table",
        ),
        pytest.param(
            resource_change("Remove", "AWS::Lambda::Function", "Api"), [], id="remove-function"
        ),
        pytest.param(
            resource_change("Modify", "AWS::Lambda::Function", "Api", replacement="True"),
            [],
            id="replace-function",
        ),
        pytest.param(resource_change("Add"), [], id="add-table"),
    ],
)
def test_change_list_findings(change: dict, expected: list[str]) -> None:
    assert change_list_lines(STACK, [change]) == expected


def test_a_retained_removal_names_the_policy_action() -> None:
    change = resource_change("Remove")
    change["ResourceChange"]["PolicyAction"] = "Retain"
    assert change_list_lines(STACK, [change]) == [
        TABLE + "CloudFormation would delete it (change set: Remove, PolicyAction Retain)"
    ]


def stubbed_cloudformation(deployed: dict, proposed: dict, pages: list[list[dict]]) -> Stubber:
    """A real client (`.client`) whose calls are scripted, in order: boto3's paginator pages."""
    cfn = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(cfn)
    names = {"StackName": STACK, "ChangeSetName": "cs"}
    for index, changes in enumerate(pages):
        page: dict[str, Any] = {"Status": "CREATE_COMPLETE", "Changes": changes}
        if index + 1 < len(pages):
            page["NextToken"] = str(index + 1)
        token = {"NextToken": str(index)} if index else {}
        stubber.add_response("describe_change_set", page, {**names, **token})
    described = {"StackName": STACK, "StackStatus": "UPDATE_COMPLETE", "CreationTime": "2026-01-01"}
    stubber.add_response("describe_stacks", {"Stacks": [described]}, {"StackName": STACK})
    original = {"StackName": STACK, "TemplateStage": "Original"}
    stubber.add_response("get_template", {"TemplateBody": json.dumps(deployed)}, original)
    stubber.add_response("get_template", {"TemplateBody": json.dumps(proposed)}, names)
    stubber.activate()
    return stubber


def test_evaluate_reads_every_page_and_says_each_reason_once() -> None:
    deployed = template(Table=table(), Media=retained("AWS::S3::Bucket"))
    proposed = template(Table=table(key="id"))
    stubber = stubbed_cloudformation(
        deployed,
        proposed,
        [
            [resource_change("Modify", replacement="True")],
            [resource_change("Remove", "AWS::S3::Bucket", "Media")],
        ],
    )
    report = evaluate_change_set(stubber.client, STACK, "cs")
    stubber.assert_no_pending_responses()
    assert report == GateReport(
        STACK,
        (
            f"{STACK}: Media (AWS::S3::Bucket): removed (or renamed): CloudFormation would orphan "
            "it (kept by its DeletionPolicy, no longer managed)",
            TABLE + "KeySchema changes from [{AttributeName: pk, KeyType: HASH}] to "
            "[{AttributeName: id, KeyType: HASH}]: "
            f"a table's key schema is fixed at creation, {REPLACED}",
        ),
        (),
    )
    assert not report.passed


# --- end to end: a local CloudFormation ----------------------------------------------------------


@pytest.fixture(scope="module")
def cloudformation_endpoint(moto_server: str) -> str:
    """The suite's local AWS, whose GetTemplate returns a change set's template when asked."""
    return moto_server


STACK_NUMBERS = itertools.count(1)


def data_template(
    key: str = "pk", actions: tuple[str, ...] = ("dynamodb:GetItem",), **table_properties: Any
) -> dict:
    """What the data stack looks like here: a retained table and a role that reads it."""
    return template(Table=table(key=key, **table_properties), Role=role(statement(list(actions))))


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def create_stack(cfn: Any, body: dict) -> str:
    """A deployed stack with a fresh name; moto creates it at once, but poll like a client."""
    name = f"gate-{next(STACK_NUMBERS)}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(body), Capabilities=["CAPABILITY_IAM"])
    deadline = time.monotonic() + 10
    while (status := cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]) != (
        "CREATE_COMPLETE"
    ):
        assert status.endswith("IN_PROGRESS") and time.monotonic() < deadline, status
        time.sleep(0.1)
    return name


def create_change_set(cfn: Any, stack: str, body: dict, kind: str = "UPDATE") -> str:
    name = f"{stack}-cs-{next(STACK_NUMBERS)}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        TemplateBody=json.dumps(body),
        ChangeSetType=kind,
        Capabilities=["CAPABILITY_IAM"],
    )
    return name


def run_gate(monkeypatch: pytest.MonkeyPatch, endpoint: str, *args: str) -> Result:
    """`python -m infra gate ...` through the real command group."""
    monkeypatch.setitem(cli_module.COMMANDS, "gate", "infra.commands.gate:gate_command")
    return CliRunner().invoke(cli_module.cli, ["gate", *args, "--endpoint-url", endpoint])


def table_key(endpoint: str, stack: str) -> list[dict]:
    """The deployed table's key schema, read from DynamoDB itself."""
    cfn = client(endpoint, "cloudformation")
    resource = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Table")
    name = resource["StackResourceDetail"]["PhysicalResourceId"]
    return client(endpoint, "dynamodb").describe_table(TableName=name)["Table"]["KeySchema"]


def test_key_schema_change_is_blocked(
    cloudformation_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = create_stack(cfn, data_template())
    change_set = create_change_set(cfn, stack, data_template(key="id"))
    expected = (
        f"{stack}: Table (AWS::DynamoDB::Table): KeySchema changes from "
        "[{AttributeName: pk, KeyType: HASH}] to [{AttributeName: id, KeyType: HASH}]: "
        f"a table's key schema is fixed at creation, {REPLACED}"
    )

    report = evaluate_change_set(cfn, stack, change_set)
    result = run_gate(
        monkeypatch, cloudformation_endpoint, "--stack", stack, "--change-set", change_set
    )

    assert report == GateReport(stack, (expected,), ())
    assert result.exit_code == 1
    assert result.stdout == f"{expected}\n"
    assert result.stderr == "gate: blocked (1 reason)\n"
    assert table_key(cloudformation_endpoint, stack) == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_a_change_set_without_changes_passes(
    cloudformation_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline makes a change set for every stack; an unchanged one is FAILED, harmlessly."""
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = create_stack(cfn, data_template())
    change_set = create_change_set(cfn, stack, data_template())
    assert cfn.describe_change_set(StackName=stack, ChangeSetName=change_set)["Status"] == "FAILED"

    result = run_gate(
        monkeypatch, cloudformation_endpoint, "--stack", stack, "--change-set", change_set
    )

    assert (result.exit_code, result.stdout, result.stderr) == (0, "gate: passed\n", "")


def test_billing_and_tags_change_passes(
    cloudformation_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = create_stack(cfn, data_template())
    proposed = data_template(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        Tags=[{"Key": "team", "Value": "photos"}],
    )
    change_set = create_change_set(cfn, stack, proposed)

    report = evaluate_change_set(cfn, stack, change_set)
    result = run_gate(
        monkeypatch, cloudformation_endpoint, "--stack", stack, "--change-set", change_set
    )

    assert report == GateReport(stack, (), ())
    assert (result.exit_code, result.stdout, result.stderr) == (0, "gate: passed\n", "")


def test_removed_table_is_one_reason_from_both_sources(
    cloudformation_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto says Remove and so do we: one line, ours."""
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = create_stack(cfn, data_template())
    proposed = template(Role=role(statement(["dynamodb:GetItem"])))
    change_set = create_change_set(cfn, stack, proposed)
    changes = cfn.describe_change_set(StackName=stack, ChangeSetName=change_set)["Changes"]
    expected = (
        f"{stack}: Table (AWS::DynamoDB::Table): removed (or renamed): CloudFormation would "
        "orphan it (kept by its DeletionPolicy, no longer managed)"
    )

    result = run_gate(
        monkeypatch, cloudformation_endpoint, "--stack", stack, "--change-set", change_set
    )

    assert change_list_lines(stack, changes) == [
        f"{stack}: Table (AWS::DynamoDB::Table): CloudFormation would delete it "
        "(change set: Remove)"
    ]
    assert evaluate_change_set(cfn, stack, change_set).blocking == (expected,)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        f"{expected}\n",
        "gate: blocked (1 reason)\n",
    )


def test_added_permission_is_reported_and_fails_only_when_asked(
    cloudformation_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = create_stack(cfn, data_template())
    proposed = data_template(actions=("dynamodb:GetItem", "dynamodb:DeleteItem"))
    change_set = create_change_set(cfn, stack, proposed)
    line = f"{stack}: Role: allows dynamodb:DeleteItem on Table.Arn"
    args = ("--stack", stack, "--change-set", change_set)

    report = evaluate_change_set(cfn, stack, change_set)
    informed = run_gate(monkeypatch, cloudformation_endpoint, *args)
    strict = run_gate(monkeypatch, cloudformation_endpoint, *args, "--fail-on-iam")

    assert report == GateReport(stack, (), (line,))
    assert (informed.exit_code, informed.stdout, informed.stderr) == (
        0,
        f"iam: {line}\ngate: passed\n",
        "",
    )
    assert (strict.exit_code, strict.stdout, strict.stderr) == (
        1,
        f"iam: {line}\n",
        "gate: blocked (0 reasons, 1 IAM broadening with --fail-on-iam)\n",
    )


def test_new_stack_passes_and_lists_its_grants(cloudformation_endpoint: str) -> None:
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = f"gate-new-{next(STACK_NUMBERS)}"
    change_set = create_change_set(cfn, stack, data_template(), kind="CREATE")

    report = evaluate_change_set(cfn, stack, change_set)

    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == (
        "REVIEW_IN_PROGRESS"
    )
    assert report == GateReport(
        stack,
        (),
        (
            f"{stack}: Role: new AWS::IAM::Role",
            f"{stack}: Role: allows dynamodb:GetItem on Table.Arn",
            f"{stack}: Role: trusts Service:lambda.amazonaws.com (sts:AssumeRole)",
        ),
    )


def test_unknown_change_set_is_one_line(
    cloudformation_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn = client(cloudformation_endpoint, "cloudformation")
    stack = create_stack(cfn, data_template())

    result = run_gate(
        monkeypatch, cloudformation_endpoint, "--stack", stack, "--change-set", "nope"
    )

    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"{stack}: describing change set nope: ValidationError: Stack with id nope does not exist\n"
    )
