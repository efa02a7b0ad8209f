"""The gate against the local AWS, through `python -m infra gate`, class by class.

Each case deploys a stack (moto), makes a change set from a second template and parameter
values, and runs the gate command on it, as the pipeline's gate action does. Dangerous
changes must block with the reason named; their safe look-alikes must pass. The classes:

1. values that come from Parameters, Mappings and Conditions;
2. replacement rules the resource schemas miss;
3. queues that hold messages or serve as dead-letter queues;
4. protections switched off, and the `--allow` that lets one through;
5. IAM sources and coverage (reported, and refused with `--fail-on-iam`).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from infra import cli as cli_module
from infra.deploy import GateRefused, deploy_stack
from infra.gate.allowances import Allowances
from infra.gate.evaluation import change_set_judge
from infra.gate.iam import principals
from infra.targets import StackTarget
from tests.conftest import REPO

REGION = "eu-west-1"
NUMBERS = itertools.count(1)
Setup = Callable[[str, str], None]  # (endpoint, stack) -> None, before the change set is made


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def template(
    resources: dict,
    parameters: dict | None = None,
    mappings: dict | None = None,
    conditions: dict | None = None,
) -> dict:
    body: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    for key, value in (
        ("Parameters", parameters),
        ("Mappings", mappings),
        ("Conditions", conditions),
    ):
        if value:
            body[key] = value
    return body


def string_parameters(*names: str) -> dict:
    return {name: {"Type": "String"} for name in names}


def kept(resource_type: str, properties: dict, **attributes: Any) -> dict:
    """A resource with DeletionPolicy and UpdateReplacePolicy Retain (override by keyword)."""
    return {
        "Type": resource_type,
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        **attributes,
        "Properties": properties,
    }


def table_properties(name: Any = None, key: Any = "pk", **extra: Any) -> dict:
    properties = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "TableName": name if name is not None else {"Fn::Sub": "${AWS::StackName}-items"},
    }
    if key != "pk":
        properties["AttributeDefinitions"] = [{"AttributeName": key, "AttributeType": "S"}]
    return {**properties, **extra}


def table(name: Any = None, key: Any = "pk", **extra: Any) -> dict:
    return kept("AWS::DynamoDB::Table", table_properties(name, key, **extra))


def indexed_table(lsi_projection: str | None = None, gsi_type: str = "S", **extra: Any) -> dict:
    """pk/sk table with a GSI on `created`; with an LSI on `rank` when a projection is given."""
    definitions = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "created", "AttributeType": gsi_type},
    ]
    properties: dict[str, Any] = {
        "BillingMode": "PAY_PER_REQUEST",
        "TableName": {"Fn::Sub": "${AWS::StackName}-indexed"},
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ByCreated",
                "KeySchema": [{"AttributeName": "created", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
    if lsi_projection:
        definitions.append({"AttributeName": "rank", "AttributeType": "N"})
        properties["LocalSecondaryIndexes"] = [
            {
                "IndexName": "ByRank",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "rank", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": lsi_projection},
            }
        ]
    properties["AttributeDefinitions"] = definitions
    return kept("AWS::DynamoDB::Table", {**properties, **extra})


def user_pool(**properties: Any) -> dict:
    base = {
        "UserPoolName": {"Fn::Sub": "${AWS::StackName}-users"},
        "UsernameAttributes": ["email"],
        "Schema": [
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}
        ],
    }
    merged = {**base, **properties}
    return kept("AWS::Cognito::UserPool", {k: v for k, v in merged.items() if v is not None})


ACCOUNT_ADMIN = {
    "Effect": "Allow",
    "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
    "Action": "kms:*",
    "Resource": "*",
}


def key(**properties: Any) -> dict:
    policy = {"Version": "2012-10-17", "Statement": [ACCOUNT_ADMIN]}
    return kept("AWS::KMS::Key", {"Description": "data key", "KeyPolicy": policy, **properties})


def queue(name: str | None = None, **properties: Any) -> dict:
    if name is not None:
        properties["QueueName"] = {"Fn::Sub": "${AWS::StackName}-" + name}
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def redrive_to(dead_letter_queue: str) -> dict:
    return {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letter_queue, "Arn"]}, "maxReceiveCount": 3}


TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {}}


@dataclass(frozen=True)
class Case:
    """A deployed template and a change set for it; what the gate must say."""

    deployed: dict
    proposed: dict
    before: dict[str, str] = field(default_factory=dict)  # parameter values of the stack
    after: dict[str, str] = field(default_factory=dict)  # ... and of the change set
    says: tuple[str, ...] = ()  # fragments of stdout lines; "{stack}" is the stack's name
    setup: Setup | None = None
    args: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def endpoint(moto_server: str) -> str:
    return moto_server


def wait_for(cfn: Any, stack: str) -> None:
    deadline = time.monotonic() + 10
    while (status := cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]) not in (
        "CREATE_COMPLETE",
    ):
        assert status.endswith("IN_PROGRESS") and time.monotonic() < deadline, status
        time.sleep(0.1)


def parameters(values: dict[str, str], stack: str) -> list[dict[str, str]]:
    """Parameter values; "{stack}" in one becomes the stack's name (names stay unique)."""
    return [
        {"ParameterKey": k, "ParameterValue": v.replace("{stack}", stack)}
        for k, v in values.items()
    ]


def prepare(endpoint: str, case: Case) -> tuple[str, str]:
    """Deploy `case.deployed`, run its setup, create the change set: (stack, change set)."""
    cfn = client(endpoint, "cloudformation")
    stack = f"gate-class-{next(NUMBERS)}"
    cfn.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(case.deployed),
        Parameters=parameters(case.before, stack),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    wait_for(cfn, stack)
    if case.setup:
        case.setup(endpoint, stack)
    change_set = f"{stack}-next"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=change_set,
        TemplateBody=json.dumps(case.proposed),
        Parameters=parameters(case.after, stack),
        ChangeSetType="UPDATE",
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    status = cfn.describe_change_set(StackName=stack, ChangeSetName=change_set)["Status"]
    assert status == "CREATE_COMPLETE", "the case must change something"
    return stack, change_set


