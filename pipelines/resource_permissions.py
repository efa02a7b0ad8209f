"""What an environment's deploy role may do, derived from the resource types its stacks use.

Each `TypeStatement` is one statement of the role: its Sid, the narrowest resources
(under the environment's names `<app>-<env>-*`, or by the app/env tags where AWS picks
the id) and, per resource type, the actions CloudFormation's handlers for that type
call. A statement is in the role only when a type it serves is in the environment's
templates, with only those types' actions, so an app without a site gets no CloudFront
permissions and one without tables no DynamoDB ones. A type no statement serves stops
the render with a clear error: the role would not be able to deploy it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awacs import (
    apigateway,
    cloudfront,
    cloudwatch,
    cognito_idp,
    dynamodb,
    kms,
    logs,
    s3,
    sns,
    sqs,
)
from awacs import awslambda as lambda_actions
from awacs import iam as iam_actions
from awacs.aws import Action, ArnLike, Condition, Deny, Statement, StringEquals

from infra.blocks.policy import allow, arn
from infra.errors import DeclarationError
from pipelines.cfn_roles import (
    LOG_GROUP_ACTIONS,
    PARAMETER_ACTIONS,
    ROLE_ACTIONS,
    RULE_ACTIONS,
    TOPIC_ACTIONS,
    read_parameters,
)
from pipelines.names import PipelineNames
from pipelines.roles import ArtifactStore, passed_to

API_TYPES = (
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
)
CLOUDFRONT_TYPES = (
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
)


@dataclass(frozen=True)
class Scope:
    """One environment's names, as the statements scope their resources."""

    names: PipelineNames
    env: str
    store: ArtifactStore

    @property
    def prefix(self) -> str:
        return f"{self.names.app}-{self.env}"

    @property
    def tagged(self) -> Condition:
        """Resources whose ids AWS picks are ours when tagged with this app and env."""
        return Condition(
            StringEquals({"aws:ResourceTag/app": self.names.app, "aws:ResourceTag/env": self.env})
        )

    @property
    def functions(self) -> Any:
        return arn("lambda", f"function:{self.prefix}-*")

    @property
    def roles(self) -> Any:
        return arn("iam", f"role/{self.prefix}-*", region=False)

    @property
    def own_role(self) -> Any:
        return self.names.role_arn(self.names.cfn_role(self.env))


Resources = Callable[[Scope, frozenset[str]], list[Any]]
Conditions = Callable[[Scope], Condition]


@dataclass(frozen=True)
class TypeStatement:
    """One statement, with the actions each resource type it serves needs."""

    sid: str
    actions: Mapping[str, Sequence[Action]]
    resources: Resources
    condition: Conditions | None = None
    deny: bool = False

    def needed_actions(self, types: frozenset[str]) -> list[Action]:
        """The actions of the types present, each once, in the order written here."""
        found: dict[tuple[str, str], Action] = {}
        for kind, actions in self.actions.items():
            if kind in types:
                for action in actions:
                    found.setdefault((action.prefix, action.action), action)
        return list(found.values())

    def statement(self, scope: Scope, types: frozenset[str]) -> Statement | None:
        needed = self.needed_actions(types)
        if not needed:
            return None
        extra: dict[str, Any] = {}
        if self.condition is not None:
            extra["Condition"] = self.condition(scope)
        if self.deny:
            return Statement(
                Sid=self.sid,
                Effect=Deny,
                Action=needed,
                Resource=self.resources(scope, types),
            )
        return allow(self.sid, needed, self.resources(scope, types), **extra)


def every(types: Iterable[str], actions: Sequence[Action]) -> dict[str, Sequence[Action]]:
    return {kind: actions for kind in types}


def log_group_arns(scope: Scope, types: set[str]) -> list[Any]:
    groups = [arn("logs", f"log-group:/aws/lambda/{scope.prefix}-*")]
    if "AWS::ApiGatewayV2::Stage" in types:
        groups.append(arn("logs", f"log-group:/aws/apigateway/{scope.prefix}-*"))
    return groups


