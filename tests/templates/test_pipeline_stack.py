"""The pipeline stack: stage layout, deploy safety, source variants, least-privilege roles.

Policies are compared after resolving CloudFormation's intrinsics into readable
text (`arn:aws:s3:::<BaseArtifactBucketName>/...`), so each expectation reads
like the policy IAM will evaluate.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from infra.cli import cli
from infra.commands.lint import lint_templates
from infra.config import load_config
from infra.layout import account_stacks
from infra.render import render, template_json
from infra.stack import StackContext
from pipelines import buildspecs
from pipelines.stack import PipelineStack
from tests.templates.conftest import REPO, Template, as_list, only, props, resources
from tests.templates.test_linters import checkov_bin

CONNECTION = (
    "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111111111111",
    "AWS::URLSuffix": "amazonaws.com",
}
BUCKET = "arn:aws:s3:::<BaseArtifactBucketName>"
KEY = "<BaseArtifactKeyArn>"
ACCOUNT = "eu-west-1:111111111111"
STAGES = ["Source", "Build", "UpdatePipeline", "Plan-dev", "Approve-dev", "Deploy-dev",
          "Plan-prod", "Approve-prod", "Deploy-prod"]  # fmt: skip
ENV_STACKS = [f"photos-{env}-{stack}" for env in ("dev", "prod")
              for stack in ("data", "backend", "frontend")]  # fmt: skip
# What CloudFormation would delete data with; retained resources never need it.
DATA_DELETING_ACTIONS = {
    "dynamodb:DeleteTable",
    "s3:DeleteBucket",
    "kms:ScheduleKeyDeletion",
    "cognito-idp:DeleteUserPool",
    "codecommit:DeleteRepository",
}


def resolve(value: Any) -> Any:
    """Intrinsics -> text: pseudo parameters filled in, other Refs as `<Name>`."""
    if isinstance(value, list):
        return [resolve(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return PSEUDO.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else sub
        names = {**PSEUDO, **{name: resolve(v) for name, v in variables.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda match: names[match.group(1)], text)
    return {key: resolve(item) for key, item in value.items()}


def render_pipeline(*overrides: str) -> Template:
    config = load_config(REPO / "infra.toml", overrides)
    return json.loads(template_json(PipelineStack(StackContext(config, config.accounts["main"]))))


CONNECTION_OVERRIDES = (
    'pipeline.repository="acme/photos"',
    f'pipeline.connection_arn="{CONNECTION}"',
    'pipeline.notification_email="team@example.com"',
)


@pytest.fixture(scope="module")
def pipeline_template(templates: dict[str, Template]) -> Template:
    return templates["main/pipeline"]


@pytest.fixture(scope="module")
def connected() -> Template:
    """The same app with its code on GitHub through a CodeConnections connection."""
    return render_pipeline(*CONNECTION_OVERRIDES)


@pytest.fixture(scope="module")
def pipeline(pipeline_template: Template) -> Template:
    return props(pipeline_template, "Pipeline")


def stage(pipeline: Template, name: str) -> Template:
    return next(s for s in pipeline["Stages"] if s["Name"] == name)


def statements(template: Template, role: str) -> dict[str, Template]:
    [policy] = props(template, role)["Policies"]
    return {s["Sid"]: resolve(s) for s in policy["PolicyDocument"]["Statement"]}


def grants(template: Template, role: str) -> dict[str, tuple[list[str], list[str]]]:
    """Sid -> (actions, resources) of a role's Allow statements."""
    return {
        sid: (s["Action"], s["Resource"])
        for sid, s in statements(template, role).items()
        if s["Effect"] == "Allow"
    }


def env_vars(action: Template) -> dict[str, str]:
    entries = json.loads(resolve(action["Configuration"]["EnvironmentVariables"]))
    assert all(entry["type"] == "PLAINTEXT" for entry in entries)
    return {entry["name"]: entry["value"] for entry in entries}


def stack_arns(*names: str) -> list[str]:
    return [f"arn:aws:cloudformation:{ACCOUNT}:stack/{name}/*" for name in names]


def role_arns(*names: str) -> list[str]:
    return [f"arn:aws:iam::111111111111:role/{name}" for name in names]


def params(*paths: str) -> list[str]:
    return [f"arn:aws:ssm:{ACCOUNT}:parameter{path}" for path in paths]


def projects(*names: str) -> list[str]:
    return [f"arn:aws:codebuild:{ACCOUNT}:project/photos-main-pipeline-{n}" for n in names]


# -- the pipeline ----------------------------------------------------------------------------


def test_stages_run_in_deploy_order(pipeline: Template) -> None:
    assert [s["Name"] for s in pipeline["Stages"]] == STAGES


def test_a_run_can_let_named_gate_findings_through(pipeline: Template) -> None:
    """GateAllow: a person starts one run with it set; every Plan and Gate action gets it."""
    assert pipeline["Variables"] == [
        {
            "Name": "GateAllow",
            "DefaultValue": "none",
            "Description": "STACK:LOGICAL_ID:KIND ... the gate lets through in this run",
        }
    ]


