"""The account's pipeline: CodePipeline V2 + CodeBuild, from a push to every environment.

One per app, in the account `[pipeline]` names, deployed after that account's
base stack (whose artifact bucket and key it reads through SSM parameters).
Stages: Source, Build, UpdatePipeline, then Plan / Approve / Deploy for each
environment of the account in config order (see `pipelines.stages`).

Nothing here deploys with the pipeline's own permissions: CloudFormation uses a
deploy role per environment, and another for this stack (`pipelines.cfn_roles`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from awacs import sns as sns_actions
from awacs.aws import Allow, Condition, Statement, StringEquals
from troposphere import GetAtt, Parameter, Ref, Sub
from troposphere.codebuild import (
    Artifacts,
    CloudWatchLogs,
    Environment,
    EnvironmentVariable,
    LogsConfig,
    Project,
    ProjectCache,
    ReportExportConfig,
    ReportGroup,
    S3ReportExportConfig,
    Source,
)
from troposphere.codecommit import Repository
from troposphere.codepipeline import (
    ArtifactStore as PipelineArtifactStore,
)
from troposphere.codepipeline import (
    EncryptionKey,
    GitBranchFilterCriteria,
    GitConfiguration,
    GitPushFilter,
    Pipeline,
    PipelineTriggerDeclaration,
    Stages,
    VariableDeclaration,
)
from troposphere.codestarnotifications import NotificationRule
from troposphere.codestarnotifications import Target as NotificationTarget
from troposphere.events import Rule
from troposphere.events import Target as RuleTarget
from troposphere.iam import Role
from troposphere.logs import LogGroup
from troposphere.sns import Subscription, Topic, TopicPolicy

from infra.blocks.policy import arn, deny_insecure_transport, document, service_principal
from infra.config import Pipeline as PipelineConfig
from infra.constants import NO_GATE_ALLOWANCE
from infra.errors import InfraError
from infra.layout import environment_stacks
from infra.naming import pascal
from infra.stack import Stack, StackContext, delete_with_stack, resource, retain, skip_checks
from pipelines import buildspecs, stages
from pipelines.cfn_roles import self_update_statements
from pipelines.names import (
    BUILD,
    CHECK,
    PIPELINE_ROLE,
    PUBLISH,
    SELF_UPDATE_ROLE,
    SOURCE_ROLE,
    PipelineNames,
)
from pipelines.resource_permissions import environment_statements
from pipelines.roles import (
    ArtifactStore,
    build_statements,
    cache_prefix,
    check_statements,
    pipeline_statements,
    publish_statements,
    service_role,
    source_statements,
)

# A CodeBuild image with Python 3.12 on Graviton (cheaper than x86 for the same work; the
# Lambda zips are packaged for their own architecture by pip either way).
BUILD_IMAGE = "aws/codebuild/amazonlinux-aarch64-standard:3.0"
BUILD_ENVIRONMENT_TYPE = "ARM_CONTAINER"
BUILD_COMPUTE = "BUILD_GENERAL1_SMALL"
TIMEOUT_MINUTES = {BUILD: 30, CHECK: 15, PUBLISH: 15}
# What the team hears about: runs that fail, and approvals that wait for them.
NOTIFIED_EVENTS = (
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-manual-approval-needed",
)
CONSOLE = "https://${AWS::Region}.console.aws.amazon.com/codesuite/codepipeline/pipelines"


class PipelineStack(Stack):
    name = "pipeline"
    description = "CodePipeline and CodeBuild: build, self-update, plan, approve, deploy"

    @property
    def pipeline_config(self) -> PipelineConfig:
        pipeline = self.context.app.pipeline
        if pipeline is None:
            raise InfraError(f"{self.stack_name}: infra.toml has no [pipeline] table")
        return pipeline

    @cached_property
    def names(self) -> PipelineNames:
        """Names of everything here, and the environments deployed, in config order."""
        environments = tuple(
            env.name
            for env in self.context.app.environments.values()
            if env.account.name == self.context.account.name
        )
        stacks = tuple(kind.name for kind in environment_stacks(self.context.app))
        projects = (BUILD, CHECK, PUBLISH) if self.has_site else (BUILD, CHECK)
        return PipelineNames(self.app, self.scope, environments, stacks, projects)

    @property
    def has_site(self) -> bool:
        return self.declaration.site is not None

    def environment_stacks(self, env: str) -> list[Stack]:
        """The environment's stacks of this render (built here when rendered alone)."""
        from infra.stacks import ENVIRONMENT_STACK_CLASSES

        environment = self.context.app.environments[env]
        stacks = []
        for kind in self.names.stacks:
            stack = self.context.peers.get((env, kind))
            if stack is None:
                context = StackContext(self.context.app, environment.account, environment)
                stack = ENVIRONMENT_STACK_CLASSES[kind](context)
            stacks.append(stack)
        return stacks

    def resource_types(self, env: str) -> set[str]:
        """Every resource type the environment's templates use: what its deploy role manages."""
        return {
            item.resource_type
            for stack in self.environment_stacks(env)
            for item in stack.build().resources.values()
        }

    @property
    def log_retention_days(self) -> int:
        """As long as the longest-kept environment keeps its logs: every deploy is here."""
        environments = self.context.app.environments
        return max(environments[env].log_retention_days for env in self.names.environments)

    # -- inputs from the base stack --------------------------------------------------------

    @property
    def artifact_bucket(self) -> Parameter:
        return self.consume("base", "ArtifactBucketName", "Pipeline artifacts and Lambda zips")

    @property
    def artifact_key_arn(self) -> Parameter:
        return self.consume("base", "ArtifactKeyArn", "KMS key of the artifact bucket")

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(bucket=Ref(self.artifact_bucket), key_arn=Ref(self.artifact_key_arn))

    # -- source ----------------------------------------------------------------------------

    @resource
    def repository(self) -> tuple[Repository, ...]:
        """The CodeCommit repository (none with a connection); retained: it holds the code."""
        pipeline = self.pipeline_config
        if pipeline.connection_arn:
            return ()
        repository = retain(
            Repository(
                "Repository",
                RepositoryName=pipeline.repository,
                RepositoryDescription=f"{self.app}: pushes to {pipeline.branch} deploy",
            )
        )
        self.share(
            "RepositoryCloneUrlHttp",
            GetAtt(repository, "CloneUrlHttp"),
            "git remote for the pipeline's repository (HTTPS)",
        )
        return (repository,)

    @resource
    def source_role(self) -> tuple[Role, ...]:
        """What the source rule acts as: it may start this pipeline and nothing else."""
        if self.pipeline_config.connection_arn:
            return ()
        return (
            service_role(
                "SourceRuleRole",
                self.names.role(SOURCE_ROLE),
                "events",
                source_statements(self.names),
            ),
        )

    @resource
    def source_rule(self) -> tuple[Rule, ...]:
        """A push to the branch (new or updated ref) starts the pipeline."""
        if not self.repository:
            return ()
        [repository] = self.repository
        [role] = self.source_role
        rule = Rule(
            "SourceRule",
            Name=self.names.source_rule,
            Description=f"Start {self.names.pipeline} on a push to {self.pipeline_config.branch}",
            State="ENABLED",
            EventPattern={
                "source": ["aws.codecommit"],
                "detail-type": ["CodeCommit Repository State Change"],
                "resources": [GetAtt(repository, "Arn")],
                "detail": {
                    "event": ["referenceCreated", "referenceUpdated"],
                    "referenceType": ["branch"],
                    "referenceName": [self.pipeline_config.branch],
                },
            },
            Targets=[
                RuleTarget(Id="pipeline", Arn=self.pipeline_arn_ref, RoleArn=GetAtt(role, "Arn"))
            ],
        )
        reason = (
            "EventBridge retries a failed start for 24 hours; a push that still did not start "
            "a run is missing from the pipeline's history and is rerun with Release change. "
            "A dead-letter queue nobody reads would add nothing."
        )
        return (skip_checks(rule, {"ES4000": reason}),)

    def triggers(self) -> list[PipelineTriggerDeclaration]:
        """With a connection, the pipeline's own V2 trigger: pushes to the branch only."""
        if not self.pipeline_config.connection_arn:
            return []
        push = GitPushFilter(
            Branches=GitBranchFilterCriteria(Includes=[self.pipeline_config.branch])
        )
        return [
            PipelineTriggerDeclaration(
                ProviderType="CodeStarSourceConnection",
                GitConfiguration=GitConfiguration(
                    SourceActionName=stages.SOURCE_ACTION, Push=[push]
                ),
            )
        ]

    # -- notifications ---------------------------------------------------------------------

    @resource
    def notification_topic(self) -> Topic:
        """Failed runs and pending approvals; e-mailed when `notification_email` is set."""
        topic = Topic(
            "NotificationTopic",
            TopicName=self.names.topic,
            KmsMasterKeyId=Ref(self.artifact_key_arn),
        )
        email = self.pipeline_config.notification_email
        if email:
            topic.Subscription = [Subscription(Endpoint=email, Protocol="email")]
        self.share("NotificationTopicArn", Ref(topic), "Where the pipeline's news goes")
        return topic

    @resource
    def notification_topic_policy(self) -> TopicPolicy:
        """CodeStar Notifications, for this account only, may publish; only over TLS."""
        topic = Ref(self.notification_topic)
        notifications = Statement(
            Sid="CodeStarNotificationsPublish",
            Effect=Allow,
            Principal=service_principal("codestar-notifications"),
            Action=[sns_actions.Publish],
            Resource=[topic],
            Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
        )
        tls_only = deny_insecure_transport([topic], [sns_actions.Publish])
        return TopicPolicy(
            "NotificationTopicPolicy",
            Topics=[topic],
            PolicyDocument=document(notifications, tls_only),
        )

    @resource
    def notification_rule(self) -> NotificationRule:
        return NotificationRule(
            "NotificationRule",
            Name=self.names.pipeline,
            DetailType="FULL",
            EventTypeIds=list(NOTIFIED_EVENTS),
            Resource=self.pipeline_arn_ref,
            Targets=[
                NotificationTarget(TargetType="SNS", TargetAddress=Ref(self.notification_topic))
            ],
            DependsOn=[self.notification_topic_policy.title],
        )

    # -- CodeBuild -------------------------------------------------------------------------

    def log_group(self, logical_id: str, purpose: str) -> LogGroup:
        """Declared, so it has a retention and our key; gone with the stack like the others."""
        return delete_with_stack(
            LogGroup(
                logical_id,
                LogGroupName=self.names.log_group(purpose),
                RetentionInDays=self.log_retention_days,
                KmsKeyId=Ref(self.artifact_key_arn),
            )
        )

    @resource
    def build_log_group(self) -> LogGroup:
        return self.log_group("BuildLogGroup", BUILD)

    @resource
    def check_log_group(self) -> LogGroup:
        return self.log_group("CheckLogGroup", CHECK)

    @resource
    def publish_log_group(self) -> tuple[LogGroup, ...]:
        return (self.log_group("PublishLogGroup", PUBLISH),) if self.has_site else ()

    @resource
    def test_report_group(self) -> ReportGroup:
        """The build's test results; buildspec.yml's `reports: tests` resolves to its name.

        Raw results go under the pipeline's run prefix, so they expire with the runs.
        """
        destination = S3ReportExportConfig(
            Bucket=Ref(self.artifact_bucket),
            Path=f"{self.names.artifact_prefix}reports",
            Packaging="NONE",
            EncryptionDisabled=False,
            EncryptionKey=Ref(self.artifact_key_arn),
        )
        return ReportGroup(
            "TestReportGroup",
            Name=self.names.report_group,
            Type="TEST",
            DeleteReports=True,
            ExportConfig=ReportExportConfig(ExportConfigType="S3", S3Destination=destination),
        )

    def project(
        self,
        logical_id: str,
        purpose: str,
        role: Role,
        log_group: LogGroup,
        buildspec: str,
        variables: dict[str, Any] | None = None,
    ) -> Project:
        """Graviton, Python 3.12, the base key for everything it writes, S3 cache, own logs."""
        environment = Environment(
            Type=BUILD_ENVIRONMENT_TYPE,
            ComputeType=BUILD_COMPUTE,
            Image=BUILD_IMAGE,
            ImagePullCredentialsType="CODEBUILD",
            PrivilegedMode=False,
        )
        if variables:
            environment.EnvironmentVariables = [
                EnvironmentVariable(Name=name, Type="PLAINTEXT", Value=value)
                for name, value in sorted(variables.items())
            ]
        cache = Sub(
            f"${{Bucket}}/{cache_prefix(purpose).rstrip('/')}", Bucket=Ref(self.artifact_bucket)
        )
        return Project(
            logical_id,
            Name=self.names.project(purpose),
            ServiceRole=GetAtt(role, "Arn"),
            Source=Source(Type="CODEPIPELINE", BuildSpec=buildspec),
            Artifacts=Artifacts(Type="CODEPIPELINE"),
            Environment=environment,
            Cache=ProjectCache(Type="S3", Location=cache),
            LogsConfig=LogsConfig(
                CloudWatchLogs=CloudWatchLogs(Status="ENABLED", GroupName=Ref(log_group))
            ),
            EncryptionKey=Ref(self.artifact_key_arn),
            TimeoutInMinutes=TIMEOUT_MINUTES[purpose],
            QueuedTimeoutInMinutes=60,
        )

    @resource
    def build_role(self) -> Role:
        statements = build_statements(
            self.names,
            self.store,
            GetAtt(self.build_log_group, "Arn"),
            GetAtt(self.test_report_group, "Arn"),
        )
        return service_role("BuildRole", self.names.role(BUILD), "codebuild", statements)

    @resource
    def build_project(self) -> Project:
        """Runs the repository's buildspec.yml: tests, render, package (puts the zips in S3)."""
        return self.project(
            "BuildProject",
            BUILD,
            self.build_role,
            self.build_log_group,
            "buildspec.yml",
            {
                "REPORT_GROUP": GetAtt(self.test_report_group, "Arn"),
                "INFRA_ARTIFACT_BUCKET": Ref(self.artifact_bucket),
            },
        )

    @resource
    def check_role(self) -> Role:
        statements = check_statements(self.names, self.store, GetAtt(self.check_log_group, "Arn"))
        return service_role("CheckRole", self.names.role(CHECK), "codebuild", statements)

    @resource
    def check_project(self) -> Project:
        """Plan (`infra diff`) and gate (`infra gate`), chosen by the action's CHECK variable."""
        return self.project(
            "CheckProject",
            CHECK,
            self.check_role,
            self.check_log_group,
            buildspecs.check_buildspec(),
        )

    @resource
    def publish_role(self) -> tuple[Role, ...]:
        if not self.has_site:
            return ()
        (log_group,) = self.publish_log_group
        statements = publish_statements(self.names, self.store, GetAtt(log_group, "Arn"))
        return (service_role("PublishRole", self.names.role(PUBLISH), "codebuild", statements),)

    @resource
    def publish_project(self) -> tuple[Project, ...]:
        """`infra publish`: the site's files to the env's site bucket, then invalidate."""
        if not self.has_site:
            return ()
        return (
            self.project(
                "PublishProject",
                PUBLISH,
                self.publish_role[0],
                self.publish_log_group[0],
                buildspecs.publish_buildspec(),
            ),
        )

    # -- deploy roles ----------------------------------------------------------------------

    @resource
    def deploy_roles(self) -> tuple[Role, ...]:
        """`<app>-<env>-cfn` per environment: what CloudFormation may do in that env."""
        return tuple(
            service_role(
                f"{pascal(env)}DeployRole",
                self.names.cfn_role(env),
                "cloudformation",
                environment_statements(
                    self.names,
                    env,
                    self.store,
                    self.resource_types(env),
                    f"{self.stack_name}: the {env} stacks",
                ),
            )
            for env in self.names.environments
        )

    def deploy_role(self, env: str) -> Role:
        return self.deploy_roles[self.names.environments.index(env)]

    @resource
    def self_update_role(self) -> Role:
        """What CloudFormation may do when the pipeline updates this stack."""
        statements = self_update_statements(self.names, self.pipeline_config)
        return service_role(
            "SelfUpdateRole", self.names.role(SELF_UPDATE_ROLE), "cloudformation", statements
        )

    # -- the pipeline ----------------------------------------------------------------------

    @resource
    def pipeline_role(self) -> Role:
        statements = pipeline_statements(
            self.names, self.store, self.pipeline_config, Ref(self.notification_topic)
        )
        return service_role(
            "PipelineRole", self.names.role(PIPELINE_ROLE), "codepipeline", statements
        )

    @property
    def pipeline_arn_ref(self) -> Sub:
        """The pipeline's ARN through its Ref, so what targets it is created after it."""
        return arn("codepipeline", "${Pipeline}", Pipeline=Ref(self.pipeline))

    def stages(self) -> list[Stages]:
        names = self.names
        execution_url = Sub(
            f"{CONSOLE}/${{Pipeline}}/executions/#{{codepipeline.PipelineExecutionId}}/timeline"
            "?region=${AWS::Region}",
            Pipeline=names.pipeline,
        )
        result = [
            stages.source_stage(self.pipeline_config),
            stages.build_stage(Ref(self.build_project)),
            stages.update_pipeline_stage(names, GetAtt(self.self_update_role, "Arn")),
        ]
        environments = self.context.app.environments
        for env in names.environments:
            role_arn = GetAtt(self.deploy_role(env), "Arn")
            result += [
                stages.plan_stage(env, Ref(self.check_project), role_arn),
                stages.approval_stage(
                    self.app,
                    env,
                    environments[env].approval,
                    Ref(self.notification_topic),
                    execution_url,
                ),
                stages.deploy_stage(
                    names,
                    env,
                    Ref(self.check_project),
                    Ref(self.publish_project[0]) if self.has_site else None,
                    role_arn,
                ),
            ]
        return result

    @resource
    def pipeline(self) -> Pipeline:
        """V2, queued (runs never overtake each other), artifacts encrypted with the base key."""
        pipeline = Pipeline(
            "Pipeline",
            Name=self.names.pipeline,
            PipelineType="V2",
            ExecutionMode="QUEUED",
            RoleArn=GetAtt(self.pipeline_role, "Arn"),
            RestartExecutionOnUpdate=False,
            ArtifactStore=PipelineArtifactStore(
                Type="S3",
                Location=Ref(self.artifact_bucket),
                EncryptionKey=EncryptionKey(Id=Ref(self.artifact_key_arn), Type="KMS"),
            ),
            Stages=self.stages(),
            Variables=[
                VariableDeclaration(
                    Name=stages.GATE_ALLOW_VARIABLE,
                    DefaultValue=NO_GATE_ALLOWANCE,
                    Description="STACK:LOGICAL_ID:KIND ... the gate lets through in this run",
                )
            ],
        )
        triggers = self.triggers()
        if triggers:
            pipeline.Triggers = triggers
        self.share("PipelineName", Ref(pipeline), "The pipeline that deploys on every push")
        self.share(
            "PipelineUrl",
            Sub(f"{CONSOLE}/${{Pipeline}}/view?region=${{AWS::Region}}", Pipeline=Ref(pipeline)),
            "The pipeline in the AWS console",
        )
        return pipeline
