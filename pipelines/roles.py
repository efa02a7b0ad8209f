"""The pipeline's run-time roles: the pipeline, its three CodeBuild projects and EventBridge.

Each function returns a role's statements, every one naming its actions (awacs)
and the narrowest ARNs the service accepts. The roles CloudFormation deploys
with are in `pipelines.cfn_roles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awacs import cloudformation as cfn
from awacs import cloudfront, codebuild, codecommit
from awacs import codepipeline as codepipeline_actions
from awacs import iam as iam_actions
from awacs import kms as kms_actions
from awacs import logs as logs_actions
from awacs import s3 as s3_actions
from awacs import sns as sns_actions
from awacs import sqs as sqs_actions
from awacs import ssm as ssm_actions
from awacs.aws import Action, Allow, Condition, Statement, StringEquals
from troposphere import Sub
from troposphere.iam import Policy, Role

from infra.blocks.policy import allow, arn, document, service_principal
from infra.config import Pipeline
from pipelines.names import BUILD, CHECK, PUBLISH, SELF_UPDATE_ROLE, PipelineNames


@dataclass(frozen=True)
class ArtifactStore:
    """The base stack's artifact bucket and key, as this stack's SSM-typed parameters."""

    bucket: Any  # Ref to the bucket name
    key_arn: Any  # Ref to the key ARN

    @property
    def bucket_arn(self) -> Sub:
        return arn("s3", "${Bucket}", region=False, account=False, Bucket=self.bucket)

    def objects(self, prefix: str) -> Sub:
        """Objects under `prefix` (which ends in `/`)."""
        return arn("s3", f"${{Bucket}}/{prefix}*", region=False, account=False, Bucket=self.bucket)


def cache_prefix(purpose: str) -> str:
    """Each project's S3 cache (pip downloads) under `cache/`, kept apart from run artifacts."""
    return f"cache/{purpose}/"


def service_role(
    logical_id: str, role_name: str, service: str, statements: Sequence[Statement]
) -> Role:
    """A role only `service`, acting for this account, can assume, with exactly `statements`."""
    trust = Statement(
        Effect=Allow,
        Principal=service_principal(service),
        Action=[Action("sts", "AssumeRole")],
        Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
    )
    return Role(
        logical_id,
        RoleName=role_name,
        AssumeRolePolicyDocument=document(trust),
        Policies=[Policy(PolicyName="least-privilege", PolicyDocument=document(*statements))],
    )


def passed_to(service: str) -> Condition:
    """iam:PassRole only towards one service, so a role cannot be handed to anything else."""
    return Condition(StringEquals("iam:PassedToService", Sub(f"{service}.${{AWS::URLSuffix}}")))


def pass_deploy_roles(names: PipelineNames) -> Statement:
    """CloudFormation, and nothing else, may receive the deploy roles (one per env + self)."""
    roles = [names.role_arn(names.cfn_role(env)) for env in names.environments]
    roles.append(names.role_arn(names.role(SELF_UPDATE_ROLE)))
    return allow(
        "PassDeployRolesToCloudFormation",
        [iam_actions.PassRole],
        roles,
        Condition=passed_to("cloudformation"),
    )


def connection_action(connection_arn: str, name: str) -> Action:
    """`UseConnection` / `PassConnection` under the ARN's own service prefix.

    Connections made before the 2024 rename have `codestar-connections` ARNs, newer
    ones `codeconnections`; IAM matches an action only to ARNs of its own prefix.
    """
    return Action(connection_arn.split(":")[2], name)


def read_parameters(sid: str, resources: Sequence[Any]) -> Statement:
    return allow(sid, [ssm_actions.GetParameter, ssm_actions.GetParameters], resources)


def all_parameter_scopes(names: PipelineNames) -> list[Sub]:
    """The published values CloudFormation resolves for the stacks the pipeline deploys."""
    scopes = [names.account, *names.environments]
    return [names.parameters_arn(scope) for scope in scopes]


# -- the pipeline -------------------------------------------------------------------------------