def test_pipeline_is_v2_queued_and_never_restarts_on_update(pipeline: Template) -> None:
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["ExecutionMode"] == "QUEUED"
    assert pipeline["RestartExecutionOnUpdate"] is False
    assert pipeline["Name"] == "photos-main-pipeline"
    assert pipeline["RoleArn"] == {"Fn::GetAtt": ["PipelineRole", "Arn"]}


def test_artifacts_are_stored_in_the_base_bucket_under_the_base_key(pipeline: Template) -> None:
    assert pipeline["ArtifactStore"] == {
        "Type": "S3",
        "Location": {"Ref": "BaseArtifactBucketName"},
        "EncryptionKey": {"Id": {"Ref": "BaseArtifactKeyArn"}, "Type": "KMS"},
    }


def test_base_values_come_through_ssm_parameters(pipeline_template: Template) -> None:
    assert pipeline_template["Parameters"] == {
        "BaseArtifactBucketName": {
            "Default": "/photos/main/base/ArtifactBucketName",
            "Description": "Pipeline artifacts and Lambda zips",
            "Type": "AWS::SSM::Parameter::Value<String>",
        },
        "BaseArtifactKeyArn": {
            "Default": "/photos/main/base/ArtifactKeyArn",
            "Description": "KMS key of the artifact bucket",
            "Type": "AWS::SSM::Parameter::Value<String>",
        },
    }


