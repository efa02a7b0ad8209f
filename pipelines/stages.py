"""The pipeline's stages, each a small function of what it needs.

Order: Source, Build, UpdatePipeline, then per environment Plan-<env>,
Approve-<env>, Deploy-<env>. Everything after the build reads the one
`BuildOutput` artifact (source tree + rendered templates + configuration
files), so every environment deploys exactly what was built and tested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from troposphere import Sub
from troposphere.codepipeline import (
    Actions,
    ActionTypeId,
    BeforeEntryConditions,
    InputArtifacts,
    OutputArtifacts,
    RuleDeclaration,
    RuleTypeId,
    Stages,
)
from troposphere.codepipeline import Condition as StageCondition

from infra.config import Pipeline
from infra.constants import DEFAULT_TEMPLATES_OUT
from infra.naming import pascal
from pipelines.names import PipelineNames

SOURCE_OUTPUT = "SourceOutput"
BUILD_OUTPUT = "BuildOutput"
SOURCE_ACTION = "Source"
# `infra deploy` names its change sets differently, so the two never collide.
CHANGE_SET_SUFFIX = "pipeline"
# CAPABILITY_IAM for the function roles, _NAMED_IAM because they are named.
CAPABILITIES = "CAPABILITY_IAM,CAPABILITY_NAMED_IAM"
# A pipeline variable a person sets for one run to let named gate findings through
# (`infra gate --allow`); CodePipeline variables cannot be empty, so "none" means none.
GATE_ALLOW_VARIABLE = "GateAllow"
GATE_ALLOW = f"#{{variables.{GATE_ALLOW_VARIABLE}}}"


def action_type(category: str, provider: str) -> ActionTypeId:
    return ActionTypeId(Category=category, Owner="AWS", Provider=provider, Version="1")


def template_path(scope: str, stack: str, suffix: str = "json") -> str:
    """Where the build leaves a rendered file, inside BuildOutput."""
    return f"{BUILD_OUTPUT}::{DEFAULT_TEMPLATES_OUT.as_posix()}/{scope}/{stack}.{suffix}"


def codebuild_env(variables: Mapping[str, Any]) -> Any:
    """The action's EnvironmentVariables: a JSON string; Sub when a value is an intrinsic."""
    plain = {name: value for name, value in variables.items() if isinstance(value, str)}
    intrinsic = {name: value for name, value in variables.items() if name not in plain}
    entries = [
        {"name": name, "type": "PLAINTEXT", "value": plain.get(name, f"${{{name}}}")}
        for name in variables
    ]
    text = json.dumps(entries, separators=(",", ":"))
    return Sub(text, **intrinsic) if intrinsic else text


def codebuild_action(
    name: str, project: Any, run_order: int, variables: Mapping[str, Any], **extra: Any
) -> Actions:
    """A CodeBuild action on BuildOutput; `variables` reach the build's environment."""
    return Actions(
        Name=name,
        ActionTypeId=action_type("Build", "CodeBuild"),
        Configuration={"ProjectName": project, "EnvironmentVariables": codebuild_env(variables)},
        InputArtifacts=[InputArtifacts(Name=BUILD_OUTPUT)],
        RunOrder=run_order,
        **extra,
    )


def change_set_pair(
    name: str,
    stack_name: str,
    template: str,
    role_arn: Any,
    capabilities: str,
    run_order: int,
    configuration: str | None = None,
) -> tuple[Actions, Actions]:
    """CHANGE_SET_REPLACE then CHANGE_SET_EXECUTE; never REPLACE_ON_FAILURE, which deletes."""
    change_set = f"{stack_name}-{CHANGE_SET_SUFFIX}"
    create_config: dict[str, Any] = {
        "ActionMode": "CHANGE_SET_REPLACE",
        "StackName": stack_name,
        "ChangeSetName": change_set,
        "TemplatePath": template,
        "Capabilities": capabilities,
        "RoleArn": role_arn,
    }
    if configuration:
        create_config["TemplateConfiguration"] = configuration
    create = Actions(
        Name=f"CreateChangeSet-{name}",
        ActionTypeId=action_type("Deploy", "CloudFormation"),
        Configuration=create_config,
        InputArtifacts=[InputArtifacts(Name=BUILD_OUTPUT)],
        RunOrder=run_order,
    )
    execute = Actions(
        Name=f"Execute-{name}",
        ActionTypeId=action_type("Deploy", "CloudFormation"),
        Configuration={
            "ActionMode": "CHANGE_SET_EXECUTE",
            "StackName": stack_name,
            "ChangeSetName": change_set,
        },
        RunOrder=run_order,
    )
    return create, execute


# -- stages ---------------------------------------------------------------------------------


def source_stage(pipeline: Pipeline) -> Stages:
    """The branch's latest commit as a zip; pushes start the pipeline (rule or trigger)."""
    if pipeline.connection_arn:
        action = Actions(
            Name=SOURCE_ACTION,
            ActionTypeId=action_type("Source", "CodeStarSourceConnection"),
            Configuration={
                "ConnectionArn": pipeline.connection_arn,
                "FullRepositoryId": pipeline.repository,
                "BranchName": pipeline.branch,
                "OutputArtifactFormat": "CODE_ZIP",
                # The pipeline's push trigger starts runs; with a filter the docs say false.
                "DetectChanges": "false",
            },
            OutputArtifacts=[OutputArtifacts(Name=SOURCE_OUTPUT)],
            Namespace="SourceVariables",
            RunOrder=1,
        )
    else:
        action = Actions(
            Name=SOURCE_ACTION,
            ActionTypeId=action_type("Source", "CodeCommit"),
            Configuration={
                "RepositoryName": pipeline.repository,
                "BranchName": pipeline.branch,
                # The EventBridge rule starts runs; polling would only add delay and cost.
                "PollForSourceChanges": "false",
                "OutputArtifactFormat": "CODE_ZIP",
            },
            OutputArtifacts=[OutputArtifacts(Name=SOURCE_OUTPUT)],
            Namespace="SourceVariables",
            RunOrder=1,
        )
    return Stages(Name="Source", Actions=[action])


