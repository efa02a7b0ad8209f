"""What exists follows from the declaration: stacks, authorizer, routes, triggers, CORS, roles.

The example app (links: no site, no buckets, a public route, a stream and a schedule) and
apps declared here show the library builds each shape from the declaration alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from awacs import dynamodb
from troposphere.cloudwatch import Alarm
from troposphere.ssm import Parameter as SsmParameter

from infra.app import App, Function, HttpRoutes, Schedule, Table, TableStream, Topic
from infra.errors import DeclarationError
from infra.render import render
from tests.support.apps import MINIMAL_TOML, config_for
from tests.templates.conftest import EXAMPLE, Template, only, props, resources


def statements_of(template: Template, role: str) -> dict[str, dict[str, Any]]:
    [policy] = props(template, role)["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def rendered(app: App, tmp_path: Path) -> dict[str, Template]:
    return {
        f"{r.scope}/{r.stack}": json.loads(r.path.read_text())
        for r in render(config_for(app), tmp_path)
    }


# -- the example app ---------------------------------------------------------------------------


def test_an_app_without_a_site_has_no_frontend_and_no_publishing(
    example_templates: dict[str, Template],
) -> None:
    assert set(example_templates) == {
        "main/base", "main/pipeline", "dev/data", "dev/backend", "prod/data", "prod/backend",
    }  # fmt: skip
    pipeline = example_templates["main/pipeline"]
    assert "PublishProject" not in pipeline["Resources"]
    assert "PublishRole" not in pipeline["Resources"]
    stages = props(pipeline, "Pipeline")["Stages"]
    actions = [action["Name"] for stage in stages for action in stage["Actions"]]
    assert "Publish" not in actions
    deploy = next(stage for stage in stages if stage["Name"] == "Deploy-dev")
    assert [a["Name"] for a in deploy["Actions"]] == [
        "CreateChangeSet-data", "Gate-data", "Execute-data",
        "CreateChangeSet-backend", "Gate-backend", "Execute-backend",
    ]  # fmt: skip


def test_deploy_roles_hold_only_what_the_apps_types_need(
    example_templates: dict[str, Template], templates: dict[str, Template]
) -> None:
    links = set(statements_of(example_templates["main/pipeline"], "DevDeployRole"))
    photos = set(statements_of(templates["main/pipeline"], "DevDeployRole"))
    # No buckets, no site: no S3 bucket, CloudFront or dashboard permissions for links.
    assert {"Buckets", "Distributions", "Dashboards"} <= photos
    assert not {"Buckets", "Distributions", "Dashboards"} & links
    # A schedule: EventBridge rules, named under the env's prefix.
    assert "Rules" not in photos
    rules = statements_of(example_templates["main/pipeline"], "DevDeployRole")["Rules"]
    rule_arn = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/links-dev-*"
    assert rules["Resource"] == [{"Fn::Sub": rule_arn}]


def test_public_route_has_no_authorizer_and_the_signed_in_one_has(
    example_templates: dict[str, Template],
) -> None:
    backend = example_templates["dev/backend"]
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(backend, "AWS::ApiGatewayV2::Route").values()
    }
    assert routes["GET /{code}"]["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in routes["GET /{code}"]
    assert routes["POST /links"]["AuthorizationType"] == "JWT"
    assert routes["POST /links"]["AuthorizerId"] == {"Ref": "CognitoAuthorizer"}
    cors = props(backend, "HttpApi")["CorsConfiguration"]
    assert cors["AllowMethods"] == ["GET", "OPTIONS", "POST"]


def test_stream_trigger_reads_the_tables_stream_and_dead_letters_failed_batches(
    example_templates: dict[str, Template],
) -> None:
    backend = example_templates["dev/backend"]
    mapping = props(backend, "CountClicksEventSourceMapping")
    assert mapping["EventSourceArn"] == {"Ref": "DataLinksTableStreamArn"}
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    dlq = {"Fn::GetAtt": ["CountClicksDeadLetterQueue", "Arn"]}
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": dlq}}
    [criteria] = mapping["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"]) == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "CLICK#"}]}}},
    }
    role = statements_of(backend, "CountClicksRole")
    assert role["ReadTableStream"]["Resource"] == [{"Ref": "DataLinksTableStreamArn"}]
    assert set(role["ReadTableStream"]["Action"]) == {
        "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }  # fmt: skip
    assert role["SendToOwnDeadLetterQueue"]["Resource"] == [dlq]
    data = example_templates["dev/data"]
    table = props(data, "LinksTable")
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_schedule_invokes_the_function_with_retries_and_a_dead_letter_queue(
    example_templates: dict[str, Template],
) -> None:
    backend = example_templates["dev/backend"]
    rule = props(backend, "NightlyReportSchedule")
    assert rule["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert rule["Name"] == "links-dev-nightly-report"
    [target] = rule["Targets"]
    dlq = {"Fn::GetAtt": ["NightlyReportDeadLetterQueue", "Arn"]}
    assert target["Arn"] == {"Fn::GetAtt": ["NightlyReportFunction", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": dlq}
    permission = props(backend, "NightlyReportSchedulePermission")
    assert permission["Principal"] == {"Fn::Sub": "events.${AWS::URLSuffix}"}
    assert permission["SourceArn"] == {"Fn::GetAtt": ["NightlyReportSchedule", "Arn"]}
    [statement] = props(backend, "NightlyReportDeadLetterQueuePolicy")["PolicyDocument"][
        "Statement"
    ]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["NightlyReportSchedule", "Arn"]}}
    }
    invoke = props(backend, "NightlyReportEventInvokeConfig")
    assert invoke["DestinationConfig"] == {"OnFailure": {"Destination": dlq}}


def test_publishing_to_an_encrypted_topic_brings_the_key_and_nothing_more(
    example_templates: dict[str, Template],
) -> None:
    backend = example_templates["dev/backend"]
    report = statements_of(backend, "NightlyReportRole")
    assert report["ReportsTopicAccess"]["Resource"] == [{"Ref": "DataReportsTopicArn"}]
    assert report["EncryptForTopics"]["Resource"] == [{"Ref": "DataKeyArn"}]
    assert report["EncryptForTopics"]["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert "EncryptForTopics" not in statements_of(backend, "RedirectRole")
    env = props(backend, "NightlyReportFunction")["Environment"]["Variables"]
    assert env["REPORT_TOPIC_ARN"] == {"Ref": "DataReportsTopicArn"}
    assert env["REPORT_SIZE"] == "10"


def test_settings_reach_functions_per_environment(example_templates: dict[str, Template]) -> None:
    dev = props(example_templates["dev/backend"], "CreateLinkFunction")
    prod = props(example_templates["prod/backend"], "RedirectFunction")
    assert dev["Environment"]["Variables"]["LINK_TTL_DAYS"] == "7"
    assert prod["Environment"]["Variables"]["REDIRECT_STATUS"] == "307"


# -- apps declared here ------------------------------------------------------------------------

TICKS = Table("ticks", partition_key="pk")


def public_only_app(**extra: Any) -> App:
    clock = Function(
        name="clock",
        code="lambdas/clock",
        description="GET /time",
        trigger=HttpRoutes("GET /time", public=True),
        environment={"TABLE_NAME": TICKS.table_name},
        grants=(TICKS.grant(dynamodb.PutItem),),
    )
    return App(tables=(TICKS,), functions=(clock,), **extra)


def test_an_app_without_a_user_pool_gets_no_authorizer_and_no_pool(tmp_path: Path) -> None:
    templates = rendered(public_only_app(), tmp_path)
    assert set(templates) == {"main/base", "dev/data", "dev/backend"}
    backend, data = templates["dev/backend"], templates["dev/data"]
    assert not resources(backend, "AWS::ApiGatewayV2::Authorizer")
    assert not resources(data, "AWS::Cognito::UserPool")
    assert only(backend, "AWS::ApiGatewayV2::Route")["Properties"]["AuthorizationType"] == "NONE"
    assert "BackendUserPoolIssuerUrl" not in backend["Parameters"]


def test_cors_allows_each_method_once_even_when_a_route_answers_options(tmp_path: Path) -> None:
    probe = Function(
        name="probe",
        code="lambdas/probe",
        description="OPTIONS /probe, answered by the function itself",
        trigger=HttpRoutes(("OPTIONS /probe", "GET /probe"), public=True),
    )
    backend = rendered(App(functions=(probe,)), tmp_path)["dev/backend"]
    assert props(backend, "HttpApi")["CorsConfiguration"]["AllowMethods"] == ["GET", "OPTIONS"]


def test_an_app_without_routes_gets_no_http_api(tmp_path: Path) -> None:
    report = Function(
        name="tick",
        code="lambdas/tick",
        description="Ticks",
        trigger=Schedule("rate(5 minutes)"),
    )
    templates = rendered(App(functions=(report,)), tmp_path)
    backend = templates["dev/backend"]
    assert not resources(backend, "AWS::ApiGatewayV2::Api")
    assert "ApiUrlParameter" not in backend["Resources"]
    assert props(backend, "TickSchedule")["ScheduleExpression"] == "rate(5 minutes)"


def test_an_app_with_only_data_has_no_backend(tmp_path: Path) -> None:
    templates = rendered(App(tables=(TICKS,), topics=(Topic("news"),)), tmp_path)
    assert set(templates) == {"main/base", "dev/data"}
    assert props(templates["dev/data"], "NewsTopic")["TopicName"] == "demo-dev-news"


def test_a_signed_in_route_without_a_user_pool_is_refused() -> None:
    with pytest.raises(DeclarationError, match="need a signed-in user, but the app declares no"):
        Function_ = Function(
            name="secret",
            code="lambdas/secret",
            description="secret",
            trigger=HttpRoutes("GET /secret"),
        )
        App(functions=(Function_,))


# -- the escape hatch --------------------------------------------------------------------------


def test_extra_resources_join_the_stack_under_their_literal_ids(tmp_path: Path) -> None:
    def extras(stack: Any) -> list[Any]:
        return [
            SsmParameter(
                "ReleaseNoteParameter",
                Name=f"/{stack.app}/{stack.scope}/notes/release",
                Type="String",
                Value="first",
            ),
            Alarm(
                "ClockThrottlesAlarm",
                Namespace="AWS/Lambda",
                MetricName="Throttles",
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
            ),
        ]

    templates = rendered(public_only_app(extra_resources={"backend": extras}), tmp_path)
    backend = templates["dev/backend"]
    assert props(backend, "ReleaseNoteParameter")["Name"] == "/demo/dev/notes/release"
    # Tagged like every resource the library makes.
    assert props(backend, "ClockThrottlesAlarm")["Tags"][0] == {"Key": "app", "Value": "demo"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (lambda stack: ["not a resource"], "returned 'not a resource', not a troposphere resource"),
        (
            lambda stack: [SsmParameter("ClockFunction", Name="/x", Type="String", Value="x")],
            "two resources want the logical ID ClockFunction",
        ),
    ],
)
def test_extra_resources_that_cannot_join_are_refused_in_one_line(
    tmp_path: Path, extra: Any, message: str
) -> None:
    with pytest.raises(DeclarationError, match=message) as caught:
        render(config_for(public_only_app(extra_resources={"backend": extra})), tmp_path)
    assert "\n" not in str(caught.value)


def test_extra_resources_only_for_the_apps_stacks() -> None:
    with pytest.raises(DeclarationError, match="'pipeline' is not one of data, backend, frontend"):
        public_only_app(extra_resources={"pipeline": lambda stack: []})


def test_a_type_the_deploy_role_cannot_manage_stops_the_render(tmp_path: Path) -> None:
    from troposphere.sqs import QueueInlinePolicy

    def extras(stack: Any) -> list[Any]:
        return [QueueInlinePolicy("Unmanageable", Queue="q", PolicyDocument={})]

    toml = MINIMAL_TOML + '[pipeline]\naccount = "main"\nrepository = "demo"\n'
    config = config_for(public_only_app(extra_resources={"data": extras}), toml)
    with pytest.raises(DeclarationError, match="AWS::SQS::QueueInlinePolicy: the environment's"):
        render(config, tmp_path)


# -- a new function with its own route and table touches only the app's files -------------------

NEW_FEATURE = """

