"""CodePipeline's CloudFormation actions run locally: change sets made from the templates and
configuration files of an artifact, executed, updated, found unchanged, and the mistakes the
local run exists to catch (a missing file, bad JSON, an unknown parameter) as one line each.

Every input artifact goes through the artifact store and back, as the runner hands it on.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.changesets import stack_status
from infra.errors import InfraError
from infra.local.pipeline.artifacts import ArtifactStore, zip_files
from infra.local.pipeline.cloudformation import ActionOutcome, run_cloudformation_action

REGION = "eu-west-1"
BUCKET = "local-pipeline-artifacts"
ROLE = "arn:aws:iam::123456789012:role/cloudformation"
TEMPLATES = "build/templates/dev"
STACK_NUMBERS = itertools.count(1)

QUEUE_TEMPLATE = {
    "Parameters": {
        "QueueName": {"Type": "String"},
        "Stage": {"Type": "String", "Default": "none"},
        "Upstream": {"Type": "String", "Default": "none"},
        "ArtifactBucket": {"Type": "String", "Default": "none"},
        "ArtifactKey": {"Type": "String", "Default": "none"},
    },
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "QueueName"}}}
    },
    "Outputs": {
        name: {"Value": {"Ref": name}}
        for name in ("QueueName", "Stage", "Upstream", "ArtifactBucket", "ArtifactKey")
    },
}
TOPIC_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


@pytest.fixture(scope="module")
def aws(moto_server: str) -> Iterator[dict[str, Any]]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    s3 = session.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield {
        "cfn": session.client("cloudformation", endpoint_url=moto_server),
        "store": ArtifactStore(s3, BUCKET, None, "photos-pipeline"),
        "s3": s3,
    }


@pytest.fixture
def stack() -> str:
    return f"photos-dev-queue-{next(STACK_NUMBERS)}"


def artifact(aws: dict, tmp_path: Path, name: str, files: dict[str, Any]) -> dict[str, tuple]:
    """An input artifact holding `files` (a dict is written as JSON), through the store."""
    contents = {
        relative: (content if isinstance(content, str) else json.dumps(content)).encode()
        for relative, content in files.items()
    }
    location = aws["store"].put(name, zip_files(contents))
    folder = aws["store"].extract(location, tmp_path / "inputs" / name, name=name)
    return {name: (folder, location)}


def build_output(aws: dict, tmp_path: Path, **files: Any) -> dict[str, tuple]:
    return artifact(aws, tmp_path, "BuildOutput", {f"{TEMPLATES}/{k}": v for k, v in files.items()})


def replace(stack: str, template: str = "queue.json", **extra: str) -> dict[str, str]:
    return {
        "ActionMode": "CHANGE_SET_REPLACE",
        "StackName": stack,
        "ChangeSetName": f"{stack}-pipeline",
        "TemplatePath": f"BuildOutput::{TEMPLATES}/{template}",
        "Capabilities": "CAPABILITY_IAM,CAPABILITY_NAMED_IAM",
        "RoleArn": ROLE,
        **extra,
    }


def execute(stack: str, **extra: str) -> dict[str, str]:
    return {
        "ActionMode": "CHANGE_SET_EXECUTE",
        "StackName": stack,
        "ChangeSetName": f"{stack}-pipeline",
        **extra,
    }


def run(aws: dict, configuration: dict[str, str], inputs: dict, lines: list[str]) -> ActionOutcome:
    return run_cloudformation_action(configuration, inputs, aws["cfn"], lines.append, s3=aws["s3"])


def configured(stack: str, **parameters: str) -> dict[str, Any]:
    return {"Parameters": {"QueueName": stack, **parameters}, "Tags": {"app": "photos"}}


def test_replace_then_execute_creates_the_stack_from_the_artifact(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    inputs = {
        **build_output(
            aws,
            tmp_path,
            **{"queue.json": QUEUE_TEMPLATE, "queue.config.json": configured(stack, Stage="x")},
        ),
        **artifact(aws, tmp_path, "UpstreamOutput", {"outputs.json": {"TopicArn": "arn:up"}}),
    }
    overrides = {
        "Stage": "dev",
        "Upstream": {"Fn::GetParam": ["UpstreamOutput", "outputs.json", "TopicArn"]},
        "ArtifactBucket": {"Fn::GetArtifactAtt": ["UpstreamOutput", "BucketName"]},
        "ArtifactKey": {"Fn::GetArtifactAtt": ["UpstreamOutput", "ObjectKey"]},
    }
    config = replace(
        stack,
        TemplateConfiguration=f"BuildOutput::{TEMPLATES}/queue.config.json",
        ParameterOverrides=json.dumps(overrides),
    )
    lines: list[str] = []

    planned = run(aws, config, inputs, lines)

    assert planned.succeeded, planned.summary
    assert planned.summary == f"{stack}: change set {stack}-pipeline: 1 changes (CREATE)"
    assert planned.output_variables == {}
    assert stack_status(aws["cfn"], stack) == "REVIEW_IN_PROGRESS"
    assert any("Add" in line and "AWS::SQS::Queue" in line for line in lines)

    done = run(aws, execute(stack, OutputFileName="queue-outputs.json"), {}, lines)

    assert done.succeeded, done.summary
    assert done.summary == f"{stack}: CREATE_COMPLETE"
    assert done.output_variables == {
        "QueueName": stack,
        "Stage": "dev",  # the override wins over the configuration file
        "Upstream": "arn:up",
        "ArtifactBucket": BUCKET,
        "ArtifactKey": inputs["UpstreamOutput"][1].key,
    }
    assert json.loads(done.output_files["queue-outputs.json"]) == done.output_variables
    described = aws["cfn"].describe_stacks(StackName=stack)["Stacks"][0]
    assert described["Tags"] == [{"Key": "app", "Value": "photos"}]


def test_an_unchanged_template_is_no_changes_and_executing_it_is_a_no_op(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    inputs = build_output(aws, tmp_path, **{"topic.json": TOPIC_TEMPLATE})
    lines: list[str] = []
    assert run(aws, replace(stack, "topic.json"), inputs, lines).succeeded
    assert run(aws, execute(stack), {}, lines).succeeded
    events = len(aws["cfn"].describe_stack_events(StackName=stack)["StackEvents"])

    again = run(aws, replace(stack, "topic.json"), inputs, lines)
    skipped = run(aws, execute(stack), {}, lines)

    assert (again.succeeded, again.summary) == (
        True,
        f"{stack}: change set {stack}-pipeline: no changes",
    )
    assert skipped.succeeded
    assert skipped.summary == f"{stack}: change set {stack}-pipeline has no changes: not executed"
    assert len(aws["cfn"].describe_stack_events(StackName=stack)["StackEvents"]) == events


def test_an_unchanged_template_with_parameters_is_no_changes(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    inputs = build_output(
        aws, tmp_path, **{"queue.json": QUEUE_TEMPLATE, "queue.config.json": configured(stack)}
    )
    config = replace(stack, TemplateConfiguration=f"BuildOutput::{TEMPLATES}/queue.config.json")
    lines: list[str] = []
    assert run(aws, config, inputs, lines).succeeded
    assert run(aws, execute(stack), {}, lines).succeeded

    again = run(aws, config, inputs, lines)

    assert (again.succeeded, again.summary) == (
        True,
        f"{stack}: change set {stack}-pipeline: no changes",
    )


def test_executing_an_unchanged_change_set_given_every_parameter_is_a_no_op(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    only_name = {**QUEUE_TEMPLATE, "Parameters": {"QueueName": {"Type": "String"}}, "Outputs": {}}
    inputs = build_output(
        aws, tmp_path, **{"queue.json": only_name, "queue.config.json": configured(stack)}
    )
    config = replace(stack, TemplateConfiguration=f"BuildOutput::{TEMPLATES}/queue.config.json")
    lines: list[str] = []
    assert run(aws, config, inputs, lines).succeeded
    assert run(aws, execute(stack), {}, lines).succeeded
    events = len(aws["cfn"].describe_stack_events(StackName=stack)["StackEvents"])
    assert run(aws, config, inputs, lines).succeeded

    skipped = run(aws, execute(stack), {}, lines)

    assert skipped.succeeded
    assert skipped.summary == f"{stack}: change set {stack}-pipeline has no changes: not executed"
    assert len(aws["cfn"].describe_stack_events(StackName=stack)["StackEvents"]) == events


def test_a_changed_template_updates_the_stack(aws: dict, tmp_path: Path, stack: str) -> None:
    first = build_output(aws, tmp_path / "1", **{"topic.json": TOPIC_TEMPLATE})
    lines: list[str] = []
    assert run(aws, replace(stack, "topic.json"), first, lines).succeeded
    assert run(aws, execute(stack), {}, lines).succeeded
    grown = {
        "Resources": {**TOPIC_TEMPLATE["Resources"], "Second": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"Second": {"Value": {"Ref": "Second"}}},
    }
    second = build_output(aws, tmp_path / "2", **{"topic.json": grown})

    planned = run(aws, replace(stack, "topic.json"), second, lines)
    replanned = run(aws, replace(stack, "topic.json"), second, lines)  # replaces the first
    done = run(aws, execute(stack), {}, lines)

    assert planned.summary == replanned.summary
    assert planned.summary.startswith(f"{stack}: change set {stack}-pipeline: ")
    assert planned.summary.endswith(" changes (UPDATE)")
    assert done.succeeded and done.summary == f"{stack}: UPDATE_COMPLETE"
    assert done.output_variables["Second"].startswith(f"arn:aws:sns:{REGION}:")
    names = [s["ChangeSetName"] for s in aws["cfn"].list_change_sets(StackName=stack)["Summaries"]]
    assert names.count(f"{stack}-pipeline") <= 1


def test_replacing_a_change_set_before_the_first_execute_creates_one_stack(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    inputs = build_output(aws, tmp_path, **{"topic.json": TOPIC_TEMPLATE})
    lines: list[str] = []
    assert run(aws, replace(stack, "topic.json"), inputs, lines).succeeded
    assert run(aws, replace(stack, "topic.json"), inputs, lines).succeeded

    # (Executing now would follow the stale twin, REVIEW_IN_PROGRESS forever.)
    named = [s for s in aws["cfn"].describe_stacks()["Stacks"] if s["StackName"] == stack]
    assert len(named) == 1


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        (
            {},
            {"TemplateConfiguration": f"BuildOutput::{TEMPLATES}/queue.config.json"},
            f"BuildOutput::{TEMPLATES}/queue.config.json: no file {TEMPLATES}/queue.config.json "
            "in artifact BuildOutput",
        ),
        (
            {},
            {"TemplatePath": "SourceOutput::queue.json"},
            "SourceOutput::queue.json: SourceOutput is not an input artifact of the action "
            "(inputs: BuildOutput)",
        ),
        (
            {"queue.config.json": '{"Parameters": {"QueueName": "q",}}'},
            {"TemplateConfiguration": f"BuildOutput::{TEMPLATES}/queue.config.json"},
            f"BuildOutput::{TEMPLATES}/queue.config.json: not JSON: Expecting property name",
        ),
        (
            {"queue.config.json": {"Parameter": {"QueueName": "q"}}},
            {"TemplateConfiguration": f"BuildOutput::{TEMPLATES}/queue.config.json"},
            "queue.config.json: unknown key Parameter",
        ),
        (
            {"queue.config.json": {"Parameters": {"QueueName": "q", "Nope": "1"}}},
            {"TemplateConfiguration": f"BuildOutput::{TEMPLATES}/queue.config.json"},
            "queue.config.json: Parameters: [Nope] do not exist in the template",
        ),
        ({}, {}, f"BuildOutput::{TEMPLATES}/queue.json: Parameters: [QueueName] must have values"),
        (
            {},
            {"ParameterOverrides": '{"QueueName": '},
            "ParameterOverrides: not JSON: Expecting value",
        ),
        (
            {},
            {
                "ParameterOverrides": json.dumps(
                    {"QueueName": {"Fn::GetParam": ["BuildOutput", "o.json", "K"]}}
                )
            },
            "ParameterOverrides: QueueName: Fn::GetParam: BuildOutput::o.json: no file o.json",
        ),
        (
            {"o.json": {"Other": "x"}},
            {
                "ParameterOverrides": json.dumps(
                    {"QueueName": {"Fn::GetParam": ["BuildOutput", f"{TEMPLATES}/o.json", "K"]}}
                )
            },
            f"Fn::GetParam: BuildOutput::{TEMPLATES}/o.json has no key K",
        ),
        (
            {},
            {
                "ParameterOverrides": json.dumps(
                    {"QueueName": {"Fn::GetArtifactAtt": ["SourceOutput", "URL"]}}
                )
            },
            "Fn::GetArtifactAtt: SourceOutput is not an input artifact",
        ),
        ({}, {"RoleArn": ""}, "CHANGE_SET_REPLACE: configuration RoleArn is required"),
        ({}, {"Capabilities": "CAPABILITY_IAM,CAPABILITY_ADMIN"}, "Capabilities: CAPABILITY_ADMIN"),
        ({}, {"TemplateConfig": "x"}, "unknown configuration TemplateConfig"),
        (
            {"queue.json": "x" * 1_048_577},
            {},
            "1,048,577 bytes; CloudFormation takes a template of at most 1,048,576 bytes",
        ),
        ({"queue.json": "Resources: [\n"}, {}, "queue.json: not a JSON or YAML template"),
    ],
)
def test_a_mistake_in_the_action_or_its_artifacts_is_one_line_naming_it(
    aws: dict, tmp_path: Path, stack: str, files: dict, extra: dict[str, str], message: str
) -> None:
    inputs = build_output(aws, tmp_path, **{"queue.json": QUEUE_TEMPLATE, **files})

    with pytest.raises(InfraError) as raised:
        run(aws, replace(stack, **extra), inputs, [])

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert stack_status(aws["cfn"], stack) is None  # nothing was sent to CloudFormation


def test_a_resource_cloudformation_refuses_fails_the_execute_with_the_reason(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    fifo = {
        "Resources": {
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": stack, "FifoQueue": True},
            }
        }
    }
    inputs = build_output(aws, tmp_path, **{"fifo.json": fifo})
    lines: list[str] = []
    assert run(aws, replace(stack, "fifo.json"), inputs, lines).succeeded

    failed = run(aws, execute(stack), {}, lines)

    assert not failed.succeeded
    assert "Queue name must end in .fifo for FIFO queues" in failed.summary
    assert failed.failures and all("\n" not in line for line in failed.failures)


def test_a_change_set_cloudformation_cannot_make_fails_with_the_reason(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    reads_missing = {
        "Parameters": {
            "Table": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/photos/dev/none"}
        },
        **TOPIC_TEMPLATE,
    }
    inputs = build_output(aws, tmp_path, **{"reads.json": reads_missing})

    failed = run(aws, replace(stack, "reads.json"), inputs, [])

    assert not failed.succeeded
    assert failed.summary.startswith(f"{stack}: change set {stack}-pipeline failed: ")
    assert "Unable to fetch parameters [/photos/dev/none]" in failed.summary


def test_execute_without_a_change_set_names_it(aws: dict, tmp_path: Path, stack: str) -> None:
    inputs = build_output(aws, tmp_path, **{"topic.json": TOPIC_TEMPLATE})
    assert run(aws, replace(stack, "topic.json", ChangeSetName="other"), inputs, []).succeeded

    with pytest.raises(InfraError, match=f"{stack}: no change set {stack}-pipeline to execute"):
        run(aws, execute(stack), {}, [])


def test_create_update_and_delete_only(aws: dict, tmp_path: Path, stack: str) -> None:
    # Every parameter given: moto finds "no updates" in UpdateStack only then (AWS always).
    named = {
        "Parameters": {"QueueName": {"Type": "String"}},
        "Resources": QUEUE_TEMPLATE["Resources"],
        "Outputs": {"QueueName": {"Value": {"Ref": "QueueName"}}},
    }
    inputs = build_output(
        aws, tmp_path, **{"queue.json": named, "queue.config.json": configured(stack)}
    )
    deploy = {
        "ActionMode": "CREATE_UPDATE",
        "StackName": stack,
        "TemplatePath": f"BuildOutput::{TEMPLATES}/queue.json",
        "TemplateConfiguration": f"BuildOutput::{TEMPLATES}/queue.config.json",
        "RoleArn": ROLE,
    }
    delete = {"ActionMode": "DELETE_ONLY", "StackName": stack, "RoleArn": ROLE}
    lines: list[str] = []

    created = run(aws, deploy, inputs, lines)
    unchanged = run(aws, deploy, inputs, lines)
    deleted = run(aws, delete, {}, lines)
    gone = run(aws, delete, {}, lines)

    assert (created.summary, created.output_variables["QueueName"]) == (
        f"{stack}: CREATE_COMPLETE",
        stack,
    )
    assert (unchanged.summary, unchanged.output_variables) == (
        f"{stack}: no changes",
        created.output_variables,
    )
    assert deleted.succeeded and deleted.summary == f"{stack}: DELETE_COMPLETE"
    assert gone.succeeded and gone.summary == f"{stack}: does not exist; nothing to delete"
    assert stack_status(aws["cfn"], stack) is None


def test_a_template_over_the_inline_limit_reaches_cloudformation_through_s3(
    aws: dict, tmp_path: Path, stack: str
) -> None:
    """Over 51,200 bytes CloudFormation takes a template only from S3 (the pipeline stack
    is one): it is put beside its artifact, and the stack is made from it."""
    padded = json.loads(json.dumps(QUEUE_TEMPLATE))
    padded["Description"] = "padding " * 100
    padded["Metadata"] = {"Padding": ["x" * 1000] * 60}
    size = len(json.dumps(padded).encode())
    assert size > 51_200
    inputs = build_output(
        aws, tmp_path, **{"queue.json": padded, "queue.config.json": configured(stack)}
    )
    config = replace(stack, TemplateConfiguration=f"BuildOutput::{TEMPLATES}/queue.config.json")

    assert run(aws, config, inputs, []).succeeded
    assert run(aws, execute(stack), inputs, []).succeeded

    held = aws["cfn"].get_template(StackName=stack)["TemplateBody"]
    held = held if isinstance(held, dict) else json.loads(held)
    assert held["Metadata"] == padded["Metadata"]
    location = inputs["BuildOutput"][1]
    keys = [
        item["Key"]
        for item in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=location.key)["Contents"]
    ]
    assert any(key.startswith(f"{location.key}-templates/") for key in keys)