def build_stage(project: Any) -> Stages:
    """The repository's buildspec.yml: tests, render, package; everything else reads its output."""
    action = Actions(
        Name="Build",
        ActionTypeId=action_type("Build", "CodeBuild"),
        Configuration={"ProjectName": project},
        InputArtifacts=[InputArtifacts(Name=SOURCE_OUTPUT)],
        OutputArtifacts=[OutputArtifacts(Name=BUILD_OUTPUT)],
        RunOrder=1,
    )
    return Stages(Name="Build", Actions=[action])


def update_pipeline_stage(names: PipelineNames, role_arn: Any) -> Stages:
    """The pipeline updates itself from the template just built, before deploying anything.

    As in `sam pipeline`: a change to the pipeline takes effect for what follows.
    """
    create, execute = change_set_pair(
        "pipeline",
        names.pipeline,
        template_path(names.account, "pipeline"),
        role_arn,
        "CAPABILITY_NAMED_IAM",
        run_order=1,
    )
    execute.RunOrder = 2
    return Stages(Name="UpdatePipeline", Actions=[create, execute])


def plan_namespace(env: str) -> str:
    return f"Plan{pascal(env)}"


def plan_stage(env: str, check_project: Any, cfn_role_arn: Any) -> Stages:
    """`infra diff`: what would change in the env, exported as #{Plan<Env>.SUMMARY} etc."""
    action = codebuild_action(
        "Plan",
        check_project,
        1,
        {"CHECK": "plan", "ENV": env, "CFN_ROLE_ARN": cfn_role_arn, "INFRA_GATE_ALLOW": GATE_ALLOW},
        Namespace=plan_namespace(env),
    )
    return Stages(Name=f"Plan-{env}", Actions=[action])


def only_when_iam_broadens(env: str) -> BeforeEntryConditions:
    """Enter the stage when the plan says IAM broadens; otherwise skip it."""
    rule = RuleDeclaration(
        Name="IamBroadened",
        RuleTypeId=RuleTypeId(Category="Rule", Owner="AWS", Provider="VariableCheck", Version="1"),
        Configuration={
            "Variable": f"#{{{plan_namespace(env)}.IAM_BROADENED}}",
            "Operator": "EQ",
            "Value": "true",
        },
    )
    return BeforeEntryConditions(Conditions=[StageCondition(Result="SKIP", Rules=[rule])])


def approval_stage(app: str, env: str, always: bool, topic_arn: Any, execution_url: Any) -> Stages:
    """A person approves the plan: always where the env says so, else only on broader IAM."""
    action = Actions(
        Name="Approve",
        ActionTypeId=action_type("Approval", "Manual"),
        Configuration={
            "NotificationArn": topic_arn,
            "CustomData": (
                f"Deploy {app} to {env}? Plan: #{{{plan_namespace(env)}.SUMMARY}} "
                f"(IAM broadened: #{{{plan_namespace(env)}.IAM_BROADENED}})"
            ),
            "ExternalEntityLink": execution_url,
        },
        RunOrder=1,
    )
    stage = Stages(Name=f"Approve-{env}", Actions=[action])
    if not always:
        stage.BeforeEntry = only_when_iam_broadens(env)
    return stage


def deploy_actions(
    names: PipelineNames,
    env: str,
    check_project: Any,
    publish_project: Any | None,
    cfn_role_arn: Any,
) -> Iterator[Actions]:
    """Per stack in deploy order: change set, gate, execute; then publish the site, if any.

    Run orders rise strictly, so a stack's change set is made only after the stack
    before it has been deployed (its shared values are what this one reads).
    """
    run_order = 1
    for stack in names.stacks:
        stack_name = names.stack(env, stack)
        create, execute = change_set_pair(
            stack,
            stack_name,
            template_path(env, stack),
            cfn_role_arn,
            CAPABILITIES,
            run_order=run_order,
            configuration=template_path(env, stack, "config.json"),
        )
        gate = codebuild_action(
            f"Gate-{stack}",
            check_project,
            run_order + 1,
            {
                "CHECK": "gate",
                "STACK": stack_name,
                "CHANGE_SET": create.Configuration["ChangeSetName"],
                "INFRA_GATE_ALLOW": GATE_ALLOW,
            },
        )
        execute.RunOrder = run_order + 2
        yield from (create, gate, execute)
        run_order += 3
    if publish_project is not None:
        yield codebuild_action("Publish", publish_project, run_order, {"ENV": env})


def deploy_stage(
    names: PipelineNames,
    env: str,
    check_project: Any,
    publish_project: Any | None,
    cfn_role_arn: Any,
) -> Stages:
    actions = list(deploy_actions(names, env, check_project, publish_project, cfn_role_arn))
    return Stages(Name=f"Deploy-{env}", Actions=actions)
