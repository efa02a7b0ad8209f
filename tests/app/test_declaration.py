"""Every check an app's declaration meets, dangerous and safe, as a user writes app.py.

Each mistake must be refused when it is made (the object, or the App holding it) with
one DeclarationError line saying what and where; the safe twin of each mistake must
pass, so the check is not simply refusing everything. Loading the declaration
(infra/app/load.py) turns a missing file or a missing `app` into one ConfigError line,
prefixes a DeclarationError raised while app.py runs with the file's path, imports the
file afresh each time, and lets a bug in the app's own code keep its traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from awacs import dynamodb, rekognition, s3, sns, sqs
from awacs.aws import Action
from click.testing import CliRunner
from troposphere.sns import Topic as SnsTopic

from infra.app import (
    HTTP_API_URL,
    App,
    BrowserUpload,
    Bucket,
    Function,
    HttpRoutes,
    Index,
    Key,
    Notification,
    Queue,
    QueueMessages,
    QueueSubscription,
    Schedule,
    Setting,
    SharedValue,
    Site,
    Table,
    TableStream,
    Topic,
    TopicSubscription,
    Unscoped,
    UserPool,
)
from infra.app.grants import GrantTarget
from infra.app.load import load_declaration
from infra.cli import cli
from infra.errors import ConfigError, DeclarationError, InfraError
from infra.render import render
from tests.support.apps import MINIMAL_TOML, config_for

ITEMS = Table(
    "items",
    partition_key="pk",
    sort_key="sk",
    indexes=(Index("ByOwner", partition_key="owner"),),
    stream="NEW_IMAGE",
)
PLAIN = Table("plain", partition_key="pk")  # no stream, no index
FILES = Bucket("files")
EVENTS = Topic("events")
JOBS = Queue("jobs")
POOL = UserPool()
DAILY = Schedule("rate(1 day)")
LIMIT = Setting("limit", int, default=10)


def fn(name: str = "worker", **kwargs: Any) -> Function:
    """A function with everything but what the case is about filled in."""
    kwargs.setdefault("trigger", DAILY)
    kwargs.setdefault("code", f"lambdas/{name}")
    kwargs.setdefault("description", f"the {name} function")
    return Function(name=name, **kwargs)


def app(**kwargs: Any) -> App:
    """An app declaring one of each resource (and LIMIT), plus what the case adds."""
    declared: dict[str, Any] = {
        "tables": (ITEMS, PLAIN),
        "buckets": (FILES,),
        "topics": (EVENTS,),
        "queues": (JOBS,),
        "user_pool": POOL,
        "settings": (LIMIT,),
    }
    return App(**{**declared, **kwargs})


def refused(make: Callable[[], object]) -> str:
    """The one line a DeclarationError says when `make()` is called."""
    with pytest.raises(DeclarationError) as raised:
        make()
    message = str(raised.value)
    assert len(message.splitlines()) == 1, message
    assert raised.value.exit_code == 2
    return message


def rendered(declared: App, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """The dev environment's templates of `declared`, by stack."""
    render(config_for(declared), tmp_path, ["dev"])
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((tmp_path / "dev").glob("*.json"))
    }


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], object]
    message: str  # the exact line the user sees


def cases(*items: Case) -> Any:
    return pytest.mark.parametrize("case", items, ids=[item.id for item in items])


# -- app.py: every reference points at something the app declares ------------------------------


@cases(
    Case(
        "grant-on-a-look-alike-table",
        lambda: app(
            functions=(fn(grants=(Table("items", partition_key="pk").grant(dynamodb.GetItem),)),)
        ),
        "function worker: grant: table 'items' is not in App(tables=...)",
    ),
    Case(
        "grant-on-an-undeclared-table",
        lambda: app(tables=(), functions=(fn(grants=(ITEMS.grant(dynamodb.GetItem),)),)),
        "function worker: grant: table 'items' is not in App(tables=...)",
    ),
    Case(
        "grant-on-an-index-of-an-undeclared-table",
        lambda: app(
            tables=(), functions=(fn(grants=(ITEMS.index("ByOwner").grant(dynamodb.Query),)),)
        ),
        "function worker: grant: table 'items' is not in App(tables=...)",
    ),
    Case(
        "grant-on-objects-of-an-undeclared-bucket",
        lambda: app(functions=(fn(grants=(Bucket("other").objects("in/").grant(s3.GetObject),)),)),
        "function worker: grant: bucket 'other' is not in App(buckets=...)",
    ),
    Case(
        "grant-on-an-undeclared-topic",
        lambda: app(topics=(), functions=(fn(grants=(EVENTS.grant(sns.Publish),)),)),
        "function worker: grant: topic 'events' is not in App(topics=...)",
    ),
    Case(
        "grant-on-an-undeclared-queue",
        lambda: app(queues=(), functions=(fn(grants=(JOBS.grant(sqs.SendMessage),)),)),
        "function worker: grant: queue 'jobs' is not in App(queues=...)",
    ),
    Case(
        "grant-on-another-user-pool",
        lambda: app(
            functions=(fn(grants=(UserPool().grant(Action("cognito-idp", "AdminGetUser")),)),)
        ),
        "function worker: grant: the user pool is not App(user_pool=...)",
    ),
    Case(
        "grant-on-a-user-pool-of-an-app-without-one",
        lambda: app(
            user_pool=None,
            functions=(fn(grants=(POOL.grant(Action("cognito-idp", "AdminGetUser")),)),),
        ),
        "function worker: grant: the user pool is not App(user_pool=...)",
    ),
    Case(
        "bucket-notifies-an-undeclared-topic",
        lambda: app(buckets=(Bucket("inbox", notifications=(Notification(Topic("other")),)),)),
        "bucket inbox: notification: topic 'other' is not in App(topics=...)",
    ),
    Case(
        "topic-subscription-to-an-undeclared-topic",
        lambda: app(functions=(fn(trigger=TopicSubscription(Topic("other"))),)),
        "function worker: trigger: topic 'other' is not in App(topics=...)",
    ),
    Case(
        "queue-subscription-to-an-undeclared-topic",
        lambda: app(topics=(), functions=(fn(trigger=QueueSubscription(EVENTS)),)),
        "function worker: trigger: topic 'events' is not in App(topics=...)",
    ),
    Case(
        "messages-of-an-undeclared-queue",
        lambda: app(queues=(), functions=(fn(trigger=QueueMessages(JOBS)),)),
        "function worker: trigger: queue 'jobs' is not in App(queues=...)",
    ),
    Case(
        "stream-of-an-undeclared-table",
        lambda: app(tables=(PLAIN,), functions=(fn(trigger=TableStream(ITEMS)),)),
        "function worker: trigger: table 'items' is not in App(tables=...)",
    ),
)
def test_references_must_be_declared(case: Case) -> None:
    assert refused(case.make) == case.message


class Elsewhere(GrantTarget):
    """A grant target the library has no rule for (not a declared resource, not Unscoped)."""

    service = "dynamodb"
    sid_stem = "Elsewhere"

    def __repr__(self) -> str:
        return "Elsewhere()"


def test_grant_on_a_target_the_library_does_not_know() -> None:
    make = lambda: app(functions=(fn(grants=(Elsewhere().grant(dynamodb.GetItem),)),))  # noqa: E731
    assert refused(make) == "function worker: grant on Elsewhere(), which is not declared"


