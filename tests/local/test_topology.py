"""The topology read from both apps' rendered templates is what their app.py declares.

Each app is rendered by the library, then "deployed" here the way CloudFormation would:
every resource gets a physical id in AWS's format, and each backend parameter that reads
an SSM value gets the value the data stack publishes under that name. The topology is
then read from those stacks alone, and every expectation below is computed from the
declaration (app.py) and the environment's settings (infra.toml): routes and who checks
them, CORS, queue and stream sources, subscriptions, schedules and bucket notifications.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.app import (
    App,
    Function,
    HttpRoutes,
    QueueMessages,
    QueueSubscription,
    Schedule,
    TableStream,
    Topic,
    TopicSubscription,
)
from infra.config import AppConfig, Environment, load_config
from infra.errors import InfraError
from infra.local.topology import (
    AsyncConfig,
    Authorizer,
    QueueSource,
    StreamSource,
    Topology,
    backend_topology,
    data_topology,
)
from infra.local.topology import TopicSubscription as Subscribed
from infra.local.wiring import DeployedStack, Resolver
from infra.naming import physical_name
from infra.render import render
from tests.support.apps import EXAMPLE, REPO

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ENV = "dev"
STREAM_LABEL = "2026-12-01T00:00:00.000"


# -- a deployment with fake physical ids -------------------------------------------------------


class FakeDynamoDb:
    def describe_table(self, TableName: str) -> dict[str, Any]:
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TableName}"
        return {"Table": {"TableArn": arn, "LatestStreamArn": f"{arn}/stream/{STREAM_LABEL}"}}


def clients(service: str) -> Any:
    assert service == "dynamodb"
    return FakeDynamoDb()


def physical_id(app: str, logical_id: str, body: dict[str, Any], names: Resolver) -> str:
    """The id CloudFormation would report for the resource, in its type's format."""
    props = body.get("Properties", {})

    def named(key: str) -> str:
        return str(names.value(props[key])) if key in props else f"{app}-{logical_id.lower()}"

    kind = body["Type"]
    if kind == "AWS::SQS::Queue":
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{named('QueueName')}"
    if kind == "AWS::SNS::Topic":
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{named('TopicName')}"
    by_name = {
        "AWS::Lambda::Function": "FunctionName",
        "AWS::S3::Bucket": "BucketName",
        "AWS::DynamoDB::Table": "TableName",
        "AWS::Events::Rule": "Name",
        "AWS::IAM::Role": "RoleName",
        "AWS::Logs::LogGroup": "LogGroupName",
    }
    if kind in by_name:
        return named(by_name[kind])
    if kind == "AWS::Cognito::UserPool":
        return f"{REGION}_{app}Pool{logical_id}"
    return f"{app}{logical_id.lower()}0123"  # API, routes, integrations, client ids: opaque


def deploy(
    app: str, template: dict[str, Any], stack_name: str, published: dict[str, str]
) -> DeployedStack:
    """`template` as deployed: physical ids, and SSM parameters read from `published`."""
    bare = Resolver(DeployedStack(stack_name, template, {}, {}), REGION, ACCOUNT, clients)
    physical = {
        logical_id: physical_id(app, logical_id, body, bare)
        for logical_id, body in template["Resources"].items()
    }
    parameters = {}
    for key, spec in (template.get("Parameters") or {}).items():
        if spec["Type"].startswith("AWS::SSM::Parameter::Value"):
            parameters[key] = published.get(spec["Default"], f"unpublished:{spec['Default']}")
        else:
            parameters[key] = str(spec.get("Default", ""))
    stack = DeployedStack(stack_name, template, parameters, physical)
    resolver = Resolver(stack, REGION, ACCOUNT, clients)
    for body in stack.resources("AWS::SSM::Parameter").values():
        # What the stack publishes for the next one. A KMS key's ARN, say, is beyond the
        # resolver; no stack reads one for wiring, so it stays unpublished here.
        with contextlib.suppress(InfraError):
            published[body["Properties"]["Name"]] = str(resolver.value(body["Properties"]["Value"]))
    return stack


