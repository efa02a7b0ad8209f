"""The backend stack: HTTP API, functions, their roles, queues and upload subscribers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.apps import reference_app
from tests.templates.conftest import Template, only, props, resources

FUNCTIONS = reference_app().functions


@pytest.fixture(scope="module", params=["dev", "prod"])
def backend(request: pytest.FixtureRequest, templates: dict[str, Template]) -> Template:
    return templates[f"{request.param}/backend"]


@pytest.fixture(scope="module")
def dev(templates: dict[str, Template]) -> Template:
    return templates["dev/backend"]


def policy_statements(template: Template, role: str) -> dict[str, dict[str, Any]]:
    [policy] = props(template, role)["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def param(name: str) -> dict[str, str]:
    return {"Ref": name}


def test_reads_data_values_through_ssm_parameters(backend: Template) -> None:
    parameters = backend["Parameters"]
    names = (
        "DataImagesTableName",
        "DataImagesTableArn",
        "DataUploadBucketName",
        "DataUploadTopicArn",
    )
    for name in names:
        assert parameters[name]["Type"] == "AWS::SSM::Parameter::Value<String>"
    default = parameters["DataImagesTableName"]["Default"]
    env = "dev" if default.startswith("/photos/dev/") else "prod"
    assert default == f"/photos/{env}/data/ImagesTableName"
    assert parameters["BaseArtifactBucketName"]["Default"] == "/photos/main/base/ArtifactBucketName"


def test_every_function_takes_its_code_key_as_a_parameter(backend: Template) -> None:
    for spec in FUNCTIONS:
        parameter = backend["Parameters"][f"{spec.logical_name}CodeKey"]
        assert parameter["Type"] == "String"
        code = props(backend, f"{spec.logical_name}Function")["Code"]
        assert code == {
            "S3Bucket": param("BaseArtifactBucketName"),
            "S3Key": param(f"{spec.logical_name}CodeKey"),
        }


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_functions_are_arm64_traced_explicit_and_logged(dev: Template, spec: Any) -> None:
    function = props(dev, f"{spec.logical_name}Function")
    assert function["FunctionName"] == f"photos-dev-{spec.name}"
    assert function["Architectures"] == ["arm64"]
    assert function["Runtime"] == "python3.12"
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["MemorySize"] == (spec.memory or 256)
    assert function["Timeout"] == (spec.timeout or 10)
    assert function["Role"] == {"Fn::GetAtt": [f"{spec.logical_name}Role", "Arn"]}
    log_group = props(dev, f"{spec.logical_name}LogGroup")
    assert log_group["LogGroupName"] == f"/aws/lambda/photos-dev-{spec.name}"
    assert log_group["RetentionInDays"] == 14
    assert log_group["KmsKeyId"] == param("DataKeyArn")
    assert (
        f"{spec.logical_name}LogGroup"
        in dev["Resources"][f"{spec.logical_name}Function"]["DependsOn"]
    )


def test_prod_settings_differ_by_value_not_by_logical_id(templates: dict[str, Template]) -> None:
    dev, prod = templates["dev/backend"], templates["prod/backend"]
    assert set(dev["Resources"]) == set(prod["Resources"])
    assert props(prod, "UploadsFunction")["MemorySize"] == 512
    assert props(prod, "UploadsLogGroup")["RetentionInDays"] == 365


def test_function_roles_trust_only_lambda_in_this_account(backend: Template) -> None:
    for logical_id, role in resources(backend, "AWS::IAM::Role").items():
        [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": {"Fn::Sub": "lambda.${AWS::URLSuffix}"}}, (
            logical_id
        )
        assert trust["Action"] == ["sts:AssumeRole"]
        assert trust["Condition"]["StringEquals"]["aws:SourceAccount"]


def objects_arn(bucket: str, prefix: str) -> dict[str, Any]:
    return {"Fn::Sub": [f"${{Bucket}}/{prefix}*", {"Bucket": param(f"Data{bucket}Arn")}]}


def common(stem: str) -> dict[str, dict[str, Any]]:
    return {
        "WriteOwnLogs": {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [{"Fn::GetAtt": [f"{stem}LogGroup", "Arn"]}],
        },
        "SendTraces": {
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": ["*"],
        },
    }


EXPECTED_POLICIES: dict[str, dict[str, dict[str, Any]]] = {
    "Uploads": {
        "ImagesTableAccess": {
            "Action": ["dynamodb:PutItem"],
            "Resource": [param("DataImagesTableArn")],
        },
        "UploadBucketAccess": {
            "Action": ["s3:PutObject"],
            "Resource": [objects_arn("UploadBucket", "uploads/")],
        },
    },
    "Images": {
        "ImagesTableAccess": {
            "Action": ["dynamodb:GetItem", "dynamodb:DeleteItem"],
            "Resource": [param("DataImagesTableArn")],
        },
        "ImagesTableByCreatedIndexAccess": {
            "Action": ["dynamodb:Query"],
            "Resource": [
                {"Fn::Sub": ["${Table}/index/ByCreated", {"Table": param("DataImagesTableArn")}]}
            ],
        },
        "UploadBucketAccess": {
            "Action": ["s3:DeleteObject"],
            "Resource": [objects_arn("UploadBucket", "uploads/")],
        },
        "MediaBucketAccess": {
            "Action": ["s3:GetObject", "s3:DeleteObject"],
            "Resource": [objects_arn("MediaBucket", "thumbnails/")],
        },
    },
    "Thumbnail": {
        "UploadBucketAccess": {
            "Action": ["s3:GetObject"],
            "Resource": [objects_arn("UploadBucket", "uploads/")],
        },
        "MediaBucketAccess": {
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": [objects_arn("MediaBucket", "thumbnails/")],
        },
        "ImagesTableAccess": {
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Resource": [param("DataImagesTableArn")],
        },
        "SendToOwnDeadLetterQueue": {
            "Action": ["sqs:SendMessage"],
            "Resource": [{"Fn::GetAtt": ["ThumbnailDeadLetterQueue", "Arn"]}],
        },
        "ConsumeOwnQueue": {
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility",
            ],
            "Resource": [{"Fn::GetAtt": ["ThumbnailQueue", "Arn"]}],
        },
    },
    "Analyze": {
        "RekognitionAccess": {"Action": ["rekognition:DetectLabels"], "Resource": ["*"]},
        "UploadBucketAccess": {
            "Action": ["s3:GetObject"],
            "Resource": [objects_arn("UploadBucket", "uploads/")],
        },
        "ImagesTableAccess": {
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Resource": [param("DataImagesTableArn")],
        },
        "SendToOwnDeadLetterQueue": {
            "Action": ["sqs:SendMessage"],
            "Resource": [{"Fn::GetAtt": ["AnalyzeDeadLetterQueue", "Arn"]}],
        },
    },
}


@pytest.mark.parametrize("stem", sorted(EXPECTED_POLICIES))
def test_each_role_has_exactly_the_statements_its_function_needs(dev: Template, stem: str) -> None:
    actual = {
        sid: {"Action": s["Action"], "Resource": s["Resource"]}
        for sid, s in policy_statements(dev, f"{stem}Role").items()
    }
    assert all(s["Effect"] == "Allow" for s in policy_statements(dev, f"{stem}Role").values())
    assert actual == {**common(stem), **EXPECTED_POLICIES[stem]}


def test_http_api_has_cors_for_the_frontend_and_a_cognito_jwt_authorizer(dev: Template) -> None:
    api = props(dev, "HttpApi")
    assert api["ProtocolType"] == "HTTP"
    assert api["CorsConfiguration"]["AllowOrigins"] == ["http://localhost:5173"]
    authorizer = props(dev, "CognitoAuthorizer")
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"] == {
        "Audience": [param("DataUserPoolClientId")],
        "Issuer": param("DataUserPoolIssuerUrl"),
    }


def test_every_route_requires_the_jwt_authorizer(dev: Template) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(dev, "AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {
        "POST /uploads",
        "GET /images",
        "GET /images/{id}",
        "DELETE /images/{id}",
    }
    for key, route in routes.items():
        assert route["AuthorizationType"] == "JWT", key
        assert route["AuthorizerId"] == param("CognitoAuthorizer"), key
    assert routes["POST /uploads"]["Target"]["Fn::Sub"][1] == {
        "Integration": param("UploadsIntegration")
    }


def test_default_stage_logs_json_and_throttles(templates: dict[str, Template]) -> None:
    for env, rate, burst in (("dev", 50, 100), ("prod", 200, 400)):
        stage = props(templates[f"{env}/backend"], "DefaultStage")
        assert stage["StageName"] == "$default"
        assert stage["AutoDeploy"] is True
        assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == rate
        assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == burst
        logs = stage["AccessLogSettings"]
        assert logs["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
        assert '"requestId": "$context.requestId"' in logs["Format"]


def test_api_may_invoke_only_its_own_functions(dev: Template) -> None:
    for stem in ("Uploads", "Images"):
        permission = props(dev, f"{stem}ApiPermission")
        assert permission["FunctionName"] == param(f"{stem}Function")
        assert permission["Principal"] == {"Fn::Sub": "apigateway.${AWS::URLSuffix}"}
        assert permission["SourceArn"]["Fn::Sub"][1] == {"Api": param("HttpApi")}


def test_thumbnail_queue_retries_then_dead_letters_with_partial_batches(dev: Template) -> None:
    queue = props(dev, "ThumbnailQueue")
    function = props(dev, "ThumbnailFunction")
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ThumbnailDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    mapping = props(dev, "ThumbnailEventSourceMapping")
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ThumbnailQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 5}


def test_thumbnail_queue_is_subscribed_to_the_upload_topic(dev: Template) -> None:
    subscription = props(dev, "ThumbnailSubscription")
    assert subscription["Protocol"] == "sqs"
    assert subscription["TopicArn"] == param("DataUploadTopicArn")
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["ThumbnailQueue", "Arn"]}
    assert subscription["RawMessageDelivery"] is False
    policy = props(dev, "ThumbnailQueuePolicy")["PolicyDocument"]
    [statement] = policy["Statement"]
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": param("DataUploadTopicArn")}}


def test_analyze_is_invoked_by_the_topic_with_failure_destination_and_redrive(
    dev: Template,
) -> None:
    permission = props(dev, "AnalyzeTopicPermission")
    assert permission["SourceArn"] == param("DataUploadTopicArn")
    assert permission["Principal"] == {"Fn::Sub": "sns.${AWS::URLSuffix}"}
    subscription = props(dev, "AnalyzeSubscription")
    assert subscription["Protocol"] == "lambda"
    dlq_arn = {"Fn::GetAtt": ["AnalyzeDeadLetterQueue", "Arn"]}
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": dlq_arn}
    invoke = props(dev, "AnalyzeEventInvokeConfig")
    assert invoke["DestinationConfig"] == {"OnFailure": {"Destination": dlq_arn}}


def test_function_environment_comes_from_data_values_and_settings(dev: Template) -> None:
    uploads = props(dev, "UploadsFunction")["Environment"]["Variables"]
    assert uploads["TABLE_NAME"] == param("DataImagesTableName")
    assert uploads["UPLOAD_BUCKET"] == param("DataUploadBucketName")
    assert uploads["MAX_UPLOAD_BYTES"] == str(10 * 1024 * 1024)
    thumbnail = props(dev, "ThumbnailFunction")["Environment"]["Variables"]
    assert thumbnail["THUMBNAIL_SIZES"] == "256,1024"
    assert thumbnail["POWERTOOLS_SERVICE_NAME"] == "thumbnail"


def test_dead_letters_and_errors_raise_alarms_to_the_alarm_topic(dev: Template) -> None:
    alarms = resources(dev, "AWS::CloudWatch::Alarm")
    assert {"ThumbnailDeadLetterAlarm", "AnalyzeDeadLetterAlarm", "UploadsErrorsAlarm"} <= set(
        alarms
    )
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [param("AlarmTopic")]
    assert "Subscription" not in only(dev, "AWS::SNS::Topic")["Properties"]


def test_publishes_the_api_url(dev: Template) -> None:
    parameter = props(dev, "ApiUrlParameter")
    assert parameter["Name"] == "/photos/dev/backend/ApiUrl"
    assert parameter["Value"] == {
        "Fn::Sub": [
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
            {"Api": {"Ref": "HttpApi"}},
        ]
    }