def test_every_declared_reference_passes(tmp_path: Path) -> None:
    """The safe twins of the cases above, all in one app."""
    inbox = Bucket("inbox", notifications=(Notification(EVENTS, prefix="in/"),))
    functions = (
        fn(
            "reader",
            grants=(
                ITEMS.grant(dynamodb.GetItem),
                ITEMS.index("ByOwner").grant(dynamodb.Query),
                FILES.objects("in/").grant(s3.GetObject),
                EVENTS.grant(sns.Publish),
                JOBS.grant(sqs.SendMessage),
                POOL.grant(Action("cognito-idp", "AdminGetUser")),
                Unscoped("rekognition", "DetectLabels takes no resource").grant(
                    rekognition.DetectLabels
                ),
            ),
        ),
        fn("fan", trigger=TopicSubscription(EVENTS)),
        fn("batch", trigger=QueueSubscription(EVENTS)),
        fn("drain", trigger=QueueMessages(JOBS)),
        fn("changes", trigger=TableStream(ITEMS)),
    )
    declared = app(buckets=(FILES, inbox), functions=functions)
    assert not declared.has_http_api
    backend = rendered(declared, tmp_path)["backend"]["Resources"]
    for name in ("Reader", "Fan", "Batch", "Drain", "Changes"):
        assert backend[f"{name}Function"]["Type"] == "AWS::Lambda::Function"


# -- app.py: routes ---------------------------------------------------------------------------


def test_signed_in_routes_need_a_user_pool() -> None:
    api = fn("api", trigger=HttpRoutes(("GET /items", "POST /items")))
    assert refused(lambda: app(user_pool=None, functions=(api,))) == (
        "function api: routes GET /items, POST /items need a signed-in user, but the app "
        "declares no user_pool (or mark them public=True)"
    )


def test_public_routes_need_no_user_pool() -> None:
    api = fn("api", trigger=HttpRoutes(("GET /items", "POST /items"), public=True))
    declared = app(user_pool=None, functions=(api,))
    assert declared.has_http_api
    assert not declared.has_authenticated_routes
    assert declared.route_methods == ("GET", "POST")


def test_signed_in_routes_with_a_user_pool() -> None:
    declared = app(functions=(fn("api", trigger=HttpRoutes("DELETE /items/{id}")),))
    assert declared.has_authenticated_routes
    assert declared.route_methods == ("DELETE",)


@cases(
    Case(
        "two-functions",
        lambda: app(
            functions=(
                fn("one", trigger=HttpRoutes(("GET /items", "POST /items"))),
                fn("two", trigger=HttpRoutes(("PUT /items", "POST /items"))),
            )
        ),
        "function two: route POST /items is also function one's",
    ),
    Case(
        "one-function-twice",
        lambda: app(functions=(fn("one", trigger=HttpRoutes(("GET /items", "GET /items"))),)),
        "function one: route GET /items is declared twice",
    ),
    Case(
        # The same key, one signed in and one public, is still one route of the API.
        "public-and-signed-in",
        lambda: app(
            functions=(
                fn("one", trigger=HttpRoutes("GET /items")),
                fn("two", trigger=HttpRoutes("GET /items", public=True)),
            )
        ),
        "function two: route GET /items is also function one's",
    ),
)
def test_a_route_key_belongs_to_one_function(case: Case) -> None:
    assert refused(case.make) == case.message


def test_same_path_other_method_is_another_route() -> None:
    declared = app(
        functions=(
            fn("one", trigger=HttpRoutes("GET /items")),
            fn("two", trigger=HttpRoutes("POST /items")),
        )
    )
    assert declared.route_methods == ("GET", "POST")


# -- app.py: names, and AWS names -------------------------------------------------------------


@cases(
    Case(
        "tables",
        lambda: App(tables=(ITEMS, Table("items", partition_key="id"))),
        "table 'items' is declared twice",
    ),
    Case(
        "buckets", lambda: App(buckets=(FILES, Bucket("files"))), "bucket 'files' is declared twice"
    ),
    Case(
        "topics", lambda: App(topics=(EVENTS, Topic("events"))), "topic 'events' is declared twice"
    ),
    Case("queues", lambda: App(queues=(JOBS, Queue("jobs"))), "queue 'jobs' is declared twice"),
    Case(
        "functions",
        lambda: App(functions=(fn("worker"), fn("worker", code="lambdas/other"))),
        "function 'worker' is declared twice",
    ),
    Case(
        "settings",
        lambda: App(settings=(LIMIT, Setting("limit", str, default="x"))),
        "setting 'limit' is declared twice",
    ),
    Case(
        "declared-queue-named-like-a-functions-queue",
        lambda: app(
            queues=(Queue("thumbnail"),),
            functions=(fn("thumbnail", trigger=QueueSubscription(EVENTS)),),
        ),
        "SQS queue name 'thumbnail' is declared twice",
    ),
    Case(
        "declared-queue-named-like-a-functions-dead-letter-queue",
        lambda: app(queues=(Queue("worker-dlq"),), functions=(fn("worker"),)),
        "SQS queue name 'worker-dlq' is declared twice",
    ),
    Case(
        "declared-queue-named-like-another-queues-dead-letter-queue",
        lambda: app(queues=(JOBS, Queue("jobs-dlq"))),
        "SQS queue name 'jobs-dlq' is declared twice",
    ),
    Case(
        "queue-physical-name",
        lambda: app(queues=(JOBS, Queue("tasks", physical_name="jobs"))),
        "SQS queue name 'jobs' is declared twice",
    ),
    Case(
        "topic-named-like-the-alarm-topic",
        lambda: app(topics=(Topic("alerts", physical_name="alarms"),)),
        "topic alerts: the AWS name 'alarms' is the backend's alarm topic's (choose another name "
        "or physical_name)",
    ),
    Case(
        "topic-physical-name",
        lambda: app(topics=(EVENTS, Topic("news", physical_name="events"))),
        "SNS topic name 'events' is declared twice",
    ),
    Case(
        "bucket-physical-name",
        lambda: app(buckets=(FILES, Bucket("media", physical_name="files"))),
        "bucket name 'files' is declared twice",
    ),
)
def test_one_name_one_declaration(case: Case) -> None:
    assert refused(case.make) == case.message


def test_names_that_only_look_alike_pass(tmp_path: Path) -> None:
    """One name in different services, and functions whose triggers make no queue."""
    declared = app(
        tables=(Table("jobs", partition_key="pk"),),
        buckets=(Bucket("jobs"),),
        topics=(Topic("jobs"),),
        queues=(JOBS,),
        functions=(
            fn("jobs", trigger=HttpRoutes("GET /jobs")),  # HTTP: no queue of its own
            fn("jobs-dlq", trigger=QueueMessages(JOBS)),  # the declared queue's DLQ is its own
        ),
    )
    templates = rendered(declared, tmp_path)
    data = templates["data"]["Resources"]
    assert {data[f"Jobs{role}"]["Type"] for role in ("Table", "Bucket", "Topic", "Queue")} == {
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
    }
    backend = templates["backend"]["Resources"]
    assert {"JobsFunction", "JobsDlqFunction"} <= set(backend)


@cases(
    Case(
        "tables",
        lambda: App(tables=(Table("log-1", partition_key="pk"), Table("log1", partition_key="pk"))),
        "tables log-1 and log1 would both be Log1Table: rename one",
    ),
    Case(
        "functions",
        lambda: App(functions=(fn("sync-2"), fn("sync2"))),
        "functions sync-2 and sync2 would both be Sync2Function: rename one",
    ),
    Case(
        # The second queue's own logical ID is the first one's dead-letter queue's.
        "queue-and-a-dead-letter-queue",
        lambda: App(queues=(Queue("jobs"), Queue("jobs-dead-letter"))),
        "queues jobs and jobs-dead-letter would both be JobsDeadLetterQueue: rename one",
    ),
)
def test_names_with_one_logical_id_are_refused_when_the_app_is_made(case: Case) -> None:
    """`log-1` and `log1` are two AWS names but one logical ID (`Log1`): refused by App."""
    assert refused(case.make) == case.message