def run_gate(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, *args: str, env: dict | None = None
) -> Result:
    monkeypatch.setitem(cli_module.COMMANDS, "gate", "infra.commands.gate:gate_command")
    return CliRunner().invoke(
        cli_module.cli, ["gate", *args, "--endpoint-url", endpoint], env=env or {}
    )


def gate(monkeypatch: pytest.MonkeyPatch, endpoint: str, case: Case) -> tuple[str, Result]:
    stack, change_set = prepare(endpoint, case)
    result = run_gate(
        monkeypatch, endpoint, "--stack", stack, "--change-set", change_set, *case.args
    )
    return stack, result


def assert_blocked(stack: str, result: Result, case: Case) -> None:
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith("gate: blocked ("), result.stderr
    lines = result.stdout.splitlines()
    for fragment in case.says:
        wanted = fragment.replace("{stack}", stack)
        assert any(wanted in line for line in lines), f"{wanted!r} not in:\n{result.stdout}"


def assert_passed(result: Result) -> None:
    assert (result.exit_code, result.stdout, result.stderr) == (0, "gate: passed\n", ""), (
        result.output + result.stderr
    )


def messages(count: int, logical_id: str) -> Setup:
    """Put `count` messages into the deployed queue `logical_id`."""

    def send(endpoint: str, stack: str) -> None:
        cfn = client(endpoint, "cloudformation")
        found = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
        url = found["StackResourceDetail"]["PhysicalResourceId"]
        for number in range(count):
            client(endpoint, "sqs").send_message(QueueUrl=url, MessageBody=f"job {number}")

    return send


def redriven_from_outside(logical_id: str) -> Setup:
    """A queue outside the stack names the deployed queue as its dead-letter queue."""

    def make(endpoint: str, stack: str) -> None:
        cfn = client(endpoint, "cloudformation")
        found = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
        sqs = client(endpoint, "sqs")
        arn = sqs.get_queue_attributes(
            QueueUrl=found["StackResourceDetail"]["PhysicalResourceId"],
            AttributeNames=["QueueArn"],
        )["Attributes"]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})
        sqs.create_queue(QueueName=f"{stack}-outside", Attributes={"RedrivePolicy": policy})

    return make


# --- 1. values from Parameters, Mappings and Conditions -----------------------------------------

NAME_PARAMETER = string_parameters("TableName")
REGIONS = {"Names": {REGION: {"Table": "mapped-a"}}}
REGIONS_RENAMED = {"Names": {REGION: {"Table": "mapped-b"}}}
SAME_NAME = {"Names": {REGION: {"Table": "mapped-same"}}}
FROM_MAP = {"Fn::FindInMap": ["Names", {"Ref": "AWS::Region"}, "Table"]}
WANTED = {"Want": {"Type": "String", "Default": "yes"}}
HAS_TABLE = {"HasTable": {"Fn::Equals": [{"Ref": "Want"}, "yes"]}}
NOT_OFF = {"HasTable": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Want"}, "off"]}]}}

VALUES_BLOCKED = [
    pytest.param(
        Case(
            template({"Table": table({"Ref": "TableName"})}, NAME_PARAMETER),
            template({"Table": table({"Ref": "TableName"})}, NAME_PARAMETER),
            before={"TableName": "{stack}-a"},
            after={"TableName": "{stack}-b"},
            says=(
                "{stack}: Table (AWS::DynamoDB::Table): "
                "TableName changes from {stack}-a to {stack}-b",
            ),
        ),
        id="table-name-from-a-parameter",
    ),
    pytest.param(
        Case(
            template({"Table": table(FROM_MAP)}, mappings=REGIONS),
            template(
                {"Table": table(FROM_MAP, BillingMode="PAY_PER_REQUEST")}, mappings=REGIONS_RENAMED
            ),
            says=("TableName changes from mapped-a to mapped-b",),
        ),
        id="table-name-from-a-mapping",
    ),
    pytest.param(
        Case(
            template({"Table": {**table(), "Condition": "HasTable"}}, WANTED, conditions=HAS_TABLE),
            template({"Table": {**table(), "Condition": "HasTable"}}, WANTED, conditions=HAS_TABLE),
            before={"Want": "yes"},
            after={"Want": "no"},
            says=(
                "{stack}: Table (AWS::DynamoDB::Table): "
                "removed: its Condition HasTable is now false",
            ),
        ),
        id="condition-turns-false",
    ),
    pytest.param(
        Case(
            template({"Table": table(key={"Ref": "KeyName"})}, string_parameters("KeyName")),
            template({"Table": table(key={"Ref": "KeyName"})}, string_parameters("KeyName")),
            before={"KeyName": "pk"},
            after={"KeyName": "id"},
            says=("KeySchema changes from [{AttributeName: pk, KeyType: HASH}] to",),
        ),
        id="key-from-a-parameter",
    ),
    pytest.param(
        Case(
            template(
                {"Bucket": kept("AWS::S3::Bucket", {"BucketName": {"Fn::Sub": "${Prefix}-media"}})},
                string_parameters("Prefix"),
            ),
            template(
                {"Bucket": kept("AWS::S3::Bucket", {"BucketName": {"Fn::Sub": "${Prefix}-media"}})},
                string_parameters("Prefix"),
            ),
            before={"Prefix": "photos-a"},
            after={"Prefix": "photos-b"},
            says=("BucketName changes from photos-a-media to photos-b-media",),
        ),
        id="bucket-name-through-sub",
    ),
    pytest.param(
        Case(
            template({"Table": table("hidden-items")}),
            template(
                {"Table": table({"Ref": "Secret"})}, {"Secret": {"Type": "String", "NoEcho": True}}
            ),
            after={"Secret": "hidden-items"},
            says=(
                "TableName cannot be resolved (parameter Secret is NoEcho, so AWS hides its value)",
            ),
        ),
        id="value-hidden-from-the-gate-fails-closed",
    ),
    pytest.param(
        Case(
            template(
                {"Table": table({"Fn::If": ["Big", "items-big", "items-small"]})},
                WANTED,
                conditions={"Big": {"Fn::Equals": [{"Ref": "Want"}, "yes"]}},
            ),
            template(
                {"Table": table({"Fn::If": ["Big", "items-big", "items-small"]})},
                WANTED,
                conditions={"Big": {"Fn::Equals": [{"Ref": "Want"}, "yes"]}},
            ),
            before={"Want": "yes"},
            after={"Want": "no"},
            says=("TableName changes from items-big to items-small",),
        ),
        id="fn-if-picks-another-name",
    ),
]

VALUES_PASSED = [
    pytest.param(
        Case(
            template({"Table": table("literal-same")}),
            template({"Table": table({"Ref": "TableName"})}, NAME_PARAMETER),
            after={"TableName": "literal-same"},
        ),
        id="literal-becomes-a-parameter-with-the-same-value",
    ),
    pytest.param(
        Case(
            template({"Table": table("mapped-same")}),
            template({"Table": table(FROM_MAP)}, mappings=SAME_NAME),
        ),
        id="literal-becomes-a-mapping-with-the-same-value",
    ),
    pytest.param(
        Case(
            template({"Table": table()}),
            template({"Table": table({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "items"]]})}),
        ),
        id="sub-becomes-join",
    ),
    pytest.param(
        Case(
            template({"Table": {**table(), "Condition": "HasTable"}}, WANTED, conditions=NOT_OFF),
            template({"Table": {**table(), "Condition": "HasTable"}}, WANTED, conditions=NOT_OFF),
            before={"Want": "yes"},
            after={"Want": "still"},
        ),
        id="condition-stays-true",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Table": table(
                        BillingMode={"Ref": "Billing"},
                        ProvisionedThroughput={
                            "Fn::If": [
                                "Provisioned",
                                {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                                {"Ref": "AWS::NoValue"},
                            ]
                        },
                    )
                },
                {"Billing": {"Type": "String"}},
                conditions={"Provisioned": {"Fn::Equals": [{"Ref": "Billing"}, "PROVISIONED"]}},
            ),
            template(
                {
                    "Table": table(
                        BillingMode={"Ref": "Billing"},
                        ProvisionedThroughput={
                            "Fn::If": [
                                "Provisioned",
                                {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                                {"Ref": "AWS::NoValue"},
                            ]
                        },
                    )
                },
                {"Billing": {"Type": "String"}},
                conditions={"Provisioned": {"Fn::Equals": [{"Ref": "Billing"}, "PROVISIONED"]}},
            ),
            before={"Billing": "PAY_PER_REQUEST"},
            after={"Billing": "PROVISIONED"},
        ),
        id="parameter-changes-a-mutable-property",
    ),
]


