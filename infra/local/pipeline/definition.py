"""Read the pipeline and its CodeBuild projects back from the deployed pipeline stack.

The stack's template, parameters and physical ids come from the local AWS
(`infra.local.wiring`), so the run uses exactly what `bootstrap` (or the pipeline's own
UpdatePipeline stage) deployed. A property the local run needs and cannot resolve is an
error naming the stack and the resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from infra.errors import InfraError
from infra.local.pipeline.model import (
    ActionDef,
    ConditionDef,
    EnvironmentVariable,
    PipelineDef,
    ProjectDef,
    RuleDef,
    StageDef,
)
from infra.local.wiring import DeployedStack, Resolver, read_stack

PIPELINE_TYPE = "AWS::CodePipeline::Pipeline"
PROJECT_TYPE = "AWS::CodeBuild::Project"


def read_pipeline(
    cfn: Any, stack_name: str, region: str, account: str, clients: Callable[[str], Any]
) -> PipelineDef:
    """The one pipeline of `stack_name`, resolved, with every project it can run."""
    stack = read_stack(cfn, stack_name)
    resolver = Resolver(stack, region, account, clients)
    pipelines = stack.resources(PIPELINE_TYPE)
    if len(pipelines) != 1:
        raise InfraError(f"{stack_name}: expected one {PIPELINE_TYPE}, found {len(pipelines)}")
    ((logical_id, body),) = pipelines.items()
    return pipeline_from(stack, logical_id, resolver.value(body.get("Properties", {})), resolver)


def pipeline_from(
    stack: DeployedStack, logical_id: str, props: Mapping[str, Any], resolver: Resolver
) -> PipelineDef:
    where = f"{stack.name}: {logical_id}"
    store = _mapping(props.get("ArtifactStore"), f"{where}: ArtifactStore")
    key = store.get("EncryptionKey")
    stages = tuple(
        _stage(_mapping(item, f"{where}: Stages"), where) for item in _list(props, "Stages", where)
    )
    variables = {
        str(item["Name"]): str(item.get("DefaultValue", ""))
        for item in props.get("Variables") or []
        if isinstance(item, Mapping) and "Name" in item
    }
    return PipelineDef(
        name=str(props.get("Name") or stack.physical_ids.get(logical_id, logical_id)),
        role_arn=str(props.get("RoleArn", "")),
        artifact_bucket=_text(store, "Location", f"{where}: ArtifactStore"),
        artifact_key=str(key["Id"]) if isinstance(key, Mapping) and key.get("Id") else None,
        stages=stages,
        variables=variables,
        projects=_projects(stack, resolver),
        execution_mode=str(props.get("ExecutionMode", "SUPERSEDED")),
    )


def _projects(stack: DeployedStack, resolver: Resolver) -> dict[str, ProjectDef]:
    """Every project of the stack, by the names an action may give: its Ref and its Name."""
    found: dict[str, ProjectDef] = {}
    for logical_id, body in stack.resources(PROJECT_TYPE).items():
        where = f"{stack.name}: {logical_id}"
        props = resolver.value(body.get("Properties", {}))
        project = _project(props, where, default_name=logical_id)
        found[project.name] = project
        found[str(resolver.value({"Ref": logical_id}))] = project
    return found


def _project(props: Mapping[str, Any], where: str, default_name: str) -> ProjectDef:
    source = _mapping(props.get("Source"), f"{where}: Source")
    environment = _mapping(props.get("Environment"), f"{where}: Environment")
    cache = props.get("Cache") if isinstance(props.get("Cache"), Mapping) else {}
    variables = tuple(
        EnvironmentVariable(
            str(v["Name"]), str(v.get("Value", "")), str(v.get("Type", "PLAINTEXT"))
        )
        for v in environment.get("EnvironmentVariables") or []
    )
    return ProjectDef(
        name=str(props.get("Name") or default_name),
        buildspec=str(source.get("BuildSpec") or "buildspec.yml"),
        environment_variables=variables,
        service_role=str(props.get("ServiceRole", "")),
        image=str(environment.get("Image", "")),
        compute_type=str(environment.get("ComputeType", "")),
        timeout_minutes=int(props.get("TimeoutInMinutes", 60)),
        encryption_key=str(props["EncryptionKey"]) if props.get("EncryptionKey") else None,
        cache_type=str(cache.get("Type", "NO_CACHE")),
        cache_location=str(cache["Location"]) if cache.get("Location") else None,
    )


def _stage(raw: Mapping[str, Any], where: str) -> StageDef:
    name = _text(raw, "Name", f"{where}: a stage")
    here = f"{where}: stage {name}"
    actions = tuple(_action(_mapping(a, here), here) for a in _list(raw, "Actions", here))
    before = raw.get("BeforeEntry") or {}
    conditions = tuple(
        ConditionDef(
            result=str(condition.get("Result", "FAIL")),
            rules=tuple(
                RuleDef(
                    name=str(rule.get("Name", "")),
                    provider=str((rule.get("RuleTypeId") or {}).get("Provider", "")),
                    configuration={
                        str(k): str(v) for k, v in (rule.get("Configuration") or {}).items()
                    },
                )
                for rule in condition.get("Rules") or []
            ),
        )
        for condition in (before.get("Conditions") or [])
    )
    return StageDef(name=name, actions=actions, before_entry=conditions)


def _action(raw: Mapping[str, Any], where: str) -> ActionDef:
    name = _text(raw, "Name", f"{where}: an action")
    kind = _mapping(raw.get("ActionTypeId"), f"{where}: action {name}: ActionTypeId")
    configuration = raw.get("Configuration") or {}
    return ActionDef(
        name=name,
        category=str(kind.get("Category", "")),
        owner=str(kind.get("Owner", "")),
        provider=str(kind.get("Provider", "")),
        configuration={str(k): _config_text(v) for k, v in configuration.items()},
        inputs=tuple(str(a["Name"]) for a in raw.get("InputArtifacts") or []),
        outputs=tuple(str(a["Name"]) for a in raw.get("OutputArtifacts") or []),
        namespace=str(raw["Namespace"]) if raw.get("Namespace") else None,
        run_order=int(raw.get("RunOrder", 1)),
        role_arn=str(raw["RoleArn"]) if raw.get("RoleArn") else None,
    )


def _config_text(value: Any) -> str:
    """Configuration values are strings to CodePipeline; booleans as it writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InfraError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _list(raw: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise InfraError(f"{where}: {key} must be a non-empty list")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise InfraError(f"{where}: {key} is missing")
    return value