@cases(
    Case(
        "two-functions",
        lambda: app(
            functions=(
                fn("one", trigger=HttpRoutes("GET /items/{id}")),
                fn("two", trigger=HttpRoutes("GET /items/id")),
            )
        ),
        "routes GET /items/{id} and GET /items/id would both be GetItemsIdRoute: rename one",
    ),
    Case(
        "one-function",
        lambda: app(functions=(fn("one", trigger=HttpRoutes(("GET /a-b", "GET /a/b"))),)),
        "routes GET /a-b and GET /a/b would both be GetABRoute: rename one",
    ),
)
def test_routes_with_one_logical_id_are_refused(case: Case) -> None:
    assert refused(case.make) == case.message


# -- app.py: values a function or the site reads --------------------------------------------


def worker_environment(value: object) -> Callable[[], App]:
    return lambda: app(functions=(fn(environment={"VALUE": value}),))


def site_config(value: object, **kwargs: Any) -> Callable[[], App]:
    return lambda: app(site=Site("web", config={"value": value}), **kwargs)


@cases(
    Case(
        "api-url-in-a-function",  # the backend stack holds the function: not before it
        worker_environment(HTTP_API_URL),
        "function worker: environment VALUE: no stack before it shares backend/ApiUrl",
    ),
    Case(
        "a-name-no-stack-shares",
        worker_environment(SharedValue("data", "NopeArn")),
        "function worker: environment VALUE: no stack before it shares data/NopeArn",
    ),
    Case(
        "an-undeclared-tables-name",
        worker_environment(Table("other", partition_key="pk").table_name),
        "function worker: environment VALUE: no stack before it shares data/OtherTableName",
    ),
    Case(
        "an-undeclared-queues-url",
        lambda: app(queues=(), functions=(fn(environment={"VALUE": JOBS.queue_url}),)),
        "function worker: environment VALUE: no stack before it shares data/JobsQueueUrl",
    ),
    Case(
        "the-frontends-url-in-a-function",
        worker_environment(SharedValue("frontend", "SiteUrl")),
        "function worker: environment VALUE: no stack before it shares frontend/SiteUrl",
    ),
    Case(
        "an-undeclared-setting-in-a-function",
        worker_environment(Setting("limit", int, default=10).text),  # a look-alike of LIMIT
        "function worker: environment VALUE: setting 'limit' is not in App(settings=...)",
    ),
    Case(
        "api-url-in-the-site-of-an-app-without-routes",
        site_config(HTTP_API_URL),
        "site config value: no stack before it shares backend/ApiUrl",
    ),
    Case(
        "the-frontends-own-value-in-its-config",
        site_config(SharedValue("frontend", "SiteUrl")),
        "site config value: no stack before it shares frontend/SiteUrl",
    ),
    Case(
        "an-undeclared-setting-in-the-site",
        site_config(Setting("title", str, default="Notes").text),
        "site config value: setting 'title' is not in App(settings=...)",
    ),
)
def test_values_must_come_from_an_earlier_stack_or_a_declared_setting(case: Case) -> None:
    assert refused(case.make) == case.message