@pytest.mark.parametrize("case", VALUES_BLOCKED)
def test_values_that_change_through_the_template_block(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, result = gate(monkeypatch, endpoint, case)
    assert_blocked(stack, result, case)


@pytest.mark.parametrize("case", VALUES_PASSED)
def test_refactors_that_keep_the_value_pass(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack, result = gate(monkeypatch, endpoint, case)
    assert_passed(result)


# --- 2. replacement rules the schemas miss ------------------------------------------------------

REPLACEMENT_BLOCKED = [
    pytest.param(
        Case(template({"Table": indexed_table()}), template({"Table": indexed_table("KEYS_ONLY")})),
        id="lsi-added",
    ),
    pytest.param(
        Case(
            template({"Table": indexed_table("KEYS_ONLY")}),
            template({"Table": indexed_table("ALL")}),
        ),
        id="lsi-projection-changed",
    ),
    pytest.param(
        Case(template({"Table": indexed_table("KEYS_ONLY")}), template({"Table": indexed_table()})),
        id="lsi-removed",
    ),
    pytest.param(
        Case(
            template({"Table": indexed_table(gsi_type="S")}),
            template({"Table": indexed_table(gsi_type="N")}),
        ),
        id="type-of-an-attribute-only-an-index-uses",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool()}),
            template({"Pool": user_pool(UsernameConfiguration={"CaseSensitive": False})}),
        ),
        id="user-pool-case-sensitivity",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool(UsernameAttributes=None, AliasAttributes=["email"])}),
            template(
                {
                    "Pool": user_pool(
                        UsernameAttributes=None, AliasAttributes=["email", "preferred_username"]
                    )
                }
            ),
        ),
        id="user-pool-alias-attributes",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool()}),
            template(
                {
                    "Pool": user_pool(
                        Schema=[
                            *user_pool()["Properties"]["Schema"],
                            {"Name": "name", "AttributeDataType": "String", "Required": True},
                        ]
                    )
                }
            ),
        ),
        id="user-pool-new-required-attribute",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool()}),
            template(
                {
                    "Pool": user_pool(
                        Schema=[
                            {
                                "Name": "email",
                                "AttributeDataType": "String",
                                "Required": True,
                                "Mutable": False,
                            }
                        ]
                    )
                }
            ),
        ),
        id="user-pool-attribute-made-immutable",
    ),
    pytest.param(
        Case(template({"Key": key()}), template({"Key": key(Origin="EXTERNAL")})),
        id="kms-key-origin",
    ),
    pytest.param(
        Case(
            template({"Key": key()}),
            template({"Key": key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")}),
        ),
        id="kms-key-usage-and-spec",
    ),
]
REPLACEMENT_SAYS = {
    "lsi-added": "local secondary index ByRank is added: local secondary indexes are fixed",
    "lsi-projection-changed": "local secondary index ByRank Projection changes from",
    "lsi-removed": "local secondary index ByRank is removed",
    "type-of-an-attribute-only-an-index-uses": "attribute created type changes from S to N",
    "user-pool-case-sensitivity": "UsernameConfiguration/CaseSensitive changes from true to false",
    "user-pool-alias-attributes": "AliasAttributes changes from [email] to",
    "user-pool-new-required-attribute": "Schema attribute name is added as required",
    "user-pool-attribute-made-immutable": "Schema attribute email changes",
    "kms-key-origin": "Origin changes from AWS_KMS to EXTERNAL",
    "kms-key-usage-and-spec": "KeyUsage changes from ENCRYPT_DECRYPT to SIGN_VERIFY",
}

REPLACEMENT_PASSED = [
    pytest.param(
        Case(
            template({"Table": indexed_table("KEYS_ONLY")}),
            template({"Table": indexed_table("KEYS_ONLY", Tags=[{"Key": "team", "Value": "a"}])}),
        ),
        id="lsi-unchanged-tags-added",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool(UsernameAttributes=["email", "phone_number"])}),
            template({"Pool": user_pool(UsernameAttributes=["phone_number", "email"])}),
        ),
        id="user-pool-username-attributes-reordered",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool()}),
            template({"Pool": user_pool(UsernameConfiguration={"CaseSensitive": True})}),
        ),
        id="user-pool-default-case-sensitivity-spelled-out",
    ),
    pytest.param(
        Case(
            template({"Pool": user_pool()}),
            template(
                {
                    "Pool": user_pool(
                        UserPoolName={"Fn::Sub": "${AWS::StackName}-people"},
                        Schema=[
                            *user_pool()["Properties"]["Schema"],
                            {"Name": "plan", "AttributeDataType": "String", "Mutable": True},
                        ],
                    )
                }
            ),
        ),
        id="user-pool-renamed-and-optional-attribute-added",
    ),
    pytest.param(
        Case(
            template({"Key": key()}),
            template(
                {
                    "Key": key(
                        KeySpec="SYMMETRIC_DEFAULT",
                        KeyUsage="ENCRYPT_DECRYPT",
                        Origin="AWS_KMS",
                        Description="the data key",
                    )
                }
            ),
        ),
        id="kms-key-defaults-spelled-out",
    ),
]