def test_build_runs_the_repositorys_buildspec_on_the_source(pipeline: Template) -> None:
    [action] = stage(pipeline, "Build")["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeBuild"
    assert action["Configuration"] == {"ProjectName": {"Ref": "BuildProject"}}
    assert action["InputArtifacts"] == [{"Name": "SourceOutput"}]
    assert action["OutputArtifacts"] == [{"Name": "BuildOutput"}]


def test_the_pipeline_updates_itself_before_deploying(pipeline: Template) -> None:
    create, execute = stage(pipeline, "UpdatePipeline")["Actions"]
    assert create["RunOrder"] == 1 and execute["RunOrder"] == 2
    assert resolve(create["Configuration"]) == {
        "ActionMode": "CHANGE_SET_REPLACE",
        "StackName": "photos-main-pipeline",
        "ChangeSetName": "photos-main-pipeline-pipeline",
        "TemplatePath": "BuildOutput::build/templates/main/pipeline.json",
        "Capabilities": "CAPABILITY_NAMED_IAM",
        "RoleArn": "<SelfUpdateRole.Arn>",
    }
    assert execute["Configuration"] == {
        "ActionMode": "CHANGE_SET_EXECUTE",
        "StackName": "photos-main-pipeline",
        "ChangeSetName": "photos-main-pipeline-pipeline",
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_plan_exports_its_summary_under_a_namespace(pipeline: Template, env: str) -> None:
    [action] = stage(pipeline, f"Plan-{env}")["Actions"]
    assert action["Namespace"] == f"Plan{env.title()}"
    assert action["Configuration"]["ProjectName"] == {"Ref": "CheckProject"}
    assert action["InputArtifacts"] == [{"Name": "BuildOutput"}]
    assert env_vars(action) == {
        "CHECK": "plan",
        "ENV": env,
        "CFN_ROLE_ARN": f"<{env.title()}DeployRole.Arn>",
        "INFRA_GATE_ALLOW": "#{variables.GateAllow}",
    }


def test_prod_approval_always_runs(pipeline: Template) -> None:
    assert "BeforeEntry" not in stage(pipeline, "Approve-prod")


def test_dev_approval_runs_only_when_iam_broadens(pipeline: Template) -> None:
    assert stage(pipeline, "Approve-dev")["BeforeEntry"] == {
        "Conditions": [
            {
                "Result": "SKIP",
                "Rules": [
                    {
                        "Name": "IamBroadened",
                        "RuleTypeId": {
                            "Category": "Rule",
                            "Owner": "AWS",
                            "Provider": "VariableCheck",
                            "Version": "1",
                        },
                        "Configuration": {
                            "Variable": "#{PlanDev.IAM_BROADENED}",
                            "Operator": "EQ",
                            "Value": "true",
                        },
                    }
                ],
            }
        ]
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_approval_shows_the_plan_and_notifies(pipeline: Template, env: str) -> None:
    [action] = stage(pipeline, f"Approve-{env}")["Actions"]
    assert action["ActionTypeId"] == {
        "Category": "Approval",
        "Owner": "AWS",
        "Provider": "Manual",
        "Version": "1",
    }
    config = resolve(action["Configuration"])
    summary = f"#{{Plan{env.title()}.SUMMARY}}"
    assert summary in config["CustomData"]
    # CodePipeline takes 1,000 characters; `infra diff` keeps SUMMARY to 900.
    assert len(config["CustomData"].replace(summary, "")) + 900 <= 1000
    assert config["NotificationArn"] == "<NotificationTopic>"
    assert config["ExternalEntityLink"] == (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "photos-main-pipeline/executions/#{codepipeline.PipelineExecutionId}/timeline"
        "?region=eu-west-1"
    )


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_stack_is_planned_gated_then_executed_in_order(pipeline: Template, env: str) -> None:
    actions = stage(pipeline, f"Deploy-{env}")["Actions"]
    orders = [a["RunOrder"] for a in actions]
    assert orders == sorted(set(orders)), "run orders must rise strictly"
    *stack_actions, publish = actions
    deployed = []
    for create, gate, execute in zip(*[iter(stack_actions)] * 3, strict=True):
        config = resolve(create["Configuration"])
        stack, change_set = config["StackName"], config["ChangeSetName"]
        deployed.append(stack)
        short = stack.removeprefix(f"photos-{env}-")
        assert config == {
            "ActionMode": "CHANGE_SET_REPLACE",
            "StackName": stack,
            "ChangeSetName": f"{stack}-pipeline",
            "TemplatePath": f"BuildOutput::build/templates/{env}/{short}.json",
            "TemplateConfiguration": f"BuildOutput::build/templates/{env}/{short}.config.json",
            "Capabilities": "CAPABILITY_IAM,CAPABILITY_NAMED_IAM",
            "RoleArn": f"<{env.title()}DeployRole.Arn>",
        }
        assert gate["ActionTypeId"]["Provider"] == "CodeBuild"
        assert gate["Configuration"]["ProjectName"] == {"Ref": "CheckProject"}
        assert env_vars(gate) == {
            "CHECK": "gate",
            "STACK": stack,
            "CHANGE_SET": change_set,
            "INFRA_GATE_ALLOW": "#{variables.GateAllow}",
        }
        assert execute["Configuration"] == {
            "ActionMode": "CHANGE_SET_EXECUTE",
            "StackName": stack,
            "ChangeSetName": change_set,
        }
    assert deployed == [f"photos-{env}-{s}" for s in ("data", "backend", "frontend")]
    assert publish["Name"] == "Publish"
    assert publish["Configuration"]["ProjectName"] == {"Ref": "PublishProject"}
    assert env_vars(publish) == {"ENV": env}


def test_no_action_ever_replaces_a_failed_stack(pipeline: Template) -> None:
    modes = [
        a["Configuration"]["ActionMode"]
        for s in pipeline["Stages"]
        for a in s["Actions"]
        if a["ActionTypeId"]["Provider"] == "CloudFormation"
    ]
    assert len(modes) == 2 + 2 * 3 * 2
    assert set(modes) == {"CHANGE_SET_REPLACE", "CHANGE_SET_EXECUTE"}
    assert "REPLACE_ON_FAILURE" not in json.dumps(pipeline)


def test_every_build_action_reads_the_one_build_output(pipeline: Template) -> None:
    for s in pipeline["Stages"][2:]:
        for action in s["Actions"]:
            if "InputArtifacts" in action:
                assert action["InputArtifacts"] == [{"Name": "BuildOutput"}], action["Name"]


# -- source variants -------------------------------------------------------------------------


def test_codecommit_source_is_retained_and_started_by_a_branch_rule(
    pipeline_template: Template, pipeline: Template
) -> None:
    repository = pipeline_template["Resources"]["Repository"]
    assert repository["DeletionPolicy"] == repository["UpdateReplacePolicy"] == "Retain"
    assert repository["Properties"]["RepositoryName"] == "photos"
    [action] = stage(pipeline, "Source")["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeCommit"
    assert action["Configuration"] == {
        "RepositoryName": "photos",
        "BranchName": "main",
        "PollForSourceChanges": "false",
        "OutputArtifactFormat": "CODE_ZIP",
    }
    assert "Triggers" not in pipeline
    rule = props(pipeline_template, "SourceRule")
    assert rule["EventPattern"] == {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [{"Fn::GetAtt": ["Repository", "Arn"]}],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": ["main"],
        },
    }
    [target] = resolve(rule["Targets"])
    assert target == {
        "Id": "pipeline",
        "Arn": "arn:aws:codepipeline:eu-west-1:111111111111:<Pipeline>",
        "RoleArn": "<SourceRuleRole.Arn>",
    }
    assert grants(pipeline_template, "SourceRuleRole") == {
        "StartOwnPipeline": (
            ["codepipeline:StartPipelineExecution"],
            [f"arn:aws:codepipeline:{ACCOUNT}:photos-main-pipeline"],
        )
    }
    [trust] = props(pipeline_template, "SourceRuleRole")["AssumeRolePolicyDocument"]["Statement"]
    assert resolve(trust["Principal"]) == {"Service": "events.amazonaws.com"}


def test_a_connection_source_uses_a_push_trigger_and_no_repository(connected: Template) -> None:
    assert resources(connected, "AWS::CodeCommit::Repository") == {}
    assert resources(connected, "AWS::Events::Rule") == {}
    assert "RepositoryCloneUrlHttp" not in connected["Outputs"]
    pipeline = props(connected, "Pipeline")
    [action] = stage(pipeline, "Source")["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"] == {
        "ConnectionArn": CONNECTION,
        "FullRepositoryId": "acme/photos",
        "BranchName": "main",
        "OutputArtifactFormat": "CODE_ZIP",
        "DetectChanges": "false",
    }
    assert pipeline["Triggers"] == [
        {
            "ProviderType": "CodeStarSourceConnection",
            "GitConfiguration": {
                "SourceActionName": "Source",
                "Push": [{"Branches": {"Includes": ["main"]}}],
            },
        }
    ]
    pipeline_grants = grants(connected, "PipelineRole")
    assert "ReadSourceRepository" not in pipeline_grants
    assert pipeline_grants["UseSourceConnection"] == (
        ["codeconnections:UseConnection"],
        [CONNECTION],
    )
    update_grants = grants(connected, "SelfUpdateRole")
    assert update_grants["PassSourceConnection"] == (
        ["codeconnections:PassConnection"],
        [CONNECTION],
    )
    assert not {"Repository", "SourceRule", "PassSourceRole"} & set(update_grants)
    [subscription] = props(connected, "NotificationTopic")["Subscription"]
    assert subscription == {"Endpoint": "team@example.com", "Protocol": "email"}


def test_the_connection_variant_lints_clean(connected: Template, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(connected, indent=1))
    assert lint_templates([path]) == []
    command = [checkov_bin(), "--framework", "cloudformation", "--skip-download", "--quiet",
               "--compact", "--output", "json", "-f", str(path)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    assert report["results"]["failed_checks"] == []


# -- CodeBuild -------------------------------------------------------------------------------


@pytest.mark.parametrize("project", ["BuildProject", "CheckProject", "PublishProject"])
def test_projects_run_python_on_graviton_with_own_logs_cache_and_key(
    pipeline_template: Template, project: str
) -> None:
    purpose = project.removesuffix("Project").lower()
    config = resolve(props(pipeline_template, project))
    assert config["Name"] == f"photos-main-pipeline-{purpose}"
    environment = config["Environment"]
    assert environment["Image"] == "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    assert environment["Type"] == "ARM_CONTAINER"
    assert environment["PrivilegedMode"] is False
    assert config["EncryptionKey"] == KEY
    assert config["Cache"] == {
        "Type": "S3",
        "Location": f"<BaseArtifactBucketName>/cache/{purpose}",
    }
    assert config["LogsConfig"] == {
        "CloudWatchLogs": {"Status": "ENABLED", "GroupName": f"<{purpose.title()}LogGroup>"}
    }
    assert config["ServiceRole"] == f"<{purpose.title()}Role.Arn>"
    assert config["Source"]["Type"] == config["Artifacts"]["Type"] == "CODEPIPELINE"
    log_group = pipeline_template["Resources"][f"{purpose.title()}LogGroup"]
    assert log_group["Properties"]["LogGroupName"] == f"/aws/codebuild/{config['Name']}"
    assert log_group["Properties"]["RetentionInDays"] == 365  # prod's, the longest
    assert log_group["Properties"]["KmsKeyId"] == {"Ref": "BaseArtifactKeyArn"}
    assert log_group["DeletionPolicy"] == "Delete"


def test_build_project_gets_its_report_group_and_bucket(pipeline_template: Template) -> None:
    build = resolve(props(pipeline_template, "BuildProject"))
    assert build["Source"]["BuildSpec"] == "buildspec.yml"
    assert build["Environment"]["EnvironmentVariables"] == [
        {"Name": "INFRA_ARTIFACT_BUCKET", "Type": "PLAINTEXT", "Value": "<BaseArtifactBucketName>"},
        {"Name": "REPORT_GROUP", "Type": "PLAINTEXT", "Value": "<TestReportGroup.Arn>"},
    ]
    reports = resolve(props(pipeline_template, "TestReportGroup"))
    # buildspec.yml's `reports: tests` in project <name> resolves to `<name>-tests`.
    assert reports["Name"] == f"{build['Name']}-tests"
    assert reports["Type"] == "TEST"
    assert reports["ExportConfig"] == {
        "ExportConfigType": "S3",
        "S3Destination": {
            "Bucket": "<BaseArtifactBucketName>",
            "Path": "photos-main-pipeline/reports",
            "Packaging": "NONE",
            "EncryptionDisabled": False,
            "EncryptionKey": KEY,
        },
    }


def buildspec(template: Template, project: str) -> Template:
    return yaml.safe_load(props(template, project)["Source"]["BuildSpec"])


def test_check_buildspec_plans_or_gates_and_exports_the_plan(pipeline_template: Template) -> None:
    spec = buildspec(pipeline_template, "CheckProject")
    assert spec["env"]["exported-variables"] == ["IAM_BROADENED", "SUMMARY"]
    assert spec["env"]["variables"]["IAM_BROADENED"] == "true"  # unknown plan: ask a person
    assert spec["phases"]["install"]["commands"] == [
        "pip install --quiet --disable-pip-version-check ."
    ]
    [command] = spec["phases"]["build"]["commands"]
    assert 'plan) python -m infra diff --env "$ENV" --prebuilt --variables plan.env' in command
    assert ". ./plan.env" in command
    assert 'gate) python -m infra gate --stack "$STACK" --change-set "$CHANGE_SET"' in command
    assert spec["cache"] == {"paths": ["/root/.cache/pip/**/*"]}


def test_publish_buildspec_publishes_the_env(pipeline_template: Template) -> None:
    spec = buildspec(pipeline_template, "PublishProject")
    assert spec["phases"]["build"]["commands"] == ['python -m infra publish --env "$ENV"']
    assert spec["phases"]["install"]["runtime-versions"] == {"python": "3.12"}


def infra_command(name: str) -> click.Command:
    with click.Context(cli) as group:
        command = cli.get_command(group, name)
    assert command is not None, f"no infra command {name!r}"
    return command


@pytest.mark.parametrize(
    "line",
    [
        buildspecs.PLAN_COMMAND.split(" && ")[0],
        buildspecs.GATE_COMMAND,
        buildspecs.PUBLISH_COMMAND,
    ],
)
def test_inline_commands_parse_with_the_clis_own_options(line: str) -> None:
    words = shlex.split(line)
    assert words[:3] == ["python", "-m", "infra"]
    infra_command(words[3]).make_context(words[3], words[4:], resilient_parsing=False)


def test_plan_hands_the_deploy_role_through_the_variable_diff_reads() -> None:
    [role] = [p for p in infra_command("diff").params if p.name == "role_arn"]
    assert role.envvar == "CFN_ROLE_ARN"


# -- notifications ---------------------------------------------------------------------------


def test_failures_and_pending_approvals_are_notified(pipeline_template: Template) -> None:
    rule = resolve(props(pipeline_template, "NotificationRule"))
    assert rule["EventTypeIds"] == [
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-manual-approval-needed",
    ]
    assert rule["DetailType"] == "FULL"
    assert rule["Resource"] == "arn:aws:codepipeline:eu-west-1:111111111111:<Pipeline>"
    assert rule["Targets"] == [{"TargetType": "SNS", "TargetAddress": "<NotificationTopic>"}]
    assert (
        "NotificationTopicPolicy" in pipeline_template["Resources"]["NotificationRule"]["DependsOn"]
    )


def test_topic_is_encrypted_and_only_notifications_publish(pipeline_template: Template) -> None:
    topic = props(pipeline_template, "NotificationTopic")
    assert topic["KmsMasterKeyId"] == {"Ref": "BaseArtifactKeyArn"}
    assert "Subscription" not in topic  # no notification_email in the shipped config
    policy = props(pipeline_template, "NotificationTopicPolicy")["PolicyDocument"]
    by_sid = {s["Sid"]: resolve(s) for s in policy["Statement"]}
    assert by_sid["CodeStarNotificationsPublish"] == {
        "Sid": "CodeStarNotificationsPublish",
        "Effect": "Allow",
        "Principal": {"Service": "codestar-notifications.amazonaws.com"},
        "Action": ["sns:Publish"],
        "Resource": ["<NotificationTopic>"],
        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
    }
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"


def test_publishes_what_people_and_scripts_need(pipeline_template: Template) -> None:
    names = {
        p["Properties"]["Name"]
        for p in resources(pipeline_template, "AWS::SSM::Parameter").values()
    }
    assert names == {
        "/photos/main/pipeline/PipelineName",
        "/photos/main/pipeline/PipelineUrl",
        "/photos/main/pipeline/RepositoryCloneUrlHttp",
        "/photos/main/pipeline/NotificationTopicArn",
    }
    assert resolve(pipeline_template["Outputs"]["PipelineUrl"]["Value"]) == (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "<Pipeline>/view?region=eu-west-1"
    )


# -- roles -----------------------------------------------------------------------------------


def trusted_service(template: Template, role: str) -> str:
    [trust] = props(template, role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == ["sts:AssumeRole"]
    assert resolve(trust["Condition"]) == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    return resolve(trust["Principal"])["Service"]


@pytest.mark.parametrize(
    ("role", "name", "service"),
    [
        ("PipelineRole", "photos-main-pipeline-codepipeline", "codepipeline"),
        ("BuildRole", "photos-main-pipeline-build", "codebuild"),
        ("CheckRole", "photos-main-pipeline-check", "codebuild"),
        ("PublishRole", "photos-main-pipeline-publish", "codebuild"),
        ("SourceRuleRole", "photos-main-pipeline-source", "events"),
        ("SelfUpdateRole", "photos-main-pipeline-cfn", "cloudformation"),
        ("DevDeployRole", "photos-dev-cfn", "cloudformation"),
        ("ProdDeployRole", "photos-prod-cfn", "cloudformation"),
    ],
)
def test_each_role_is_named_and_trusts_one_service(
    pipeline_template: Template, role: str, name: str, service: str
) -> None:
    assert props(pipeline_template, role)["RoleName"] == name
    assert trusted_service(pipeline_template, role) == f"{service}.amazonaws.com"


def test_pipeline_role(pipeline_template: Template) -> None:
    assert grants(pipeline_template, "PipelineRole") == {
        "RunArtifacts": (
            ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            [f"{BUCKET}/photos-main-pipeline/*"],
        ),
        "ArtifactBucket": (
            ["s3:GetBucketVersioning", "s3:GetBucketAcl", "s3:GetBucketLocation"],
            [BUCKET],
        ),
        "ArtifactKey": (["kms:Decrypt", "kms:GenerateDataKey"], [KEY]),
        "RunOwnBuilds": (
            ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
            projects("build", "check", "publish"),
        ),
        "ChangeSetsOnOwnStacks": (
            [
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeStacks",
            ],
            stack_arns("photos-main-pipeline", *ENV_STACKS),
        ),
        "PassDeployRolesToCloudFormation": (
            ["iam:PassRole"],
            role_arns("photos-dev-cfn", "photos-prod-cfn", "photos-main-pipeline-cfn"),
        ),
        "ReadPublishedValues": (
            ["ssm:GetParameter", "ssm:GetParameters"],
            params("/photos/main/*", "/photos/dev/*", "/photos/prod/*"),
        ),
        "NotifyApprovers": (["sns:Publish"], ["<NotificationTopic>"]),
        "ReadSourceRepository": (
            [
                "codecommit:GetBranch",
                "codecommit:GetCommit",
                "codecommit:GetRepository",
                "codecommit:UploadArchive",
                "codecommit:GetUploadArchiveStatus",
                "codecommit:CancelUploadArchive",
            ],
            [f"arn:aws:codecommit:{ACCOUNT}:photos"],
        ),
    }


def project_basics(purpose: str, *, writes: bool) -> dict[str, tuple[list[str], list[str]]]:
    run = ["s3:GetObject", "s3:GetObjectVersion", *(["s3:PutObject"] if writes else [])]
    return {
        "WriteOwnLogs": (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [f"<{purpose.title()}LogGroup.Arn>"],
        ),
        "RunArtifacts": (run, [f"{BUCKET}/photos-main-pipeline/*"]),
        "OwnCache": (["s3:GetObject", "s3:PutObject"], [f"{BUCKET}/cache/{purpose}/*"]),
        "ArtifactBucket": (["s3:GetBucketAcl", "s3:GetBucketLocation"], [BUCKET]),
        "ArtifactKey": (["kms:Decrypt", "kms:GenerateDataKey"], [KEY]),
    }


def test_build_role(pipeline_template: Template) -> None:
    assert grants(pipeline_template, "BuildRole") == {
        **project_basics("build", writes=True),
        "TestReports": (
            [
                "codebuild:CreateReport",
                "codebuild:UpdateReport",
                "codebuild:BatchPutTestCases",
                "codebuild:BatchPutCodeCoverages",
            ],
            ["<TestReportGroup.Arn>"],
        ),
        "LambdaZips": (["s3:GetObject", "s3:PutObject"], [f"{BUCKET}/lambdas/*"]),
        "FindLambdaZips": (["s3:ListBucket"], [BUCKET]),
        "ReadBaseValues": (
            ["ssm:GetParameter", "ssm:GetParameters"],
            params("/photos/main/base/*"),
        ),
    }


def test_check_role_plans_but_never_executes(pipeline_template: Template) -> None:
    role = grants(pipeline_template, "CheckRole")
    assert role == {
        **project_basics("check", writes=False),
        "PlanOnEnvironmentStacks": (
            [
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:GetTemplate",
                "cloudformation:DescribeStackResources",
                "cloudformation:DeleteStack",
            ],
            stack_arns(*ENV_STACKS),
        ),
        "InspectEnvironmentQueues": (
            ["sqs:GetQueueAttributes", "sqs:ListDeadLetterSourceQueues"],
            [f"arn:aws:sqs:{ACCOUNT}:photos-dev-*", f"arn:aws:sqs:{ACCOUNT}:photos-prod-*"],
        ),
        "LargeTemplates": (["s3:PutObject", "s3:GetObject"], [f"{BUCKET}/templates/*"]),
        "PassEnvironmentDeployRoles": (
            ["iam:PassRole"],
            role_arns("photos-dev-cfn", "photos-prod-cfn"),
        ),
        "ReadPublishedValues": (
            ["ssm:GetParameter", "ssm:GetParameters"],
            params("/photos/*"),
        ),
    }


def test_publish_role_reaches_only_the_site_buckets(pipeline_template: Template) -> None:
    assert grants(pipeline_template, "PublishRole") == {
        **project_basics("publish", writes=False),
        "ReadEnvironmentValues": (
            ["ssm:GetParameter", "ssm:GetParameters"],
            params("/photos/dev/*", "/photos/prod/*"),
        ),
        "ListSiteBuckets": (
            ["s3:ListBucket"],
            ["arn:aws:s3:::photos-dev-frontend-*", "arn:aws:s3:::photos-prod-frontend-*"],
        ),
        "SyncSiteFiles": (
            ["s3:PutObject", "s3:DeleteObject"],
            ["arn:aws:s3:::photos-dev-frontend-*/*", "arn:aws:s3:::photos-prod-frontend-*/*"],
        ),
        "InvalidateSites": (
            ["cloudfront:CreateInvalidation"],
            ["arn:aws:cloudfront::111111111111:distribution/*"],
        ),
    }


@pytest.mark.parametrize(
    ("role", "service"),
    [
        ("PipelineRole", "cloudformation"),
        ("CheckRole", "cloudformation"),
        ("DevDeployRole", "lambda"),
        ("ProdDeployRole", "lambda"),
    ],
)
def test_pass_role_always_names_the_receiving_service(
    pipeline_template: Template, role: str, service: str
) -> None:
    passing = [s for s in statements(pipeline_template, role).values()
               if "iam:PassRole" in s["Action"] and s["Effect"] == "Allow"]  # fmt: skip
    assert passing
    for statement in passing:
        assert statement["Condition"] == {
            "StringEquals": {"iam:PassedToService": f"{service}.amazonaws.com"}
        }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_deploy_role_touches_iam_only_under_the_envs_names(
    pipeline_template: Template, env: str
) -> None:
    role = f"{env.title()}DeployRole"
    by_sid = statements(pipeline_template, role)
    env_roles = f"arn:aws:iam::111111111111:role/photos-{env}-*"
    for sid, statement in by_sid.items():
        if statement["Effect"] != "Allow":
            continue
        iam = [a for a in statement["Action"] if a.startswith("iam:")]
        if iam:
            assert statement["Resource"] == [env_roles], sid
    assert "iam:AttachRolePolicy" not in json.dumps(
        [s for s in by_sid.values() if s["Effect"] == "Allow"]
    )
    assert by_sid["PassFunctionRolesToLambda"]["Resource"] == [env_roles]
    deny = by_sid["NeverChangeOwnRole"]
    assert deny["Effect"] == "Deny"
    assert deny["Resource"] == role_arns(f"photos-{env}-cfn")
    assert {"iam:PutRolePolicy", "iam:PassRole", "iam:AttachRolePolicy"} <= set(deny["Action"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_deploy_role_resources_stay_in_the_env(pipeline_template: Template, env: str) -> None:
    """Every ARN carries the env's prefix, or is one the service names, scoped another way."""
    prefix = f"photos-{env}-"
    generated = {  # ids the service picks; each comes with a reason in the module
        f"arn:aws:kms:{ACCOUNT}:key/*": "tag condition",
        f"arn:aws:cognito-idp:{ACCOUNT}:userpool/*": "tag condition",
        f"arn:aws:lambda:{ACCOUNT}:event-source-mapping:*": "lambda:FunctionArn condition",
        f"arn:aws:logs:{ACCOUNT}:log-group:*": "DescribeLogGroups lists",
        "arn:aws:apigateway:eu-west-1::/apis": "API ids",
        "arn:aws:apigateway:eu-west-1::/apis/*": "API ids",
        "arn:aws:apigateway:eu-west-1::/tags/*": "API ids",
        "arn:aws:cloudfront::111111111111:distribution/*": "distribution ids",
        "arn:aws:cloudfront::111111111111:origin-access-control/*": "OAC ids",
        "arn:aws:cloudfront::111111111111:response-headers-policy/*": "policy ids",
        f"{BUCKET}/lambdas/*": "the code CloudFormation hands Lambda",
        KEY: "decrypts that code",
        f"arn:aws:ssm:{ACCOUNT}:parameter/photos/main/base/*": "base values, read only",
        f"arn:aws:ssm:{ACCOUNT}:parameter/photos/{env}/*": "the env's values",
        "*": "allow-listed in test_iam",
    }
    by_sid = statements(pipeline_template, f"{env.title()}DeployRole")
    for sid, statement in by_sid.items():
        for arn in as_list(statement["Resource"]):
            assert prefix in arn or arn in generated, f"{sid}: {arn}"
    assert (
        by_sid["OwnKeys"]["Condition"]
        == by_sid["OwnUserPools"]["Condition"]
        == {"StringEquals": {"aws:ResourceTag/app": "photos", "aws:ResourceTag/env": env}}
    )
    function_arns = f"arn:aws:lambda:{ACCOUNT}:function:photos-{env}-*"
    for sid in ("CreateEventSourceMappings", "EventSourceMappings"):
        assert by_sid[sid]["Condition"] == {"ArnLike": {"lambda:FunctionArn": function_arns}}


@pytest.mark.parametrize("role", ["DevDeployRole", "ProdDeployRole", "SelfUpdateRole"])
def test_deploy_roles_cannot_delete_retained_data(pipeline_template: Template, role: str) -> None:
    allowed = {
        action
        for statement in statements(pipeline_template, role).values()
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
    }
    assert not allowed & DATA_DELETING_ACTIONS


def handler_permissions(resource_types: set[str]) -> set[str]:
    """Every permission the types' resource handlers (cfn-lint's schemas) list, lowercased."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    found = set()
    for resource_type in resource_types:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("eu-west-1", resource_type).schema
        for handler in (schema.get("handlers") or {}).values():
            found |= {p.lower() for p in handler["permissions"]}
        found |= {p.lower() for p in schema.get("tagging", {}).get("permissions", [])}
    return found


# Calls the schemas do not list, each from the service's own documentation.
DOCUMENTED_CALLS = {
    # AWS::CodeBuild::Project's schema has no handler section; these are its API calls.
    "codebuild:createproject",
    "codebuild:updateproject",
    "codebuild:deleteproject",
    "codebuild:batchgetprojects",
    # API Gateway: "permissions to activate logging" for an HTTP API stage.
    "logs:getlogdelivery",
    "logs:updatelogdelivery",
    "logs:deletelogdelivery",
    "logs:listlogdeliveries",
}


@pytest.mark.parametrize(
    ("role", "templates_deployed"),
    [
        ("DevDeployRole", ["dev/data", "dev/backend", "dev/frontend"]),
        ("ProdDeployRole", ["prod/data", "prod/backend", "prod/frontend"]),
        ("SelfUpdateRole", ["main/pipeline"]),
    ],
)
def test_deploy_roles_grant_only_what_the_resource_handlers_call(
    templates: dict[str, Template], role: str, templates_deployed: list[str]
) -> None:
    """Nothing beyond the handler permissions of the types the role's stacks hold."""
    types = {
        r["Type"] for name in templates_deployed for r in templates[name]["Resources"].values()
    }
    known = handler_permissions(types) | DOCUMENTED_CALLS
    extra = {
        action
        for statement in statements(templates["main/pipeline"], role).values()
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
        if action.lower() not in known
    }
    assert extra == set()


def test_self_update_role_manages_only_this_stack_and_the_deploy_roles(
    pipeline_template: Template,
) -> None:
    role = grants(pipeline_template, "SelfUpdateRole")
    own = "photos-main-pipeline"
    assert role["PipelineRoles"][1] == [
        f"arn:aws:iam::111111111111:role/{own}-*",
        *role_arns("photos-dev-cfn", "photos-prod-cfn"),
    ]
    assert role["Pipeline"][1] == [
        f"arn:aws:codepipeline:{ACCOUNT}:{own}",
        f"arn:aws:codepipeline:{ACCOUNT}:{own}/*",
    ]
    assert role["Projects"][1] == [f"arn:aws:codebuild:{ACCOUNT}:project/{own}-*"]
    assert role["ReportGroups"][1] == [f"arn:aws:codebuild:{ACCOUNT}:report-group/{own}-*"]
    assert role["LogGroups"][1] == [f"arn:aws:logs:{ACCOUNT}:log-group:/aws/codebuild/{own}-*"]
    assert role["NotificationTopic"][1] == [f"arn:aws:sns:{ACCOUNT}:{own}-notifications"]
    assert role["Repository"][1] == [f"arn:aws:codecommit:{ACCOUNT}:photos"]
    assert role["SourceRule"][1] == [f"arn:aws:events:{ACCOUNT}:rule/{own}-source"]
    assert role["PublishValues"][1] == params("/photos/main/pipeline/*")
    by_sid = statements(pipeline_template, "SelfUpdateRole")
    assert by_sid["NotificationRules"]["Condition"] == {
        "StringEquals": {
            "codestar-notifications:NotificationsForResource": (
                f"arn:aws:codepipeline:{ACCOUNT}:{own}"
            )
        }
    }
    passes = {
        sid: (s["Resource"], s["Condition"]["StringEquals"]["iam:PassedToService"])
        for sid, s in by_sid.items()
        if s["Action"] == ["iam:PassRole"]
    }
    assert passes == {
        "PassPipelineRole": (
            role_arns(f"{own}-codepipeline"),
            "codepipeline.amazonaws.com",
        ),
        "PassProjectRoles": (
            role_arns(f"{own}-build", f"{own}-check", f"{own}-publish"),
            "codebuild.amazonaws.com",
        ),
        "PassSourceRole": (role_arns(f"{own}-source"), "events.amazonaws.com"),
    }


def test_no_role_has_a_wildcard_action(pipeline_template: Template) -> None:
    for logical_id in resources(pipeline_template, "AWS::IAM::Role"):
        for sid, statement in statements(pipeline_template, logical_id).items():
            assert not any("*" in action for action in statement["Action"]), f"{logical_id} {sid}"


def test_inline_policies_fit_iams_size_limit() -> None:
    """IAM allows 10,240 characters of inline policy per role, whitespace not counted.

    Measured at the longest names the config allows (a 20-character app, a 10-character
    env) with the longest bucket name and a full key ARN in place of the parameters.
    """
    template = render_pipeline(
        'app.name="abcdefghij-klmnopqrs"',
        'environments.production={account="main", region="eu-west-1", approval=true}',
    )
    for logical_id in resources(template, "AWS::IAM::Role"):
        [policy] = props(template, logical_id)["Policies"]
        text = json.dumps(resolve(policy["PolicyDocument"]), separators=(",", ":"))
        text = text.replace("<BaseArtifactBucketName>", "b" * 63)
        text = text.replace(KEY, f"arn:aws:kms:{ACCOUNT}:key/{'0' * 36}")
        assert len(text) < 10_240, f"{logical_id}: {len(text)} characters"


def test_pipeline_is_only_rendered_where_the_config_puts_it(tmp_path: Path) -> None:
    config = load_config(REPO / "infra.toml", ['accounts.tools={region="eu-west-1"}'])
    assert [kind.name for kind in account_stacks(config, config.accounts["main"])] == [
        "base",
        "pipeline",
    ]
    assert [kind.name for kind in account_stacks(config, config.accounts["tools"])] == ["base"]
    rendered = {f"{r.scope}/{r.stack}" for r in render(config, tmp_path)}
    assert "main/pipeline" in rendered
    assert "tools/base" in rendered
    assert "tools/pipeline" not in rendered


def test_only_the_repository_is_retained(pipeline_template: Template) -> None:
    retained = sorted(
        logical_id
        for logical_id, resource in pipeline_template["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
    )
    assert retained == ["Repository"]
    assert only(pipeline_template, "AWS::CodeCommit::Repository")["UpdateReplacePolicy"] == "Retain"