def pipeline_statements(
    names: PipelineNames, store: ArtifactStore, pipeline: Pipeline, topic_arn: Any
) -> list[Statement]:
    """Move artifacts, start its builds, run change sets with the deploy roles, notify."""
    stacks = [names.stack_arn(names.pipeline)]
    stacks += [
        names.stack_arn(stack) for env in names.environments for stack in names.env_stacks(env)
    ]
    statements = [
        allow(
            "RunArtifacts",
            [s3_actions.GetObject, s3_actions.GetObjectVersion, s3_actions.PutObject],
            [store.objects(names.artifact_prefix)],
        ),
        allow(
            "ArtifactBucket",
            [s3_actions.GetBucketVersioning, s3_actions.GetBucketAcl, s3_actions.GetBucketLocation],
            [store.bucket_arn],
        ),
        allow("ArtifactKey", [kms_actions.Decrypt, kms_actions.GenerateDataKey], [store.key_arn]),
        allow(
            "RunOwnBuilds",
            [codebuild.StartBuild, codebuild.BatchGetBuilds, codebuild.StopBuild],
            [names.project_arn(purpose) for purpose in names.projects],
        ),
        allow(
            "ChangeSetsOnOwnStacks",
            [
                cfn.CreateChangeSet,
                cfn.DescribeChangeSet,
                cfn.ExecuteChangeSet,
                cfn.DeleteChangeSet,
                cfn.DescribeStacks,
            ],
            stacks,
        ),
        pass_deploy_roles(names),
        # CloudFormation resolves the stacks' SSM-typed parameters for the change sets.
        read_parameters("ReadPublishedValues", all_parameter_scopes(names)),
        allow("NotifyApprovers", [sns_actions.Publish], [topic_arn]),
    ]
    if pipeline.connection_arn:
        statements.append(
            allow(
                "UseSourceConnection",
                [connection_action(pipeline.connection_arn, "UseConnection")],
                [pipeline.connection_arn],
            )
        )
    else:
        statements.append(
            allow(
                "ReadSourceRepository",
                [
                    codecommit.GetBranch,
                    codecommit.GetCommit,
                    codecommit.GetRepository,
                    codecommit.UploadArchive,
                    codecommit.GetUploadArchiveStatus,
                    codecommit.CancelUploadArchive,
                ],
                [arn("codecommit", pipeline.repository)],
            )
        )
    return statements


def source_statements(names: PipelineNames) -> list[Statement]:
    """EventBridge may start this one pipeline and do nothing else."""
    return [
        allow(
            "StartOwnPipeline",
            [codepipeline_actions.StartPipelineExecution],
            [names.pipeline_arn],
        )
    ]


# -- the CodeBuild projects ---------------------------------------------------------------------


def project_basics(
    purpose: str, names: PipelineNames, store: ArtifactStore, log_group_arn: Any, *, writes: bool
) -> list[Statement]:
    """Every project: its own logs, its input artifact (and output when it `writes`), cache."""
    run_actions = [s3_actions.GetObject, s3_actions.GetObjectVersion]
    if writes:
        run_actions.append(s3_actions.PutObject)
    return [
        allow(
            "WriteOwnLogs",
            [logs_actions.CreateLogStream, logs_actions.PutLogEvents],
            [log_group_arn],
        ),
        allow("RunArtifacts", run_actions, [store.objects(names.artifact_prefix)]),
        allow(
            "OwnCache",
            [s3_actions.GetObject, s3_actions.PutObject],
            [store.objects(cache_prefix(purpose))],
        ),
        allow(
            "ArtifactBucket",
            [s3_actions.GetBucketAcl, s3_actions.GetBucketLocation],
            [store.bucket_arn],
        ),
        allow("ArtifactKey", [kms_actions.Decrypt, kms_actions.GenerateDataKey], [store.key_arn]),
    ]