@pytest.mark.parametrize("case", REPLACEMENT_BLOCKED)
def test_replacements_the_schemas_miss_block(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    stack, result = gate(monkeypatch, endpoint, case)
    says = REPLACEMENT_SAYS[request.node.callspec.id]
    assert_blocked(stack, result, Case({}, {}, says=(says,)))


@pytest.mark.parametrize("case", REPLACEMENT_PASSED)
def test_changes_that_keep_the_resource_pass(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack, result = gate(monkeypatch, endpoint, case)
    assert_passed(result)


# --- 3. queues: messages are data too -----------------------------------------------------------

WORK_AND_DLQ = {"Work": queue("work", RedrivePolicy=redrive_to("Dlq")), "Dlq": queue("dlq")}
EVENTS_TARGET = {
    "Type": "AWS::Events::Rule",
    "Properties": {
        "EventPattern": {"source": ["app.orders"]},
        "Targets": [
            {
                "Id": "work",
                "Arn": {"Fn::GetAtt": ["Work", "Arn"]},
                "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Failed", "Arn"]}},
            }
        ],
    },
}
SUBSCRIPTION = {
    "Type": "AWS::SNS::Subscription",
    "Properties": {
        "TopicArn": {"Ref": "Topic"},
        "Protocol": "sqs",
        "Endpoint": {"Fn::GetAtt": ["Work", "Arn"]},
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Failed", "Arn"]}},
    },
}

QUEUES_BLOCKED = [
    pytest.param(
        Case(
            template({"Work": queue("work")}),
            template({"Work": queue("work-v2")}),
            setup=messages(2, "Work"),
            says=(
                "{stack}: Work (AWS::SQS::Queue): replaced (QueueName changes from",
                "it holds 2 messages; they would be lost",
            ),
        ),
        id="replaced-while-holding-messages",
    ),
    pytest.param(
        Case(
            template({"Work": queue("work"), "Topic": TOPIC}),
            template({"Topic": TOPIC}),
            setup=messages(1, "Work"),
            says=("Work (AWS::SQS::Queue): removed (or renamed): it holds 1 message",),
        ),
        id="removed-while-holding-messages",
    ),
    pytest.param(
        Case(
            template({"Work": queue("work"), "Topic": TOPIC}),
            template({"Work": queue("work", FifoQueue=True), "Topic": TOPIC}),
            setup=messages(1, "Work"),
            says=("replaced (FifoQueue changes from false to true)",),
        ),
        id="made-fifo-while-holding-messages",
    ),
    pytest.param(
        Case(
            template(WORK_AND_DLQ),
            template({**WORK_AND_DLQ, "Dlq": queue("dlq-v2")}),
            says=(
                "Dlq (AWS::SQS::Queue): replaced (QueueName changes",
                "it is a dead-letter queue (for Work RedrivePolicy",
            ),
        ),
        id="empty-dead-letter-queue-of-a-queue-replaced",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Work": queue("work"),
                    "Failed": queue("failed"),
                    "Topic": TOPIC,
                    "Subscription": SUBSCRIPTION,
                }
            ),
            template(
                {
                    "Work": queue("work"),
                    "Topic": TOPIC,
                    "Subscription": {
                        **SUBSCRIPTION,
                        "Properties": {
                            k: v
                            for k, v in SUBSCRIPTION["Properties"].items()
                            if k != "RedrivePolicy"
                        },
                    },
                }
            ),
            says=(
                "Failed (AWS::SQS::Queue): removed (or renamed): "
                "it is a dead-letter queue (for Subscription RedrivePolicy)",
            ),
        ),
        id="dead-letter-queue-of-a-subscription-removed",
    ),
    pytest.param(
        Case(
            template({"Work": queue("work"), "Failed": queue("failed"), "Rule": EVENTS_TARGET}),
            template({"Work": queue("work"), "Failed": queue("failed-v2"), "Rule": EVENTS_TARGET}),
            says=(
                "Failed (AWS::SQS::Queue): replaced",
                "dead-letter queue (for Rule DeadLetterConfig)",
            ),
        ),
        id="dead-letter-queue-of-an-eventbridge-target-replaced",
    ),
    pytest.param(
        Case(
            template({"Dlq": queue("dlq")}),
            template({"Dlq": queue("dlq-v2")}),
            setup=redriven_from_outside("Dlq"),
            says=("it is a dead-letter queue (for queue gate-class-",),
        ),
        id="dead-letter-queue-of-a-queue-in-another-stack-replaced",
    ),
]

