"""The roles CloudFormation deploys with: the pipeline stack's own, and what they share.

The pipeline never deploys with its own permissions: each CloudFormation action
passes one of these roles, and CloudFormation can do only what the role allows.

An environment's role (`pipelines.resource_permissions`) may create and change the
resource types that env's stacks use, and only under the env's names: `<app>-<env>-*` wherever the
service lets us choose the name; where the service picks an id (KMS keys, user
pools), only resources tagged with this app and env. It cannot attach managed
policies, cannot change its own role, and cannot delete what the stacks retain
(tables, user pools, buckets, keys): CloudFormation never deletes a retained
resource, so the permission would only ever help a mistake.

The pipeline stack's role manages what that stack holds, all named
`<app>-<account>-pipeline-*`, plus each environment's deploy role. Whoever can
push to the pipeline's branch can therefore change these roles; that is what a
self-updating pipeline means, and why the branch deserves protection.
"""

from __future__ import annotations

from awacs import (
    codebuild,
    codecommit,
    codestar_notifications,
    events,
    logs,
    sns,
    ssm,
)
from awacs import codepipeline as codepipeline_actions
from awacs import iam as iam_actions
from awacs.aws import Condition, Statement, StringEquals
from troposphere import Sub

from infra.blocks.policy import allow, arn
from infra.config import Pipeline
from pipelines.names import (
    PIPELINE_ROLE,
    SOURCE_ROLE,
    PipelineNames,
)
from pipelines.roles import connection_action, passed_to

# What CloudFormation's handlers call for an EventBridge rule and its targets.
RULE_ACTIONS = [
    events.PutRule,
    events.DeleteRule,
    events.DescribeRule,
    events.PutTargets,
    events.RemoveTargets,
    events.ListTargetsByRule,
    events.TagResource,
    events.UntagResource,
    events.ListTagsForResource,
]
# What CloudFormation's role handlers call for an IAM role with inline policies; no
# AttachRolePolicy (no managed policies, so never AdministratorAccess) and no boundaries.
ROLE_ACTIONS = [
    iam_actions.CreateRole,
    iam_actions.DeleteRole,
    iam_actions.GetRole,
    iam_actions.UpdateRole,
    iam_actions.UpdateRoleDescription,
    iam_actions.UpdateAssumeRolePolicy,
    iam_actions.PutRolePolicy,
    iam_actions.DeleteRolePolicy,
    iam_actions.GetRolePolicy,
    iam_actions.ListRolePolicies,
    iam_actions.ListAttachedRolePolicies,
    iam_actions.TagRole,
    iam_actions.UntagRole,
]
LOG_GROUP_ACTIONS = [
    logs.CreateLogGroup,
    logs.DeleteLogGroup,
    logs.PutRetentionPolicy,
    logs.DeleteRetentionPolicy,
    logs.AssociateKmsKey,
    logs.DisassociateKmsKey,
    logs.TagResource,
    logs.UntagResource,
    logs.ListTagsForResource,
]
TOPIC_ACTIONS = [
    sns.CreateTopic,
    sns.DeleteTopic,
    sns.GetTopicAttributes,
    sns.SetTopicAttributes,
    sns.Subscribe,
    sns.Unsubscribe,
    sns.ListSubscriptionsByTopic,
    sns.GetDataProtectionPolicy,
    sns.TagResource,
    sns.UntagResource,
    sns.ListTagsForResource,
]
PARAMETER_ACTIONS = [
    ssm.PutParameter,
    ssm.DeleteParameter,
    ssm.GetParameters,
    ssm.AddTagsToResource,
    ssm.RemoveTagsFromResource,
    ssm.ListTagsForResource,
]


def describe_log_groups() -> Statement:
    """Log group handlers list groups to find theirs; the call takes no narrower ARN."""
    return allow("DescribeLogGroups", [logs.DescribeLogGroups], [arn("logs", "log-group:*")])


def read_parameters(sid: str, resources: list[Sub]) -> Statement:
    """SSM-typed template parameters are resolved with the deploy role's permissions."""
    return allow(sid, [ssm.GetParameters], resources)


# -- the pipeline stack itself ------------------------------------------------------------------