@pytest.mark.parametrize(
    "value",
    [
        ITEMS.table_name,
        ITEMS.table_arn,
        ITEMS.stream_arn,
        FILES.bucket_name,
        FILES.bucket_arn,
        EVENTS.topic_arn,
        JOBS.queue_url,
        JOBS.queue_arn,
        POOL.pool_id,
        POOL.pool_arn,
        POOL.client_id,
        POOL.issuer_url,
    ],
    ids=lambda value: value.name,
)
def test_a_value_the_data_stack_shares_reaches_the_function(
    value: SharedValue, tmp_path: Path
) -> None:
    """What the check lets through, the data stack really shares and the function reads."""
    templates = rendered(app(functions=(fn(environment={"VALUE": value}),)), tmp_path)
    assert value.name in templates["data"]["Outputs"]
    assert f"{value.name}Parameter" in templates["data"]["Resources"]
    backend = templates["backend"]
    variables = backend["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    parameter = backend["Parameters"][variables["VALUE"]["Ref"]]
    assert parameter["Default"] == f"/demo/dev/data/{value.name}"


@pytest.mark.parametrize(
    ("value", "text"),
    [("plain text", "plain text"), (LIMIT.text, "10"), (LIMIT.map(lambda n: n * 2), "20")],
    ids=["text", "setting", "mapped-setting"],
)
def test_text_and_declared_settings_reach_the_function(
    value: object, text: str, tmp_path: Path
) -> None:
    backend = rendered(app(functions=(fn(environment={"VALUE": value}),)), tmp_path)["backend"]
    variables = backend["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["VALUE"] == text


def test_the_site_reads_the_api_and_the_user_pool() -> None:
    api = fn("api", trigger=HttpRoutes("GET /items"))
    config = {"apiUrl": HTTP_API_URL, "clientId": POOL.client_id, "limit": LIMIT.text}
    declared = app(functions=(api,), site=Site("web", config=config))
    assert declared.site is not None and declared.site.config == config


# -- app.py: kinds and the escape hatch --------------------------------------------------------


@cases(
    Case("table", lambda: App(tables=("items",)), "App(tables=...): 'items' is not a Table"),
    Case(
        "bucket",
        lambda: App(buckets=(EVENTS,)),
        "App(buckets=...): Topic(name='events', physical_name=None) is not a Bucket",
    ),
    Case("topic", lambda: App(topics=("events",)), "App(topics=...): 'events' is not a Topic"),
    Case("queue", lambda: App(queues=("jobs",)), "App(queues=...): 'jobs' is not a Queue"),
    Case(
        "function",
        lambda: App(functions=("worker",)),
        "App(functions=...): 'worker' is not a Function",
    ),
    Case(
        "setting", lambda: App(settings=("limit",)), "App(settings=...): 'limit' is not a Setting"
    ),
    Case(
        "user-pool", lambda: App(user_pool="pool"), "App(user_pool=...): 'pool' is not a UserPool"
    ),
    Case("site", lambda: App(site="web"), "App(site=...): 'web' is not a Site"),
    Case(
        "extra-resources-for-an-account-stack",
        lambda: App(extra_resources={"base": lambda stack: ()}),
        "extra_resources: 'base' is not one of data, backend, frontend",
    ),
    Case(
        "extra-resources-not-a-function",
        lambda: App(extra_resources={"data": ()}),
        "extra_resources['data'] must be a function",
    ),
)
def test_app_holds_declarations_of_the_right_kind(case: Case) -> None:
    assert refused(case.make) == case.message


def test_extra_resources_join_their_stack(tmp_path: Path) -> None:
    declared = App(
        tables=(PLAIN,), extra_resources={"data": lambda stack: [SnsTopic("AuditTopic")]}
    )
    [data] = [r for r in render(config_for(declared), tmp_path) if r.stack == "data"]
    assert '"AuditTopic"' in data.path.read_text(encoding="utf-8")


def test_extra_resources_must_be_troposphere_resources(tmp_path: Path) -> None:
    declared = App(tables=(PLAIN,), extra_resources={"data": lambda stack: ["AuditTopic"]})
    assert refused(lambda: render(config_for(declared), tmp_path)) == (
        "extra_resources['data'] returned 'AuditTopic', not a troposphere resource"
    )
    assert not tmp_path.joinpath("dev").exists()


# -- functions.py -----------------------------------------------------------------------------


@cases(
    Case(
        "name-uppercase",
        lambda: fn("Worker"),
        "function name 'Worker': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "name-underscore",
        lambda: fn("night_job", code="lambdas/x"),
        "function name 'night_job': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "name-double-hyphen",
        lambda: fn("night--job", code="lambdas/x"),
        "function name 'night--job': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "name-leading-digit",
        lambda: fn("2fa", code="lambdas/x"),
        "function name '2fa': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "trigger-not-a-trigger",
        lambda: fn(trigger="rate(1 day)"),
        "function worker: trigger 'rate(1 day)' is not a trigger",
    ),
    Case(
        "code-empty",
        lambda: fn(code=""),
        "function worker: code '' must be a folder relative to the app's root",
    ),
    Case(
        "code-absolute",
        lambda: fn(code="/srv/lambdas/worker"),
        "function worker: code '/srv/lambdas/worker' must be a folder relative to the app's root",
    ),
    Case(
        "code-escapes-the-root",
        lambda: fn(code="../elsewhere"),
        "function worker: code '../elsewhere' must stay inside the app's root",
    ),
    Case(
        "code-escapes-further-down",
        lambda: fn(code="lambdas/../../elsewhere"),
        "function worker: code 'lambdas/../../elsewhere' must stay inside the app's root",
    ),
    Case(
        "code-escapes-with-backslashes",
        lambda: fn(code="lambdas\\..\\..\\elsewhere"),
        "function worker: code 'lambdas\\\\..\\\\..\\\\elsewhere' must stay inside the app's root",
    ),
    Case(
        "handler-without-module",
        lambda: fn(handler="lambda_handler"),
        "function worker: handler 'lambda_handler' must be module.function",
    ),
    Case(
        "handler-not-an-identifier",
        lambda: fn(handler="handler.lambda-handler"),
        "function worker: handler 'handler.lambda-handler' must be module.function",
    ),
    Case("memory-too-small", lambda: fn(memory=64), "function worker: memory is 128 to 10240 MB"),
    Case(
        "memory-too-large", lambda: fn(memory=10241), "function worker: memory is 128 to 10240 MB"
    ),
    Case("timeout-zero", lambda: fn(timeout=0), "function worker: timeout is 1 to 900 s"),
    Case(
        "timeout-over-lambdas-limit",
        lambda: fn(timeout=901),
        "function worker: timeout is 1 to 900 s",
    ),
    Case(
        "grant-as-text",
        lambda: fn(grants=("dynamodb:GetItem",)),
        "function worker: grants: 'dynamodb:GetItem' is not a Grant (make one with "
        "table.grant(...))",
    ),
    Case(
        "environment-name-with-hyphen",
        lambda: fn(environment={"TABLE-NAME": "x"}),
        "function worker: environment name 'TABLE-NAME': 2 or more characters, a letter first, "
        "then letters, digits or _",
    ),
    Case(
        "environment-name-leading-digit",
        lambda: fn(environment={"1TABLE": "x"}),
        "function worker: environment name '1TABLE': 2 or more characters, a letter first, then "
        "letters, digits or _",
    ),
    Case(
        "environment-name-leading-underscore",
        lambda: fn(environment={"_HANDLER": "x"}),
        "function worker: environment name '_HANDLER': 2 or more characters, a letter first, "
        "then letters, digits or _",
    ),
    Case(
        "environment-value-a-number",
        lambda: fn(environment={"LIMIT": 3}),
        "function worker: environment LIMIT: 3 must be text, a resource's shared value "
        "(table.table_name) or a setting",
    ),
    Case(
        "environment-value-a-setting-not-its-value",
        lambda: fn(environment={"LIMIT": LIMIT}),
        f"function worker: environment LIMIT: {LIMIT!r} must be text, a resource's shared "
        "value (table.table_name) or a setting",
    ),
    Case(
        "shared-module-in-a-folder",
        lambda: fn(shared=("shared/http_api.py",)),
        "function worker: shared module 'shared/http_api.py' must be a file name",
    ),
    Case(
        "shared-module-empty",
        lambda: fn(shared=("",)),
        "function worker: shared module '' must be a file name",
    ),
    Case(
        "shared-module-twice",
        lambda: fn(shared=("http_api.py", "http_api.py")),
        "function worker: shared module 'http_api.py' is named twice",
    ),
)
def test_function_checks(case: Case) -> None:
    assert refused(case.make) == case.message


@pytest.mark.parametrize(
    "name",
    [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_FUNCTION_NAME",
        "LAMBDA_TASK_ROOT",
        "POWERTOOLS_SERVICE_NAME",
        "LOG_LEVEL",
        "AWS_SECRET_KEY",  # troposphere refuses these two as well
        "AWS_SECURITY_TOKEN",
    ],
)
def test_reserved_environment_names(name: str) -> None:
    assert refused(lambda: fn(environment={name: "x"})) == (
        f"function worker: environment name {name} is reserved (Lambda or the library sets it)"
    )


def test_a_one_character_environment_name_is_refused() -> None:
    """Lambda wants 2+ characters: the message must say so, 'A' is a letter."""
    assert refused(lambda: fn(environment={"A": "x"})) == (
        "function worker: environment name 'A': 2 or more characters, a letter first, then "
        "letters, digits or _"
    )


def test_a_two_character_environment_name_renders(tmp_path: Path) -> None:
    backend = rendered(App(functions=(fn(environment={"AB": "x"}),)), tmp_path)["backend"]
    variables = backend["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["AB"] == "x"


def test_a_function_declared_in_full() -> None:
    """The safe twins: names with digits and hyphens, nested code, every limit itself."""
    declared = fn(
        "thumbnail-v2",
        code="src/functions/..thumbnail",  # a folder named '..thumbnail' stays inside
        handler="app.main.handler",
        memory=10240,
        timeout=900,
        environment={"TABLE_NAME": ITEMS.table_name, "Mode_2": "fast", "AWS_XRAY_TRACING": "x"},
        grants=(ITEMS.grant(dynamodb.GetItem, dynamodb.PutItem),),
        shared=("http_api.py", "s3_notifications.py"),
    )
    assert declared.logical_name == "ThumbnailV2"
    assert declared.code_key_parameter == "ThumbnailV2CodeKey"
    assert declared.handler_module == "app.main"
    assert fn(memory=128, timeout=1).memory == 128


# -- grants.py --------------------------------------------------------------------------------


UNSCOPED_HINT = (
    "grant on the declared resource instead "
    "(table.grant, bucket.objects(...).grant, topic.grant, queue.grant, ...)"
)


@cases(
    Case("no-action", lambda: ITEMS.grant(), "a grant on ItemsTable names no action"),
    Case(
        "action-as-text",
        lambda: ITEMS.grant("dynamodb:GetItem"),
        "grant on ItemsTable: 'dynamodb:GetItem' is not an awacs action "
        "(use e.g. awacs.dynamodb.GetItem)",
    ),
    Case(
        "another-services-action-on-a-table",
        lambda: ITEMS.grant(dynamodb.GetItem, s3.GetObject),
        "grant on ItemsTable: s3:GetObject is not one of dynamodb's actions",
    ),
    Case(
        "another-services-action-on-an-index",
        lambda: ITEMS.index("ByOwner").grant(s3.GetObject),
        "grant on ItemsTableByOwnerIndex: s3:GetObject is not one of dynamodb's actions",
    ),
    Case(
        "another-services-action-on-objects",
        lambda: FILES.objects("in/").grant(dynamodb.GetItem),
        "grant on FilesBucket: dynamodb:GetItem is not one of s3's actions",
    ),
    Case(
        "another-services-action-on-a-topic",
        lambda: EVENTS.grant(sqs.SendMessage),
        "grant on EventsTopic: sqs:SendMessage is not one of sns's actions",
    ),
    Case(
        "another-services-action-on-a-queue",
        lambda: JOBS.grant(sns.Publish),
        "grant on JobsQueue: sns:Publish is not one of sqs's actions",
    ),
    Case(
        "another-services-action-on-the-pool",
        lambda: POOL.grant(dynamodb.GetItem),
        "grant on UserPool: dynamodb:GetItem is not one of cognito-idp's actions",
    ),
    Case(
        "another-services-action-unscoped",
        lambda: Unscoped("rekognition", "no resources").grant(s3.GetObject),
        "grant on Rekognition: s3:GetObject is not one of rekognition's actions",
    ),
    Case(
        "wildcard-service",
        lambda: ITEMS.grant(Action("*")),
        "grant on ItemsTable: * is not one of dynamodb's actions",
    ),
    Case(
        "wildcard-action",
        lambda: ITEMS.grant(Action("dynamodb", "*")),
        "grant on ItemsTable: dynamodb:*: name each action, no wildcards",
    ),
    Case(
        "wildcard-in-an-action",
        lambda: FILES.objects().grant(Action("s3", "Get*")),
        "grant on FilesBucket: s3:Get*: name each action, no wildcards",
    ),
    Case(
        "wildcard-unscoped",
        lambda: Unscoped("rekognition", "no resources").grant(Action("rekognition", "*")),
        "grant on Rekognition: rekognition:*: name each action, no wildcards",
    ),
    Case(
        "unscoped-without-a-reason",
        lambda: Unscoped("rekognition", "  "),
        "Unscoped('rekognition') needs the reason '*' is required",
    ),
    Case(
        "unscoped-reason-not-text",
        lambda: Unscoped("rekognition", 5),
        "Unscoped('rekognition') needs the reason '*' is required",
    ),
    Case(
        "unscoped-service-name",
        lambda: Unscoped("Rekognition", "no resources"),
        "Unscoped('Rekognition'): a service prefix like 'xray'",
    ),
    *(
        Case(
            f"unscoped-{service}",
            lambda service=service: Unscoped(service, "no resources"),
            f"Unscoped({service!r}): {UNSCOPED_HINT}",
        )
        for service in ("dynamodb", "s3", "sns", "sqs", "cognito-idp")
    ),
)
def test_grant_checks(case: Case) -> None:
    assert refused(case.make) == case.message


def test_grants_of_their_own_service() -> None:
    assert ITEMS.grant(dynamodb.GetItem, dynamodb.PutItem).sid == "ItemsTableAccess"
    assert ITEMS.index("ByOwner").grant(dynamodb.Query).sid == "ItemsTableByOwnerIndexAccess"
    assert FILES.objects("in/").grant(s3.GetObject).target.prefix == "in/"
    assert EVENTS.grant(sns.Publish).sid == "EventsTopicAccess"
    assert JOBS.grant(sqs.SendMessage).sid == "JobsQueueAccess"
    assert POOL.grant(Action("cognito-idp", "AdminGetUser")).sid == "UserPoolAccess"
    unscoped = Unscoped("rekognition", "DetectLabels supports no resource-level permissions")
    assert unscoped.grant(rekognition.DetectLabels).sid == "RekognitionAccess"


# -- resources.py -----------------------------------------------------------------------------


@cases(
    Case(
        "key-name",
        lambda: Key("owner id"),
        "key attribute 'owner id': 1-255 letters, digits, _ . -",
    ),
    Case("key-type", lambda: Key("pk", "X"), "key attribute pk: type 'X' is not S, N or B"),
    Case(
        "key-not-a-name",
        lambda: Table("notes", partition_key=1),
        "table notes: 1 must be an attribute name or a Key",
    ),
    Case(
        "index-name-too-short",
        lambda: Index("ix", partition_key="pk"),
        "index 'ix': 3-255 letters, digits, _ . -",
    ),
    Case(
        "index-projection",
        lambda: Index("ByOwner", partition_key="owner", projection="INCLUDE"),
        "index ByOwner: projection must be ALL or KEYS_ONLY",
    ),
    Case(
        "index-key-not-a-name",
        lambda: Index("ByOwner", partition_key=2),
        "index ByOwner: 2 must be an attribute name or a Key",
    ),
    Case(
        "table-name",
        lambda: Table("Notes", partition_key="pk"),
        "table name 'Notes': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "table-without-partition-key",
        lambda: Table("notes", partition_key=None),
        "table notes: a partition key is required",
    ),
    Case(
        "table-index-twice",
        lambda: Table(
            "notes",
            partition_key="pk",
            indexes=(Index("ByOwner", "owner"), Index("ByOwner", "user")),
        ),
        "table notes: an index name is declared twice",
    ),
    Case(
        "table-index-not-an-index",
        lambda: Table("notes", partition_key="pk", indexes=("ByOwner",)),
        "table notes: indexes: 'ByOwner' is not an Index",
    ),
    Case(
        "table-ttl-attribute",
        lambda: Table("notes", partition_key="pk", ttl_attribute="expires at"),
        "table notes: ttl_attribute 'expires at'",
    ),
    Case(
        "table-stream-view",
        lambda: Table("notes", partition_key="pk", stream="ALL"),
        "table notes: stream must be one of NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY",
    ),
    Case(
        "table-has-no-such-index",
        lambda: ITEMS.index("ByDate"),
        "table items has no index 'ByDate'",
    ),
    Case("table-has-no-stream", lambda: PLAIN.stream_arn, "table plain declares no stream"),
    Case(
        "browser-upload-prefix",
        lambda: BrowserUpload(prefix="uploads"),
        "browser upload prefix 'uploads': folders ending in '/', e.g. 'incoming/' (or '' for all)",
    ),
    Case(
        "notification-topic",
        lambda: Notification("events"),
        "a bucket notification needs a Topic, not 'events'",
    ),
    Case(
        "notification-event",
        lambda: Notification(EVENTS, events=("ObjectCreated",)),
        "notification events ('ObjectCreated',): e.g. s3:ObjectCreated:*",
    ),
    Case(
        "notification-no-event",
        lambda: Notification(EVENTS, events=()),
        "notification events (): e.g. s3:ObjectCreated:*",
    ),
    Case(
        "notification-prefix",
        lambda: Notification(EVENTS, prefix="/in/"),
        "notification prefix '/in/': folders ending in '/', e.g. 'incoming/' (or '' for all)",
    ),
    Case(
        "bucket-name",
        lambda: Bucket("My_Files"),
        "bucket name 'My_Files': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "bucket-notification-not-a-notification",
        lambda: Bucket("inbox", notifications=(EVENTS,)),
        f"bucket inbox: notifications: {EVENTS!r} is not a Notification",
    ),
    Case(
        "bucket-physical-name",
        lambda: Bucket("files", physical_name="Files"),
        "bucket physical name 'Files': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "bucket-objects-prefix",
        lambda: FILES.objects("thumbs"),
        "bucket files objects prefix 'thumbs': folders ending in '/', e.g. 'incoming/' "
        "(or '' for all)",
    ),
    Case(
        "topic-name",
        lambda: Topic("events!"),
        "topic name 'events!': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "topic-physical-name",
        lambda: Topic("events", physical_name="-events"),
        "topic physical name '-events': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "queue-name",
        lambda: Queue("Jobs"),
        "queue name 'Jobs': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "queue-physical-name",
        lambda: Queue("jobs", physical_name="jobs.fifo"),
        "queue physical name 'jobs.fifo': use lowercase letters and digits, words joined by '-'",
    ),
    Case(
        "queue-visibility-timeout",
        lambda: Queue("jobs", visibility_timeout=43201),
        "queue jobs: visibility_timeout is 0 to 43200 s",
    ),
    Case(
        "queue-max-receive-count",
        lambda: Queue("jobs", max_receive_count=0),
        "queue jobs: max_receive_count is 1 to 1000",
    ),
    Case(
        "queue-visibility-timeout-not-whole",
        lambda: Queue("jobs", visibility_timeout=1.5),
        "queue jobs: visibility_timeout must be a whole number",
    ),
    Case(
        "queue-max-receive-count-as-text",
        lambda: Queue("jobs", max_receive_count="5"),
        "queue jobs: max_receive_count must be a whole number",
    ),
    Case(
        "queue-max-receive-count-boolean",
        lambda: Queue("jobs", max_receive_count=True),
        "queue jobs: max_receive_count must be a whole number",
    ),
    Case(
        "user-pool-password",
        lambda: UserPool(password_min_length=6),
        "user pool: password_min_length is 8 to 99",
    ),
    Case(
        "user-pool-mfa",
        lambda: UserPool(mfa="REQUIRED"),
        "user pool: mfa must be OFF, OPTIONAL or ON",
    ),
)
def test_resource_checks(case: Case) -> None:
    assert refused(case.make) == case.message


def test_an_attribute_has_one_type() -> None:
    make = lambda: Table("notes", partition_key=Key("pk"), indexes=(Index("ByPk", Key("pk", "N")),))  # noqa: E731
    assert refused(make) == "table notes: attribute pk is declared as S and N"


def test_resources_declared_in_full() -> None:
    table = Table(
        "order-items-2",
        partition_key=Key("pk", "S"),
        sort_key=Key("created", "N"),
        indexes=(Index("ByCreated", partition_key="gsi1pk", sort_key=Key("created", "N")),),
        ttl_attribute="expires_at",
        stream="KEYS_ONLY",
    )
    assert table.logical_id == "OrderItems2Table"
    assert [key.name for key in table.attributes] == ["pk", "created", "gsi1pk"]
    assert table.stream_arn == SharedValue("data", "OrderItems2TableStreamArn")
    bucket = Bucket(
        "uploads",
        physical_name="user-uploads",
        browser_upload=BrowserUpload(prefix="incoming/today/"),
        notifications=(Notification(EVENTS, events=("s3:ObjectRemoved:*",), prefix=""),),
    )
    assert (bucket.aws_name, bucket.bucket_name.name) == ("user-uploads", "UploadsBucketName")
    assert bucket.objects("").prefix == ""
    assert Queue("jobs", visibility_timeout=0, max_receive_count=1000).dead_letter_logical_id == (
        "JobsDeadLetterQueue"
    )
    assert UserPool(password_min_length=8, mfa="ON").issuer_url.name == "UserPoolIssuerUrl"


# -- triggers.py ------------------------------------------------------------------------------

ROUTE_HINT = (
    "expected 'METHOD /path' with METHOD one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, "
    "e.g. 'GET /links/{code}'"
)
SCHEDULE_HINT = (
    "expected rate(1 minute|hour|day), rate(N minutes|hours|days) with N of 2 or more, "
    "or cron(6 fields), e.g. 'cron(0 6 * * ? *)'"
)


@cases(
    Case("routes-none", lambda: HttpRoutes(()), "HttpRoutes needs at least one route key"),
    Case(
        "route-lowercase-method",
        lambda: HttpRoutes("get /items"),
        f"route 'get /items': {ROUTE_HINT}",
    ),
    Case("route-any-method", lambda: HttpRoutes("ANY /items"), f"route 'ANY /items': {ROUTE_HINT}"),
    Case("route-default", lambda: HttpRoutes("$default"), f"route '$default': {ROUTE_HINT}"),
    Case(
        "route-without-slash", lambda: HttpRoutes("GET items"), f"route 'GET items': {ROUTE_HINT}"
    ),
    Case(
        "route-trailing-slash",
        lambda: HttpRoutes("GET /items/"),
        f"route 'GET /items/': {ROUTE_HINT}",
    ),
    Case(
        "route-empty-segment",
        lambda: HttpRoutes("GET /items//x"),
        f"route 'GET /items//x': {ROUTE_HINT}",
    ),
    Case(
        "route-two-spaces", lambda: HttpRoutes("GET  /items"), f"route 'GET  /items': {ROUTE_HINT}"
    ),
    Case("route-not-text", lambda: HttpRoutes((1,)), f"route 1: {ROUTE_HINT}"),
    Case(
        "route-proxy-not-last",
        lambda: HttpRoutes("GET /{proxy+}/x"),
        "route 'GET /{proxy+}/x': a {proxy+} segment must come last",
    ),
    Case(
        "topic-subscription-topic",
        lambda: TopicSubscription("events"),
        "TopicSubscription needs a Topic, not 'events'",
    ),
    Case(
        "topic-subscription-retries",
        lambda: TopicSubscription(EVENTS, maximum_retry_attempts=3),
        "TopicSubscription: maximum_retry_attempts is 0 to 2",
    ),
    Case(
        "queue-subscription-topic",
        lambda: QueueSubscription(JOBS),
        f"QueueSubscription needs a Topic, not {JOBS!r}",
    ),
    Case(
        "queue-subscription-batch",
        lambda: QueueSubscription(EVENTS, batch_size=11),
        "QueueSubscription: batch_size is 1 to 10 for an SQS event source",
    ),
    Case(
        "queue-subscription-concurrency",
        lambda: QueueSubscription(EVENTS, max_concurrency=1),
        "QueueSubscription: max_concurrency is 2 to 1000 (SQS event sources)",
    ),
    Case(
        "queue-subscription-receive-count",
        lambda: QueueSubscription(EVENTS, max_receive_count=0),
        "QueueSubscription: max_receive_count is 1 to 1000",
    ),
    Case(
        "queue-messages-queue",
        lambda: QueueMessages(EVENTS),
        f"QueueMessages needs a Queue, not {EVENTS!r}",
    ),
    Case(
        "queue-messages-batch",
        lambda: QueueMessages(JOBS, batch_size=0),
        "QueueMessages: batch_size is 1 to 10 for an SQS event source",
    ),
    Case(
        "table-stream-table", lambda: TableStream("items"), "TableStream needs a Table, not 'items'"
    ),
    Case(
        "table-stream-without-stream",
        lambda: TableStream(PLAIN),
        "TableStream: table plain declares no stream (set stream=...)",
    ),
    Case(
        "table-stream-batch",
        lambda: TableStream(ITEMS, batch_size=10001),
        "TableStream: batch_size is 1 to 10000",
    ),
    Case(
        "table-stream-position",
        lambda: TableStream(ITEMS, starting_position="AT_TIMESTAMP"),
        "TableStream: starting_position is LATEST or TRIM_HORIZON",
    ),
    Case(
        "table-stream-retries",
        lambda: TableStream(ITEMS, maximum_retry_attempts=-1),
        "TableStream: maximum_retry_attempts is 0 to 10000",
    ),
    Case(
        "table-stream-record-age",
        lambda: TableStream(ITEMS, maximum_record_age_seconds=59),
        "TableStream: maximum_record_age_seconds is 60 to 604800",
    ),
    Case("schedule-prose", lambda: Schedule("every day"), f"Schedule 'every day': {SCHEDULE_HINT}"),
    Case(
        "schedule-rate-unit",
        lambda: Schedule("rate(1 week)"),
        f"Schedule 'rate(1 week)': {SCHEDULE_HINT}",
    ),
    Case(
        "schedule-cron-five-fields",
        lambda: Schedule("cron(0 6 * * ?)"),
        f"Schedule 'cron(0 6 * * ?)': {SCHEDULE_HINT}",
    ),
    Case("schedule-not-text", lambda: Schedule(None), f"Schedule None: {SCHEDULE_HINT}"),
    Case(
        "schedule-retries",
        lambda: Schedule("rate(1 day)", maximum_retry_attempts=3),
        "Schedule: maximum_retry_attempts is 0 to 2",
    ),
)
def test_trigger_checks(case: Case) -> None:
    assert refused(case.make) == case.message


@pytest.mark.parametrize(
    "key",
    [
        "GET /",
        "GET /links/{code}",
        "DELETE /images/{id}",
        "GET /{proxy+}",
        "POST /v1/items.json",
        "HEAD /files/{path+}",
        "OPTIONS /x_y~z",
    ],
)
def test_good_route_keys(key: str) -> None:
    assert HttpRoutes(key).routes == (key,)
    assert HttpRoutes((key,), public=True).methods == (key.split(" ")[0],)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(2 minutes)",
        "rate(5 minutes)",
        "rate(10 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "cron(0 6 * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
    ],
)
def test_good_schedules(expression: str) -> None:
    assert Schedule(expression).expression == expression


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(0 minute)",
        "rate(1 days)",
        "rate(2 hour)",
        "rate(01 minutes)",
        "rate(-1 minutes)",
    ],
)
def test_rate_expressions_eventbridge_refuses(expression: str) -> None:
    assert refused(lambda: Schedule(expression)) == f"Schedule {expression!r}: {SCHEDULE_HINT}"