QUEUES_PASSED = [
    pytest.param(
        Case(template({"Work": queue("work")}), template({"Work": queue("work-v2")})),
        id="empty-queue-replaced",
    ),
    pytest.param(
        Case(template({"Work": queue("work"), "Topic": TOPIC}), template({"Topic": TOPIC})),
        id="empty-queue-removed",
    ),
    pytest.param(
        Case(
            template({"Work": queue("work")}),
            template({"Work": queue("work", VisibilityTimeout=120)}),
            setup=messages(3, "Work"),
        ),
        id="queue-holding-messages-modified-in-place",
    ),
    pytest.param(
        Case(
            template(WORK_AND_DLQ),
            template({**WORK_AND_DLQ, "Dlq": queue("dlq", MessageRetentionPeriod=1209600)}),
        ),
        id="dead-letter-queue-modified-in-place",
    ),
]


@pytest.mark.parametrize("case", QUEUES_BLOCKED)
def test_queues_that_hold_messages_or_failures_block(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, result = gate(monkeypatch, endpoint, case)
    assert_blocked(stack, result, case)


@pytest.mark.parametrize("case", QUEUES_PASSED)
def test_queues_with_nothing_to_lose_pass(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack, result = gate(monkeypatch, endpoint, case)
    assert_passed(result)


# --- 4. protections switched off, and --allow ---------------------------------------------------

PROTECTED_TABLE = table(DeletionProtectionEnabled=True)
PROTECTED_POOL = user_pool(DeletionProtection="ACTIVE")
PROTECT = {"Protect": {"Type": "String", "AllowedValues": ["true", "false"]}}

PROTECTIONS_BLOCKED = [
    pytest.param(
        Case(
            template({"Table": PROTECTED_TABLE}),
            template({"Table": table(DeletionProtectionEnabled=False)}),
            says=(
                "{stack}: Table (AWS::DynamoDB::Table): DeletionProtectionEnabled true -> false: "
                "deletion protection switched off",
            ),
        ),
        id="table-deletion-protection-off",
    ),
    pytest.param(
        Case(
            template({"Table": PROTECTED_TABLE}),
            template({"Table": table()}),
            says=("DeletionProtectionEnabled true -> (unset: off)",),
        ),
        id="table-deletion-protection-dropped",
    ),
    pytest.param(
        Case(
            template({"Table": table(DeletionProtectionEnabled={"Ref": "Protect"})}, PROTECT),
            template({"Table": table(DeletionProtectionEnabled={"Ref": "Protect"})}, PROTECT),
            before={"Protect": "true"},
            after={"Protect": "false"},
            says=("DeletionProtectionEnabled true -> false",),
        ),
        id="table-deletion-protection-off-through-a-parameter",
    ),
    pytest.param(
        Case(
            template({"Pool": PROTECTED_POOL}),
            template({"Pool": user_pool(DeletionProtection="INACTIVE")}),
            says=("Pool (AWS::Cognito::UserPool): DeletionProtection ACTIVE -> INACTIVE",),
        ),
        id="user-pool-deletion-protection-off",
    ),
    pytest.param(
        Case(
            template({"Table": table()}),
            template({"Table": {**table(), "DeletionPolicy": "Delete"}}),
            says=("DeletionPolicy Retain -> Delete: would no longer be retained",),
        ),
        id="table-deletion-policy-leaves-retain",
    ),
    pytest.param(
        Case(
            template({"Media": kept("AWS::S3::Bucket", {})}),
            template({"Media": kept("AWS::S3::Bucket", {}, UpdateReplacePolicy="Delete")}),
            says=(
                "UpdateReplacePolicy Retain -> Delete: would no longer be retained when replaced",
            ),
        ),
        id="bucket-update-replace-policy-leaves-retain",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Logs": {
                        "Type": "AWS::Logs::LogGroup",
                        "DeletionPolicy": "Retain",
                        "Properties": {},
                    }
                }
            ),
            template({"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}}}),
            says=("Logs (AWS::Logs::LogGroup): DeletionPolicy Retain -> (unset: Delete)",),
        ),
        id="any-resource-leaving-retain",
    ),
]

PROTECTIONS_PASSED = [
    pytest.param(
        Case(template({"Table": table()}), template({"Table": PROTECTED_TABLE})),
        id="table-deletion-protection-on",
    ),
    pytest.param(
        Case(
            template({"Table": PROTECTED_TABLE}),
            template({"Table": table(DeletionProtectionEnabled={"Ref": "Protect"})}, PROTECT),
            after={"Protect": "true"},
        ),
        id="table-deletion-protection-moves-to-a-parameter",
    ),
    pytest.param(
        Case(
            template({"Table": {**table(), "DeletionPolicy": "Delete"}}),
            template({"Table": table()}),
        ),
        id="deletion-policy-becomes-retain",
    ),
    pytest.param(
        Case(
            template({"Media": kept("AWS::S3::Bucket", {})}),
            template({"Media": kept("AWS::S3::Bucket", {}, DeletionPolicy="RetainExceptOnCreate")}),
        ),
        id="retain-except-on-create-still-retains",
    ),
]