def self_update_statements(names: PipelineNames, pipeline: Pipeline) -> list[Statement]:
    """What `<app>-<account>-pipeline-cfn` may do: this stack's resources and the deploy roles."""
    own = f"{names.pipeline}-*"
    roles = [arn("iam", f"role/{own}", region=False)]
    roles += [names.role_arn(names.cfn_role(env)) for env in names.environments]
    statements = [
        read_parameters("ReadBaseValues", [names.parameters_arn(names.account, "base")]),
        allow(
            "PublishValues", PARAMETER_ACTIONS, [names.parameters_arn(names.account, "pipeline")]
        ),
        allow(
            "Pipeline",
            [
                codepipeline_actions.CreatePipeline,
                codepipeline_actions.GetPipeline,
                codepipeline_actions.GetPipelineState,
                codepipeline_actions.UpdatePipeline,
                codepipeline_actions.DeletePipeline,
                codepipeline_actions.DisableStageTransition,
                codepipeline_actions.EnableStageTransition,
                codepipeline_actions.TagResource,
                codepipeline_actions.UntagResource,
                codepipeline_actions.ListTagsForResource,
            ],
            [names.pipeline_arn, arn("codepipeline", f"{names.pipeline}/*")],
        ),
        # AWS::CodeBuild::Project's schema lists no handler permissions; these are its API calls.
        allow(
            "Projects",
            [
                codebuild.CreateProject,
                codebuild.UpdateProject,
                codebuild.DeleteProject,
                codebuild.BatchGetProjects,
            ],
            [arn("codebuild", f"project/{own}")],
        ),
        allow(
            "ReportGroups",
            [
                codebuild.CreateReportGroup,
                codebuild.UpdateReportGroup,
                codebuild.DeleteReportGroup,
                codebuild.BatchGetReportGroups,
            ],
            [arn("codebuild", f"report-group/{own}")],
        ),
        allow("LogGroups", LOG_GROUP_ACTIONS, [arn("logs", f"log-group:/aws/codebuild/{own}")]),
        describe_log_groups(),
        allow("NotificationTopic", TOPIC_ACTIONS, [arn("sns", names.topic)]),
        # Rule ids are generated; the condition keeps the rules to this pipeline's.
        allow(
            "NotificationRules",
            [
                codestar_notifications.CreateNotificationRule,
                codestar_notifications.DescribeNotificationRule,
                codestar_notifications.UpdateNotificationRule,
                codestar_notifications.DeleteNotificationRule,
            ],
            [arn("codestar-notifications", "notificationrule/*")],
            Condition=Condition(
                StringEquals("codestar-notifications:NotificationsForResource", names.pipeline_arn)
            ),
        ),
        allow(
            "TagNotificationRules",
            [codestar_notifications.TagResource, codestar_notifications.UntagResource],
            [arn("codestar-notifications", "notificationrule/*")],
        ),
        allow("PipelineRoles", ROLE_ACTIONS, roles),
        allow(
            "PassPipelineRole",
            [iam_actions.PassRole],
            [names.role_arn(names.role(PIPELINE_ROLE))],
            Condition=passed_to("codepipeline"),
        ),
        allow(
            "PassProjectRoles",
            [iam_actions.PassRole],
            [names.role_arn(names.role(purpose)) for purpose in names.projects],
            Condition=passed_to("codebuild"),
        ),
    ]
    if pipeline.connection_arn:
        statements.append(
            allow(
                "PassSourceConnection",
                [connection_action(pipeline.connection_arn, "PassConnection")],
                [pipeline.connection_arn],
            )
        )
    else:
        statements += [
            allow(
                "Repository",
                [
                    codecommit.CreateRepository,
                    codecommit.GetRepository,
                    codecommit.UpdateRepositoryDescription,
                    codecommit.TagResource,
                    codecommit.UntagResource,
                    codecommit.ListTagsForResource,
                ],
                [arn("codecommit", pipeline.repository)],
            ),
            allow(
                "SourceRule",
                RULE_ACTIONS,
                [arn("events", f"rule/{names.source_rule}")],
            ),
            allow(
                "PassSourceRole",
                [iam_actions.PassRole],
                [names.role_arn(names.role(SOURCE_ROLE))],
                Condition=passed_to("events"),
            ),
        ]
    return statements