def test_trigger_limits_themselves_pass() -> None:
    assert TopicSubscription(EVENTS, maximum_retry_attempts=0).maximum_retry_attempts == 0
    assert QueueSubscription(EVENTS, batch_size=10, max_concurrency=2, max_receive_count=1000)
    assert QueueMessages(JOBS, batch_size=1, max_concurrency=1000).batch_size == 1
    stream = TableStream(
        ITEMS,
        batch_size=10000,
        starting_position="TRIM_HORIZON",
        maximum_retry_attempts=10000,
        maximum_record_age_seconds=604800,
    )
    assert stream.table is ITEMS


# -- site.py ----------------------------------------------------------------------------------


@cases(
    Case(
        "folder-empty",
        lambda: Site(""),
        "site: folder '' must be a folder relative to the app's root",
    ),
    Case(
        "folder-absolute",
        lambda: Site("/var/www"),
        "site: folder '/var/www' must be a folder relative to the app's root",
    ),
    Case(
        "config-key",
        lambda: Site(config={"api-url": "x"}),
        "site config key 'api-url': a letter, then letters/digits",
    ),
    Case(
        "config-key-of-the-library",
        lambda: Site(config={"environment": "x"}),
        "site config key 'environment' is written by the library",
    ),
    Case(
        "config-value",
        lambda: Site(config={"retries": 3}),
        "site config retries: 3 must be text, a shared value or a setting",
    ),
)
def test_site_checks(case: Case) -> None:
    assert refused(case.make) == case.message