@pytest.mark.parametrize("case", PROTECTIONS_BLOCKED)
def test_protections_switched_off_block(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, result = gate(monkeypatch, endpoint, case)
    assert_blocked(stack, result, case)


@pytest.mark.parametrize("case", PROTECTIONS_PASSED)
def test_protections_switched_on_or_kept_pass(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack, result = gate(monkeypatch, endpoint, case)
    assert_passed(result)


OFF = Case(
    template({"Table": PROTECTED_TABLE}),
    template({"Table": table(DeletionProtectionEnabled=False)}),
)


def test_an_allowance_lets_one_protection_off_and_says_so(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, change_set = prepare(endpoint, OFF)
    line = (
        f"{stack}: Table (AWS::DynamoDB::Table): DeletionProtectionEnabled true -> false: "
        "deletion protection switched off"
    )

    result = run_gate(
        monkeypatch,
        endpoint,
        "--stack",
        stack,
        "--change-set",
        change_set,
        "--allow",
        f"{stack}:Table:deletion-protection",
    )

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"allowed by --allow {stack}:Table:deletion-protection: {line}\n"
        "gate: passed (1 finding allowed by --allow)\n"
    )


def test_the_pipeline_gives_allowances_through_the_environment(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, change_set = prepare(endpoint, OFF)
    other = "photos-prod-backend:Queue:queue"  # for another gate action of the same run

    result = run_gate(
        monkeypatch,
        endpoint,
        "--stack",
        stack,
        "--change-set",
        change_set,
        env={"INFRA_GATE_ALLOW": f"{stack}:Table:deletion-protection {other}"},
    )

    assert result.exit_code == 0, result.output + result.stderr
    assert (
        result.stdout.splitlines()[0]
        == f"gate: --allow {other} is for another stack; not used here"
    )
    assert result.stdout.splitlines()[-1] == "gate: passed (1 finding allowed by --allow)"


@pytest.mark.parametrize(
    ("allowance", "code", "message"),
    [
        pytest.param(
            "{stack}:Table:retention",
            1,
            "{stack}: --allow {stack}:Table:retention matches nothing the gate found; "
            "remove it (an allowance must name a blocked finding)\n",
            id="allowance-of-another-kind-matches-nothing",
        ),
        pytest.param(
            "{stack}:Tabel:deletion-protection",
            1,
            "{stack}: --allow {stack}:Tabel:deletion-protection matches nothing the gate found; "
            "remove it (an allowance must name a blocked finding)\n",
            id="typo-in-the-logical-id",
        ),
        pytest.param(
            "{stack}:Table:replace",
            2,
            "--allow {stack}:Table:replace: unknown kind 'replace'; "
            "one of retention, deletion-protection, queue\n",
            id="replacing-data-is-never-allowable",
        ),
        pytest.param(
            "{stack}-Table",
            2,
            "--allow {stack}-Table: expected STACK:LOGICAL_ID:KIND "
            "(KIND one of retention, deletion-protection, queue)\n",
            id="malformed",
        ),
    ],
)
def test_an_allowance_that_matches_nothing_is_an_error(
    allowance: str, code: int, message: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, change_set = prepare(endpoint, OFF)

    result = run_gate(
        monkeypatch,
        endpoint,
        "--stack",
        stack,
        "--change-set",
        change_set,
        "--allow",
        allowance.format(stack=stack),
    )

    assert (result.exit_code, result.stdout) == (code, "")
    assert result.stderr == message.format(stack=stack)


def test_an_allowance_for_a_queue_lets_its_messages_go(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case(
        template({"Work": queue("work")}),
        template({"Work": queue("work-v2")}),
        setup=messages(1, "Work"),
    )
    stack, change_set = prepare(endpoint, case)

    result = run_gate(
        monkeypatch,
        endpoint,
        "--stack",
        stack,
        "--change-set",
        change_set,
        "--allow",
        f"{stack}:Work:queue",
    )

    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.startswith(f"allowed by --allow {stack}:Work:queue: {stack}: Work ")


# --- 5. IAM: every source, resolved values, coverage --------------------------------------------

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
BUCKET = kept("AWS::S3::Bucket", {})
BUCKET_ARN = {"Fn::GetAtt": ["Bucket", "Arn"]}


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: Any, resources: Any, **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def role(*statements: dict) -> dict:
    policies = (
        [{"PolicyName": "inline", "PolicyDocument": document(*statements)}] if statements else []
    )
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": TRUST, "Policies": policies},
    }


def role_policy(*statements: dict) -> dict:
    return {
        "Type": "AWS::IAM::RolePolicy",
        "Properties": {
            "RoleName": {"Ref": "Role"},
            "PolicyName": "extra",
            "PolicyDocument": document(*statements),
        },
    }


def identity_policy(resource_type: str, *statements: dict) -> dict:
    properties: dict[str, Any] = {
        "PolicyDocument": document(*statements),
        "Roles": [{"Ref": "Role"}],
    }
    if resource_type == "AWS::IAM::Policy":
        properties["PolicyName"] = "attached"
    return {"Type": resource_type, "Properties": properties}


def bucket_policy(*statements: dict) -> dict:
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": document(*statements)},
    }


def queue_policy(*statements: dict) -> dict:
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"Queues": [{"Ref": "Jobs"}], "PolicyDocument": document(*statements)},
    }


def objects(prefix: str = "") -> dict:
    return {"Fn::Sub": "${Bucket.Arn}/" + prefix + "*"}


SEND_FROM = {"Type": "String", "Default": "sns.amazonaws.com"}
READER = {"Reader": {"Type": "String"}}
DENY_HTTP = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET_ARN, objects()],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def account_reads(principal: Any, resource: Any = None) -> dict:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "s3:GetObject",
        "Resource": resource or objects(),
    }


def key_policy(*statements: dict) -> dict:
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": document(*statements)}}


def table_with_policy(*statements: dict) -> dict:
    return table(ResourcePolicy={"PolicyDocument": document(*statements)})


