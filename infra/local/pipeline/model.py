"""The pipeline as its deployed template declares it, with every value resolved.

`infra.local.pipeline.definition` reads these from the pipeline stack in the local AWS;
the runner, the CodeBuild and CloudFormation actions only ever read these objects, so
a value the template does not give is a value the local run does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.errors import InfraError


@dataclass(frozen=True)
class RuleDef:
    """One rule of a stage condition, e.g. VariableCheck with Variable/Operator/Value."""

    name: str
    provider: str
    configuration: Mapping[str, str]


@dataclass(frozen=True)
class ConditionDef:
    """`Result` (SKIP, FAIL, ...) when every rule of the condition fails to pass."""

    result: str
    rules: tuple[RuleDef, ...]


@dataclass(frozen=True)
class ActionDef:
    name: str
    category: str  # Source, Build, Test, Deploy, Approval, Invoke
    owner: str
    provider: str  # CodeCommit, CodeStarSourceConnection, CodeBuild, CloudFormation, Manual
    configuration: Mapping[str, str]  # as declared: #{namespace.VAR} still unresolved
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    namespace: str | None = None
    run_order: int = 1
    role_arn: str | None = None


@dataclass(frozen=True)
class StageDef:
    name: str
    actions: tuple[ActionDef, ...]
    before_entry: tuple[ConditionDef, ...] = ()


@dataclass(frozen=True)
class EnvironmentVariable:
    """A CodeBuild variable: PLAINTEXT, PARAMETER_STORE (a parameter's name) or
    SECRETS_MANAGER (a secret id), as the project or an action declares it."""

    name: str
    value: str
    type: str = "PLAINTEXT"


@dataclass(frozen=True)
class ProjectDef:
    """An AWS::CodeBuild::Project, resolved: what a build of it runs with."""

    name: str
    buildspec: str  # inline YAML, or a path relative to the primary source (buildspec.yml)
    environment_variables: tuple[EnvironmentVariable, ...] = ()
    service_role: str = ""
    image: str = ""
    compute_type: str = ""
    timeout_minutes: int = 60
    encryption_key: str | None = None
    cache_type: str = "NO_CACHE"  # NO_CACHE, S3 or LOCAL
    cache_location: str | None = None

    @property
    def inline_buildspec(self) -> bool:
        """A buildspec given in the project itself rather than a file of the source."""
        return "\n" in self.buildspec or self.buildspec.lstrip().startswith("version")


@dataclass(frozen=True)
class PipelineDef:
    name: str
    role_arn: str
    artifact_bucket: str
    artifact_key: str | None  # the KMS key artifacts are encrypted with, if any
    stages: tuple[StageDef, ...]
    variables: Mapping[str, str] = field(default_factory=dict)  # pipeline variables' defaults
    projects: Mapping[str, ProjectDef] = field(default_factory=dict)
    execution_mode: str = "SUPERSEDED"

    def project(self, name: str) -> ProjectDef:
        if name not in self.projects:
            raise InfraError(f"{self.name}: no CodeBuild project {name!r} in the pipeline stack")
        return self.projects[name]
