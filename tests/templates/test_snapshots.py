"""Template snapshots: a refactor must never rename, replace or re-permission a resource unnoticed.

Each app x stack x environment has `tests/snapshots/<app>/<scope>-<stack>.json`. Per
logical ID it holds the type, the deletion policies, the values of the properties that
decide replacement (the resource schema's create-only properties and the gate's extra
rules, `infra.gate.replacement`) and every IAM statement the resource carries. On a
difference the new snapshot is written beside it as `.new.json` for review;
`pytest --update-snapshots` (or UPDATE_SNAPSHOTS=1) rewrites the committed one.
The logical IDs themselves follow the naming rule in `infra.app.resources`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from infra.gate.replacement import replacement_rules
from infra.gate.values import pointer_value
from tests.templates.conftest import REPO, Template
from tests.templates.test_retention_and_tags import RETAINED_TYPES

SNAPSHOTS = REPO / "tests" / "snapshots"
REGION = "eu-west-1"
STACKS = [
    "photos:main/base", "photos:main/pipeline", "photos:dev/data", "photos:dev/backend",
    "photos:dev/frontend", "photos:prod/data", "photos:prod/backend", "photos:prod/frontend",
    "links:main/base", "links:main/pipeline", "links:dev/data", "links:dev/backend",
    "links:prod/data", "links:prod/backend",
]  # fmt: skip
# Where each IAM-bearing type keeps its policy documents.
POLICY_DOCUMENTS = {
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
}
# Besides the create-only pointers: what the gate's extra rules compare.
EXTRA_REPLACEMENT_PROPERTIES = {"AWS::DynamoDB::Table": ("AttributeDefinitions",)}
LAMBDA_PERMISSION = ("Action", "FunctionName", "Principal", "SourceArn", "SourceAccount")


def statements(resource: Template) -> list[Any]:
    """Every IAM statement the resource carries, as written."""
    kind, properties = resource["Type"], resource.get("Properties", {})
    if kind == "AWS::IAM::Role":
        found = list(properties["AssumeRolePolicyDocument"]["Statement"])
        for policy in properties.get("Policies", []):
            found += policy["PolicyDocument"]["Statement"]
        return found
    if kind == "AWS::Lambda::Permission":
        return [{name: properties[name] for name in LAMBDA_PERMISSION if name in properties}]
    return [
        statement
        for name in POLICY_DOCUMENTS.get(kind, ())
        for statement in properties[name]["Statement"]
    ]


def replacement_values(resource: Template) -> dict[str, Any]:
    """The values of the properties whose change replaces the resource."""
    kind, properties = resource["Type"], resource.get("Properties", {})
    names = [
        rule.name.removeprefix("/properties/")
        for rule in replacement_rules(REGION, kind)
        if rule.name.startswith("/properties/")
    ]
    names += EXTRA_REPLACEMENT_PROPERTIES.get(kind, ())
    values = {}
    for name in dict.fromkeys(names):
        value = pointer_value({"properties": properties}, f"/properties/{name}")
        if value is not None:
            values[name] = value
    return values


def snapshot(template: Template) -> dict[str, dict[str, Any]]:
    result = {}
    for logical_id, resource in sorted(template["Resources"].items()):
        entry: dict[str, Any] = {"Type": resource["Type"]}
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if policy in resource:
                entry[policy] = resource[policy]
        replacement = replacement_values(resource)
        if replacement:
            entry["Replacement"] = replacement
        iam = statements(resource)
        if iam:
            entry["Statements"] = iam
        result[logical_id] = entry
    return result


def snapshot_text(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def lost_state(expected: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Stateful resources in the snapshot that the current render renamed, dropped or replaces."""
    lost = []
    for logical_id, entry in expected.items():
        if entry["Type"] not in RETAINED_TYPES:
            continue
        now = current.get(logical_id)
        if now is None or now["Type"] != entry["Type"]:
            lost.append(f"{logical_id} ({entry['Type']}): renamed or removed")
        elif now.get("Replacement") != entry.get("Replacement"):
            lost.append(f"{logical_id} ({entry['Type']}): a property that replaces it changed")
    return sorted(lost)


def updating(request: pytest.FixtureRequest) -> bool:
    return bool(
        request.config.getoption("--update-snapshots") or os.environ.get("UPDATE_SNAPSHOTS")
    )


@pytest.mark.parametrize("name", STACKS)
def test_templates_match_their_snapshots(
    every_template: dict[str, Template], request: pytest.FixtureRequest, name: str
) -> None:
    app, stack = name.split(":")
    path = SNAPSHOTS / app / f"{stack.replace('/', '-')}.json"
    current = snapshot(every_template[name])
    if updating(request):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(snapshot_text(current))
    if not path.exists():
        pytest.fail(f"{name}: no snapshot at {path.relative_to(REPO)}; run --update-snapshots")
    expected = json.loads(path.read_text())
    lost = lost_state(expected, current)
    assert not lost, (
        f"{name}: stateful resources would be lost: {lost}. A new logical ID or a "
        "replacing change means CloudFormation creates a new resource and orphans the data."
    )
    if current != expected:
        new_path = path.with_suffix(".new.json")
        new_path.write_text(snapshot_text(current))
        changed = sorted(
            k for k in set(current) | set(expected) if current.get(k) != expected.get(k)
        )
        pytest.fail(
            f"{name}: resources changed ({', '.join(changed)}); review "
            f"{new_path.relative_to(REPO)} and rerun with --update-snapshots to accept"
        )


def test_a_renamed_table_a_rekey_or_a_dropped_bucket_is_lost_state(
    templates: dict[str, Template],
) -> None:
    """The check above really catches stateful renames and replacements, not stateless churn."""
    expected = snapshot(templates["dev/data"])
    current = json.loads(json.dumps(expected))
    current["PhotosTable"] = current.pop("ImagesTable")
    del current["MediaBucket"]
    del current["UploadTopicPolicy"]
    current["UploadBucket"]["Replacement"]["BucketName"] = "elsewhere"
    current["UserPool"]["Statements"] = [{"Effect": "Allow"}]
    assert lost_state(expected, current) == [
        "ImagesTable (AWS::DynamoDB::Table): renamed or removed",
        "MediaBucket (AWS::S3::Bucket): renamed or removed",
        "UploadBucket (AWS::S3::Bucket): a property that replaces it changed",
    ]


def test_snapshots_hold_replacement_values_and_iam_statements(
    every_template: dict[str, Template],
) -> None:
    data = snapshot(every_template["photos:dev/data"])
    table = data["ImagesTable"]
    assert table["Replacement"]["TableName"] == "photos-dev-images"
    assert table["Replacement"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["DeletionPolicy"] == "Retain"
    backend = snapshot(every_template["links:dev/backend"])
    sids = [s.get("Sid") for s in backend["NightlyReportRole"]["Statements"]]
    assert "ReportsTopicAccess" in sids and "LinksTableAccess" in sids
    assert backend["RedirectApiPermission"]["Statements"][0]["Principal"] == {
        "Fn::Sub": "apigateway.${AWS::URLSuffix}"
    }
