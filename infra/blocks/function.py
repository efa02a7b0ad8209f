"""The role + log group + function a declared `Function` becomes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awacs import logs as logs_actions
from awacs import xray as xray_actions
from awacs.aws import Action, Allow, Condition, Statement, StringEquals
from troposphere import GetAtt, Sub
from troposphere.awslambda import Code, Environment, TracingConfig
from troposphere.awslambda import Function as LambdaFunction
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from infra.app import Function
from infra.blocks.policy import allow, document, service_principal
from infra.config import LambdaDefaults
from infra.stack import delete_with_stack, skip_checks

# checkov rules that do not fit a serverless function, each with the reason.
FUNCTION_CHECK_SKIPS = {
    "CKV_AWS_115": "Concurrency is bounded by API throttling and each event source's maximum "
    "concurrency; reserving it would starve small accounts.",
    "CKV_AWS_116": "Failures stay where the trigger keeps them: the HTTP caller gets the error, "
    "SQS redrives to its DLQ, async SNS uses an on-failure destination.",
    "CKV_AWS_117": "Reaches only AWS APIs over TLS; a VPC would add NAT cost and cold starts.",
    "CKV_AWS_173": "The environment holds names and limits only, never secrets.",
}


@dataclass(frozen=True)
class BuiltFunction:
    """The resources one declaration became, for the stack to wire triggers to."""

    spec: Function
    role: Role
    log_group: LogGroup
    function: LambdaFunction

    @property
    def resources(self) -> tuple[Any, ...]:
        return (self.role, self.log_group, self.function)


def lambda_role(
    logical_id: str, role_name: str, policy_name: str, statements: Sequence[Statement]
) -> Role:
    """A role only Lambda in this account can assume, with exactly `statements`."""
    trust = Statement(
        Effect=Allow,
        Principal=service_principal("lambda"),
        Action=[Action("sts", "AssumeRole")],
        Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
    )
    return Role(
        logical_id,
        RoleName=role_name,
        AssumeRolePolicyDocument=document(trust),
        Policies=[Policy(PolicyName=policy_name, PolicyDocument=document(*statements))],
    )


def build_function(
    spec: Function,
    *,
    function_name: str,
    defaults: LambdaDefaults,
    code_bucket: Any,
    code_key: Any,
    environment: Mapping[str, Any],
    statements: Sequence[Statement],
    log_retention_days: int,
    log_kms_key_arn: Any,
) -> BuiltFunction:
    """Role (least privilege) + log group (retention, KMS) + function (arm64, traced)."""
    stem = spec.logical_name
    log_group = delete_with_stack(
        LogGroup(
            f"{stem}LogGroup",
            LogGroupName=f"/aws/lambda/{function_name}",
            RetentionInDays=log_retention_days,
            KmsKeyId=log_kms_key_arn,
        )
    )
    own_statements = [
        allow(
            "WriteOwnLogs",
            [logs_actions.CreateLogStream, logs_actions.PutLogEvents],
            [GetAtt(log_group, "Arn")],
        ),
        # X-Ray accepts no resource narrower than "*" for these two actions.
        allow(
            "SendTraces", [xray_actions.PutTraceSegments, xray_actions.PutTelemetryRecords], ["*"]
        ),
        *statements,
    ]
    role = lambda_role(f"{stem}Role", function_name, "least-privilege", own_statements)
    function = LambdaFunction(
        f"{stem}Function",
        FunctionName=function_name,
        Description=spec.description,
        Runtime=defaults.runtime,
        Architectures=[defaults.architecture],
        Handler=spec.handler,
        MemorySize=spec.memory or defaults.memory,
        Timeout=spec.timeout or defaults.timeout,
        Role=GetAtt(role, "Arn"),
        Code=Code(S3Bucket=code_bucket, S3Key=code_key),
        TracingConfig=TracingConfig(Mode="Active"),
        Environment=Environment(Variables=dict(sorted(environment.items()))),
        DependsOn=[log_group.title],
    )
    skip_checks(function, FUNCTION_CHECK_SKIPS)
    return BuiltFunction(spec=spec, role=role, log_group=log_group, function=function)


def code_key_default(spec: Function) -> str:
    """Before packaging, a placeholder key that says where the real one comes from."""
    return f"lambdas/{spec.name}/unpackaged.zip"
