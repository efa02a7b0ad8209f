"""The git-push flow, end to end, before AWS sees it: bootstrap, push, and the pipeline runs.

A small repository made from the example app (tests/support/example_repo.py) is cloned
clean, bootstrapped into a local AWS, and pushed to a local remote whose pushes start
`infra local pipeline run`. Everything runs as a user runs it, through the CLI: the
repository's own buildspec.yml (its tests, lint, render, package), the inline plan,
gate and deploy actions, the approvals. The tests follow one repository's history, so
they run in order and each builds on the last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.aws_server import LocalAws
from tests.support.example_repo import commit_all, git, make_example_repo

REGION = "eu-west-1"
PIPELINE = "links-main-pipeline"


@dataclass
class Project:
    """The clone a developer works in, its local remote, and the local AWS."""

    clone: Path
    remote: Path
    state: Path
    endpoint: str

    def infra(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`python -m infra ARGS` in the clone, as the developer runs it."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "infra", *args],
            cwd=self.clone, capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"infra {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def pipeline(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.infra(
            "local", "pipeline", *args, "--endpoint-url", self.endpoint, "--state",
            str(self.state), check=check,
        )  # fmt: skip

    def push(self) -> str:
        """`git push` to the local remote: its hook runs the pipeline; its output is the run's."""
        result = subprocess.run(
            ["git", "-C", str(self.clone), "push", "--quiet", "local", "HEAD:main"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stderr  # git relays a hook's output on stderr

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    base = tmp_path_factory.mktemp("pipeline")
    origin = make_example_repo(base / "origin")
    clone = base / "clone"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(clone)], check=True)
    for key, value in (("user.name", "Dev"), ("user.email", "dev@example.com")):
        git(clone, "config", key, value)
    with LocalAws("127.0.0.1", log=base / "aws.log") as aws:
        yield Project(clone, base / "remote.git", base / "state", aws.endpoint)


def stack_status(project: Project, name: str) -> str | None:
    cfn = project.client("cloudformation")
    try:
        return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except cfn.exceptions.ClientError:  # no such stack
        return None


def stack_events_since(project: Project, stack: str, since: datetime) -> list[str]:
    """The statuses the stack went through after `since` (empty: it was not touched)."""
    events = project.client("cloudformation").describe_stack_events(StackName=stack)
    return [
        event["ResourceStatus"] for event in events["StackEvents"] if event["Timestamp"] >= since
    ]


def deployed_resources(project: Project, stack: str) -> dict[str, Any]:
    """Each resource as the stack's deployed template declares it, and a function's code hash.

    Two of these differ exactly in the resources an update touched: the template as
    CloudFormation holds it, and the code Lambda runs (a zip change shows only there).
    """
    cfn = project.client("cloudformation")
    template = cfn.get_template(StackName=stack)["TemplateBody"]
    template = template if isinstance(template, dict) else json.loads(template)
    resources: dict[str, Any] = dict(template["Resources"])
    lambda_ = project.client("lambda")
    for summary in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]:
        if summary["ResourceType"] == "AWS::Lambda::Function":
            function = lambda_.get_function(FunctionName=summary["PhysicalResourceId"])
            code = function["Configuration"]["CodeSha256"]
            resources[summary["LogicalResourceId"]] = {
                "declared": resources[summary["LogicalResourceId"]],
                "code": code,
            }
    return resources


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_1_bootstrap_deploys_base_and_pipeline(project: Project) -> None:
    out = project.infra("bootstrap", "--env", "dev", "--endpoint-url", project.endpoint).stdout
    assert stack_status(project, "links-main-base") in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert stack_status(project, PIPELINE) in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert "git push" in out
    made = project.pipeline("remote", str(project.remote)).stdout
    assert str(project.remote) in made
    git(project.clone, "remote", "add", "local", str(project.remote))


def test_2_a_push_runs_the_pipeline_to_prods_approval(project: Project) -> None:
    output = project.push()
    for line in (
        "Source", "Build", "UpdatePipeline", "Plan-dev", "Deploy-dev", "Plan-prod", "Approve-prod",
    ):  # fmt: skip
        assert line in output, output
    # A new environment is created, not broadened: dev's condition lets it through.
    assert "Approve-dev: skipped" in output
    assert "WaitingForApproval at Approve-prod" in output
    for stack in ("links-dev-data", "links-dev-backend"):
        assert stack_status(project, stack) == "CREATE_COMPLETE", output
    assert stack_status(project, "links-prod-data") is None


