"""The environment's wiring as data: routes, event sources, subscriptions, schedules, buckets.

Built from the deployed data and backend templates (`infra.local.wiring`), never from
the declaration, so what runs locally is what CloudFormation was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.local.wiring import DeployedStack, Resolver

FUNCTION = "AWS::Lambda::Function"
# CloudFormation's names for a CORS rule's fields -> S3 API's.
S3_CORS_KEYS = {"Id": "ID", "MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}


@dataclass(frozen=True)
class Authorizer:
    """A JWT authorizer: who issues the tokens and which audiences (client ids) it takes."""

    issuer: str
    audiences: tuple[str, ...]
    header: str = "authorization"


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # /orders/{id}, /{proxy+}, or $default
    key: str
    function: str  # physical name
    authorizer: Authorizer | None
    payload_version: str = "2.0"
    timeout_ms: int = 30000


@dataclass(frozen=True)
class Cors:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...] = ()
    max_age: int = 0
    credentials: bool = False


@dataclass(frozen=True)
class QueueSource:
    """An SQS event source mapping."""

    function: str
    queue_arn: str
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source mapping."""

    function: str
    stream_arn: str
    batch_size: int
    starting_position: str
    maximum_retry_attempts: int
    maximum_record_age_seconds: int
    bisect: bool
    report_failures: bool
    on_failure: str | None
    filters: tuple[str, ...]


@dataclass(frozen=True)
class AsyncConfig:
    """How asynchronous invocations of a function retry, and where failures go."""

    retries: int = 2
    on_failure: str | None = None


@dataclass(frozen=True)
class TopicSubscription:
    topic_arn: str
    protocol: str  # lambda or sqs
    endpoint: str  # the function's name or the queue's ARN
    raw: bool = False


@dataclass(frozen=True)
class ScheduleRule:
    name: str
    arn: str
    expression: str
    function: str
    enabled: bool
    retries: int
    dead_letter: str | None


@dataclass(frozen=True)
class BucketWiring:
    name: str
    notifications: dict[str, Any]  # NotificationConfiguration as S3's API takes it
    cors: list[dict[str, Any]]


@dataclass
class Topology:
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)  # physical name -> props
    api: str | None = None
    cors: Cors | None = None
    routes: list[Route] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    subscriptions: list[TopicSubscription] = field(default_factory=list)
    schedules: list[ScheduleRule] = field(default_factory=list)
    async_configs: dict[str, AsyncConfig] = field(default_factory=dict)
    buckets: list[BucketWiring] = field(default_factory=list)


def function_name(resolver: Resolver, arn_or_name: Any) -> str:
    """A function's physical name from the ARN or name a template resolves to."""
    value = str(resolver.value(arn_or_name))
    return value.rsplit(":", 1)[-1] if value.startswith("arn:") else value