def test_site_folder_must_stay_inside_the_root() -> None:
    assert refused(lambda: Site("../elsewhere")) == (
        "site: folder '../elsewhere' must stay inside the app's root"
    )
    assert refused(lambda: Site("web/../..")) == (
        "site: folder 'web/../..' must stay inside the app's root"
    )


@cases(
    Case(
        "code-dot",
        lambda: fn(code="."),
        "function worker: code '.' is the app's root itself: name its folder",
    ),
    Case(
        "code-dot-slash",
        lambda: fn(code="./"),
        "function worker: code './' is the app's root itself: name its folder",
    ),
    Case(
        "site-dot", lambda: Site("."), "site: folder '.' is the app's root itself: name its folder"
    ),
    Case(
        "shared-code-dot",
        lambda: App(shared_code="."),
        "App(shared_code=...) '.' is the app's root itself: name its folder",
    ),
    Case(
        "shared-code-absolute",
        lambda: App(shared_code="/srv/shared"),
        "App(shared_code=...) '/srv/shared' must be a folder relative to the app's root",
    ),
    Case(
        "shared-code-escapes",
        lambda: App(shared_code="../shared"),
        "App(shared_code=...) '../shared' must stay inside the app's root",
    ),
)
def test_folders_are_inside_the_root_and_not_the_root(case: Case) -> None:
    assert refused(case.make) == case.message


