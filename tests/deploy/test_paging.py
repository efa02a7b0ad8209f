"""Paged CloudFormation reads go through boto3's paginators: every page, or only as many as needed.

moto never pages, so these script a real client with botocore's Stubber; a call the code
makes that the script does not expect fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from infra.changesets import change_set_changes
from infra.deploy import stack_resources
from infra.errors import InfraError
from infra.stack_events import new_events

REGION = "eu-west-1"
STACK = "photos-dev-data"


@pytest.fixture
def stubber() -> Iterator[Stubber]:
    """A CloudFormation client (`stubber.client`) that answers only what the test queues."""
    cfn = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cfn) as stubbed:
        yield stubbed
        stubbed.assert_no_pending_responses()


def summary(logical_id: str) -> dict:
    return {
        "LogicalResourceId": logical_id,
        "ResourceType": "AWS::SQS::Queue",
        "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
        "ResourceStatus": "CREATE_COMPLETE",
    }


def stack_event(number: int) -> dict:
    return {
        "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/1",
        "EventId": f"e{number}",
        "StackName": STACK,
        "Timestamp": "2026-01-01T00:00:00Z",
        "LogicalResourceId": STACK,
        "ResourceType": "AWS::CloudFormation::Stack",
        "ResourceStatus": "UPDATE_IN_PROGRESS",
    }


def change(logical_id: str) -> dict:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Add",
            "LogicalResourceId": logical_id,
            "ResourceType": "AWS::SQS::Queue",
        },
    }


def test_stack_resources_reads_every_page(stubber: Stubber) -> None:
    expected = {"StackName": STACK}
    first = {"StackResourceSummaries": [summary("One")], "NextToken": "t1"}
    second = {"StackResourceSummaries": [summary("Two")]}
    stubber.add_response("list_stack_resources", first, expected)
    stubber.add_response("list_stack_resources", second, {**expected, "NextToken": "t1"})

    found = stack_resources(stubber.client, STACK)

    assert [r["LogicalResourceId"] for r in found] == ["One", "Two"]


def test_new_events_stop_at_the_first_seen_one_without_reading_further(stubber: Stubber) -> None:
    """The newest page ends with an event already printed: the older pages are never read."""
    page = {"StackEvents": [stack_event(3), stack_event(2)], "NextToken": "older"}
    stubber.add_response("describe_stack_events", page, {"StackName": STACK})
    seen = {"e2", "e1"}

    fresh = new_events(stubber.client, STACK, seen)

    assert [event["EventId"] for event in fresh] == ["e3"]
    assert seen == {"e1", "e2", "e3"}


def test_new_events_read_older_pages_while_everything_is_new(stubber: Stubber) -> None:
    newest = {"StackEvents": [stack_event(3)], "NextToken": "older"}
    older = {"StackEvents": [stack_event(2), stack_event(1)]}
    stubber.add_response("describe_stack_events", newest, {"StackName": STACK})
    stubber.add_response("describe_stack_events", older, {"StackName": STACK, "NextToken": "older"})

    fresh = new_events(stubber.client, STACK, {"e1"})

    assert [event["EventId"] for event in fresh] == ["e2", "e3"]  # oldest first


def test_change_set_changes_reads_every_page(stubber: Stubber) -> None:
    expected = {"StackName": STACK, "ChangeSetName": "cs"}
    first = {"Status": "CREATE_COMPLETE", "Changes": [change("One")], "NextToken": "t1"}
    second = {"Status": "CREATE_COMPLETE", "Changes": [change("Two")]}
    stubber.add_response("describe_change_set", first, expected)
    stubber.add_response("describe_change_set", second, {**expected, "NextToken": "t1"})

    changes = change_set_changes(stubber.client, STACK, "cs")

    assert [c["ResourceChange"]["LogicalResourceId"] for c in changes] == ["One", "Two"]


def test_a_change_set_still_being_computed_is_refused(stubber: Stubber) -> None:
    page = {"Status": "CREATE_IN_PROGRESS", "NextToken": "t1"}
    stubber.add_response("describe_change_set", page, {"StackName": STACK, "ChangeSetName": "cs"})

    with pytest.raises(InfraError) as raised:
        change_set_changes(stubber.client, STACK, "cs")

    assert str(raised.value) == f"{STACK}: change set cs is CREATE_IN_PROGRESS: wait for it first"


def test_an_aws_error_while_paging_is_one_line(stubber: Stubber) -> None:
    stubber.add_client_error(
        "list_stack_resources", "ValidationError", f"Stack with id {STACK} does not exist"
    )

    with pytest.raises(InfraError) as raised:
        stack_resources(stubber.client, STACK)

    assert str(raised.value) == (
        f"{STACK}: listing resources: ValidationError: Stack with id {STACK} does not exist"
    )