# Added by the test: a table of its own and a function with its own route.
notes = Table("notes", partition_key="pk")
add_note = Function(
    name="add-note",
    code="lambdas/add_note",
    description="POST /notes: keep a note",
    trigger=HttpRoutes("POST /notes"),
    environment={"TABLE_NAME": notes.table_name},
    grants=(notes.grant(dynamodb.PutItem),),
)
app = App(
    tables=(*app.tables, notes),
    topics=app.topics,
    user_pool=app.user_pool,
    functions=(*app.functions, add_note),
    settings=app.settings,
)
"""


def test_a_new_function_with_its_own_route_and_table_needs_only_the_apps_files(
    tmp_path: Path, example_templates: dict[str, Template]
) -> None:
    """What a user of the library does: edit their app.py, add a code folder, render."""
    copy = tmp_path / "links"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    (copy / "lambdas" / "add_note").mkdir()
    (copy / "lambdas" / "add_note" / "handler.py").write_text(
        "def lambda_handler(event, context):\n    return {'statusCode': 201}\n"
    )
    with (copy / "app.py").open("a") as declaration:
        declaration.write(NEW_FEATURE)
    result = subprocess.run(
        [sys.executable, "-m", "infra", "render", "--env", "dev", "--out", str(tmp_path / "out")],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out" / "dev" / "data.json").read_text())
    backend = json.loads((tmp_path / "out" / "dev" / "backend.json").read_text())
    assert props(data, "NotesTable")["TableName"] == "links-dev-notes"
    assert props(backend, "AddNoteFunction")["FunctionName"] == "links-dev-add-note"
    route = props(backend, "PostNotesRoute")
    assert route["RouteKey"] == "POST /notes"
    assert route["AuthorizationType"] == "JWT"
    assert statements_of(backend, "AddNoteRole")["NotesTableAccess"]["Resource"] == [
        {"Ref": "DataNotesTableArn"}
    ]
    assert "POST" in props(backend, "HttpApi")["CorsConfiguration"]["AllowMethods"]
    # The example's own resources are as they were: the feature only adds.
    for name, now in (("dev/data", data), ("dev/backend", backend)):
        before = example_templates[name]["Resources"]
        changed = sorted(i for i in before if now["Resources"].get(i) != before[i])
        assert changed == [], name
        assert len(now["Resources"]) > len(before), name


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"eventName": ["INSERT"]}, "filters takes a tuple of patterns"),
        (("INSERT",), "filter 'INSERT' must be a non-empty dict"),
        (({},), "filter {} must be a non-empty dict"),
        (({"a": {1, 2}},), "is not JSON"),
        (tuple({"eventName": [str(n)]} for n in range(6)), "at most 5 filter patterns"),
    ],
)
def test_stream_filters_are_json_patterns(filters: Any, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        TableStream(Table("events", partition_key="pk", stream="NEW_IMAGE"), filters=filters)
