"""The gate's resolver (`infra.gate.resolve`) and the template comparisons that use it.

Values are resolved as CloudFormation resolves them, from the parameters AWS reports; what
only exists after deploy stays opaque (and compares by where it comes from); what the gate
cannot know is `Unresolved`, and every comparison of it fails closed with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.gate.replacement import EXTRA_REPLACEMENT_RULES, SCHEMA_SOURCE
from infra.gate.resolve import (
    Opaque,
    Resolver,
    StackFacts,
    Text,
    Unresolved,
    resolve_template,
)
from infra.gate.stateful import QueueState, queues_at_risk, stateful_findings

STACK = "app-data"
REGION = "eu-west-1"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/guid"
TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "dev"},
        "Name": {"Type": "String"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
        "Secret": {"Type": "String", "NoEcho": True, "Default": "s3cr3t"},
        "Published": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/x"},
    },
    "Mappings": {"Sizes": {"dev": {"Memory": "256"}, "prod": {"Memory": "1024"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Nowhere"}]},
        "Loop": {"Condition": "Loop"},
    },
    "Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}},
}
GIVEN = (
    {"ParameterKey": "Name", "ParameterValue": "items"},
    {"ParameterKey": "Published", "ParameterValue": "/app/x", "ResolvedValue": "from-ssm"},
)


def resolver(parameters: tuple[dict, ...] = GIVEN, **facts: Any) -> Resolver:
    return Resolver(TEMPLATE, StackFacts(STACK, REGION, STACK_ID, parameters, **facts))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param({"Ref": "Name"}, "items", id="given-parameter"),
        pytest.param({"Ref": "Env"}, "dev", id="default-parameter"),
        pytest.param({"Ref": "Zones"}, ["a", "b"], id="list-parameter"),
        pytest.param({"Ref": "Published"}, "from-ssm", id="ssm-parameter-resolved-value"),
        pytest.param({"Ref": "AWS::Region"}, REGION, id="region"),
        pytest.param({"Ref": "AWS::AccountId"}, "123456789012", id="account-from-stack-id"),
        pytest.param({"Ref": "AWS::Partition"}, "aws", id="partition"),
        pytest.param({"Ref": "AWS::URLSuffix"}, "amazonaws.com", id="url-suffix"),
        pytest.param({"Ref": "AWS::StackName"}, STACK, id="stack-name"),
        pytest.param({"Ref": "Table"}, Opaque("Ref:Table", "Table"), id="resource-ref"),
        pytest.param({"Fn::GetAtt": ["Table", "Arn"]}, Opaque("Table.Arn", "Table"), id="get-att"),
        pytest.param(
            {"Fn::GetAtt": "Table.StreamArn"},
            Opaque("Table.StreamArn", "Table"),
            id="get-att-string",
        ),
        pytest.param({"Fn::Sub": "${AWS::StackName}-${Name}"}, f"{STACK}-items", id="sub"),
        pytest.param(
            {"Fn::Sub": "${Table.Arn}/index/*"},
            Text((Opaque("Table.Arn", "Table"), "/index/*")),
            id="sub-with-an-attribute",
        ),
        pytest.param({"Fn::Sub": "${!Literal}-${Env}"}, "${Literal}-dev", id="sub-escape"),
        pytest.param({"Fn::Sub": ["${Pre}-x", {"Pre": {"Ref": "Name"}}]}, "items-x", id="sub-map"),
        pytest.param({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}, "a-dev", id="join"),
        pytest.param({"Fn::Select": ["1", {"Ref": "Zones"}]}, "b", id="select"),
        pytest.param({"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}, "x", id="select-split"),
        pytest.param(
            {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}, "256", id="find-in-map"
        ),
        pytest.param(
            {"Fn::FindInMap": ["Sizes", "test", "Memory", {"DefaultValue": "128"}]},
            "128",
            id="find-in-map-default",
        ),
        pytest.param({"Fn::If": ["IsProd", "big", "small"]}, "small", id="if"),
        pytest.param({"Fn::If": ["Both", "both", "no"]}, "both", id="and-not-condition"),
        pytest.param({"Fn::Base64": "hi"}, "aGk=", id="base64"),
        pytest.param(
            {"Fn::ImportValue": {"Fn::Sub": "${Env}-TableArn"}},
            Opaque('ImportValue("dev-TableArn")', None),
            id="import-is-known-by-its-name",
        ),
        pytest.param({"Fn::Length": [1, 2, 3]}, "3", id="length"),
        pytest.param(
            {"Key": "a", "Gone": {"Ref": "AWS::NoValue"}, "List": [1, {"Ref": "AWS::NoValue"}]},
            {"Key": "a", "List": ["1"]},
            id="no-value-drops-a-key-or-item",
        ),
        pytest.param(True, "true", id="booleans-are-strings"),
    ],
)
def test_values_resolve_as_cloudformation_resolves_them(expression: Any, expected: Any) -> None:
    assert resolver().value(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        pytest.param(
            {"Ref": "Secret"}, "parameter Secret is NoEcho, so AWS hides its value", id="no-echo"
        ),
        pytest.param(
            {"Fn::If": ["Nowhere", "a", "b"]},
            "condition Nowhere is not defined",
            id="unknown-condition",
        ),
        pytest.param(
            {"Fn::If": ["Either", "a", "b"]}, "condition Nowhere is not defined", id="or-of-unknown"
        ),
        pytest.param({"Fn::If": ["Loop", "a", "b"]}, "condition Loop refers to itself", id="cycle"),
        pytest.param(
            {"Fn::Transform": {"Name": "Macro"}},
            "Fn::Transform is not a function the gate can evaluate",
            id="unknown-intrinsic",
        ),
        pytest.param(
            {"Fn::Sub": "a-${AWS::NoValue}"},
            "AWS::NoValue as ${AWS::NoValue} in Fn::Sub",
            id="no-value-inside-a-string",
        ),
        pytest.param(
            {"Fn::FindInMap": ["Sizes", "test", "Memory"]},
            "Fn::FindInMap: mapping Sizes/test/Memory does not exist",
            id="missing-mapping",
        ),
        pytest.param(
            {"Fn::Select": ["5", {"Ref": "Zones"}]},
            "Fn::Select index 5 is past the end of the list",
            id="select-past-the-end",
        ),
        pytest.param(
            {"Fn::Select": ["\u00b2", {"Ref": "Zones"}]},
            "Fn::Select with an unknown index",
            id="select-a-digit-that-is-not-ascii",
        ),
    ],
)
def test_what_cannot_be_known_is_unresolved_with_the_reason(expression: Any, reason: str) -> None:
    assert resolver().value(expression) == Unresolved(reason)


def test_a_parameter_without_a_value_is_unresolved() -> None:
    assert resolver(()).value({"Ref": "Name"}) == Unresolved("parameter Name has no value")


def test_an_ssm_parameter_without_its_resolved_value_is_unresolved() -> None:
    given = ({"ParameterKey": "Published", "ParameterValue": "/app/x"},)

    assert resolver(given).value({"Ref": "Published"}) == Unresolved(
        "parameter Published: AWS did not report the value of SSM parameter /app/x"
    )


def test_use_previous_value_takes_the_stacks_value() -> None:
    given = ({"ParameterKey": "Name", "UsePreviousValue": True},)
    previous = ({"ParameterKey": "Name", "ParameterValue": "kept"},)

    assert resolver(given, previous=previous).value({"Ref": "Name"}) == "kept"


def test_a_new_stack_has_no_account_yet_and_partition_comes_from_the_region() -> None:
    facts = StackFacts(STACK, "cn-north-1")
    found = Resolver(TEMPLATE, facts)

    assert found.value({"Ref": "AWS::Partition"}) == "aws-cn"
    assert found.value({"Ref": "AWS::URLSuffix"}) == "amazonaws.com.cn"
    assert found.value({"Ref": "AWS::AccountId"}) == Unresolved(
        "the stack has no ID yet, so its account is unknown"
    )


def test_equals_over_a_value_known_only_after_deploy_is_unresolved_unless_identical() -> None:
    found = resolver()

    assert found.truth({"Fn::Equals": [{"Ref": "Table"}, {"Ref": "Table"}]}) is True
    assert found.truth({"Fn::Equals": [{"Ref": "Table"}, "x"]}) == Unresolved(
        "Fn::Equals compares a value only known after deploy"
    )


# --- the comparisons, with values from AWS -------------------------------------------------------

TABLE = f"{STACK}: Table (AWS::DynamoDB::Table): "


def facts(**values: str) -> StackFacts:
    given = tuple({"ParameterKey": k, "ParameterValue": v} for k, v in values.items())
    return StackFacts(STACK, REGION, STACK_ID, given)


def table(**properties: Any) -> dict:
    base = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    }
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {**base, **properties},
    }


def with_parameters(resources: dict, conditions: dict | None = None) -> dict:
    body: dict[str, Any] = {
        "Parameters": {"Name": {"Type": "String"}, "Keep": {"Type": "String"}},
        "Resources": resources,
    }
    if conditions:
        body["Conditions"] = conditions
    return body


def lines(deployed: dict, before: StackFacts, proposed: dict, after: StackFacts) -> list[str]:
    old, new = resolve_template(deployed, before), resolve_template(proposed, after)
    return [finding.line for finding in stateful_findings(STACK, old, new, REGION)]


def test_a_name_from_a_parameter_compares_by_its_value() -> None:
    body = with_parameters({"Table": table(TableName={"Ref": "Name"})})

    changed = lines(body, facts(Name="a", Keep="x"), body, facts(Name="b", Keep="x"))
    same = lines(body, facts(Name="a", Keep="x"), body, facts(Name="a", Keep="y"))

    assert changed == [
        TABLE + "TableName changes from a to b: create-only in the resource schema, "
        "CloudFormation would replace it"
    ]
    assert same == []


def test_a_condition_that_cannot_be_evaluated_fails_closed() -> None:
    deployed = with_parameters({"Table": table()})
    proposed = with_parameters({"Table": {**table(), "Condition": "Later"}})

    found = lines(deployed, facts(), proposed, facts())

    assert found == [
        TABLE + "Condition Later cannot be resolved (condition Later is not defined): "
        "the gate cannot tell whether it is kept"
    ]


def test_a_compared_value_that_cannot_be_resolved_fails_closed() -> None:
    deployed = with_parameters({"Table": table(TableName="a")})
    proposed = with_parameters({"Table": table(TableName={"Fn::Transform": {"Name": "Names"}})})

    assert lines(deployed, facts(), proposed, facts()) == [
        TABLE + "TableName cannot be resolved (Fn::Transform is not a function the gate can "
        "evaluate): the gate cannot rule out a replacement"
    ]


def test_a_resource_whose_condition_was_false_was_never_deployed() -> None:
    conditions = {"On": {"Fn::Equals": [{"Ref": "Keep"}, "yes"]}}
    body = with_parameters({"Table": {**table(), "Condition": "On"}}, conditions)

    assert lines(body, facts(Keep="no"), with_parameters({}), facts()) == []
    assert lines(body, facts(Keep="yes"), with_parameters({}), facts()) == [
        TABLE + "removed (or renamed): CloudFormation would orphan it "
        "(kept by its DeletionPolicy, no longer managed)"
    ]


# --- queues read from the templates: dead-letter queues of every kind -----------------------------


def queue(**properties: Any) -> dict:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


DLQ_ARN = {"Fn::GetAtt": ["Failed", "Arn"]}
USERS = {
    "lambda-dead-letter-config": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"DeadLetterConfig": {"TargetArn": DLQ_ARN}},
    },
    "event-invoke-config-on-failure": {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {"DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}}},
    },
    "event-source-mapping-on-failure": {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {"DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}}},
    },
    "redrive-policy-as-a-json-string": {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "RedrivePolicy": {
                "Fn::Sub": '{"deadLetterTargetArn": "${Failed.Arn}", "maxReceiveCount": 3}'
            }
        },
    },
    "scheduler-target": {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {"Target": {"DeadLetterConfig": {"Arn": DLQ_ARN}}},
    },
}


@pytest.mark.parametrize("user", list(USERS))
def test_every_kind_of_dead_letter_use_blocks_replacing_the_queue(user: str) -> None:
    deployed = {"Resources": {"Failed": queue(QueueName="failed"), "User": USERS[user]}}
    proposed = {"Resources": {"Failed": queue(QueueName="failed-v2"), "User": USERS[user]}}

    found = stateful_findings(
        STACK, deployed, proposed, REGION, queues={"Failed": QueueState(messages=0)}
    )

    assert [(f.logical_id, f.kind) for f in found] == [("Failed", "queue")]
    assert "it is a dead-letter queue (for User " in found[0].line


def test_a_queue_that_allows_redrive_into_it_is_a_dead_letter_queue() -> None:
    allow = {"redrivePermission": "allowAll"}
    deployed = {"Resources": {"Failed": queue(RedriveAllowPolicy=allow)}}

    found = stateful_findings(
        STACK, deployed, {"Resources": {}}, REGION, queues={"Failed": QueueState(messages=0)}
    )

    assert [f.line for f in found] == [
        f"{STACK}: Failed (AWS::SQS::Queue): removed (or renamed): it is a dead-letter queue "
        "(for its RedriveAllowPolicy); they would be lost"
    ]


def test_a_queue_sqs_was_not_asked_about_fails_closed() -> None:
    deployed = {"Resources": {"Work": queue()}}

    found = stateful_findings(STACK, deployed, {"Resources": {}}, REGION)

    assert [f.line for f in found] == [
        f"{STACK}: Work (AWS::SQS::Queue): removed (or renamed): cannot tell whether it holds "
        "messages (SQS was not asked); they would be lost"
    ]


def test_cloudformations_verdict_puts_a_queue_at_risk() -> None:
    body = {"Resources": {"Work": queue(QueueName="work")}}
    change = {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "Work",
            "ResourceType": "AWS::SQS::Queue",
            "Replacement": "True",
        },
    }

    assert queues_at_risk(STACK, body, body, REGION, [change]) == {
        "Work": "CloudFormation would replace it (change set)"
    }


# --- protections on other types, and global tables ------------------------------------------------


def global_table(protected: Any, **properties: Any) -> dict:
    replicas = [{"Region": REGION, "DeletionProtectionEnabled": protected}]
    return {**table(Replicas=replicas, **properties), "Type": "AWS::DynamoDB::GlobalTable"}


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            {"Db": {"Type": "AWS::RDS::DBCluster", "Properties": {"DeletionProtection": True}}},
            {"Db": {"Type": "AWS::RDS::DBCluster", "Properties": {"DeletionProtection": False}}},
            [
                f"{STACK}: Db (AWS::RDS::DBCluster): DeletionProtection true -> false: "
                "deletion protection switched off"
            ],
            id="database-cluster",
        ),
        pytest.param(
            {"Global": global_table(True)},
            {"Global": global_table(False)},
            [
                f"{STACK}: Global (AWS::DynamoDB::GlobalTable): replica {REGION} "
                "DeletionProtectionEnabled true -> false: deletion protection switched off"
            ],
            id="global-table-replica",
        ),
        pytest.param(
            {"Global": global_table(True)},
            {
                "Global": global_table(
                    True,
                    LocalSecondaryIndexes=[
                        {"IndexName": "ByRank", "KeySchema": [], "Projection": {}}
                    ],
                )
            },
            [
                f"{STACK}: Global (AWS::DynamoDB::GlobalTable): local secondary index ByRank "
                "is added: local secondary indexes are fixed at creation, "
                "CloudFormation would replace it"
            ],
            id="global-table-local-index",
        ),
    ],
)
def test_other_types_are_guarded_too(before: dict, after: dict, expected: list[str]) -> None:
    found = stateful_findings(STACK, {"Resources": before}, {"Resources": after}, REGION)

    assert [f.line for f in found] == expected


def test_every_extra_replacement_rule_names_its_source() -> None:
    for resource_type, rules in EXTRA_REPLACEMENT_RULES.items():
        for rule in rules:
            if resource_type != "AWS::S3::Bucket":  # BucketName: the schema itself says it
                assert rule.source and rule.source != SCHEMA_SOURCE, (resource_type, rule.name)