@dataclass
class Deployed:
    config: AppConfig
    data: DeployedStack
    backend: DeployedStack
    topology: Topology

    @property
    def app(self) -> App:
        return self.config.declaration

    @property
    def environment(self) -> Environment:
        return self.config.environment(ENV)

    def name(self, *parts: str) -> str:
        return physical_name(self.config.name, ENV, *parts)

    def functions(self, *triggers: type) -> list[Function]:
        return [f for f in self.app.functions if isinstance(f.trigger, triggers)]

    def topic_arn(self, topic: Topic) -> str:
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{self.name(topic.physical_name or topic.name)}"

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"

    def dead_letter_arn(self, function: Function) -> str:
        """A function's own dead-letter queue, `<queue>-dlq` as app.py's dashboard names it."""
        return self.queue_arn(f"{self.name(function.name)}-dlq")

    def only(self, stack: DeployedStack, kind: str) -> str:
        [logical_id] = stack.resources(kind)
        return stack.physical_ids[logical_id]


def deployed(config_path: Path, tmp_path: Path) -> Deployed:
    config = load_config(config_path)
    templates = {
        r.stack: json.loads(r.path.read_text())
        for r in render(config, tmp_path)
        if r.scope in (ENV, "main")
    }
    published: dict[str, str] = {}
    stacks = {
        kind: deploy(config.name, templates[kind], f"{config.name}-{ENV}-{kind}", published)
        for kind in ("base", "data", "backend")
    }
    topology = Topology()
    data, backend = stacks["data"], stacks["backend"]
    data_topology(data, Resolver(data, REGION, ACCOUNT, clients), topology)
    backend_topology(backend, Resolver(backend, REGION, ACCOUNT, clients), topology)
    return Deployed(config, data, backend, topology)


