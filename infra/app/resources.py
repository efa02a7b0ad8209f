"""The data an app declares: tables, buckets, topics, queues and its user pool.

Each becomes resources in the environment's data stack under one naming rule:
`<Declared name><Role>` for the logical ID (`orders` -> `OrdersTable`), and
`<app>-<env>-<physical name>` for the AWS name (the physical name defaults to the
declared one). Renaming a declared stateful resource replaces it, and the gate
says so. What a resource shares with other stacks is `<logical ID><Attribute>`.
Kept free of troposphere: the packager reads declarations too.
"""

from __future__ import annotations

from infra.app.grants import GrantTarget
from infra.app.immutable import Immutable, declaration
from infra.app.references import SharedValue, as_items, check_declared_name, check_whole
from infra.errors import DeclarationError
from infra.naming import full_match, pascal

DATA = "data"
KEY_TYPES = ("S", "N", "B")
STREAM_VIEWS = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
PROJECTIONS = ("ALL", "KEYS_ONLY")
ATTRIBUTE_NAME = r"[A-Za-z0-9_.-]{1,255}"
INDEX_NAME = r"[A-Za-z0-9_.-]{3,255}"
OBJECT_PREFIX = r"([A-Za-z0-9!_.'()-]+/)*"
S3_EVENT = r"s3:[A-Za-z]+(:[A-Za-z*]+)?"


@declaration
class Key(Immutable):
    """A key attribute: its name and DynamoDB type (S, N or B)."""

    name: str
    type: str = "S"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not full_match(ATTRIBUTE_NAME, self.name):
            raise DeclarationError(f"key attribute {self.name!r}: 1-255 letters, digits, _ . -")
        if self.type not in KEY_TYPES:
            raise DeclarationError(
                f"key attribute {self.name}: type {self.type!r} is not S, N or B"
            )


def as_key(value: str | Key | None, what: str) -> Key | None:
    if value is None or isinstance(value, Key):
        return value
    if isinstance(value, str):
        return Key(value)
    raise DeclarationError(f"{what}: {value!r} must be an attribute name or a Key")


@declaration
class Index(Immutable):
    """A global secondary index: its name, keys and what it projects."""

    name: str
    partition_key: str | Key
    sort_key: str | Key | None = None
    projection: str = "ALL"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not full_match(INDEX_NAME, self.name):
            raise DeclarationError(f"index {self.name!r}: 3-255 letters, digits, _ . -")
        if self.projection not in PROJECTIONS:
            raise DeclarationError(f"index {self.name}: projection must be ALL or KEYS_ONLY")
        object.__setattr__(self, "partition_key", as_key(self.partition_key, f"index {self.name}"))
        object.__setattr__(self, "sort_key", as_key(self.sort_key, f"index {self.name}"))

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(key for key in (self.partition_key, self.sort_key) if key is not None)


class DeclaredResource(GrantTarget):
    """A resource in the data stack: its logical ID and the values it shares."""

    role: str  # the last word of its logical ID: Table, Bucket, Topic, Queue
    name: str

    @property
    def logical_id(self) -> str:
        return f"{pascal(self.name)}{self.role}"

    @property
    def sid_stem(self) -> str:
        return self.logical_id

    def shared(self, attribute: str) -> SharedValue:
        return SharedValue(DATA, f"{self.logical_id}{attribute}")