def test_folders_inside_the_root_pass() -> None:
    assert fn(code="./lambdas/worker").code == "./lambdas/worker"
    assert Site("./web").folder == "./web"
    assert App(shared_code="src/shared").shared_code == "src/shared"


def test_a_site_declared_in_full() -> None:
    site = Site("frontend/dist", config={"title": "Notes", "apiUrl": HTTP_API_URL})
    assert site.folder == "frontend/dist"
    assert Site().folder == "web"


# -- settings.py (the declaration; values from infra.toml are test_settings_schema.py) ---------


@cases(
    Case(
        "name",
        lambda: Setting("MaxUpload"),
        "setting name 'MaxUpload': lowercase letters, digits and _",
    ),
    Case(
        "name-leading-digit",
        lambda: Setting("2fa"),
        "setting name '2fa': lowercase letters, digits and _",
    ),
    Case(
        "kind",
        lambda: Setting("limits", dict),
        "setting limits: kind must be int, float, str, bool or list",
    ),
    Case(
        "list-without-item",
        lambda: Setting("sizes", list),
        "setting sizes: a list setting needs item=int/float/str/bool",
    ),
    Case(
        "list-of-lists",
        lambda: Setting("sizes", list, item=list),
        "setting sizes: a list setting needs item=int/float/str/bool",
    ),
    Case(
        "default-out-of-range",
        lambda: Setting("limit", int, default=0, minimum=1),
        "setting limit: default: 0 is out of range (1 to any)",
    ),
    Case(
        "default-of-another-kind",
        lambda: Setting("limit", int, default="10"),
        "setting limit: default: '10' must be a whole number",
    ),
    Case(
        "default-not-a-choice",
        lambda: Setting("mode", str, default="slow", choices=("fast",)),
        "setting mode: default: 'slow' is not one of: 'fast'",
    ),
)
def test_setting_checks(case: Case) -> None:
    assert refused(case.make) == case.message


def test_settings_declared_in_full() -> None:
    sizes = Setting("sizes", list, item=int, default=[16], minimum=16, min_items=1, unique=True)
    required = Setting("country", str, pattern="[A-Z]{2}")
    declared = App(settings=(sizes, required, LIMIT))
    assert (sizes.required, required.required) == (False, True)
    assert declared.settings == (sizes, required, LIMIT)
    assert sizes.normalized([16]) == (16,)