def backend_topology(stack: DeployedStack, resolver: Resolver, topology: Topology) -> None:
    """Functions, routes, event sources, subscriptions and schedules of the backend stack."""
    value = resolver.value
    for logical_id, body in stack.resources(FUNCTION).items():
        props = value(body.get("Properties", {}))
        topology.functions[stack.physical_ids[logical_id]] = props
    for logical_id, body in stack.resources("AWS::ApiGatewayV2::Api").items():
        topology.api = stack.physical_ids[logical_id]
        cors = body.get("Properties", {}).get("CorsConfiguration")
        if cors:
            cors = value(cors)
            topology.cors = Cors(
                origins=tuple(cors.get("AllowOrigins", ())),
                methods=tuple(cors.get("AllowMethods", ())),
                headers=tuple(header.lower() for header in cors.get("AllowHeaders", ())),
                expose=tuple(cors.get("ExposeHeaders", ())),
                max_age=int(cors.get("MaxAge", 0)),
                credentials=bool(cors.get("AllowCredentials", False)),
            )
    authorizers = {}
    for logical_id, body in stack.resources("AWS::ApiGatewayV2::Authorizer").items():
        props = value(body["Properties"])
        jwt = props.get("JwtConfiguration", {})
        source = (props.get("IdentitySource") or ["$request.header.Authorization"])[0]
        authorizers[logical_id] = Authorizer(
            issuer=jwt.get("Issuer", ""),
            audiences=tuple(jwt.get("Audience", ())),
            header=source.rsplit(".", 1)[-1].lower(),
        )
    integrations = {}
    for logical_id, body in stack.resources("AWS::ApiGatewayV2::Integration").items():
        props = body["Properties"]
        integrations[stack.physical_ids[logical_id]] = (
            function_name(resolver, props["IntegrationUri"]),
            str(props.get("PayloadFormatVersion", "2.0")),
            int(props.get("TimeoutInMillis", 30000)),
        )
        integrations[logical_id] = integrations[stack.physical_ids[logical_id]]
    for body in stack.resources("AWS::ApiGatewayV2::Route").values():
        props = body["Properties"]
        key = str(props["RouteKey"])
        target = str(value(props["Target"])).removeprefix("integrations/")
        function, version, timeout = integrations[target]
        authorizer = None
        if props.get("AuthorizationType") == "JWT":
            authorizer = authorizers[_logical(stack, props["AuthorizerId"])]
        method, _, path = key.partition(" ") if key != "$default" else ("ANY", "", "$default")
        topology.routes.append(
            Route(method, path or "$default", key, function, authorizer, version, timeout)
        )
    for body in stack.resources("AWS::Lambda::EventSourceMapping").values():
        props = body["Properties"]
        source = str(value(props["EventSourceArn"]))
        function = function_name(resolver, props["FunctionName"])
        report = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or ())
        if ":sqs:" in source:
            topology.queue_sources.append(
                QueueSource(function, source, int(props.get("BatchSize", 10)), report)
            )
        else:
            destination = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
            filters = [
                item["Pattern"] for item in (props.get("FilterCriteria") or {}).get("Filters", [])
            ]
            topology.stream_sources.append(
                StreamSource(
                    function=function,
                    stream_arn=source,
                    batch_size=int(props.get("BatchSize", 100)),
                    starting_position=str(props.get("StartingPosition", "LATEST")),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    maximum_record_age_seconds=int(props.get("MaximumRecordAgeInSeconds", -1)),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    report_failures=report,
                    on_failure=str(value(destination["Destination"])) if destination else None,
                    filters=tuple(str(value(f)) for f in filters),
                )
            )
    for body in stack.resources("AWS::Lambda::EventInvokeConfig").values():
        props = body["Properties"]
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        topology.async_configs[function_name(resolver, props["FunctionName"])] = AsyncConfig(
            retries=int(props.get("MaximumRetryAttempts", 2)),
            on_failure=str(value(destination)) if destination else None,
        )
    for body in stack.resources("AWS::SNS::Subscription").values():
        topology.subscriptions.append(subscription(resolver, body["Properties"]))
    for logical_id, body in stack.resources("AWS::Events::Rule").items():
        props = body["Properties"]
        expression = props.get("ScheduleExpression")
        if not expression:
            continue
        for target in props.get("Targets", []):
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            topology.schedules.append(
                ScheduleRule(
                    name=stack.physical_ids[logical_id],
                    arn=resolver.attribute(logical_id, "Arn"),
                    expression=str(expression),
                    function=function_name(resolver, target["Arn"]),
                    enabled=props.get("State", "ENABLED") == "ENABLED",
                    retries=int((target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 185)),
                    dead_letter=str(value(dead_letter)) if dead_letter else None,
                )
            )


def subscription(resolver: Resolver, props: dict[str, Any]) -> TopicSubscription:
    protocol = str(props["Protocol"])
    endpoint = resolver.value(props["Endpoint"])
    return TopicSubscription(
        topic_arn=str(resolver.value(props["TopicArn"])),
        protocol=protocol,
        endpoint=function_name(resolver, endpoint) if protocol == "lambda" else str(endpoint),
        raw=str(props.get("RawMessageDelivery", "false")).lower() == "true",
    )


def data_topology(stack: DeployedStack, resolver: Resolver, topology: Topology) -> None:
    """Buckets' notifications and CORS rules, as S3's API takes them."""
    for logical_id, body in stack.resources("AWS::S3::Bucket").items():
        props = resolver.value(body.get("Properties", {}))
        notifications: dict[str, Any] = {}
        for item in (props.get("NotificationConfiguration") or {}).get("TopicConfigurations", []):
            entry: dict[str, Any] = {"TopicArn": item["Topic"], "Events": [item["Event"]]}
            rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            notifications.setdefault("TopicConfigurations", []).append(entry)
        cors = [
            {S3_CORS_KEYS.get(key, key): value for key, value in rule.items()}
            for rule in (props.get("CorsConfiguration") or {}).get("CorsRules", [])
        ]
        topology.buckets.append(BucketWiring(stack.physical_ids[logical_id], notifications, cors))


def _logical(stack: DeployedStack, reference: Any) -> str:
    """The logical ID a `{"Ref": X}` names."""
    if isinstance(reference, dict) and "Ref" in reference:
        return str(reference["Ref"])
    for logical_id, physical in stack.physical_ids.items():
        if physical == reference:
            return logical_id
    raise KeyError(reference)
