"""The roles CloudFormation deploys with: one per environment, and one for the pipeline itself.

The pipeline never deploys with its own permissions: each CloudFormation action
passes one of these roles, and CloudFormation can do only what the role allows.

An environment's role may create and change the resource types that env's
stacks use, and only under the env's names: `<app>-<env>-*` wherever the
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
    apigateway,
    cloudfront,
    cloudwatch,
    codebuild,
    codecommit,
    codestar_notifications,
    cognito_idp,
    dynamodb,
    events,
    kms,
    logs,
    s3,
    sns,
    sqs,
    ssm,
)
from awacs import awslambda as lambda_actions
from awacs import codepipeline as codepipeline_actions
from awacs import iam as iam_actions
from awacs.aws import ArnLike, Condition, Deny, Statement, StringEquals
from troposphere import Sub

from infra.blocks.policy import allow, arn
from infra.config import Pipeline
from pipelines.names import (
    BUILD,
    CHECK,
    PIPELINE_ROLE,
    PUBLISH,
    SOURCE_ROLE,
    PipelineNames,
)
from pipelines.roles import ArtifactStore, connection_action, passed_to

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


# -- one environment ----------------------------------------------------------------------------


def environment_statements(names: PipelineNames, env: str, store: ArtifactStore) -> list[Statement]:
    """What `<app>-<env>-cfn` may do: the env's stacks' resources, by name or by tag."""
    prefix = f"{names.app}-{env}"
    own_role = names.role_arn(names.cfn_role(env))
    tagged = Condition(StringEquals({"aws:ResourceTag/app": names.app, "aws:ResourceTag/env": env}))
    functions = arn("lambda", f"function:{prefix}-*")
    return [
        read_parameters(
            "ReadPublishedValues",
            [names.parameters_arn(env), names.parameters_arn(names.account, "base")],
        ),
        allow("PublishValues", PARAMETER_ACTIONS, [names.parameters_arn(env)]),
        allow(
            "LogGroups",
            LOG_GROUP_ACTIONS,
            [
                arn("logs", f"log-group:/aws/lambda/{prefix}-*"),
                arn("logs", f"log-group:/aws/apigateway/{prefix}-*"),
            ],
        ),
        describe_log_groups(),
        # The HTTP API's access logs: API Gateway sets up log delivery with the caller's
        # permissions, and these calls take no resource (API Gateway developer guide).
        allow(
            "HttpApiAccessLogDelivery",
            [
                logs.CreateLogDelivery,
                logs.GetLogDelivery,
                logs.UpdateLogDelivery,
                logs.DeleteLogDelivery,
                logs.ListLogDeliveries,
                logs.PutResourcePolicy,
                logs.DescribeResourcePolicies,
            ],
            ["*"],
        ),
        allow(
            "Functions",
            [
                lambda_actions.CreateFunction,
                lambda_actions.DeleteFunction,
                lambda_actions.GetFunction,
                lambda_actions.UpdateFunctionCode,
                lambda_actions.UpdateFunctionConfiguration,
                lambda_actions.GetFunctionCodeSigningConfig,
                lambda_actions.GetRuntimeManagementConfig,
                lambda_actions.GetFunctionRecursionConfig,
                lambda_actions.TagResource,
                lambda_actions.UntagResource,
                lambda_actions.ListTags,
                lambda_actions.AddPermission,
                lambda_actions.RemovePermission,
                lambda_actions.GetPolicy,
                lambda_actions.PutFunctionEventInvokeConfig,
                lambda_actions.UpdateFunctionEventInvokeConfig,
                lambda_actions.DeleteFunctionEventInvokeConfig,
                lambda_actions.GetFunctionEventInvokeConfig,
            ],
            [functions],
        ),
        # CreateEventSourceMapping names no mapping yet; the condition keeps it to our functions.
        allow(
            "CreateEventSourceMappings",
            [lambda_actions.CreateEventSourceMapping],
            ["*"],
            Condition=Condition(ArnLike("lambda:FunctionArn", functions)),
        ),
        allow(
            "EventSourceMappings",
            [
                lambda_actions.GetEventSourceMapping,
                lambda_actions.UpdateEventSourceMapping,
                lambda_actions.DeleteEventSourceMapping,
                lambda_actions.TagResource,
                lambda_actions.UntagResource,
                lambda_actions.ListTags,
            ],
            [arn("lambda", "event-source-mapping:*")],
            Condition=Condition(ArnLike("lambda:FunctionArn", functions)),
        ),
        # Lambda fetches the code with the caller's permissions.
        allow(
            "ReadLambdaCode",
            [s3.GetObject, s3.GetObjectVersion],
            [store.objects("lambdas/")],
        ),
        allow("DecryptLambdaCode", [kms.Decrypt], [store.key_arn]),
        allow("FunctionRoles", ROLE_ACTIONS, [arn("iam", f"role/{prefix}-*", region=False)]),
        allow(
            "PassFunctionRolesToLambda",
            [iam_actions.PassRole],
            [arn("iam", f"role/{prefix}-*", region=False)],
            Condition=passed_to("lambda"),
        ),
        # `<app>-<env>-cfn` matches the pattern above: it must never widen itself.
        Statement(
            Sid="NeverChangeOwnRole",
            Effect=Deny,
            Action=[*ROLE_ACTIONS, iam_actions.PassRole, iam_actions.AttachRolePolicy],
            Resource=[own_role],
        ),
        allow(
            "Queues",
            [
                sqs.CreateQueue,
                sqs.DeleteQueue,
                sqs.GetQueueAttributes,
                sqs.SetQueueAttributes,
                sqs.GetQueueUrl,
                sqs.TagQueue,
                sqs.UntagQueue,
                sqs.ListQueueTags,
            ],
            [arn("sqs", f"{prefix}-*")],
        ),
        allow(
            "Topics",
            [*TOPIC_ACTIONS, sns.GetSubscriptionAttributes, sns.SetSubscriptionAttributes],
            [arn("sns", f"{prefix}-*")],
        ),
        allow(
            "Table",
            [
                dynamodb.CreateTable,
                dynamodb.DescribeTable,
                dynamodb.UpdateTable,
                dynamodb.DescribeContinuousBackups,
                dynamodb.UpdateContinuousBackups,
                dynamodb.DescribeTimeToLive,
                dynamodb.UpdateTimeToLive,
                dynamodb.DescribeContributorInsights,
                dynamodb.DescribeKinesisStreamingDestination,
                dynamodb.GetResourcePolicy,
                dynamodb.TagResource,
                dynamodb.UntagResource,
                dynamodb.ListTagsOfResource,
            ],
            [arn("dynamodb", f"table/{prefix}-*")],
        ),
        # Bucket names: `<app>-<env>-uploads-...`, `-media-...`, `<app>-<env>-frontend-site...`.
        allow(
            "Buckets",
            [
                s3.CreateBucket,
                s3.ListBucket,
                s3.GetBucketAcl,
                s3.GetBucketCORS,
                s3.PutBucketCORS,
                s3.GetBucketLogging,
                s3.PutBucketLogging,
                s3.GetBucketNotification,
                s3.PutBucketNotification,
                s3.GetBucketOwnershipControls,
                s3.PutBucketOwnershipControls,
                s3.GetBucketPublicAccessBlock,
                s3.PutBucketPublicAccessBlock,
                s3.GetBucketTagging,
                s3.PutBucketTagging,
                s3.GetBucketVersioning,
                s3.PutBucketVersioning,
                s3.GetEncryptionConfiguration,
                s3.PutEncryptionConfiguration,
                s3.GetLifecycleConfiguration,
                s3.PutLifecycleConfiguration,
                s3.GetBucketPolicy,
                s3.PutBucketPolicy,
                s3.DeleteBucketPolicy,
            ],
            [arn("s3", f"{prefix}-*", region=False, account=False)],
        ),
        # KMS picks key ids; only keys tagged with this app and env are ours.
        allow("CreateKeys", [kms.CreateKey, kms.ListAliases], ["*"]),
        allow(
            "OwnKeys",
            [
                kms.DescribeKey,
                kms.GetKeyPolicy,
                kms.PutKeyPolicy,
                kms.GetKeyRotationStatus,
                kms.EnableKeyRotation,
                kms.UpdateKeyDescription,
                kms.ListResourceTags,
                kms.TagResource,
                kms.UntagResource,
                kms.CreateGrant,
                kms.CreateAlias,
                kms.UpdateAlias,
                kms.DeleteAlias,
            ],
            [arn("kms", "key/*")],
            Condition=tagged,
        ),
        allow(
            "OwnAliases",
            [kms.CreateAlias, kms.UpdateAlias, kms.DeleteAlias],
            [arn("kms", f"alias/{prefix}-*")],
        ),
        allow("CreateUserPools", [cognito_idp.CreateUserPool], ["*"]),
        allow(
            "OwnUserPools",
            [
                cognito_idp.DescribeUserPool,
                cognito_idp.UpdateUserPool,
                cognito_idp.GetUserPoolMfaConfig,
                cognito_idp.SetUserPoolMfaConfig,
                cognito_idp.TagResource,
                cognito_idp.UntagResource,
                cognito_idp.ListTagsForResource,
                cognito_idp.CreateUserPoolClient,
                cognito_idp.DescribeUserPoolClient,
                cognito_idp.UpdateUserPoolClient,
                cognito_idp.DeleteUserPoolClient,
            ],
            [arn("cognito-idp", "userpool/*")],
            Condition=tagged,
        ),
        # API Gateway ARNs carry the API's generated id, never our name.
        allow(
            "HttpApis",
            [
                apigateway.GET,
                apigateway.POST,
                apigateway.PUT,
                apigateway.PATCH,
                apigateway.DELETE,
            ],
            [
                arn("apigateway", "/apis", account=False),
                arn("apigateway", "/apis/*", account=False),
                arn("apigateway", "/tags/*", account=False),
            ],
        ),
        allow(
            "Distributions",
            [
                cloudfront.CreateDistribution,
                cloudfront.GetDistribution,
                cloudfront.GetDistributionConfig,
                cloudfront.UpdateDistribution,
                cloudfront.DeleteDistribution,
                cloudfront.TagResource,
                cloudfront.UntagResource,
                cloudfront.ListTagsForResource,
                cloudfront.CreateOriginAccessControl,
                cloudfront.GetOriginAccessControl,
                cloudfront.UpdateOriginAccessControl,
                cloudfront.DeleteOriginAccessControl,
                cloudfront.CreateResponseHeadersPolicy,
                cloudfront.GetResponseHeadersPolicy,
                cloudfront.UpdateResponseHeadersPolicy,
                cloudfront.DeleteResponseHeadersPolicy,
            ],
            [
                arn("cloudfront", "distribution/*", region=False),
                arn("cloudfront", "origin-access-control/*", region=False),
                arn("cloudfront", "response-headers-policy/*", region=False),
            ],
        ),
        # Alarms are named by CloudFormation: `<app>-<env>-backend-<LogicalId>-<random>`.
        allow(
            "Alarms",
            [
                cloudwatch.PutMetricAlarm,
                cloudwatch.DeleteAlarms,
                cloudwatch.DescribeAlarms,
                cloudwatch.TagResource,
                cloudwatch.UntagResource,
                cloudwatch.ListTagsForResource,
            ],
            [arn("cloudwatch", f"alarm:{prefix}-*")],
        ),
    ]


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
            [names.role_arn(names.role(purpose)) for purpose in (BUILD, CHECK, PUBLISH)],
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
                [
                    events.PutRule,
                    events.DeleteRule,
                    events.DescribeRule,
                    events.PutTargets,
                    events.RemoveTargets,
                    events.ListTargetsByRule,
                    events.TagResource,
                    events.UntagResource,
                    events.ListTagsForResource,
                ],
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
