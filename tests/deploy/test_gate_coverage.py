"""IAM coverage (`infra.gate.coverage`, `infra.gate.iam`) and allowances, without AWS.

A grant is broadening only when no grant the holder had before covers it: action wildcards
(case-insensitive) and ARN patterns are compared by what they match, not by their text.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.errors import InfraError, UsageError
from infra.gate.allowances import Allowances
from infra.gate.coverage import covers
from infra.gate.iam import iam_findings
from infra.gate.resolve import Opaque, Text
from infra.gate.stateful import Finding

STACK = "app-data"
BUCKET_ARN = Opaque("Bucket.Arn", "Bucket")
OTHER_ARN = Opaque("Other.Arn", "Other")


@pytest.mark.parametrize(
    ("pattern", "value", "fold", "expected"),
    [
        pytest.param("s3:*", "s3:GetObject", True, True, id="star-covers-an-action"),
        pytest.param("s3:Get*", "s3:GetObject", True, True, id="prefix-star"),
        pytest.param("s3:GetObject", "s3:Get*", True, False, id="a-name-does-not-cover-a-wildcard"),
        pytest.param("s3:*", "s3:Get*", True, True, id="wider-wildcard"),
        pytest.param("s3:?etObject", "s3:GetObject", True, True, id="question-mark"),
        pytest.param("s3:?etObject", "s3:*etObject", True, False, id="one-char-not-many"),
        pytest.param("S3:getobject", "s3:GetObject", True, True, id="actions-ignore-case"),
        pytest.param("*", "kms:Decrypt", True, True, id="everything"),
        pytest.param("s3:GetObject", "s3:GetObjectAcl", True, False, id="no-implicit-prefix"),
        pytest.param("arn:aws:s3:::b/*", "arn:aws:s3:::b/uploads/*", False, True, id="arn-prefix"),
        pytest.param("arn:aws:s3:::b/*", "arn:aws:s3:::b", False, False, id="objects-not-bucket"),
        pytest.param("arn:aws:s3:::B/*", "arn:aws:s3:::b/x", False, False, id="arns-keep-case"),
        pytest.param(
            Text((BUCKET_ARN, "/*")),
            Text((BUCKET_ARN, "/uploads/*")),
            False,
            True,
            id="same-resource-attribute-prefix",
        ),
        pytest.param(
            Text((OTHER_ARN, "/*")),
            Text((BUCKET_ARN, "/x")),
            False,
            False,
            id="another-resource",
        ),
        pytest.param("*", BUCKET_ARN, False, True, id="star-covers-what-is-known-later"),
        pytest.param("arn:*", BUCKET_ARN, False, False, id="literals-never-cover-unknown-text"),
        pytest.param(BUCKET_ARN, BUCKET_ARN, False, True, id="same-attribute"),
    ],
)
def test_coverage_compares_what_patterns_match(
    pattern: Any, value: Any, fold: bool, expected: bool
) -> None:
    assert covers(pattern, value, fold_case=fold) is expected


# --- iam_findings over every source --------------------------------------------------------------

TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
}


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: Any, resources: Any, **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def role(*statements: dict, **properties: Any) -> dict:
    policies = [{"PolicyName": "p", "PolicyDocument": document(*statements)}] if statements else []
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": TRUST, "Policies": policies, **properties},
    }


def template(**resources: dict) -> dict:
    return {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}, **resources}}


OBJECTS = {"Fn::Sub": "${Bucket.Arn}/*"}
GET = allow("s3:GetObject", OBJECTS)
PUT = allow("s3:PutObject", OBJECTS)


def inline(resource_type: str, holder: str, *statements: dict) -> dict:
    return {
        "Type": resource_type,
        "Properties": {
            holder: {"Ref": "Who"},
            "PolicyName": "p",
            "PolicyDocument": document(*statements),
        },
    }


def resource_policy(resource_type: str, target: str, *statements: dict) -> dict:
    return {
        "Type": resource_type,
        "Properties": {target: {"Ref": "Thing"}, "PolicyDocument": document(*statements)},
    }


PUBLIC_GET = {**GET, "Principal": "*"}
ACCOUNT_GET = {**GET, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}

SOURCES = [
    pytest.param(
        "AWS::IAM::UserPolicy",
        inline("AWS::IAM::UserPolicy", "UserName", GET),
        inline("AWS::IAM::UserPolicy", "UserName", GET, PUT),
        ["Policy: allows s3:PutObject on ${Bucket.Arn}/*"],
        id="user-policy",
    ),
    pytest.param(
        "AWS::IAM::GroupPolicy",
        inline("AWS::IAM::GroupPolicy", "GroupName", GET),
        inline("AWS::IAM::GroupPolicy", "GroupName", GET, PUT),
        ["Policy: allows s3:PutObject on ${Bucket.Arn}/*"],
        id="group-policy",
    ),
    pytest.param(
        "AWS::SNS::TopicInlinePolicy",
        resource_policy("AWS::SNS::TopicInlinePolicy", "TopicArn", ACCOUNT_GET),
        resource_policy("AWS::SNS::TopicInlinePolicy", "TopicArn", PUBLIC_GET),
        ["Policy: allows * s3:GetObject on ${Bucket.Arn}/*", "Policy: new principal *"],
        id="topic-inline-policy",
    ),
    pytest.param(
        "AWS::SQS::QueueInlinePolicy",
        resource_policy("AWS::SQS::QueueInlinePolicy", "Queue", ACCOUNT_GET),
        resource_policy("AWS::SQS::QueueInlinePolicy", "Queue", PUBLIC_GET),
        ["Policy: allows * s3:GetObject on ${Bucket.Arn}/*", "Policy: new principal *"],
        id="queue-inline-policy",
    ),
    pytest.param(
        "AWS::SecretsManager::ResourcePolicy",
        {
            "Type": "AWS::SecretsManager::ResourcePolicy",
            "Properties": {"SecretId": "s", "ResourcePolicy": document(ACCOUNT_GET)},
        },
        {
            "Type": "AWS::SecretsManager::ResourcePolicy",
            "Properties": {"SecretId": "s", "ResourcePolicy": document(PUBLIC_GET)},
        },
        ["Policy: allows * s3:GetObject on ${Bucket.Arn}/*", "Policy: new principal *"],
        id="secret-resource-policy",
    ),
    pytest.param(
        "AWS::DynamoDB::Table",
        {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "StreamSpecification": {"ResourcePolicy": {"PolicyDocument": document(ACCOUNT_GET)}}
            },
        },
        {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "StreamSpecification": {"ResourcePolicy": {"PolicyDocument": document(PUBLIC_GET)}}
            },
        },
        ["Policy: allows * s3:GetObject on ${Bucket.Arn}/*", "Policy: new principal *"],
        id="table-stream-resource-policy",
    ),
    pytest.param(
        "AWS::DynamoDB::GlobalTable",
        {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "Replicas": [
                    {
                        "Region": "eu-west-1",
                        "ResourcePolicy": {"PolicyDocument": document(ACCOUNT_GET)},
                    }
                ]
            },
        },
        {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "Replicas": [
                    {
                        "Region": "eu-west-1",
                        "ResourcePolicy": {"PolicyDocument": document(PUBLIC_GET)},
                    }
                ]
            },
        },
        ["Policy: allows * s3:GetObject on ${Bucket.Arn}/*", "Policy: new principal *"],
        id="global-table-replica-resource-policy",
    ),
]


def test_a_long_value_is_compared_without_running_out_of_stack() -> None:
    """Coverage of ARNs thousands of characters long (a pattern per path segment, say)."""
    long = "arn:aws:s3:::bucket/" + "segment/" * 1000
    assert covers(long, long)
    assert covers("arn:aws:s3:::bucket/*", long)
    assert not covers("arn:aws:s3:::bucket/*/other", long)
    assert not covers(long, "arn:aws:s3:::bucket/*")


@pytest.mark.parametrize(("resource_type", "before", "after", "expected"), SOURCES)
def test_every_source_of_permissions_is_read(
    resource_type: str, before: dict, after: dict, expected: list[str]
) -> None:
    found = iam_findings(STACK, template(Policy=before), template(Policy=after))

    assert found == [f"{STACK}: {line}" for line in expected]


def test_a_statement_moved_to_a_managed_policy_of_the_same_role_is_not_new() -> None:
    managed = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": document(GET)},
    }
    proposed = template(Role=role(ManagedPolicyArns=[{"Ref": "Managed"}]), Managed=managed)

    found = iam_findings(STACK, template(Role=role(GET)), proposed)

    assert found == [
        f"{STACK}: Managed: new AWS::IAM::ManagedPolicy",
        f"{STACK}: Role: attaches managed policy Ref:Managed",
    ]


def test_a_removed_permissions_boundary_is_reported() -> None:
    boundary = {"PermissionsBoundary": "arn:aws:iam::aws:policy/Boundary"}

    found = iam_findings(STACK, template(Role=role(GET, **boundary)), template(Role=role(GET)))

    assert found == [
        f"{STACK}: Role: no longer has permissions boundary arn:aws:iam::aws:policy/Boundary"
    ]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            allow("s3:GetObject", OBJECTS, Condition={"Bool": {"aws:SecureTransport": "true"}}),
            GET,
            ["Role: allows s3:GetObject on ${Bucket.Arn}/*"],
            id="dropping-a-condition-broadens",
        ),
        pytest.param(
            GET,
            allow("s3:GetObject", OBJECTS, Condition={"Bool": {"aws:SecureTransport": "true"}}),
            [],
            id="adding-a-condition-narrows",
        ),
        pytest.param(
            {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
            allow("s3:GetObject", "*"),
            [],
            id="named-action-outside-a-not-action",
        ),
        pytest.param(
            {"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"},
            allow("s3:GetObject", "*"),
            ["Role: allows s3:GetObject on *"],
            id="named-action-inside-a-not-action",
        ),
        pytest.param(
            allow("s3:GetObject", "*"),
            {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
            ["Role: allows NotAction [iam:*] on *"],
            id="not-action-is-wide",
        ),
    ],
)
def test_conditions_and_not_action(before: dict, after: dict, expected: list[str]) -> None:
    found = iam_findings(STACK, template(Role=role(before)), template(Role=role(after)))

    assert found == [f"{STACK}: {line}" for line in expected]


def test_an_account_id_and_its_root_arn_are_one_principal() -> None:
    policy = {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}}}
    by_arn = {
        **policy,
        "Properties": {**policy["Properties"], "PolicyDocument": document(ACCOUNT_GET)},
    }
    by_id = {**GET, "Principal": {"AWS": "111111111111"}}
    by_number = {
        **policy,
        "Properties": {**policy["Properties"], "PolicyDocument": document(by_id)},
    }

    assert iam_findings(STACK, template(Policy=by_arn), template(Policy=by_number)) == []


def test_an_unresolvable_grant_is_always_reported() -> None:
    proposed = template(Role=role(allow("s3:GetObject", {"Fn::Sub": "${Missing}"})))
    deployed = template(Role=role(allow("s3:*", "*")))

    found = iam_findings(
        STACK,
        {**deployed, "Parameters": {}},
        {**proposed, "Parameters": {"Missing": {"Type": "String"}}},
    )

    assert found == [
        f"{STACK}: Role: allows s3:GetObject on (unresolved: parameter Missing has no value)"
    ]


# --- allowances ----------------------------------------------------------------------------------

PROTECTION = Finding("Table", "protection", "app-data: Table (...): DeletionProtectionEnabled ...")
REPLACEMENT = Finding("Table", "replace", "app-data: Table (...): KeySchema changes ...")


def test_an_allowance_lets_only_its_own_kind_through() -> None:
    allowances = Allowances.parse(["app-data:Table:deletion-protection"])

    blocking, allowed = allowances.apply("app-data", [PROTECTION, REPLACEMENT])

    assert blocking == [REPLACEMENT]
    assert allowed == [f"allowed by --allow app-data:Table:deletion-protection: {PROTECTION.line}"]


def test_an_allowance_must_match_a_finding_of_its_stack() -> None:
    allowances = Allowances.parse(["app-data:Table:retention"])

    with pytest.raises(InfraError, match="matches nothing the gate found"):
        allowances.apply("app-data", [PROTECTION])


def test_an_allowance_for_a_stack_outside_the_run_is_a_usage_error() -> None:
    allowances = Allowances.parse(["app-dta:Table:retention"])

    with pytest.raises(UsageError, match="app-dta is not a stack this command works on"):
        allowances.require_stacks(["app-data", "app-backend"])


def test_an_allowance_for_a_stack_without_changes_matched_nothing() -> None:
    allowances = Allowances.parse(["app-data:Table:retention", "app-backend:Queue:queue"])
    allowances.apply("app-data", [Finding("Table", "retain", "...")])

    with pytest.raises(InfraError) as raised:
        allowances.require_all_checked()

    assert str(raised.value) == (
        "--allow app-backend:Queue:queue: matches nothing (the stack had no changes); remove it"
    )