TABLE_ITEMS = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/items"
ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
ADMIN = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
TABLE_READ = {
    "Effect": "Allow",
    "Principal": {"AWS": {"Ref": "Reader"}},
    "Action": "dynamodb:GetItem",
    "Resource": "*",
}
JOBS = {"Jobs": queue("jobs")}
SEND = {
    "Effect": "Allow",
    "Principal": {"Service": {"Ref": "Sender"}},
    "Action": "sqs:SendMessage",
    "Resource": {"Fn::GetAtt": ["Jobs", "Arn"]},
}

IAM_BROADENED = [
    pytest.param(
        Case(
            template(
                {
                    "Role": role(),
                    "Extra": role_policy(allow("s3:GetObject", objects())),
                    "Bucket": BUCKET,
                }
            ),
            template(
                {
                    "Role": role(),
                    "Extra": role_policy(allow(["s3:GetObject", "s3:PutObject"], objects())),
                    "Bucket": BUCKET,
                }
            ),
            says=("iam: {stack}: Extra: allows s3:PutObject on ${Bucket.Arn}/*",),
        ),
        id="role-policy-adds-an-action",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Role": role(),
                    "Attached": identity_policy(
                        "AWS::IAM::Policy", allow("s3:GetObject", objects("public/"))
                    ),
                    "Bucket": BUCKET,
                }
            ),
            template(
                {
                    "Role": role(),
                    "Attached": identity_policy(
                        "AWS::IAM::Policy", allow("s3:GetObject", objects())
                    ),
                    "Bucket": BUCKET,
                }
            ),
            says=("iam: {stack}: Attached: allows s3:GetObject on ${Bucket.Arn}/*",),
        ),
        id="policy-widens-a-resource",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Role": role(),
                    "Managed": identity_policy(
                        "AWS::IAM::ManagedPolicy", allow("s3:Get*", objects())
                    ),
                    "Bucket": BUCKET,
                }
            ),
            template(
                {
                    "Role": role(),
                    "Managed": identity_policy("AWS::IAM::ManagedPolicy", allow("s3:*", objects())),
                    "Bucket": BUCKET,
                }
            ),
            says=("iam: {stack}: Managed: allows s3:* on ${Bucket.Arn}/*",),
        ),
        id="managed-policy-widens-an-action",
    ),
    pytest.param(
        Case(
            template({"Table": table_with_policy(TABLE_READ)}, READER),
            template({"Table": table_with_policy(TABLE_READ)}, READER),
            before={"Reader": "arn:aws:iam::111111111111:role/reader"},
            after={"Reader": "*"},
            says=(
                "iam: {stack}: Table: allows AWS:* dynamodb:GetItem on *",
                "iam: {stack}: Table: new principal AWS:*",
            ),
        ),
        id="table-resource-policy-principal-from-a-parameter-opens-up",
    ),
    pytest.param(
        Case(
            template({**JOBS, "Policy": queue_policy(SEND)}, {"Sender": SEND_FROM}),
            template({**JOBS, "Policy": queue_policy(SEND)}, {"Sender": SEND_FROM}),
            after={"Sender": "s3.amazonaws.com"},
            says=(
                "iam: {stack}: Policy: allows Service:s3.amazonaws.com sqs:SendMessage on Jobs.Arn",
            ),
        ),
        id="queue-policy-principal-from-a-parameter-changes",
    ),
    pytest.param(
        Case(
            template({"Bucket": BUCKET, "Policy": bucket_policy(DENY_HTTP)}),
            template(
                {
                    "Bucket": BUCKET,
                    "Policy": bucket_policy(
                        allow("s3:GetObject", objects(), Principal={"AWS": ROOT})
                    ),
                }
            ),
            says=(
                "iam: {stack}: Policy: no longer denies * s3:* on Bucket.Arn "
                "when {Bool: {aws:SecureTransport: false}}",
            ),
        ),
        id="bucket-policy-deny-removed",
    ),
    pytest.param(
        Case(
            template({"Bucket": BUCKET, "Policy": bucket_policy(DENY_HTTP)}),
            template(
                {"Bucket": BUCKET, "Policy": bucket_policy({**DENY_HTTP, "Action": "s3:PutObject"})}
            ),
            says=(
                "iam: {stack}: Policy: no longer denies * s3:* on ${Bucket.Arn}/* "
                "when {Bool: {aws:SecureTransport: false}}",
            ),
        ),
        id="bucket-policy-deny-narrowed",
    ),
    pytest.param(
        Case(
            template({"Key": key_policy(ADMIN)}),
            template(
                {
                    "Key": key_policy(
                        ADMIN,
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                            "Action": "kms:Decrypt",
                            "Resource": "*",
                        },
                    )
                }
            ),
            says=("iam: {stack}: Key: allows AWS:arn:aws:iam::222222222222:root kms:Decrypt on *",),
        ),
        id="key-policy-adds-an-account",
    ),
]

IAM_NARROWED = [
    pytest.param(
        Case(
            template({"Role": role(allow("s3:*", [BUCKET_ARN, objects()])), "Bucket": BUCKET}),
            template({"Role": role(allow("s3:GetObject", objects("uploads/"))), "Bucket": BUCKET}),
        ),
        id="s3-star-on-a-bucket-becomes-get-object-on-a-prefix",
    ),
    pytest.param(
        Case(
            template({"Role": role(), "Extra": role_policy(allow("dynamodb:*", "*"))}),
            template(
                {
                    "Role": role(),
                    "Extra": role_policy(
                        allow(
                            ["dynamodb:GetItem", "DynamoDB:Query"],
                            {"Fn::Sub": TABLE_ITEMS},
                        )
                    ),
                }
            ),
        ),
        id="wildcards-become-named-actions-on-one-table",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Bucket": BUCKET,
                    "Policy": bucket_policy(account_reads("arn:aws:iam::111111111111:root")),
                }
            ),
            template(
                {"Bucket": BUCKET, "Policy": bucket_policy(account_reads({"Ref": "Reader"}))},
                READER,
            ),
            after={"Reader": "111111111111"},
        ),
        id="principal-moves-to-a-parameter-with-the-same-account",
    ),
    pytest.param(
        Case(
            template(
                {"Bucket": BUCKET, "Policy": bucket_policy({**DENY_HTTP, "Action": "s3:PutObject"})}
            ),
            template({"Bucket": BUCKET, "Policy": bucket_policy(DENY_HTTP)}),
        ),
        id="deny-widened",
    ),
    pytest.param(
        Case(
            template(
                {
                    "Key": key_policy(
                        ADMIN,
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": ROOT},
                            "Action": ["kms:Decrypt", "kms:Encrypt"],
                            "Resource": "*",
                        },
                    )
                }
            ),
            template({"Key": key_policy(ADMIN)}),
        ),
        id="key-policy-statement-already-covered-removed",
    ),
]