def build_statements(
    names: PipelineNames, store: ArtifactStore, log_group_arn: Any, report_group_arn: Any
) -> list[Statement]:
    """Tests, render, package: writes its output, test reports and the Lambda zips."""
    return [
        *project_basics(BUILD, names, store, log_group_arn, writes=True),
        allow(
            "TestReports",
            [
                codebuild.CreateReport,
                codebuild.UpdateReport,
                codebuild.BatchPutTestCases,
                codebuild.BatchPutCodeCoverages,
            ],
            [report_group_arn],
        ),
        # `package --upload` skips zips already there: HEAD needs ListBucket to see a 404.
        allow(
            "LambdaZips",
            [s3_actions.GetObject, s3_actions.PutObject],
            [store.objects("lambdas/")],
        ),
        allow("FindLambdaZips", [s3_actions.ListBucket], [store.bucket_arn]),
        read_parameters("ReadBaseValues", [names.parameters_arn(names.account, "base")]),
    ]


def check_statements(
    names: PipelineNames, store: ArtifactStore, log_group_arn: Any
) -> list[Statement]:
    """Plan (`infra diff`) and gate (`infra gate`): change sets on the env stacks, never execute.

    DeleteStack is for one case: planning a stack that does not exist yet leaves an
    empty stack in REVIEW_IN_PROGRESS, which `infra diff` removes again. A template
    over CloudFormation's inline limit goes to the artifact bucket's `templates/`.
    """
    stacks = [
        names.stack_arn(stack) for env in names.environments for stack in names.env_stacks(env)
    ]
    return [
        *project_basics(CHECK, names, store, log_group_arn, writes=False),
        allow(
            "PlanOnEnvironmentStacks",
            [
                cfn.CreateChangeSet,
                cfn.DescribeChangeSet,
                cfn.DeleteChangeSet,
                cfn.DescribeStacks,
                cfn.DescribeStackEvents,
                cfn.GetTemplate,
                cfn.DescribeStackResources,
                cfn.DeleteStack,
            ],
            stacks,
        ),
        # The gate asks SQS whether a queue it would replace holds messages or is a DLQ.
        allow(
            "InspectEnvironmentQueues",
            [sqs_actions.GetQueueAttributes, sqs_actions.ListDeadLetterSourceQueues],
            [arn("sqs", f"{names.app}-{env}-*") for env in names.environments],
        ),
        allow(
            "LargeTemplates",
            [s3_actions.PutObject, s3_actions.GetObject],
            [store.objects("templates/")],
        ),
        allow(
            "PassEnvironmentDeployRoles",
            [iam_actions.PassRole],
            [names.role_arn(names.cfn_role(env)) for env in names.environments],
            Condition=passed_to("cloudformation"),
        ),
        read_parameters("ReadPublishedValues", [arn("ssm", f"parameter/{names.app}/*")]),
    ]


def publish_statements(
    names: PipelineNames, store: ArtifactStore, log_group_arn: Any
) -> list[Statement]:
    """Sync web/ to each environment's site bucket and invalidate its distribution.

    `infra publish` lists the bucket (ETags), puts and deletes objects, invalidates.
    """
    envs = names.environments
    buckets = [names.stack(env, "frontend") + "-*" for env in envs]
    return [
        *project_basics(PUBLISH, names, store, log_group_arn, writes=False),
        read_parameters("ReadEnvironmentValues", [names.parameters_arn(env) for env in envs]),
        # CloudFormation names the site bucket `<app>-<env>-frontend-sitebucket-<random>`.
        allow(
            "ListSiteBuckets",
            [s3_actions.ListBucket],
            [arn("s3", bucket, region=False, account=False) for bucket in buckets],
        ),
        allow(
            "SyncSiteFiles",
            [s3_actions.PutObject, s3_actions.DeleteObject],
            [arn("s3", f"{bucket}/*", region=False, account=False) for bucket in buckets],
        ),
        allow(
            "InvalidateSites",
            [cloudfront.CreateInvalidation],
            [arn("cloudfront", "distribution/*", region=False)],
        ),
    ]
