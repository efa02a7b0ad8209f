"""The deploy steps moto cannot show: failed operations, rolled-back creations, busy stacks,
large templates and dependency order.

moto applies a change set at once and never rolls back, so these use a scripted
CloudFormation client that answers the same calls with what AWS returns in those states.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.changesets import ChangeSet, change_set_kind, template_source
from infra.deploy import clear_failed_creation, execute, object_url
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


class OnePage:
    """A paginator over a scripted call: the script answers everything in one page."""

    def __init__(self, call: Callable[..., dict]) -> None:
        self.call = call

    def paginate(self, **kwargs: Any) -> Iterator[dict]:
        yield self.call(**kwargs)


class ScriptedCloudFormation:
    """Each events read reveals the next batch of events; the stack's status moves with them.

    `steps` holds (events, status) pairs: what the operation has written so far and the
    status DescribeStacks returns at that point.
    """

    def __init__(
        self, start: str, steps: list[tuple[list[dict], str]], resources: list[dict] = ()
    ) -> None:
        self.status = start
        self.steps = steps
        self.shown: list[dict] = []
        self.resources = list(resources)
        self.calls: list[tuple[str, str]] = []

    def describe_stacks(self, StackName: str) -> dict:
        self.calls.append(("describe_stacks", StackName))
        return {"Stacks": [{"StackName": "s", "StackId": "arn:s/1", "StackStatus": self.status}]}

    def describe_stack_events(self, StackName: str, **kwargs: Any) -> dict:
        self.calls.append(("describe_stack_events", StackName))
        if self.steps and any(call == "execute" or call == "delete" for call, _ in self.calls):
            events, self.status = self.steps.pop(0)
            self.shown = list(reversed(events)) + self.shown
        return {"StackEvents": list(self.shown)}

    def execute_change_set(self, StackName: str, ChangeSetName: str) -> None:
        self.calls.append(("execute", StackName))

    def list_stack_resources(self, StackName: str, **kwargs: Any) -> dict:
        return {"StackResourceSummaries": self.resources}

    def delete_stack(self, StackName: str) -> None:
        self.calls.append(("delete", StackName))

    def get_paginator(self, operation: str) -> OnePage:
        return OnePage(getattr(self, operation))


def no_sleep(_seconds: float) -> None:
    return None


def test_follow_waits_for_the_stack_to_say_it_ended() -> None:
    """A stale final status right after ExecuteChangeSet is not the end; nor is CREATE_FAILED."""
    cfn = ScriptedCloudFormation(
        "UPDATE_COMPLETE",  # the previous update's status, still shown at first
        [
            ([], "UPDATE_COMPLETE"),
            (
                [event(1, "s", "UPDATE_IN_PROGRESS"), event(2, "Fn", "UPDATE_IN_PROGRESS")],
                "UPDATE_IN_PROGRESS",
            ),
            (
                [event(3, "Fn", "UPDATE_FAILED", "MemorySize too large")],
                "UPDATE_ROLLBACK_IN_PROGRESS",
            ),
            ([event(4, "s", "UPDATE_ROLLBACK_COMPLETE")], "UPDATE_ROLLBACK_COMPLETE"),
        ],
    )
    cfn.execute_change_set(StackName="s", ChangeSetName="cs")
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
    assert outcome.failures == ("Fn (AWS::Lambda::Function): UPDATE_FAILED: MemorySize too large",)


def test_a_failed_stack_event_waits_for_the_rollback() -> None:
    cfn = ScriptedCloudFormation(
        "REVIEW_IN_PROGRESS",
        [
            ([event(1, "s", "CREATE_FAILED", "resource failed")], "ROLLBACK_IN_PROGRESS"),
            ([event(2, "s", "ROLLBACK_COMPLETE")], "ROLLBACK_COMPLETE"),
        ],
    )
    cfn.execute_change_set(StackName="s", ChangeSetName="cs")

    outcome = follow(cfn, "s", set(), lambda _: None, sleep=no_sleep)

    assert outcome.status == "ROLLBACK_COMPLETE"


def test_a_failed_execution_prints_the_failing_events_and_raises() -> None:
    cfn = ScriptedCloudFormation(
        "UPDATE_COMPLETE",
        [
            (
                [
                    event(1, "Fn", "UPDATE_FAILED", "bad handler"),
                    event(2, "s", "UPDATE_ROLLBACK_COMPLETE"),
                ],
                "UPDATE_ROLLBACK_COMPLETE",
            )
        ],
    )
    lines: list[str] = []

    with pytest.raises(InfraError) as raised:
        execute(cfn, ChangeSet("s", "cs", "UPDATE", ()), lines.append, sleep=no_sleep)

    assert str(raised.value) == (
        "s: UPDATE_ROLLBACK_COMPLETE: Fn (AWS::Lambda::Function): UPDATE_FAILED: bad handler"
    )
    assert "failed: Fn (AWS::Lambda::Function): UPDATE_FAILED: bad handler" in lines
    assert cfn.calls.count(("execute", "s")) == 1


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
    cfn = ScriptedCloudFormation("ROLLBACK_COMPLETE", [], [kept, gone])

    with pytest.raises(InfraError) as raised:
        clear_failed_creation(cfn, target(tmp_path), lambda _: None, sleep=no_sleep)

    assert str(raised.value) == (
        "photos-dev-data: ROLLBACK_COMPLETE and it kept retained resources "
        "(ImagesTable (AWS::DynamoDB::Table): photos-dev-images); "
        "delete or import them, then delete the stack"
    )
    assert not [call for call in cfn.calls if call[0] == "delete"]


def test_a_rolled_back_creation_that_kept_nothing_is_deleted_and_followed_by_id(
    tmp_path: Path,
) -> None:
    gone = {
        "LogicalResourceId": "Queue",
        "ResourceType": "AWS::SQS::Queue",
        "PhysicalResourceId": "q",
        "ResourceStatus": "DELETE_COMPLETE",
    }
    cfn = ScriptedCloudFormation(
        "ROLLBACK_COMPLETE",
        [
            ([event(1, "s", "DELETE_IN_PROGRESS")], "DELETE_IN_PROGRESS"),
            ([event(2, "s", "DELETE_COMPLETE")], "DELETE_COMPLETE"),
        ],
        [gone],
    )
    lines: list[str] = []

    clear_failed_creation(cfn, target(tmp_path), lines.append, sleep=no_sleep)

    assert ("delete", "photos-dev-data") in cfn.calls
    after_delete = cfn.calls[cfn.calls.index(("delete", "photos-dev-data")) + 1 :]
    assert {name for _, name in after_delete} == {"arn:s/1"}  # the name is gone by then
    assert lines[0] == (
        "photos-dev-data: first creation rolled back and kept nothing; deleting it to try again"
    )
    assert lines[-1].split()[1:4] == ["s", "AWS::CloudFormation::Stack", "DELETE_COMPLETE"]


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


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("eu-west-1", "https://b.s3.eu-west-1.amazonaws.com/templates/t.json"),
        ("cn-north-1", "https://b.s3.cn-north-1.amazonaws.com.cn/templates/t.json"),
    ],
)
def test_template_urls_follow_the_partition(region: str, url: str) -> None:
    s3 = boto3.client("s3", region_name=region)
    assert object_url(s3, "b", region, "templates/t.json") == url


def test_behind_a_local_endpoint_the_url_keeps_the_standard_form() -> None:
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9")
    assert object_url(s3, "b", "eu-west-1", "k") == "https://b.s3.eu-west-1.amazonaws.com/k"