@declaration
class Table(DeclaredResource, Immutable):
    """An on-demand DynamoDB table: keys, global indexes, TTL and an optional stream.

    Always encrypted with the environment's key, point-in-time recoverable,
    deletion-protected and retained.
    """

    name: str
    partition_key: str | Key
    sort_key: str | Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: str | None = None  # NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY

    role = "Table"
    service = "dynamodb"

    def __post_init__(self) -> None:
        check_declared_name("table", self.name)
        object.__setattr__(self, "partition_key", as_key(self.partition_key, f"table {self.name}"))
        object.__setattr__(self, "sort_key", as_key(self.sort_key, f"table {self.name}"))
        if self.partition_key is None:
            raise DeclarationError(f"table {self.name}: a partition key is required")
        object.__setattr__(
            self, "indexes", as_items(self.indexes, f"table {self.name}: indexes", Index)
        )
        names = [index.name for index in self.indexes]
        if len(set(names)) != len(names):
            raise DeclarationError(f"table {self.name}: an index name is declared twice")
        types: dict[str, str] = {}
        for key in (*self.keys, *(k for index in self.indexes for k in index.keys)):
            if types.setdefault(key.name, key.type) != key.type:
                raise DeclarationError(
                    f"table {self.name}: attribute {key.name} is declared as "
                    f"{types[key.name]} and {key.type}"
                )
        if self.ttl_attribute is not None and not full_match(ATTRIBUTE_NAME, self.ttl_attribute):
            raise DeclarationError(f"table {self.name}: ttl_attribute {self.ttl_attribute!r}")
        if self.stream is not None and self.stream not in STREAM_VIEWS:
            raise DeclarationError(
                f"table {self.name}: stream must be one of {', '.join(STREAM_VIEWS)}"
            )

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(key for key in (self.partition_key, self.sort_key) if key is not None)

    @property
    def attributes(self) -> tuple[Key, ...]:
        """Every key attribute of the table and its indexes, once each, table's first."""
        seen: dict[str, Key] = {}
        for key in (*self.keys, *(k for index in self.indexes for k in index.keys)):
            seen.setdefault(key.name, key)
        return tuple(seen.values())

    def index(self, name: str) -> TableIndex:
        """A grant target: one of this table's indexes (for Query)."""
        if name not in {index.name for index in self.indexes}:
            raise DeclarationError(f"table {self.name} has no index {name!r}")
        return TableIndex(self, name)

    @property
    def table_name(self) -> SharedValue:
        return self.shared("Name")

    @property
    def table_arn(self) -> SharedValue:
        return self.shared("Arn")

    @property
    def stream_arn(self) -> SharedValue:
        if self.stream is None:
            raise DeclarationError(f"table {self.name} declares no stream")
        return self.shared("StreamArn")


@declaration
class TableIndex(GrantTarget, Immutable):
    """One index of a table, as a grant target (`Query` on it)."""

    table: Table
    index_name: str

    service = "dynamodb"

    @property
    def sid_stem(self) -> str:
        return f"{self.table.logical_id}{pascal(self.index_name)}Index"


@declaration
class BrowserUpload(Immutable):
    """Browsers POST objects under `prefix` (presigned), from the env's frontend origins."""

    prefix: str = ""

    def __post_init__(self) -> None:
        check_prefix("browser upload", self.prefix)


@declaration
class Notification(Immutable):
    """The bucket tells `topic` about these events on keys under `prefix` (and `suffix`).

    A bucket notifies one target per event, so it notifies a topic and the topic fans out.
    """

    topic: Topic
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    prefix: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.topic, Topic):
            raise DeclarationError(f"a bucket notification needs a Topic, not {self.topic!r}")
        object.__setattr__(self, "events", tuple(self.events))
        if not self.events or not all(
            isinstance(event, str) and full_match(S3_EVENT, event) for event in self.events
        ):
            raise DeclarationError(f"notification events {self.events!r}: e.g. s3:ObjectCreated:*")
        check_prefix("notification", self.prefix)


def check_prefix(what: str, prefix: object) -> str:
    if not isinstance(prefix, str) or not full_match(OBJECT_PREFIX, prefix):
        raise DeclarationError(
            f"{what} prefix {prefix!r}: folders ending in '/', e.g. 'incoming/' (or '' for all)"
        )
    return prefix


