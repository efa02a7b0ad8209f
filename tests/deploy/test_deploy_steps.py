"""The deploy steps moto cannot show: failed operations, rolled-back creations, busy stacks,
large templates and dependency order.

moto applies a change set at once and never rolls back, so these use a scripted
CloudFormation client that answers the same calls with what AWS returns in those states.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.changesets import ChangeSet, change_set_kind, stack_status, template_source
from infra.deploy import clear_failed_creation, execute
from infra.errors import InfraError
from infra.stack_events import follow
from infra.targets import StackTarget, dependency_order


def event(number: int, logical_id: str, status: str, reason: str = "") -> dict:
    return {
        "EventId": f"e{number}",
        "LogicalResourceId": logical_id,
        "ResourceType": "AWS::Lambda::Function"
        if logical_id != "s"
        else "AWS::CloudFormation::Stack",
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


class ScriptedCloudFormation:
    """Each describe_stacks call moves the stack one step along `statuses`, with its events."""

    def __init__(self, statuses: list[str], events: list[list[dict]], resources: list[dict] = ()):
        self.statuses = statuses
        self.batches = events
        self.step = 0
        self.shown: list[dict] = []
        self.resources = list(resources)
        self.calls: list[str] = []

    def describe_stacks(self, StackName: str) -> dict:
        self.calls.append("describe_stacks")
        status = self.statuses[min(self.step, len(self.statuses) - 1)]
        if self.step < len(self.batches):
            self.shown = list(reversed(self.batches[self.step])) + self.shown
        self.step += 1
        return {"Stacks": [{"StackName": "s", "StackId": "arn:s/1", "StackStatus": status}]}

    def describe_stack_events(self, StackName: str, **kwargs: Any) -> dict:
        return {"StackEvents": list(self.shown)}

    def execute_change_set(self, StackName: str, ChangeSetName: str) -> None:
        self.calls.append("execute_change_set")

    def list_stack_resources(self, StackName: str, **kwargs: Any) -> dict:
        return {"StackResourceSummaries": self.resources}

    def delete_stack(self, StackName: str) -> None:
        self.calls.append("delete_stack")


def no_sleep(_seconds: float) -> None:
    return None


def test_follow_prints_each_event_once_in_order_and_collects_failures() -> None:
    cfn = ScriptedCloudFormation(
        ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"],
        [
            [event(1, "s", "UPDATE_IN_PROGRESS"), event(2, "Fn", "UPDATE_IN_PROGRESS")],
            [event(3, "Fn", "UPDATE_FAILED", "MemorySize too large")],
            [event(4, "s", "UPDATE_ROLLBACK_COMPLETE")],
        ],
    )
    lines: list[str] = []

    outcome = follow(cfn, "s", set(), lines.append, sleep=no_sleep)

    assert [line.split()[1:4] for line in lines] == [
        ["s", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS"],
        ["Fn", "AWS::Lambda::Function", "UPDATE_IN_PROGRESS"],
        ["Fn", "AWS::Lambda::Function", "UPDATE_FAILED"],
        ["s", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"],
    ]
    assert lines[2].endswith("UPDATE_FAILED  MemorySize too large")
    assert all(line.split()[0].endswith("s") for line in lines)  # elapsed seconds first
    assert outcome.status == "UPDATE_ROLLBACK_COMPLETE"
    assert not outcome.succeeded
    assert outcome.failures == ("Fn (AWS::Lambda::Function): UPDATE_FAILED: MemorySize too large",)


def test_a_failed_execution_prints_the_failing_events_and_raises() -> None:
    cfn = ScriptedCloudFormation(
        ["UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"],
        [
            [],
            [
                event(1, "Fn", "UPDATE_FAILED", "bad handler"),
                event(2, "s", "UPDATE_ROLLBACK_COMPLETE"),
            ],
        ],
    )
    lines: list[str] = []

    with pytest.raises(InfraError) as raised:
        execute(cfn, ChangeSet("s", "cs", "UPDATE", ()), lines.append, sleep=no_sleep)

    assert str(raised.value) == (
        "s: UPDATE_ROLLBACK_COMPLETE: Fn (AWS::Lambda::Function): UPDATE_FAILED: bad handler"
    )
    assert "failed: Fn (AWS::Lambda::Function): UPDATE_FAILED: bad handler" in lines
    assert cfn.calls.count("execute_change_set") == 1


def target(
    tmp_path: Path, kind: str = "data", body: dict | None = None, **params: str
) -> StackTarget:
    template = body or {"Resources": {}}
    if params:
        template["Parameters"] = {
            name: {"Type": "AWS::SSM::Parameter::Value<String>", "Default": path}
            for name, path in params.items()
        }
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps(template))
    return StackTarget("photos", "dev", kind, "eu-west-1", path)


def test_a_rolled_back_creation_that_kept_data_is_left_to_a_person(tmp_path: Path) -> None:
    kept = {
        "LogicalResourceId": "ImagesTable",
        "ResourceType": "AWS::DynamoDB::Table",
        "PhysicalResourceId": "photos-dev-images",
        "ResourceStatus": "DELETE_SKIPPED",
    }
    gone = {**kept, "LogicalResourceId": "Queue", "ResourceStatus": "DELETE_COMPLETE"}
    cfn = ScriptedCloudFormation(["ROLLBACK_COMPLETE"], [], [kept, gone])

    with pytest.raises(InfraError) as raised:
        clear_failed_creation(cfn, target(tmp_path), lambda _: None, sleep=no_sleep)

    assert str(raised.value) == (
        "photos-dev-data: ROLLBACK_COMPLETE and it kept retained resources "
        "(ImagesTable (AWS::DynamoDB::Table): photos-dev-images); "
        "delete or import them, then delete the stack"
    )
    assert "delete_stack" not in cfn.calls


def test_a_rolled_back_creation_that_kept_nothing_is_deleted(tmp_path: Path) -> None:
    gone = {
        "LogicalResourceId": "Queue",
        "ResourceType": "AWS::SQS::Queue",
        "PhysicalResourceId": "q",
        "ResourceStatus": "DELETE_COMPLETE",
    }
    cfn = ScriptedCloudFormation(
        ["ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"], [], [gone]
    )
    lines: list[str] = []

    clear_failed_creation(cfn, target(tmp_path), lines.append, sleep=no_sleep)

    assert "delete_stack" in cfn.calls
    assert lines[0] == (
        "photos-dev-data: first creation rolled back and kept nothing; deleting it to try again"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, "CREATE"),
        ("REVIEW_IN_PROGRESS", "CREATE"),
        ("CREATE_COMPLETE", "UPDATE"),
        ("UPDATE_ROLLBACK_COMPLETE", "UPDATE"),
    ],
)
def test_change_set_kind(status: str | None, expected: str) -> None:
    assert change_set_kind("s", status) == expected


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            "UPDATE_IN_PROGRESS",
            "s: busy (UPDATE_IN_PROGRESS); wait for it to finish, then run again",
        ),
        (
            "UPDATE_ROLLBACK_FAILED",
            "s: is UPDATE_ROLLBACK_FAILED; fix or delete it in CloudFormation first",
        ),
        ("DELETE_FAILED", "s: is DELETE_FAILED; fix or delete it in CloudFormation first"),
    ],
)
def test_a_busy_or_broken_stack_is_refused(status: str, message: str) -> None:
    with pytest.raises(InfraError) as raised:
        change_set_kind("s", status)
    assert str(raised.value) == message


def test_a_large_template_goes_through_s3(tmp_path: Path) -> None:
    small = target(tmp_path, "data")
    big = target(tmp_path, "backend", {"Description": "x" * 60_000, "Resources": {}})
    uploaded: list[str] = []

    def upload(item: StackTarget) -> str:
        uploaded.append(item.stack_name)
        return "https://bucket.s3.eu-west-1.amazonaws.com/templates/t.json"

    assert template_source(small, upload) == {"TemplateBody": small.body}
    assert template_source(big, upload) == {
        "TemplateURL": "https://bucket.s3.eu-west-1.amazonaws.com/templates/t.json"
    }
    assert uploaded == ["photos-dev-backend"]
    with pytest.raises(InfraError, match="over 51200 bytes"):
        template_source(big, None)


def test_stacks_go_after_the_stacks_they_read(tmp_path: Path) -> None:
    frontend = target(tmp_path, "frontend", Bucket="/photos/dev/data/UploadBucketName")
    backend = target(
        tmp_path,
        "backend",
        Table="/photos/dev/data/TableName",
        Artifacts="/photos/main/base/ArtifactBucketName",
    )
    data = target(tmp_path, "data")

    ordered = dependency_order([frontend, backend, data])

    assert [t.kind for t in ordered] == ["data", "frontend", "backend"]
    assert backend.requires == ("photos-dev-data", "photos-main-base")


def test_a_cycle_is_refused(tmp_path: Path) -> None:
    one = target(tmp_path, "data", Value="/photos/dev/backend/ApiUrl")
    two = target(tmp_path, "backend", Value="/photos/dev/data/TableName")

    with pytest.raises(InfraError, match="in a cycle"):
        dependency_order([one, two])


def test_a_missing_template_says_to_render(tmp_path: Path) -> None:
    missing = StackTarget("photos", "dev", "data", "eu-west-1", tmp_path / "nope.json")
    with pytest.raises(InfraError, match=r"nope.json: .*run `python -m infra render`"):
        _ = missing.body


def test_client_error_shape_is_what_stack_status_expects() -> None:
    """stack_status treats this exact AWS answer as 'no such stack'."""

    class Missing:
        def describe_stacks(self, StackName: str) -> dict:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationError",
                        "Message": f"Stack with id {StackName} does not exist",
                    }
                },
                "DescribeStacks",
            )

    assert stack_status(Missing(), "s") is None