@cases(
    Case(
        "bad-pattern",  # else re.error when a value is checked
        lambda: Setting("code", str, pattern="[A-Z"),
        "setting code: pattern '[A-Z': unterminated character set at position 0",
    ),
    Case(
        "minimum-over-maximum",  # no value can pass
        lambda: Setting("limit", int, minimum=10, maximum=1),
        "setting limit: minimum 10 is above maximum 1",
    ),
    Case(
        "min-items-over-max-items",
        lambda: Setting("sizes", list, item=int, min_items=3, max_items=1),
        "setting sizes: min_items 3 is above max_items 1",
    ),
    Case(
        "item-on-a-scalar",  # item would be ignored unless kind is list
        lambda: Setting("label", str, item=int),
        "setting label: item= is for list settings (kind=list)",
    ),
    Case(
        "default-list-too-short",
        lambda: Setting("sizes", list, item=int, default=[], min_items=1),
        "setting sizes: default: [] must have at least 1 item",
    ),
    Case(
        "default-list-not-the-exact-length",
        lambda: Setting("pair", list, item=int, default=[1], min_items=2, max_items=2),
        "setting pair: default: [1] must have exactly 2 items",
    ),
    Case(
        "default-list-item-out-of-range",
        lambda: Setting("sizes", list, item=int, default=[8], minimum=16),
        "setting sizes: default: [8]: item 8 is out of range (16 to any)",
    ),
)
def test_setting_declarations_that_can_never_work(case: Case) -> None:
    assert refused(case.make) == case.message


def test_setting_limits_themselves_pass() -> None:
    assert Setting("limit", int, default=1, minimum=1, maximum=1).default == 1
    assert Setting("pair", list, item=int, default=[1, 2], min_items=2, max_items=2).required is (
        False
    )
    assert Setting("code", str, pattern="[A-Z]{2}").pattern == "[A-Z]{2}"


# -- load.py ----------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_refused(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_declaration(path, "infra.toml")
    message = str(raised.value)
    assert len(message.splitlines()) == 1, message
    assert raised.value.exit_code == 2
    return message


def test_missing_declaration_file(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    assert load_refused(path) == (
        f"infra.toml: app.declaration: {path} not found (a .py file or a package)"
    )


def test_folder_without_init(tmp_path: Path) -> None:
    (tmp_path / "myapp").mkdir()
    assert load_refused(tmp_path / "myapp") == (
        f"infra.toml: app.declaration: {tmp_path / 'myapp'} not found (a .py file or a package)"
    )


def test_file_that_cannot_be_imported(tmp_path: Path) -> None:
    path = write(tmp_path / "app.toml", "app = 1\n")
    assert (
        load_refused(path) == f"infra.toml: app.declaration: {path} must be a .py file or a package"
    )


@pytest.mark.parametrize(
    "text",
    [
        "tables = ()\n",
        "app = {'tables': ()}\n",
        "from infra.app import App\napp = App\n",  # the class, not an app
        "from infra.app import App\napplication = App()\n",
    ],
    ids=["no-app", "app-is-a-dict", "app-is-the-class", "app-under-another-name"],
)
def test_file_without_an_app(text: str, tmp_path: Path) -> None:
    path = write(tmp_path / "app.py", text)
    assert load_refused(path) == (
        f"infra.toml: app.declaration: {path} must assign an infra.app.App to `app`"
    )


def test_a_file_that_declares_an_app(tmp_path: Path) -> None:
    path = write(
        tmp_path / "app.py",
        """
        from infra.app import App, Table

        notes = Table("notes", partition_key="pk")
        app = App(tables=(notes,))
        """,
    )
    declared = load_declaration(path, "infra.toml")
    assert [table.name for table in declared.tables] == ["notes"]
    again = load_declaration(path, "infra.toml")
    assert again is not declared  # imported afresh each time, not cached
    assert [table.name for table in again.tables] == ["notes"]
    # An edited file is what the next load sees.
    write(
        path,
        """
        from infra.app import App, Table

        app = App(tables=(Table("notes", partition_key="pk"), Table("tags", partition_key="pk")))
        """,
    )
    assert [table.name for table in load_declaration(path, "infra.toml").tables] == [
        "notes",
        "tags",
    ]


def test_a_package_that_imports_its_own_modules(tmp_path: Path) -> None:
    write(
        tmp_path / "myapp" / "tables.py",
        "from infra.app import Table\nnotes = Table('notes', partition_key='pk')\n",
    )
    write(
        tmp_path / "myapp" / "__init__.py",
        "from infra.app import App\nfrom .tables import notes\napp = App(tables=(notes,))\n",
    )
    write(tmp_path / "helpers.py", "NAME = 'todo'\n")
    write(
        tmp_path / "todo.py",
        "from helpers import NAME\nfrom infra.app import App, Table\n"
        "app = App(tables=(Table(NAME, partition_key='pk'),))\n",
    )
    before = list(sys.path)
    assert [t.name for t in load_declaration(tmp_path / "myapp", "infra.toml").tables] == ["notes"]
    assert [t.name for t in load_declaration(tmp_path / "todo.py", "infra.toml").tables] == ["todo"]
    assert sys.path == before  # the app's root is on sys.path only while it loads
    sys.modules.pop("helpers", None)


def test_a_bug_in_the_apps_code_keeps_its_traceback(tmp_path: Path) -> None:
    path = write(
        tmp_path / "app.py",
        """
        from infra.app import App

        limits = {"uploads": 10}
        app = App(settings=limits["downloads"])
        """,
    )
    with pytest.raises(KeyError) as raised:
        load_declaration(path, "infra.toml")
    assert not isinstance(raised.value, InfraError)
    assert any(Path(entry.path) == path and entry.lineno == 4 for entry in raised.traceback)
    # Fixed, it loads on the next try: the failed import was not kept.
    write(path, "from infra.app import App\napp = App()\n")
    assert load_declaration(path, "infra.toml").tables == ()


def test_a_declaration_mistake_in_app_py_is_one_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "app.py",
        """
        from infra.app import App, Function, HttpRoutes

        api = Function(name="api", code="lambdas/api", description="API",
                       trigger=HttpRoutes("GET /notes"))
        app = App(functions=(api,))
        """,
    )
    message = (
        f"{path}: function api: routes GET /notes need a signed-in user, but the app declares no "
        "user_pool (or mark them public=True)"
    )
    assert refused(lambda: load_declaration(path, "infra.toml")) == message


# -- the same through the command line ---------------------------------------------------------

BROKEN_APPS = {
    "declaration-mistake": (
        "from infra.app import App, Table\n"
        "app = App(tables=(Table('notes', partition_key='pk'), "
        "Table('notes', partition_key='id')))\n",
        "app.py: table 'notes' is declared twice",  # the file it was raised in, as given
    ),
    "no-app": (
        "NOTES = 1\n",
        "infra.toml: app.declaration: app.py must assign an infra.app.App to `app`",
    ),
}


@pytest.mark.parametrize("name", list(BROKEN_APPS))
def test_render_refuses_a_broken_declaration_in_one_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, message = BROKEN_APPS[name]
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "infra.toml", MINIMAL_TOML)
    write(tmp_path / "app.py", text)
    result = CliRunner().invoke(cli, ["render", "--config", "infra.toml", "--out", "out"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_render_shows_the_traceback_of_a_bug_in_the_app(tmp_path: Path) -> None:
    write(tmp_path / "infra.toml", MINIMAL_TOML)
    write(
        tmp_path / "app.py",
        "from infra.app import App\nsizes = [1, 2]\napp = App(settings=sizes[5])\n",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("INFRA_")}
    completed = subprocess.run(
        [sys.executable, "-m", "infra", "render", "--out", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "Traceback" in completed.stderr
    assert f'File "{tmp_path / "app.py"}", line 3' in completed.stderr
    assert completed.stderr.splitlines()[-1] == "IndexError: list index out of range"
    assert not (tmp_path / "out").exists()