@declaration
class Bucket(DeclaredResource, Immutable):
    """A private, versioned, encrypted, retained bucket; access-logged to the account's bucket.

    `browser_upload` lets browsers POST to it; `browser_reads` lets the site show its objects
    (presigned URLs, in the Content-Security-Policy); `notifications` send its events
    to topics.
    """

    name: str
    physical_name: str | None = None
    browser_upload: BrowserUpload | None = None
    browser_reads: bool = False
    notifications: tuple[Notification, ...] = ()

    role = "Bucket"
    service = "s3"

    def __post_init__(self) -> None:
        check_declared_name("bucket", self.name)
        check_declared_name("bucket physical", self.aws_name)
        object.__setattr__(
            self,
            "notifications",
            as_items(self.notifications, f"bucket {self.name}: notifications", Notification),
        )
        if self.browser_upload is not None and not isinstance(self.browser_upload, BrowserUpload):
            raise DeclarationError(f"bucket {self.name}: browser_upload must be a BrowserUpload")

    @property
    def aws_name(self) -> str:
        return self.physical_name or self.name

    def objects(self, prefix: str = "") -> BucketObjects:
        """A grant target: the objects under `prefix` ('' for all of them)."""
        return BucketObjects(self, check_prefix(f"bucket {self.name} objects", prefix))

    @property
    def bucket_name(self) -> SharedValue:
        return self.shared("Name")

    @property
    def bucket_arn(self) -> SharedValue:
        return self.shared("Arn")


@declaration
class BucketObjects(GrantTarget, Immutable):
    """Objects of a bucket under a prefix, as a grant target."""

    bucket: Bucket
    prefix: str

    service = "s3"

    @property
    def sid_stem(self) -> str:
        return self.bucket.logical_id


@declaration
class Topic(DeclaredResource, Immutable):
    """An SNS topic encrypted with the env's key; buckets notify it, functions subscribe."""

    name: str
    physical_name: str | None = None

    role = "Topic"
    service = "sns"

    def __post_init__(self) -> None:
        check_declared_name("topic", self.name)
        check_declared_name("topic physical", self.aws_name)

    @property
    def aws_name(self) -> str:
        return self.physical_name or self.name

    @property
    def topic_arn(self) -> SharedValue:
        return self.shared("Arn")


@declaration
class Queue(DeclaredResource, Immutable):
    """An SQS queue with its dead-letter queue: what fails `max_receive_count` times moves there."""

    name: str
    physical_name: str | None = None
    visibility_timeout: int = 60
    max_receive_count: int = 5

    role = "Queue"
    service = "sqs"

    def __post_init__(self) -> None:
        check_declared_name("queue", self.name)
        check_declared_name("queue physical", self.aws_name)
        check_whole(
            f"queue {self.name}: visibility_timeout", self.visibility_timeout, 0, 43200, " s"
        )
        check_whole(f"queue {self.name}: max_receive_count", self.max_receive_count, 1, 1000)

    @property
    def aws_name(self) -> str:
        return self.physical_name or self.name

    @property
    def dead_letter_logical_id(self) -> str:
        return f"{pascal(self.name)}DeadLetterQueue"

    @property
    def queue_url(self) -> SharedValue:
        return self.shared("Url")

    @property
    def queue_arn(self) -> SharedValue:
        return self.shared("Arn")


@declaration
class UserPool(GrantTarget, Immutable):
    """The app's one Cognito user pool (e-mail sign-in) and its browser client.

    Its logical IDs are `UserPool` and `UserPoolClient`; routes that are not public
    are checked against it by a JWT authorizer.
    """

    password_min_length: int = 12
    mfa: str = "OPTIONAL"  # OFF, OPTIONAL or ON (software tokens)
    client_auth_flows: tuple[str, ...] = ("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")

    service = "cognito-idp"
    logical_id = "UserPool"

    def __post_init__(self) -> None:
        check_whole("user pool: password_min_length", self.password_min_length, 8, 99)
        if self.mfa not in ("OFF", "OPTIONAL", "ON"):
            raise DeclarationError("user pool: mfa must be OFF, OPTIONAL or ON")
        object.__setattr__(self, "client_auth_flows", tuple(self.client_auth_flows))

    @property
    def sid_stem(self) -> str:
        return self.logical_id

    def shared(self, attribute: str) -> SharedValue:
        return SharedValue(DATA, f"{self.logical_id}{attribute}")

    @property
    def pool_id(self) -> SharedValue:
        return self.shared("Id")

    @property
    def pool_arn(self) -> SharedValue:
        return self.shared("Arn")

    @property
    def client_id(self) -> SharedValue:
        return self.shared("ClientId")

    @property
    def issuer_url(self) -> SharedValue:
        return self.shared("IssuerUrl")
