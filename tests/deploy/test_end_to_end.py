"""bootstrap, deploy, diff, gate and destroy, end to end against the suite's local AWS.

The commands run as a user runs them (`python -m infra ...` through the command group) in a
copy of the project, talking to a moto server on 127.0.0.1. moto accepts but does not create
API Gateway, Cognito, CloudFront, CloudTrail, CodePipeline and CodeBuild, and its Lambda keeps
only some function properties (not Architectures or TracingConfig); those are checked in the
template tests, and everything else here through the services' own APIs.

Packaging installs dependencies with an offline stand-in for pip (the packaging tests use the
real one); the zips, their hashes and keys are otherwise real.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from infra import cli as cli_module
from infra.config import LambdaDefaults
from tests.conftest import REPO

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
APP_STACKS = ("photos-dev-data", "photos-dev-backend", "photos-dev-frontend")

CONFIG = f"""
[app]
name = "photos"

[accounts.main]
region = "{REGION}"
account_id = "{ACCOUNT}"

[pipeline]
account = "main"
repository = "photos"
branch = "main"

[defaults.lambda]
memory = 256

[environments.dev]
account = "main"
region = "{REGION}"
log_retention_days = 14
frontend_origins = ["http://localhost:5173"]

[environments.prod]
account = "main"
region = "{REGION}"
approval = true
frontend_origins = ["https://photos.example.com"]
"""


def offline_pip(requirements: Path, target: Path, defaults: LambdaDefaults) -> None:
    """Stands in for `pip install --target`: one importable package per requirement."""
    for line in requirements.read_text().split():
        name = line.split("==")[0].split(">=")[0].split("[")[0].replace("-", "_").lower()
        (target / name).mkdir(exist_ok=True)
        (target / name / "__init__.py").write_text(f"ARCH = {defaults.architecture!r}\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project as a user has it: infra.toml, app.py, the functions and web/."""
    root = tmp_path_factory.mktemp("project")
    (root / "infra.toml").write_text(CONFIG)
    shutil.copy(REPO / "app.py", root / "app.py")
    shutil.copytree(REPO / "lambdas", root / "lambdas", ignore=shutil.ignore_patterns("tests"))
    shutil.copytree(REPO / "web", root / "web")
    return root


