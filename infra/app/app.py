"""The whole declaration of an app, checked as a whole when it is made.

`App` holds everything the library builds from: data, functions, settings and the
optional site. Making one checks that every reference points at something the app
declares and that no two things would get the same AWS name, so a mistake is one
line naming it before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from typing import Any

from infra.app.functions import Function
from infra.app.grants import Grant, Unscoped
from infra.app.immutable import Immutable, declaration
from infra.app.references import HTTP_API_URL, SharedValue, as_items, check_relative_folder
from infra.app.resources import (
    DATA,
    Bucket,
    BucketObjects,
    Queue,
    Table,
    TableIndex,
    Topic,
    UserPool,
)
from infra.app.settings import Setting, SettingValue
from infra.app.site import Site
from infra.app.triggers import (
    WITH_DEAD_LETTER_QUEUE,
    HttpRoutes,
    QueueMessages,
    QueueSubscription,
    Schedule,
    TableStream,
    TopicSubscription,
)
from infra.errors import DeclarationError
from infra.naming import route_logical_id, unique

# Every logical ID the backend stack makes of a function: `<Function><Role>`.
FUNCTION_ROLES = (
    "Function", "Role", "LogGroup", "CodeKey", "FunctionArn", "FunctionArnParameter",
    "Integration", "ApiPermission", "Queue", "QueuePolicy", "DeadLetterQueue",
    "DeadLetterQueuePolicy", "Subscription", "EventSourceMapping", "TopicPermission",
    "EventInvokeConfig", "Schedule", "SchedulePermission", "ErrorsAlarm", "DeadLetterAlarm",
)  # fmt: skip
# Where one function's stem plus a role ends another's (`Ab` + `Queue` vs `A` + `bQueue`):
# two functions clash exactly when one stem is another's plus one of these.
ROLE_GAPS = tuple(
    sorted(
        {
            longer[: -len(shorter)]
            for longer in FUNCTION_ROLES
            for shorter in FUNCTION_ROLES
            if longer != shorter and longer.endswith(shorter)
        }
    )
)
# The backend's own logical IDs.
BACKEND_IDS = (
    "HttpApi", "CognitoAuthorizer", "DefaultStage", "ApiAccessLogGroup", "ApiUrl",
    "ApiUrlParameter", "AlarmTopic", "AlarmTopicArn", "AlarmTopicArnParameter",
)  # fmt: skip
# The stacks an app may add its own resources to (the escape hatch).
EXTENSIBLE_STACKS = ("data", "backend", "frontend")
ExtraResources = Callable[[Any], Iterable[Any]]  # (the stack being built) -> troposphere objects


@declaration
class App(Immutable):
    """An app: its data, functions, settings, site and any hand-written resources.

    `extra_resources` maps a stack (data, backend, frontend) to a function that gets
    the stack being built and returns troposphere objects under literal logical IDs,
    for what the declarations do not reach. `shared_code` is the folder of modules
    functions may share (`Function.shared`).
    """

    tables: tuple[Table, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    topics: tuple[Topic, ...] = ()
    queues: tuple[Queue, ...] = ()
    user_pool: UserPool | None = None
    functions: tuple[Function, ...] = ()
    settings: tuple[Setting, ...] = ()
    site: Site | None = None
    shared_code: str = "lambdas/shared"
    extra_resources: Mapping[str, ExtraResources] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kinds = {
            "tables": Table,
            "buckets": Bucket,
            "topics": Topic,
            "queues": Queue,
            "functions": Function,
            "settings": Setting,
        }
        for name, kind in kinds.items():
            object.__setattr__(self, name, as_items(getattr(self, name), f"App({name}=...)", kind))
        object.__setattr__(self, "extra_resources", dict(self.extra_resources))
        check_relative_folder("App(shared_code=...)", self.shared_code)
        self._check_kinds()
        for kind in ("tables", "buckets", "topics", "queues", "functions", "settings"):
            unique([item.name for item in getattr(self, kind)], kind[:-1])
        self._check_logical_ids()
        self._check_aws_names()
        for bucket in self.buckets:
            for notification in bucket.notifications:
                self._require(notification.topic, f"bucket {bucket.name}: notification")
        routes: dict[str, str] = {}
        for function in self.functions:
            self._check_function(function, routes)
        if self.site is not None:
            for key, value in self.site.config.items():
                self._check_value(value, f"site config {key}", stacks=(DATA, "backend"))
        for stack, extra in self.extra_resources.items():
            if stack not in EXTENSIBLE_STACKS:
                raise DeclarationError(
                    f"extra_resources: {stack!r} is not one of {', '.join(EXTENSIBLE_STACKS)}"
                )
            if not callable(extra):
                raise DeclarationError(f"extra_resources[{stack!r}] must be a function")

    # -- what the stacks read ---------------------------------------------------------------

    @property
    def routes(self) -> tuple[tuple[Function, HttpRoutes], ...]:
        return tuple(
            (function, function.trigger)
            for function in self.functions
            if isinstance(function.trigger, HttpRoutes)
        )

    @property
    def has_http_api(self) -> bool:
        return bool(self.routes)

    @property
    def has_authenticated_routes(self) -> bool:
        return any(not trigger.public for _, trigger in self.routes)

    @property
    def route_methods(self) -> tuple[str, ...]:
        """Every method a declared route uses, sorted: what CORS allows (with OPTIONS)."""
        return tuple(sorted({m for _, trigger in self.routes for m in trigger.methods}))

    def shared_values(self, stack: str) -> frozenset[str]:
        """The names a stack of this app shares (checked against what the stacks do)."""
        cache = self.__dict__.setdefault("_shared_values_cache", {})
        if stack not in cache:
            cache[stack] = self._shared_values(stack)
        return cache[stack]

    def _shared_values(self, stack: str) -> frozenset[str]:
        if stack == DATA:
            names = {"KeyArn"}
            for table in self.tables:
                names |= {table.table_name.name, table.table_arn.name}
                if table.stream:
                    names.add(table.stream_arn.name)
            for bucket in self.buckets:
                names |= {bucket.bucket_name.name, bucket.bucket_arn.name}
            for topic in self.topics:
                names.add(topic.topic_arn.name)
            for queue in self.queues:
                names |= {queue.queue_url.name, queue.queue_arn.name}
            if self.user_pool is not None:
                pool = self.user_pool
                names |= {
                    pool.pool_id.name,
                    pool.pool_arn.name,
                    pool.client_id.name,
                    pool.issuer_url.name,
                }
            return frozenset(names)
        if stack == "backend":
            names = {"AlarmTopicArn", *(f"{f.logical_name}FunctionArn" for f in self.functions)}
            if self.has_http_api:
                names.add(HTTP_API_URL.name)
            return frozenset(names)
        if stack == "frontend":
            return frozenset({"SiteBucketName", "DistributionId", "SiteUrl"})
        return frozenset()

    # -- checks -----------------------------------------------------------------------------

    def _check_kinds(self) -> None:
        if self.user_pool is not None and not isinstance(self.user_pool, UserPool):
            raise DeclarationError(f"App(user_pool=...): {self.user_pool!r} is not a UserPool")
        if self.site is not None and not isinstance(self.site, Site):
            raise DeclarationError(f"App(site=...): {self.site!r} is not a Site")
        if not isinstance(self.extra_resources, dict):
            raise DeclarationError("App(extra_resources=...) maps a stack name to a function")

    def _require(self, resource: object, what: str) -> None:
        """`resource` is one this app declares (the same object, not a look-alike)."""
        declared = {
            Table: self.tables,
            Bucket: self.buckets,
            Topic: self.topics,
            Queue: self.queues,
        }
        for kind, items in declared.items():
            if isinstance(resource, kind):
                if not any(resource is item for item in items):
                    raise DeclarationError(
                        f"{what}: {kind.__name__.lower()} {resource.name!r} is not in "
                        f"App({kind.__name__.lower()}s=...)"
                    )
                return
        if isinstance(resource, UserPool) and resource is not self.user_pool:
            raise DeclarationError(f"{what}: the user pool is not App(user_pool=...)")

    def _check_function(self, function: Function, routes: dict[str, str]) -> None:
        what = f"function {function.name}"
        trigger = function.trigger
        for grant in function.grants:
            self._check_grant(grant, what)
        for key, value in function.environment.items():
            self._check_value(value, f"{what}: environment {key}", stacks=(DATA,))
        if isinstance(trigger, HttpRoutes):
            if not trigger.public and self.user_pool is None:
                raise DeclarationError(
                    f"{what}: routes {', '.join(trigger.routes)} need a signed-in user, but "
                    "the app declares no user_pool (or mark them public=True)"
                )
            for key in trigger.routes:
                if key in routes:
                    owner = (
                        "declared twice"
                        if routes[key] == function.name
                        else (f"also function {routes[key]}'s")
                    )
                    raise DeclarationError(f"{what}: route {key} is {owner}")
                routes[key] = function.name
        elif isinstance(trigger, TopicSubscription | QueueSubscription):
            self._require(trigger.topic, f"{what}: trigger")
        elif isinstance(trigger, QueueMessages):
            self._require(trigger.queue, f"{what}: trigger")
        elif isinstance(trigger, TableStream):
            self._require(trigger.table, f"{what}: trigger")
        elif isinstance(trigger, Schedule):
            pass

    def _check_grant(self, grant: Grant, what: str) -> None:
        target = grant.target
        if isinstance(target, TableIndex):
            self._require(target.table, f"{what}: grant")
        elif isinstance(target, BucketObjects):
            self._require(target.bucket, f"{what}: grant")
        elif isinstance(target, Table | Bucket | Topic | Queue | UserPool):
            self._require(target, f"{what}: grant")
        elif not isinstance(target, Unscoped):
            raise DeclarationError(f"{what}: grant on {target!r}, which is not declared")

    def _check_value(self, value: object, what: str, *, stacks: tuple[str, ...]) -> None:
        if isinstance(value, SettingValue) and not any(
            value.setting is setting for setting in self.settings
        ):
            raise DeclarationError(
                f"{what}: setting {value.setting.name!r} is not in App(settings=...)"
            )
        if isinstance(value, SharedValue) and (
            value.stack not in stacks or value.name not in self.shared_values(value.stack)
        ):
            raise DeclarationError(f"{what}: no stack before it shares {value.stack}/{value.name}")

    def _check_logical_ids(self) -> None:
        """Names that differ only in ways the naming rule drops (`log-1`, `log1`) would clash."""
        data: dict[str, str] = {}
        for table in self.tables:
            claim(data, table.logical_id, f"table {table.name}")
        for bucket in self.buckets:
            claim(data, bucket.logical_id, f"bucket {bucket.name}")
            claim(data, f"{bucket.logical_id}Policy", f"bucket {bucket.name}")
        for topic in self.topics:
            claim(data, topic.logical_id, f"topic {topic.name}")
            claim(data, f"{topic.logical_id}Policy", f"topic {topic.name}")
        for queue in self.queues:
            claim(data, queue.logical_id, f"queue {queue.name}")
            claim(data, queue.dead_letter_logical_id, f"queue {queue.name}")
        backend: dict[str, str] = {}
        stems: dict[str, str] = {}
        for function in self.functions:
            stem = function.logical_name
            if stem in stems:  # `sync-2` and `sync2`: every ID of one is the other's
                claim(backend, f"{stem}Function", f"function {stems[stem]}")
                claim(backend, f"{stem}Function", f"function {function.name}")
            stems[stem] = function.name
        for stem, name in stems.items():
            for gap in ROLE_GAPS:  # `A` + `DeadLetterQueue` is `ADeadLetter` + `Queue`
                if stem + gap in stems:
                    role = next(r for r in FUNCTION_ROLES if r.startswith(gap) and r != gap)
                    claim(backend, stem + role, f"function {name}")
                    claim(backend, stem + role, f"function {stems[stem + gap]}")
            for fixed in BACKEND_IDS:
                if fixed.startswith(stem) and fixed[len(stem) :] in FUNCTION_ROLES:
                    claim(backend, fixed, "the library")
                    claim(backend, fixed, f"function {name}")
        for _, trigger in self.routes:
            for key in trigger.routes:
                claim(backend, route_logical_id(key), f"route {key}")

    def _check_aws_names(self) -> None:
        """Two declarations must never end up with one AWS name (in their service)."""
        queues = [queue.aws_name for queue in self.queues]
        queues += [f"{queue.aws_name}-dlq" for queue in self.queues]
        for function in self.functions:
            if isinstance(function.trigger, QueueSubscription):
                queues.append(function.name)
            if isinstance(function.trigger, WITH_DEAD_LETTER_QUEUE):
                queues.append(f"{function.name}-dlq")
        unique(queues, "SQS queue name")
        for topic in self.topics:
            if topic.aws_name == "alarms":
                raise DeclarationError(
                    f"topic {topic.name}: the AWS name 'alarms' is the backend's alarm topic's "
                    "(choose another name or physical_name)"
                )
        unique([topic.aws_name for topic in self.topics], "SNS topic name")
        unique([bucket.aws_name for bucket in self.buckets], "bucket name")


def claim(owners: dict[str, str], logical_id: str, owner: str) -> None:
    """`owner` ("table orders") takes `logical_id` in its stack; a second owner is a clash."""
    first = owners.setdefault(logical_id, owner)
    if first == owner:
        return
    first_kind, _, first_name = first.partition(" ")
    kind, _, name = owner.partition(" ")
    both = f"{kind}s {first_name} and {name}" if kind == first_kind else f"{first} and {owner}"
    raise DeclarationError(f"{both} would both be {logical_id}: rename one")