@pytest.fixture(scope="module", params=["photos", "links"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    path = {"photos": REPO / "infra.toml", "links": EXAMPLE / "infra.toml"}[request.param]
    return deployed(path, tmp_path_factory.mktemp(request.param))


# -- functions and routes ------------------------------------------------------------------------


def test_every_declared_function_is_deployed_under_its_physical_name(app: Deployed) -> None:
    assert set(app.topology.functions) == {app.name(f.name) for f in app.app.functions}
    for function in app.app.functions:
        props = app.topology.functions[app.name(function.name)]
        assert props["Handler"] == function.handler
        if function.timeout is not None:
            assert props["Timeout"] == function.timeout


def test_every_declared_route_goes_to_its_function(app: Deployed) -> None:
    declared = {
        (key.split(" ", 1)[0], key.split(" ", 1)[1], app.name(f.name), f.trigger.public)
        for f in app.functions(HttpRoutes)
        for key in f.trigger.routes
    }
    found = {(r.method, r.path, r.function, r.authorizer is None) for r in app.topology.routes}
    assert found == declared
    assert len(app.topology.routes) == len(declared)
    for r in app.topology.routes:
        assert r.key == f"{r.method} {r.path}"
        assert r.payload_version == "2.0"
        assert 0 < r.timeout_ms <= 30000  # an HTTP API integration's limit


def test_signed_in_routes_check_the_user_pools_tokens(app: Deployed) -> None:
    """The issuer is the data stack's pool, the audience its web client, as Cognito issues."""
    pool = app.only(app.data, "AWS::Cognito::UserPool")
    client = app.only(app.data, "AWS::Cognito::UserPoolClient")
    expected = Authorizer(
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{pool}",
        audiences=(client,),
        header="authorization",
    )
    private = [r for r in app.topology.routes if r.authorizer is not None]
    assert private, "each app declares signed-in routes"
    assert {r.authorizer for r in private} == {expected}


def test_public_routes_are_exactly_the_declared_ones(app: Deployed) -> None:
    public = {
        key for f in app.functions(HttpRoutes) if f.trigger.public for key in f.trigger.routes
    }
    assert {r.key for r in app.topology.routes if r.authorizer is None} == public


def test_cors_lets_the_environments_frontend_call_the_declared_methods(app: Deployed) -> None:
    cors = app.topology.cors
    assert cors is not None
    assert app.topology.api == app.only(app.backend, "AWS::ApiGatewayV2::Api")
    assert cors.origins == app.environment.frontend_origins
    methods = {m for f in app.functions(HttpRoutes) for m in f.trigger.methods}
    assert set(cors.methods) == methods | {"OPTIONS"}  # OPTIONS: the preflight itself
    if any(r.authorizer for r in app.topology.routes):
        assert "authorization" in cors.headers  # the bearer token
    if "POST" in methods:
        assert "content-type" in cors.headers  # a JSON body
    assert not cors.credentials  # a bearer header, no cookies
    assert cors.max_age > 0


# -- event sources -------------------------------------------------------------------------------


def test_queue_sources_are_the_declared_subscriptions_with_their_batch_sizes(
    app: Deployed,
) -> None:
    expected = set()
    for f in app.functions(QueueSubscription, QueueMessages):
        trigger = f.trigger
        queue = (
            app.name(f.name)  # a queue of the function's own, as app.py's dashboard names it
            if isinstance(trigger, QueueSubscription)
            else app.name(trigger.queue.physical_name or trigger.queue.name)
        )
        # Every batch handler answers batchItemFailures (powertools' partial responses).
        expected.add(QueueSource(app.name(f.name), app.queue_arn(queue), trigger.batch_size, True))
    assert set(app.topology.queue_sources) == expected
    assert len(app.topology.queue_sources) == len(expected)


def test_stream_sources_are_the_declared_table_streams_with_batches_and_filters(
    app: Deployed,
) -> None:
    expected = {}
    for f in app.functions(TableStream):
        trigger = f.trigger
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{app.name(trigger.table.name)}"
        expected[app.name(f.name)] = StreamSource(
            function=app.name(f.name),
            stream_arn=f"{table}/stream/{STREAM_LABEL}",
            batch_size=trigger.batch_size,
            starting_position=trigger.starting_position,
            maximum_retry_attempts=trigger.maximum_retry_attempts,
            maximum_record_age_seconds=trigger.maximum_record_age_seconds,
            bisect=True,  # "failures bisect, retry, then DLQ"
            report_failures=True,
            on_failure=app.dead_letter_arn(f),
            filters=(),
        )
    found = {s.function: s for s in app.topology.stream_sources}
    assert set(found) == set(expected)
    for name, source in found.items():
        declared = next(f for f in app.functions(TableStream) if app.name(f.name) == name)
        # Filters are JSON text in the template; they must say what app.py says.
        assert [json.loads(text) for text in source.filters] == list(declared.trigger.filters)
        assert source.__class__(**{**source.__dict__, "filters": ()}) == expected[name]


def test_links_counts_only_new_clicks(tmp_path: Path) -> None:
    """The example app's filter, spelled out: INSERTs of CLICK# items, nothing else."""
    links = deployed(EXAMPLE / "infra.toml", tmp_path)
    [source] = links.topology.stream_sources
    [pattern] = [json.loads(text) for text in source.filters]
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "CLICK#"}]}}},
    }
    assert source.function == "links-dev-count-clicks"
    assert source.batch_size == 100


def test_topic_subscriptions_are_the_declared_ones(app: Deployed) -> None:
    expected = set()
    for f in app.functions(TopicSubscription):
        expected.add(Subscribed(app.topic_arn(f.trigger.topic), "lambda", app.name(f.name)))
    for f in app.functions(QueueSubscription):
        queue = app.queue_arn(app.name(f.name))
        expected.add(Subscribed(app.topic_arn(f.trigger.topic), "sqs", queue, raw=False))
    assert set(app.topology.subscriptions) == expected
    assert len(app.topology.subscriptions) == len(expected)


def test_async_invocations_retry_as_declared_and_fail_to_the_functions_queue(
    app: Deployed,
) -> None:
    expected = {
        app.name(f.name): AsyncConfig(f.trigger.maximum_retry_attempts, app.dead_letter_arn(f))
        for f in app.functions(TopicSubscription, Schedule)
    }
    assert app.topology.async_configs == expected