@pytest.fixture(scope="module")
def infra(project: Path, moto_server: str) -> Iterator[Any]:
    """`python -m infra ...` in the project, against the local AWS."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setattr("infra.package.pip_install", offline_pip)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            patch.setenv(name, value)

        def run(*args: str) -> Result:
            return CliRunner().invoke(cli_module.cli, [*args, "--endpoint-url", moto_server])

        yield run


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def ok(result: Result) -> str:
    assert result.exit_code == 0, f"{result.output}\n{result.stderr}\n{result.exception!r}"
    return result.output


@pytest.fixture(scope="module")
def bootstrapped(infra: Any) -> str:
    return ok(infra("bootstrap", "--env", "dev"))


@pytest.fixture(scope="module")
def deployed(bootstrapped: str, infra: Any) -> str:
    return ok(infra("deploy", "--env", "dev"))


def stack(endpoint: str, name: str) -> dict:
    return client(endpoint, "cloudformation").describe_stacks(StackName=name)["Stacks"][0]


def outputs(endpoint: str, name: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack(endpoint, name).get("Outputs", [])}


def pending_change_sets(endpoint: str, name: str) -> list[str]:
    """Change sets left on a stack, executed ones aside (AWS drops those, moto keeps them)."""
    summaries = client(endpoint, "cloudformation").list_change_sets(StackName=name)["Summaries"]
    return [
        s["ChangeSetName"]
        for s in summaries
        if s["StackName"] == name and s.get("ExecutionStatus") != "EXECUTE_COMPLETE"
    ]


def stack_names(endpoint: str) -> set[str]:
    return {s["StackName"] for s in client(endpoint, "cloudformation").describe_stacks()["Stacks"]}


def functions(endpoint: str) -> dict[str, dict]:
    configs = client(endpoint, "lambda").list_functions()["Functions"]
    return {c["FunctionName"]: c for c in configs if c["FunctionName"].startswith("photos-dev-")}


# --- bootstrap ----------------------------------------------------------------------------------


def test_bootstrap_deploys_base_and_pipeline(bootstrapped: str, moto_server: str) -> None:
    for name in ("photos-main-base", "photos-main-pipeline"):
        assert stack(moto_server, name)["StackStatus"] == "CREATE_COMPLETE"
    bucket = outputs(moto_server, "photos-main-base")["ArtifactBucketName"]
    client(moto_server, "s3").head_bucket(Bucket=bucket)
    parameter = client(moto_server, "ssm").get_parameter(
        Name="/photos/main/base/ArtifactBucketName"
    )
    assert parameter["Parameter"]["Value"] == bucket
    pipeline = outputs(moto_server, "photos-main-pipeline")
    # The pipeline's template is over CloudFormation's inline limit: it went through S3.
    uploaded = client(moto_server, "s3").list_objects_v2(
        Bucket=bucket, Prefix="templates/photos-main-pipeline/"
    )
    assert [o["Key"].endswith(".json") for o in uploaded["Contents"]] == [True]
    assert "git remote add aws " in bootstrapped
    assert "git push aws HEAD:main" in bootstrapped
    assert pipeline["PipelineUrl"] in bootstrapped


def test_bootstrap_again_changes_nothing(bootstrapped: str, infra: Any, moto_server: str) -> None:
    output = ok(infra("bootstrap", "--env", "dev"))

    assert "photos-main-base: no changes" in output
    assert "photos-main-pipeline: no changes" in output
    assert "LastUpdatedTime" not in stack(moto_server, "photos-main-base")


# --- deploy -------------------------------------------------------------------------------------


def test_deploy_creates_the_environment(deployed: str, moto_server: str) -> None:
    for name in APP_STACKS:
        assert stack(moto_server, name)["StackStatus"] == "CREATE_COMPLETE"
        assert f"{name}: CREATE_COMPLETE" in deployed

    table = client(moto_server, "dynamodb").describe_table(TableName="photos-dev-images")["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    data = outputs(moto_server, "photos-dev-data")
    s3 = client(moto_server, "s3")
    for bucket in (data["UploadBucketName"], data["MediaBucketName"]):
        s3.head_bucket(Bucket=bucket)
    topics = [t["TopicArn"] for t in client(moto_server, "sns").list_topics()["Topics"]]
    assert data["UploadTopicArn"] in topics
    queues = client(moto_server, "sqs").list_queues(QueueNamePrefix="photos-dev-")["QueueUrls"]
    assert {url.rsplit("/", 1)[1] for url in queues} >= {
        "photos-dev-thumbnail",
        "photos-dev-thumbnail-dlq",
    }


def test_functions_run_the_packaged_code(deployed: str, project: Path, moto_server: str) -> None:
    manifest = json.loads((project / "build/lambdas/manifest.json").read_text())["dev"]
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in stack(moto_server, "photos-dev-backend")["Parameters"]
    }
    bucket = outputs(moto_server, "photos-main-base")["ArtifactBucketName"]
    s3 = client(moto_server, "s3")
    deployed_functions = functions(moto_server)
    for name, built in manifest.items():
        key_parameter = f"{name.capitalize()}CodeKey"
        assert parameters[key_parameter] == built["key"]
        head = s3.head_object(Bucket=bucket, Key=built["key"])
        assert head["ContentLength"] == built["size"]
        config = deployed_functions[f"photos-dev-{name}"]
        # Lambda read the zip from the key: its CodeSha256 is the packaged file's digest.
        assert config["CodeSha256"] == base64.b64encode(bytes.fromhex(built["sha256"])).decode()
        assert config["Runtime"] == "python3.12"
        assert config["Handler"] == "handler.lambda_handler"
    assert deployed_functions["photos-dev-thumbnail"]["MemorySize"] == 1024
    assert deployed_functions["photos-dev-images"]["MemorySize"] == 256


def test_stacks_publish_their_values_in_ssm(deployed: str, moto_server: str) -> None:
    ssm = client(moto_server, "ssm")
    published = {
        p["Name"]: p["Value"]
        for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/photos/dev", Recursive=True
        )
        for p in page["Parameters"]
    }
    data = outputs(moto_server, "photos-dev-data")
    assert published["/photos/dev/data/ImagesTableName"] == "photos-dev-images"
    assert published["/photos/dev/data/UploadBucketName"] == data["UploadBucketName"]
    assert (
        published["/photos/dev/backend/ApiUrl"]
        == outputs(moto_server, "photos-dev-backend")["ApiUrl"]
    )
    assert "/photos/dev/frontend/SiteBucketName" in published


def test_deploy_again_without_changes_updates_nothing(
    deployed: str, infra: Any, moto_server: str
) -> None:
    events_before = {
        name: len(
            client(moto_server, "cloudformation").describe_stack_events(StackName=name)[
                "StackEvents"
            ]
        )
        for name in APP_STACKS
    }

    output = ok(infra("deploy", "--env", "dev"))

    for name in APP_STACKS:
        assert f"{name}: no changes" in output
        assert stack(moto_server, name)["StackStatus"] == "CREATE_COMPLETE"
        events = client(moto_server, "cloudformation").describe_stack_events(StackName=name)
        assert len(events["StackEvents"]) == events_before[name]
    assert "uploaded" not in output
    assert not pending_change_sets(moto_server, "photos-dev-backend")


# Variants of the reference app as a developer writes them: a declaration beside app.py and a
# settings file naming it, used with --config. Each builds on app.py's own `app`.
VARIANT_HEADER = """\
import dataclasses
from pathlib import Path