FUNCTION_ACTIONS = [
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
]
QUEUE_ACTIONS = [
    sqs.CreateQueue,
    sqs.DeleteQueue,
    sqs.GetQueueAttributes,
    sqs.SetQueueAttributes,
    sqs.GetQueueUrl,
    sqs.TagQueue,
    sqs.UntagQueue,
    sqs.ListQueueTags,
]
TABLE_ACTIONS = [
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
]
BUCKET_ACTIONS = [
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
]
BUCKET_POLICY_ACTIONS = [s3.GetBucketPolicy, s3.PutBucketPolicy, s3.DeleteBucketPolicy]
KEY_ACTIONS = [
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
]
ALIAS_ACTIONS = [kms.CreateAlias, kms.UpdateAlias, kms.DeleteAlias]
USER_POOL_ACTIONS = [
    cognito_idp.DescribeUserPool,
    cognito_idp.UpdateUserPool,
    cognito_idp.GetUserPoolMfaConfig,
    cognito_idp.SetUserPoolMfaConfig,
    cognito_idp.TagResource,
    cognito_idp.UntagResource,
    cognito_idp.ListTagsForResource,
]
USER_POOL_CLIENT_ACTIONS = [
    cognito_idp.CreateUserPoolClient,
    cognito_idp.DescribeUserPoolClient,
    cognito_idp.UpdateUserPoolClient,
    cognito_idp.DeleteUserPoolClient,
]
API_ACTIONS = [apigateway.GET, apigateway.POST, apigateway.PUT, apigateway.PATCH, apigateway.DELETE]
DISTRIBUTION_ACTIONS = {
    "AWS::CloudFront::Distribution": [
        cloudfront.CreateDistribution,
        cloudfront.GetDistribution,
        cloudfront.GetDistributionConfig,
        cloudfront.UpdateDistribution,
        cloudfront.DeleteDistribution,
        cloudfront.TagResource,
        cloudfront.UntagResource,
        cloudfront.ListTagsForResource,
    ],
    "AWS::CloudFront::OriginAccessControl": [
        cloudfront.CreateOriginAccessControl,
        cloudfront.GetOriginAccessControl,
        cloudfront.UpdateOriginAccessControl,
        cloudfront.DeleteOriginAccessControl,
    ],
    "AWS::CloudFront::ResponseHeadersPolicy": [
        cloudfront.CreateResponseHeadersPolicy,
        cloudfront.GetResponseHeadersPolicy,
        cloudfront.UpdateResponseHeadersPolicy,
        cloudfront.DeleteResponseHeadersPolicy,
    ],
}
ALARM_ACTIONS = [
    cloudwatch.PutMetricAlarm,
    cloudwatch.DeleteAlarms,
    cloudwatch.DescribeAlarms,
    cloudwatch.TagResource,
    cloudwatch.UntagResource,
    cloudwatch.ListTagsForResource,
]
DASHBOARD_ACTIONS = [
    cloudwatch.PutDashboard,
    cloudwatch.GetDashboard,
    cloudwatch.DeleteDashboards,
    cloudwatch.TagResource,
    cloudwatch.UntagResource,
    cloudwatch.ListTagsForResource,
]


def fixed(*resources: Callable[[Scope], Any]) -> Resources:
    return lambda scope, _types: [make(scope) for make in resources]


def functions_condition(scope: Scope) -> Condition:
    return Condition(ArnLike("lambda:FunctionArn", scope.functions))


ESM = "AWS::Lambda::EventSourceMapping"