@pytest.mark.parametrize("case", IAM_BROADENED)
def test_broader_permissions_are_reported_and_refused_when_asked(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, result = gate(
        monkeypatch, endpoint, Case(**{**case.__dict__, "args": ("--fail-on-iam",)})
    )

    assert result.exit_code == 1, result.output + result.stderr
    assert "IAM broadening" in result.stderr and result.stderr.startswith(
        "gate: blocked (0 reasons"
    )
    for fragment in case.says:
        wanted = fragment.replace("{stack}", stack)
        assert wanted in result.stdout.splitlines(), f"{wanted!r} not in:\n{result.stdout}"


@pytest.mark.parametrize("case", IAM_NARROWED)
def test_narrower_permissions_are_not_broadening(
    case: Case, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stack, result = gate(
        monkeypatch, endpoint, Case(**{**case.__dict__, "args": ("--fail-on-iam",)})
    )

    assert_passed(result)


# --- the deploy command's way: deploy_stack with the gate as its judge ---------------------------


def no_sleep(_seconds: float) -> None:
    return None


def test_deploy_refuses_a_protection_off_unless_allowed_and_says_what_it_allowed(
    endpoint: str, tmp_path: Path
) -> None:
    cfn, sqs = client(endpoint, "cloudformation"), client(endpoint, "sqs")
    path = tmp_path / "data.json"
    target = StackTarget("gate", f"d{next(NUMBERS)}", "data", REGION, path)
    stack = target.stack_name
    path.write_text(json.dumps(OFF.deployed))
    deploy_stack(cfn, target, print, judge=change_set_judge(cfn, sqs=sqs), sleep=no_sleep)
    unprotected = StackTarget("gate", target.scope, "data", REGION, tmp_path / "next.json")
    unprotected.template_path.write_text(json.dumps(OFF.proposed))
    said: list[str] = []

    with pytest.raises(GateRefused):
        deploy_stack(
            cfn, unprotected, said.append, judge=change_set_judge(cfn, sqs=sqs), sleep=no_sleep
        )
    allowances = Allowances.parse([f"{stack}:Table:deletion-protection"])
    judge = change_set_judge(cfn, sqs=sqs, allowances=allowances)
    deployed = deploy_stack(cfn, unprotected, said.append, judge=judge, sleep=no_sleep)

    assert deployed.result == "updated"
    assert f"{stack}: Table (AWS::DynamoDB::Table): DeletionProtectionEnabled true -> false: " in (
        "\n".join(said)
    )
    assert [line for line in said if line.startswith("allowed by")] == [
        f"allowed by --allow {stack}:Table:deletion-protection: {stack}: Table "
        "(AWS::DynamoDB::Table): DeletionProtectionEnabled true -> false: "
        "deletion protection switched off"
    ]
    allowances.require_all_checked()


# --- diff and deploy take the same allowances, as strictly ----------------------------------------

MOTO_ACCOUNT = 'accounts.main.account_id="123456789012"'


def run_command(monkeypatch: pytest.MonkeyPatch, endpoint: str, name: str, *args: str) -> Result:
    monkeypatch.chdir(REPO)
    return CliRunner().invoke(
        cli_module.cli, [name, *args, "--set", MOTO_ACCOUNT, "--endpoint-url", endpoint]
    )


@pytest.mark.parametrize("command", ["diff", "deploy"])
def test_an_allowance_for_a_stack_outside_the_run_is_refused_before_anything_changes(
    command: str, endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = run_command(
        monkeypatch,
        endpoint,
        command,
        "--env",
        "dev",
        "data",
        "--out",
        str(tmp_path),
        "--allow",
        "photos-dev-backend:ThumbnailQueue:queue",
    )

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "--allow photos-dev-backend:ThumbnailQueue:queue: photos-dev-backend is not a stack "
        "this command works on (photos-dev-data)\n"
    )


def test_diff_refuses_an_allowance_that_matches_nothing_and_leaves_nothing_behind(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client(endpoint, "ssm").put_parameter(
        Name="/photos/main/base/AccessLogsBucketName", Value="logs", Type="String", Overwrite=True
    )

    result = run_command(
        monkeypatch,
        endpoint,
        "diff",
        "--env",
        "dev",
        "data",
        "--out",
        str(tmp_path),
        "--allow",
        "photos-dev-data:ImagesTable:retention",
    )

    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[-1] == (
        "photos-dev-data: --allow photos-dev-data:ImagesTable:retention matches nothing the "
        "gate found; remove it (an allowance must name a blocked finding)"
    )
    stacks = client(endpoint, "cloudformation").describe_stacks()["Stacks"]
    assert "photos-dev-data" not in {s["StackName"] for s in stacks}


def test_an_account_principal_is_the_same_however_it_is_written() -> None:
    """`111111111111` and its root ARN name one principal; look-alike digits name none."""
    [plain] = principals({"AWS": "111111111111"})
    [root] = principals({"AWS": "arn:aws:iam::111111111111:root"})
    [lookalike] = principals({"AWS": "\u0661" * 12})  # Arabic-Indic ones
    assert plain.key == root.key
    assert "account:" in plain.key
    assert "account:" not in lookalike.key