def test_schedules_are_the_declared_ones(app: Deployed) -> None:
    found = {rule.function: rule for rule in app.topology.schedules}
    declared = {app.name(f.name): f for f in app.functions(Schedule)}
    assert set(found) == set(declared)
    for name, rule in found.items():
        trigger = declared[name].trigger
        assert rule.expression == trigger.expression
        assert rule.enabled
        assert rule.retries == trigger.maximum_retry_attempts
        assert rule.dead_letter == app.dead_letter_arn(declared[name])
        assert rule.arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule.name}"
        assert rule.name.startswith(f"{app.config.name}-{ENV}-")


# -- buckets -------------------------------------------------------------------------------------


def test_buckets_notify_the_declared_topics(app: Deployed) -> None:
    assert len(app.topology.buckets) == len(app.app.buckets)
    for bucket in app.app.buckets:
        prefix = app.name(bucket.physical_name or bucket.name)
        [wiring] = [b for b in app.topology.buckets if b.name.startswith(prefix + "-")]
        expected = []
        for notification in bucket.notifications:
            rules = [
                {"Name": name, "Value": value}
                for name, value in (
                    ("prefix", notification.prefix),
                    ("suffix", notification.suffix),
                )
                if value
            ]
            for event in notification.events:
                entry: dict[str, Any] = {
                    "TopicArn": app.topic_arn(notification.topic),
                    "Events": [event],
                }
                if rules:
                    entry["Filter"] = {"Key": {"FilterRules": rules}}
                expected.append(entry)
        found = wiring.notifications.get("TopicConfigurations", [])
        for entry in found:  # S3 takes a rule's name in either case
            for rule in entry.get("Filter", {}).get("Key", {}).get("FilterRules", []):
                rule["Name"] = rule["Name"].lower()
        assert found == expected, bucket.name
        assert set(wiring.notifications) <= {"TopicConfigurations"}


def test_only_browser_upload_buckets_let_the_frontend_post(app: Deployed) -> None:
    for bucket in app.app.buckets:
        prefix = app.name(bucket.physical_name or bucket.name)
        [wiring] = [b for b in app.topology.buckets if b.name.startswith(prefix + "-")]
        posting = [rule for rule in wiring.cors if "POST" in rule["AllowedMethods"]]
        if bucket.browser_upload is None:
            assert posting == [], bucket.name
            continue
        [rule] = posting
        assert rule["AllowedOrigins"] == list(app.environment.frontend_origins)
        # S3's API names, not CloudFormation's: PutBucketCors takes these.
        assert not {"Id", "MaxAge", "ExposedHeaders"} & set(rule)
        assert rule["MaxAgeSeconds"] > 0


def test_the_photos_upload_bucket_tells_the_upload_topic_about_new_uploads(
    tmp_path: Path,
) -> None:
    """The reference app, spelled out: uploads/ objects created -> photos-dev-uploads."""
    photos = deployed(REPO / "infra.toml", tmp_path)
    upload = next(b for b in photos.topology.buckets if b.name.startswith("photos-dev-uploads-"))
    assert upload.notifications == {
        "TopicConfigurations": [
            {
                "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:photos-dev-uploads",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}},
            }
        ]
    }
    media = next(b for b in photos.topology.buckets if b.name.startswith("photos-dev-media-"))
    assert media.notifications == {}


# -- what the topology refuses -------------------------------------------------------------------


def test_a_route_to_an_integration_of_no_function_is_an_error_naming_the_stack() -> None:
    template = {
        "Resources": {
            "Integration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {"IntegrationUri": {"Fn::GetAtt": ["Ghost", "Arn"]}},
            }
        }
    }
    stack = DeployedStack("demo-dev-backend", template, {}, {"Integration": "i-1"})
    with pytest.raises(InfraError, match="demo-dev-backend"):
        backend_topology(stack, Resolver(stack, REGION, ACCOUNT, clients), Topology())