def test_3_approving_prod_deploys_it(project: Project) -> None:
    output = project.pipeline("approve", "prod").stdout
    assert "Succeeded" in output.splitlines()[-1], output
    for stack in ("links-prod-data", "links-prod-backend"):
        assert stack_status(project, stack) == "CREATE_COMPLETE", output


APP_STACKS = ("links-dev-data", "links-dev-backend", "links-prod-data", "links-prod-backend")


def test_4_a_run_without_a_change_changes_nothing(project: Project) -> None:
    before = {stack: deployed_resources(project, stack) for stack in APP_STACKS}
    since = datetime.now(UTC)
    output = project.pipeline("run", "--repo", str(project.remote), "--approve", "prod").stdout
    assert output.splitlines()[-1].split(": ", 1)[1].startswith("Succeeded"), output
    for stack in APP_STACKS:
        assert stack_events_since(project, stack, since) == [], stack
        assert deployed_resources(project, stack) == before[stack], stack


def test_5_a_code_change_updates_only_that_function(project: Project) -> None:
    handler = project.clone / "lambdas" / "redirect" / "handler.py"
    handler.write_text(handler.read_text() + "\n# a comment changes the zip\n")
    commit_all(project.clone, "Redirect: a comment")
    before = {stack: deployed_resources(project, stack) for stack in APP_STACKS}
    since = datetime.now(UTC)
    output = project.push()
    assert "WaitingForApproval at Approve-prod" in output, output
    after = {stack: deployed_resources(project, stack) for stack in APP_STACKS}
    assert changed(before["links-dev-backend"], after["links-dev-backend"]) == {"RedirectFunction"}
    assert (
        after["links-dev-backend"]["RedirectFunction"]["code"]
        != before["links-dev-backend"]["RedirectFunction"]["code"]
    )
    assert "UPDATE_COMPLETE" in stack_events_since(project, "links-dev-backend", since)
    for stack in ("links-dev-data", "links-prod-data", "links-prod-backend"):
        assert stack_events_since(project, stack, since) == [], stack
        assert after[stack] == before[stack], stack


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_6_a_rekeyed_table_is_stopped_at_the_gate_and_its_items_kept(project: Project) -> None:
    dynamodb = project.client("dynamodb")
    table = next(
        name for name in dynamodb.list_tables()["TableNames"] if name.startswith("links-dev-")
    )
    item = {"pk": {"S": "LINK#kept"}, "sk": {"S": "LINK"}, "url": {"S": "https://example.com"}}
    dynamodb.put_item(TableName=table, Item=item)
    replace_in(project.clone / "app.py", 'partition_key="pk"', 'partition_key="link"')
    commit_all(project.clone, "Links: key the table by link")

    output = project.push()

    assert "Gate-data" in output and "FAILED" in output, output
    assert "Failed at Deploy-dev" in output, output
    assert "Execute-data" not in output  # the change set the gate refused never ran
    schema = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
    assert {key["AttributeName"] for key in schema} == {"pk", "sk"}
    held = dynamodb.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert held["Item"] == item
    # Undo it, as the developer would, before the next change.
    replace_in(project.clone / "app.py", 'partition_key="link"', 'partition_key="pk"')
    commit_all(project.clone, "Links: key the table as before")


# Support staff may read links: a role of the app's own, through the escape hatch.
SUPPORT_ROLE = """

def support_access(stack: object) -> list[object]:
    from troposphere import GetAtt, Sub, iam

    table = GetAtt("LinksTable", "Arn")
    reader = {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": table}
    return [
        iam.Role(
            "SupportRole",
            AssumeRolePolicyDocument={
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                    "Action": "sts:AssumeRole",
                }],
            },
            Policies=[iam.Policy(
                PolicyName="read-links",
                PolicyDocument={"Version": "2012-10-17", "Statement": [reader]},
            )],
        )
    ]
"""


def test_7_a_change_that_broadens_iam_stops_dev_for_approval(project: Project) -> None:
    app = project.clone / "app.py"
    replace_in(app, "\napp = App(", SUPPORT_ROLE + "\n\napp = App(")
    replace_in(
        app, "    settings=(", '    extra_resources={"data": support_access},\n    settings=('
    )
    commit_all(project.clone, "Links: a role support staff assume to read links")
    before = deployed_resources(project, "links-dev-data")
    since = datetime.now(UTC)

    output = project.push()

    assert "IAM broadened: true" in output, output
    assert "WaitingForApproval at Approve-dev" in output, output
    # Nothing deployed yet: the stack is as it was.
    assert stack_events_since(project, "links-dev-data", since) == []
    assert deployed_resources(project, "links-dev-data") == before
