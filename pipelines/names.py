"""Every name and ARN the pipeline stack uses, derived from the app, the account and its envs.

The stack, its roles and its stages all read names from here, so a role's
policy and the resource it governs can never disagree on a name. Everything
the pipeline stack creates is named `<app>-<account>-pipeline-...`, which is
what lets its own service role be scoped to that prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Sub

from infra.blocks.policy import arn
from infra.naming import (
    codebuild_log_group,
    physical_name,
    pipeline_artifact_prefix,
    pipeline_name,
    ssm_path,
)

# The CodeBuild projects: the build (tests, render, package), the shared check project
# (plan and gate) and the publisher of the web app's files.
BUILD, CHECK, PUBLISH = "build", "check", "publish"
# The roles that are not a project's: the pipeline's own, EventBridge's, and the one
# CloudFormation uses to update this stack.
PIPELINE_ROLE, SOURCE_ROLE, SELF_UPDATE_ROLE = "codepipeline", "source", "cfn"


@dataclass(frozen=True)
class PipelineNames:
    """Names for one account's pipeline: the environments it deploys and their stacks, in order."""

    app: str
    account: str
    environments: tuple[str, ...]
    stacks: tuple[str, ...]  # each environment's stacks, in deploy order
    projects: tuple[str, ...] = (BUILD, CHECK, PUBLISH)  # publish only for an app with a site

    # -- the pipeline and what it creates --------------------------------------------------

    @property
    def pipeline(self) -> str:
        """The pipeline and its stack share this name: `<app>-<account>-pipeline`."""
        return pipeline_name(self.app, self.account)

    def named(self, *parts: str, limit: int = 64) -> str:
        """`<app>-<account>-pipeline-<parts>`: the one prefix the self-update role manages."""
        return physical_name(self.pipeline, *parts, limit=limit)

    @property
    def artifact_prefix(self) -> str:
        return pipeline_artifact_prefix(self.app, self.account)

    def project(self, purpose: str) -> str:
        return self.named(purpose, limit=255)

    def log_group(self, purpose: str) -> str:
        return codebuild_log_group(self.project(purpose))

    @property
    def report_group(self) -> str:
        """`<build project>-tests`: the name buildspec.yml's `reports: tests` resolves to."""
        return self.named(BUILD, "tests", limit=128)

    def role(self, purpose: str) -> str:
        return self.named(purpose)

    @property
    def topic(self) -> str:
        return self.named("notifications", limit=256)

    @property
    def source_rule(self) -> str:
        return self.named("source")

    # -- what it deploys -------------------------------------------------------------------

    def stack(self, env: str, stack: str) -> str:
        return physical_name(self.app, env, stack, limit=128)

    def env_stacks(self, env: str) -> tuple[str, ...]:
        """The environment's stacks in deploy order."""
        return tuple(self.stack(env, name) for name in self.stacks)

    def cfn_role(self, env: str) -> str:
        """The role CloudFormation uses for one environment's stacks: `<app>-<env>-cfn`."""
        return physical_name(self.app, env, "cfn")

    # -- ARNs (for policies, which must not Ref the resources they let others use) ---------

    @property
    def pipeline_arn(self) -> Sub:
        return arn("codepipeline", self.pipeline)

    def project_arn(self, purpose: str) -> Sub:
        return arn("codebuild", f"project/{self.project(purpose)}")

    def role_arn(self, name: str) -> Sub:
        return arn("iam", f"role/{name}", region=False)

    def stack_arn(self, stack_name: str) -> Sub:
        return arn("cloudformation", f"stack/{stack_name}/*")

    def parameters_arn(self, scope: str, stack: str | None = None) -> Sub:
        """SSM parameters under `/<app>/<scope>/` (or `/<app>/<scope>/<stack>/`)."""
        path = ssm_path(self.app, scope, stack, "*") if stack else f"/{self.app}/{scope}/*"
        return arn("ssm", f"parameter{path}")