STATEMENTS: tuple[TypeStatement, ...] = (
    TypeStatement(
        "PublishValues",
        {"AWS::SSM::Parameter": PARAMETER_ACTIONS},
        fixed(lambda s: s.names.parameters_arn(s.env)),
    ),
    TypeStatement("LogGroups", {"AWS::Logs::LogGroup": LOG_GROUP_ACTIONS}, log_group_arns),
    TypeStatement(
        "DescribeLogGroups",
        {"AWS::Logs::LogGroup": [logs.DescribeLogGroups]},
        fixed(lambda _s: arn("logs", "log-group:*")),
    ),
    # The HTTP API's access logs: API Gateway sets up log delivery with the caller's
    # permissions, and these calls take no resource (API Gateway developer guide).
    TypeStatement(
        "HttpApiAccessLogDelivery",
        {
            "AWS::ApiGatewayV2::Stage": [
                logs.CreateLogDelivery,
                logs.GetLogDelivery,
                logs.UpdateLogDelivery,
                logs.DeleteLogDelivery,
                logs.ListLogDeliveries,
                logs.PutResourcePolicy,
                logs.DescribeResourcePolicies,
            ]
        },
        fixed(lambda _s: "*"),
    ),
    TypeStatement(
        "Functions",
        {
            "AWS::Lambda::Function": FUNCTION_ACTIONS,
            "AWS::Lambda::Permission": [
                lambda_actions.AddPermission,
                lambda_actions.RemovePermission,
                lambda_actions.GetPolicy,
            ],
            "AWS::Lambda::EventInvokeConfig": [
                lambda_actions.PutFunctionEventInvokeConfig,
                lambda_actions.UpdateFunctionEventInvokeConfig,
                lambda_actions.DeleteFunctionEventInvokeConfig,
                lambda_actions.GetFunctionEventInvokeConfig,
            ],
        },
        fixed(lambda s: s.functions),
    ),
    # CreateEventSourceMapping names no mapping yet; the condition keeps it to our functions.
    TypeStatement(
        "CreateEventSourceMappings",
        {ESM: [lambda_actions.CreateEventSourceMapping]},
        fixed(lambda _s: "*"),
        functions_condition,
    ),
    TypeStatement(
        "EventSourceMappings",
        {
            ESM: [
                lambda_actions.GetEventSourceMapping,
                lambda_actions.UpdateEventSourceMapping,
                lambda_actions.DeleteEventSourceMapping,
                lambda_actions.TagResource,
                lambda_actions.UntagResource,
                lambda_actions.ListTags,
            ]
        },
        fixed(lambda _s: arn("lambda", "event-source-mapping:*")),
        functions_condition,
    ),
    # Lambda fetches the code with the caller's permissions.
    TypeStatement(
        "ReadLambdaCode",
        {"AWS::Lambda::Function": [s3.GetObject, s3.GetObjectVersion]},
        fixed(lambda s: s.store.objects("lambdas/")),
    ),
    TypeStatement(
        "DecryptLambdaCode",
        {"AWS::Lambda::Function": [kms.Decrypt]},
        fixed(lambda s: s.store.key_arn),
    ),
    TypeStatement("FunctionRoles", {"AWS::IAM::Role": ROLE_ACTIONS}, fixed(lambda s: s.roles)),
    TypeStatement(
        "PassFunctionRolesToLambda",
        {"AWS::IAM::Role": [iam_actions.PassRole]},
        fixed(lambda s: s.roles),
        lambda _s: passed_to("lambda"),
    ),
    # `<app>-<env>-cfn` matches the pattern above: it must never widen itself.
    TypeStatement(
        "NeverChangeOwnRole",
        {"AWS::IAM::Role": [*ROLE_ACTIONS, iam_actions.PassRole, iam_actions.AttachRolePolicy]},
        fixed(lambda s: s.own_role),
        deny=True,
    ),
    TypeStatement(
        "Queues",
        {
            "AWS::SQS::Queue": QUEUE_ACTIONS,
            "AWS::SQS::QueuePolicy": [sqs.SetQueueAttributes, sqs.GetQueueAttributes],
        },
        fixed(lambda s: arn("sqs", f"{s.prefix}-*")),
    ),
    TypeStatement(
        "Topics",
        {
            "AWS::SNS::Topic": TOPIC_ACTIONS,
            "AWS::SNS::TopicPolicy": [sns.SetTopicAttributes, sns.GetTopicAttributes],
            "AWS::SNS::Subscription": [
                sns.Subscribe,
                sns.Unsubscribe,
                sns.GetSubscriptionAttributes,
                sns.SetSubscriptionAttributes,
            ],
        },
        fixed(lambda s: arn("sns", f"{s.prefix}-*")),
    ),
    TypeStatement(
        "Table",
        {"AWS::DynamoDB::Table": TABLE_ACTIONS},
        fixed(lambda s: arn("dynamodb", f"table/{s.prefix}-*")),
    ),
    # Bucket names: `<app>-<env>-<name>-...` declared, `<app>-<env>-frontend-site...` generated.
    TypeStatement(
        "Buckets",
        {"AWS::S3::Bucket": BUCKET_ACTIONS, "AWS::S3::BucketPolicy": BUCKET_POLICY_ACTIONS},
        fixed(lambda s: arn("s3", f"{s.prefix}-*", region=False, account=False)),
    ),
    # KMS picks key ids; only keys tagged with this app and env are ours.
    TypeStatement(
        "CreateKeys",
        {"AWS::KMS::Key": [kms.CreateKey], "AWS::KMS::Alias": [kms.ListAliases]},
        fixed(lambda _s: "*"),
    ),
    TypeStatement(
        "OwnKeys",
        {"AWS::KMS::Key": KEY_ACTIONS, "AWS::KMS::Alias": ALIAS_ACTIONS},
        fixed(lambda _s: arn("kms", "key/*")),
        lambda s: s.tagged,
    ),
    TypeStatement(
        "OwnAliases",
        {"AWS::KMS::Alias": ALIAS_ACTIONS},
        fixed(lambda s: arn("kms", f"alias/{s.prefix}-*")),
    ),
    TypeStatement(
        "CreateUserPools",
        {"AWS::Cognito::UserPool": [cognito_idp.CreateUserPool]},
        fixed(lambda _s: "*"),
    ),
    TypeStatement(
        "OwnUserPools",
        {
            "AWS::Cognito::UserPool": USER_POOL_ACTIONS,
            "AWS::Cognito::UserPoolClient": USER_POOL_CLIENT_ACTIONS,
        },
        fixed(lambda _s: arn("cognito-idp", "userpool/*")),
        lambda s: s.tagged,
    ),
    # API Gateway ARNs carry the API's generated id, never our name.
    TypeStatement(
        "HttpApis",
        every(API_TYPES, API_ACTIONS),
        fixed(
            lambda _s: arn("apigateway", "/apis", account=False),
            lambda _s: arn("apigateway", "/apis/*", account=False),
            lambda _s: arn("apigateway", "/tags/*", account=False),
        ),
    ),
    TypeStatement(
        "Distributions",
        DISTRIBUTION_ACTIONS,
        lambda _s, types: [
            arn("cloudfront", f"{resource}/*", region=False)
            for kind, resource in (
                ("AWS::CloudFront::Distribution", "distribution"),
                ("AWS::CloudFront::OriginAccessControl", "origin-access-control"),
                ("AWS::CloudFront::ResponseHeadersPolicy", "response-headers-policy"),
            )
            if kind in types
        ],
    ),
    # Alarms are named by CloudFormation: `<app>-<env>-backend-<LogicalId>-<random>`.
    TypeStatement(
        "Alarms",
        {"AWS::CloudWatch::Alarm": ALARM_ACTIONS},
        fixed(lambda s: arn("cloudwatch", f"alarm:{s.prefix}-*")),
    ),
    # Dashboards are global and named by the app: `<app>-<env>-...`.
    TypeStatement(
        "Dashboards",
        {"AWS::CloudWatch::Dashboard": DASHBOARD_ACTIONS},
        fixed(lambda s: arn("cloudwatch", f"dashboard/{s.prefix}-*", region=False)),
    ),
    # Schedules: EventBridge rules named `<app>-<env>-<function>`.
    TypeStatement(
        "Rules",
        {"AWS::Events::Rule": RULE_ACTIONS},
        fixed(lambda s: arn("events", f"rule/{s.prefix}-*")),
    ),
)
KNOWN_TYPES = frozenset(kind for statement in STATEMENTS for kind in statement.actions)


def environment_statements(
    names: PipelineNames, env: str, store: ArtifactStore, types: set[str], where: str
) -> list[Statement]:
    """What `<app>-<env>-cfn` may do: read shared values, then manage exactly `types`.

    `where` names the templates the types come from, for the error on an unknown type.
    """
    unknown = sorted(types - KNOWN_TYPES)
    if unknown:
        raise DeclarationError(
            f"{where}: {', '.join(unknown)}: the environment's deploy role has no permissions "
            "for this type (pipelines/resource_permissions.py lists the types it can deploy)"
        )
    scope = Scope(names, env, store)
    present = frozenset(types)
    statements = [
        read_parameters(
            "ReadPublishedValues",
            [names.parameters_arn(env), names.parameters_arn(names.account, "base")],
        )
    ]
    for item in STATEMENTS:
        statement = item.statement(scope, present)
        if statement is not None:
            statements.append(statement)
    return statements