from infra.app.load import load_declaration

reference = load_declaration(Path(__file__).with_name("app.py"), "infra.toml")
"""
MORE_MEMORY = """\
# One function gets more memory.
app = dataclasses.replace(
    reference,
    functions=tuple(
        dataclasses.replace(function, memory=512) if function.name == "images" else function
        for function in reference.functions
    ),
)
"""
BROADER_GRANT = """\
# The images function may also write items: its role's policy widens.
from awacs import dynamodb

[images] = reference.tables
app = dataclasses.replace(
    reference,
    functions=tuple(
        dataclasses.replace(function, grants=(*function.grants, images.grant(dynamodb.PutItem)))
        if function.name == "images"
        else function
        for function in reference.functions
    ),
)
"""
REKEYED = """\
# The images table's sort key renamed: CloudFormation would replace the table. Only the
# data stack is deployed from it, so the app is the reference data alone.
[images] = reference.tables
app = dataclasses.replace(
    reference, tables=(dataclasses.replace(images, sort_key="id"),), functions=(), site=None
)
"""


def variant(project: Path, name: str, body: str) -> str:
    """Writes `<name>.py` and `<name>.toml` (infra.toml naming it); returns the --config value."""
    (project / f"{name}.py").write_text(VARIANT_HEADER + body)
    settings = CONFIG.replace('name = "photos"\n', f'name = "photos"\ndeclaration = "{name}.py"\n')
    assert f'declaration = "{name}.py"' in settings
    (project / f"{name}.toml").write_text(settings)
    return f"{name}.toml"


def test_diff_shows_one_function_change_and_leaves_nothing_behind(
    deployed: str, infra: Any, project: Path, moto_server: str, tmp_path: Path
) -> None:
    variables = tmp_path / "plan.env"
    config = variant(project, "more_memory", MORE_MEMORY)

    output = ok(infra("diff", "--config", config, "--env", "dev", "--variables", str(variables)))

    rows = [line.split() for line in output.splitlines() if line.startswith("  Modify")]
    assert rows == [["Modify", "ImagesFunction", "AWS::Lambda::Function", "-"]]
    assert "photos-dev-data: no changes" in output
    assert variables.read_text() == (
        "export IAM_BROADENED=false\n"
        "export SUMMARY='data: no changes; backend: 1 changes, 0 replacements; "
        "frontend: no changes'\n"
    )
    for name in APP_STACKS:
        assert not pending_change_sets(moto_server, name)
    assert functions(moto_server)["photos-dev-images"]["MemorySize"] == 256


def test_diff_of_a_grant_added_to_a_deployed_environment_asks_for_a_person(
    deployed: str, infra: Any, project: Path, tmp_path: Path
) -> None:
    variables = tmp_path / "plan.env"
    config = variant(project, "broader_grant", BROADER_GRANT)

    output = ok(infra("diff", "--config", config, "--env", "dev", "--variables", str(variables)))

    assert "ImagesRole" in output
    lines = variables.read_text().splitlines()
    assert lines[0] == "export IAM_BROADENED=true"
    assert "backend: 1 changes, 0 replacements, 1 IAM broadenings" in lines[1]
    assert "new environment" not in lines[1]


def test_diff_of_a_new_environment_plans_what_it_can_and_calls_it_new(
    bootstrapped: str, infra: Any, moto_server: str, tmp_path: Path
) -> None:
    """prod is not deployed: data is planned as a new stack; backend and frontend read
    values data has not published yet, so the plan cannot see them and says so. Nothing
    deployed is broadened: creating an environment is not a broadening (prod's own
    `approval = true` is what stops it for a person)."""
    variables = tmp_path / "plan.env"

    output = ok(infra("diff", "--env", "prod", "--variables", str(variables)))

    assert "photos-prod-data: 24 changes" in output
    assert "photos-prod-backend: cannot plan until what it reads is deployed: " in output
    lines = variables.read_text().splitlines()
    assert lines[0] == "export IAM_BROADENED=false"
    assert lines[1].startswith(
        "export SUMMARY='new environment; data: 24 changes, 0 replacements, "
    )
    assert "backend: not planned (reads values not published yet)" in lines[1]
    # Nothing is left: the new stack made for the change set went with it.
    assert not {"photos-prod-data", "photos-prod-backend", "photos-prod-frontend"} & (
        stack_names(moto_server)
    )


def test_memory_change_updates_only_that_function(
    deployed: str, infra: Any, project: Path, moto_server: str
) -> None:
    before = functions(moto_server)
    config = variant(project, "more_memory", MORE_MEMORY)

    output = ok(infra("deploy", "--config", config, "--env", "dev", "backend"))

    after = functions(moto_server)
    assert "photos-dev-backend: 1 changes (update)" in output
    assert after["photos-dev-images"]["MemorySize"] == 512
    for name in ("photos-dev-uploads", "photos-dev-thumbnail", "photos-dev-analyze"):
        assert after[name]["LastModified"] == before[name]["LastModified"]
        assert after[name]["MemorySize"] == before[name]["MemorySize"]
    assert stack(moto_server, "photos-dev-backend")["StackStatus"] == "UPDATE_COMPLETE"


def test_gate_stops_a_table_replacement_and_nothing_is_lost(
    deployed: str, infra: Any, project: Path, moto_server: str
) -> None:
    dynamodb = client(moto_server, "dynamodb")
    item = {"pk": {"S": "USER#1"}, "sk": {"S": "IMAGE#1"}, "status": {"S": "ready"}}
    dynamodb.put_item(TableName="photos-dev-images", Item=item)
    status_before = stack(moto_server, "photos-dev-data")["StackStatus"]
    config = variant(project, "rekeyed", REKEYED)

    result = infra("deploy", "--config", config, "--env", "dev", "data")

    assert result.exit_code == 1
    assert (
        "photos-dev-data: ImagesTable (AWS::DynamoDB::Table): KeySchema changes from "
        in result.stderr
    )
    assert result.stderr.splitlines()[-1] == (
        "photos-dev-data: gate: blocked (1 reason); nothing was changed"
    )
    assert stack(moto_server, "photos-dev-data")["StackStatus"] == status_before
    table = dynamodb.describe_table(TableName="photos-dev-images")["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert (
        dynamodb.get_item(TableName="photos-dev-images", Key={k: item[k] for k in ("pk", "sk")})[
            "Item"
        ]
        == item
    )
    assert not pending_change_sets(moto_server, "photos-dev-data")


def test_deploy_refuses_another_account(deployed: str, infra: Any) -> None:
    result = infra("deploy", "--env", "dev", "--set", 'accounts.main.account_id="111111111111"')

    assert result.exit_code == 1
    assert result.stderr == (
        f"credentials are for account {ACCOUNT}, but dev lives in accounts.main "
        "(111111111111); switch profile\n"
    )


def test_deploy_needs_what_a_stack_reads(bootstrapped: str, infra: Any) -> None:
    """prod's backend reads prod's data stack, which is not deployed."""
    result = infra("deploy", "--env", "prod", "backend")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "photos-prod-backend reads values from photos-prod-data, which is not deployed: "
        "deploy data first"
    )


# --- destroy (last: it removes what the tests above read) ---------------------------------------


def test_destroy_refuses_data_without_force(deployed: str, infra: Any, moto_server: str) -> None:
    result = infra("destroy", "--env", "dev", "data")

    assert result.exit_code == 1
    assert result.stderr.startswith("refusing to destroy data without --force: ")
    assert "photos-dev-data" in stack_names(moto_server)


def test_destroy_refuses_what_a_deployed_stack_reads(
    deployed: str, infra: Any, moto_server: str
) -> None:
    result = infra("destroy", "--env", "dev", "--force", "data")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "photos-dev-backend is deployed and reads values from photos-dev-data: "
        "destroy backend first, or with it"
    )
    assert APP_STACKS[0] in stack_names(moto_server)


def test_destroy_removes_stacks_newest_first_and_lists_what_stays(
    deployed: str, infra: Any, moto_server: str
) -> None:
    site_bucket = outputs(moto_server, "photos-dev-frontend")["SiteBucketName"]

    output = ok(infra("destroy", "--env", "dev"))  # default: frontend and backend

    lines = output.splitlines()
    order = [i for i, line in enumerate(lines) if line.endswith(": DELETE_COMPLETE")]
    assert [lines[i].split(":")[0] for i in order] == ["photos-dev-frontend", "photos-dev-backend"]
    assert f"  SiteBucket (AWS::S3::Bucket): {site_bucket}" in lines
    remaining = stack_names(moto_server)
    assert "photos-dev-frontend" not in remaining
    assert "photos-dev-backend" not in remaining
    assert "photos-dev-data" in remaining
    assert not functions(moto_server)
    client(moto_server, "s3").head_bucket(Bucket=site_bucket)  # retained, as listed
