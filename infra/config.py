"""Load and validate `infra.toml` into typed, frozen settings.

Precedence, lowest to highest: built-in defaults < the file's `[defaults]`
table < the environment's own table < `--set KEY=VALUE` on the command line.
Every problem is reported as one line naming the file, the key and the reason.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infra.errors import ConfigError

DEFAULT_CONFIG_FILE = "infra.toml"

# Retention values CloudWatch Logs accepts (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
LAMBDA_RUNTIMES = ("python3.11", "python3.12", "python3.13")
ARCHITECTURES = ("arm64", "x86_64")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")

APP_NAME = re.compile(r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$")
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ORIGIN = re.compile(r"^(https://[a-z0-9.-]+(:\d+)?|http://(localhost|127\.0\.0\.1)(:\d+)?)$")
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)
# CodeCommit: letters, digits, '.', '_', '-', up to 100 characters, not ending in '.git'.
CODECOMMIT_REPOSITORY = re.compile(r"^(?!.*\.git$)[\w.-]{1,100}$", re.ASCII)
# GitHub, GitLab (with subgroups) and Bitbucket: owner/name.
FULL_REPOSITORY_ID = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
# A git branch name without the characters git refuses or pipeline filters read as globs.
BRANCH = re.compile(r"^(?![/.])(?!.*(\.\.|//|/\.|@\{|\.lock$))[A-Za-z0-9._/-]{1,255}(?<![/.])$")


@dataclass(frozen=True)
class LambdaDefaults:
    """What every function gets unless its declaration says otherwise."""

    runtime: str
    architecture: str
    memory: int
    timeout: int

    @property
    def python_version(self) -> str:
        """`python3.12` -> `3.12`, for packaging wheels for that runtime."""
        return self.runtime.removeprefix("python")


@dataclass(frozen=True)
class Account:
    """One AWS account: it holds the base stack (trail, flow logs, artifacts)."""

    name: str
    account_id: str | None
    region: str
    flow_logs_vpc_id: str | None
    trail_log_expiry_days: int


@dataclass(frozen=True)
class Environment:
    """One deployment of the application stacks (dev, prod, ...)."""

    name: str
    account: Account
    region: str
    log_retention_days: int
    lambda_defaults: LambdaDefaults
    price_class: str
    frontend_origins: tuple[str, ...]
    domain_name: str | None
    certificate_arn: str | None
    alarm_email: str | None
    approval: bool
    max_upload_mb: int
    thumbnail_sizes: tuple[int, ...]
    api_throttle_rate: int
    api_throttle_burst: int

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """The configured origins plus the custom domain's, in a stable order."""
        origins = list(self.frontend_origins)
        if self.domain_name and f"https://{self.domain_name}" not in origins:
            origins.append(f"https://{self.domain_name}")
        return tuple(origins)


@dataclass(frozen=True)
class Pipeline:
    """The CodePipeline that deploys on every push: where it lives and what it watches.

    Without `connection_arn` the pipeline stack creates (and keeps) a CodeCommit
    repository named `repository`; with one, `repository` is the `owner/name` the
    connection reaches (GitHub, GitLab, Bitbucket).
    """

    account: str  # the name of one of `accounts`
    branch: str
    repository: str
    connection_arn: str | None
    notification_email: str | None

    @property
    def uses_connection(self) -> bool:
        return self.connection_arn is not None


@dataclass(frozen=True)
class AppConfig:
    """The whole file: the app's name, its accounts and its environments in file order."""

    name: str
    accounts: Mapping[str, Account]
    environments: Mapping[str, Environment]
    source: str
    pipeline: Pipeline | None = None

    def environment(self, name: str) -> Environment:
        """The environment called `name`, or a ConfigError listing the known ones."""
        if name not in self.environments:
            known = ", ".join(self.environments)
            raise ConfigError(self.source, "", f"no environment {name!r} (known: {known})")
        return self.environments[name]


# Built-in defaults for the keys an environment may leave out.
ENVIRONMENT_DEFAULTS: dict[str, Any] = {
    "log_retention_days": 30,
    "price_class": "PriceClass_100",
    "frontend_origins": [],
    "approval": False,
    "max_upload_mb": 10,
    "thumbnail_sizes": [256, 1024],
    "api_throttle_rate": 50,
    "api_throttle_burst": 100,
    "lambda": {"runtime": "python3.12", "architecture": "arm64", "memory": 256, "timeout": 10},
}
ENVIRONMENT_OPTIONAL = ("domain_name", "certificate_arn", "alarm_email")
ENVIRONMENT_REQUIRED = ("account", "region")
ACCOUNT_DEFAULTS: dict[str, Any] = {"trail_log_expiry_days": 365}
PIPELINE_DEFAULTS: dict[str, Any] = {"branch": "main"}
PIPELINE_OPTIONAL = ("account", "connection_arn", "notification_email")


@cache
def aws_regions() -> frozenset[str]:
    """Every region botocore knows, in every partition, from its bundled partitions.json.

    Read as data next to the botocore package, without importing botocore: the
    import costs more than the whole render.
    """
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("botocore", "", "not installed; reinstall the project")
    data = Path(next(iter(spec.submodule_search_locations))) / "data" / "partitions.json"
    partitions = json.loads(data.read_text(encoding="utf-8"))["partitions"]
    return frozenset(
        region
        for partition in partitions
        for region in partition["regions"]
        if not region.endswith("-global")
    )


class _Reader:
    """Typed access to one table of the file; every error names its dotted key."""

    def __init__(self, source: str, table: Mapping[str, Any], path: str) -> None:
        self.source = source
        self.table = table
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), reason)

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for name in self.table:
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(name, f"unknown key (allowed: {hint})")

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = False) -> Any:
        if name not in self.table:
            if required:
                raise self.fail(name, "is required")
            return None
        value = self.table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # TOML booleans are ints in Python; never accept one where a number is meant.
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            hint = " (quote it)" if str in kinds and isinstance(value, int) else ""
            raise self.fail(name, f"{show(value)} must be {_kind_name(kinds)}{hint}")
        return value

    def text(self, name: str, pattern: re.Pattern[str], what: str, **kw: Any) -> str | None:
        value = self.get(name, str, **kw)
        if value is None or value == "":
            if kw.get("required"):
                raise self.fail(name, "is required")
            return None
        if not pattern.match(value):
            raise self.fail(name, f"{show(value)} is not {what}")
        return value

    def choice(self, name: str, choices: Iterable[Any], kind: type, what: str) -> Any:
        value = self.get(name, kind, required=True)
        choices = tuple(choices)
        if value not in choices:
            listed = ", ".join(str(c) for c in choices)
            raise self.fail(name, f"{show(value)} is not {what} (one of: {listed})")
        return value

    def number(self, name: str, low: int, high: int) -> int:
        value = self.get(name, int, required=True)
        if not low <= value <= high:
            raise self.fail(name, f"{value} is out of range ({low} to {high})")
        return value

    def region(self, name: str) -> str:
        value = self.get(name, str, required=True)
        if value not in aws_regions():
            raise self.fail(name, f"{show(value)} is not an AWS region")
        return value

    def table_at(self, name: str) -> _Reader:
        value = self.get(name, dict, required=True)
        return _Reader(self.source, value, self.key(name))


def show(value: Any) -> str:
    """A value as the TOML file spells it: true, 12, 'text', [1, 2]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return repr(value)


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
        float: "a number",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two tables: override wins, nested tables merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply `--set a.b.c=VALUE` pairs (VALUE read as a TOML value, else as text)."""
    data = raw
    for item in overrides:
        path, sep, text = item.partition("=")
        keys = path.strip().split(".")
        text = text.strip()
        if not sep or not all(keys):
            raise ConfigError(
                "--set", item, "expected KEY.PATH=VALUE, e.g. environments.dev.region=eu-west-1"
            )
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        patch: dict[str, Any] = {keys[-1]: value}
        for key in reversed(keys[:-1]):
            patch = {key: patch}
        data = _merge(data, patch)
    return data


def _parse_lambda(reader: _Reader) -> LambdaDefaults:
    reader.reject_unknown(ENVIRONMENT_DEFAULTS["lambda"])
    return LambdaDefaults(
        runtime=reader.choice("runtime", LAMBDA_RUNTIMES, str, "a supported Python runtime"),
        architecture=reader.choice("architecture", ARCHITECTURES, str, "a Lambda architecture"),
        memory=reader.number("memory", 128, 10240),
        timeout=reader.number("timeout", 1, 900),
    )


def _parse_account(source: str, name: str, table: Mapping[str, Any]) -> Account:
    reader = _Reader(source, _merge(ACCOUNT_DEFAULTS, table), f"accounts.{name}")
    reader.reject_unknown(["account_id", "region", "flow_logs_vpc_id", *ACCOUNT_DEFAULTS])
    if not ENV_NAME.match(name):
        raise ConfigError(
            source,
            f"accounts.{name}",
            "name must start with a letter: 1-10 lowercase letters/digits",
        )
    return Account(
        name=name,
        account_id=reader.text("account_id", ACCOUNT_ID, "a 12-digit AWS account id"),
        region=reader.region("region"),
        flow_logs_vpc_id=reader.text("flow_logs_vpc_id", VPC_ID, "a VPC id (vpc-...)"),
        trail_log_expiry_days=reader.number("trail_log_expiry_days", 1, 3653),
    )


def _parse_settings(reader: _Reader) -> dict[str, Any]:
    """Every environment setting but account and region, validated, by Environment field."""
    origins = reader.get("frontend_origins", list, required=True)
    for index, origin in enumerate(origins):
        if not isinstance(origin, str) or not ORIGIN.match(origin):
            raise ConfigError(
                reader.source,
                reader.key(f"frontend_origins[{index}]"),
                f"{show(origin)} is not an origin like https://app.example.com",
            )
    sizes = reader.get("thumbnail_sizes", list, required=True)
    if (
        not sizes
        or len(sizes) > 2
        or len(set(sizes)) != len(sizes)
        or any(isinstance(s, bool) or not isinstance(s, int) or not 16 <= s <= 4096 for s in sizes)
    ):
        raise reader.fail(
            "thumbnail_sizes", f"{show(sizes)} must be one or two different sizes from 16 to 4096"
        )
    domain = reader.text("domain_name", DOMAIN, "a domain name")
    certificate = reader.text("certificate_arn", ACM_ARN, "an ACM certificate ARN in us-east-1")
    if domain and not certificate:
        raise reader.fail("certificate_arn", "is required because domain_name is set")
    if certificate and not domain:
        raise reader.fail("domain_name", "is required because certificate_arn is set")
    return {
        "log_retention_days": reader.choice(
            "log_retention_days", LOG_RETENTION_DAYS, int, "a retention CloudWatch Logs accepts"
        ),
        "lambda_defaults": _parse_lambda(reader.table_at("lambda")),
        "price_class": reader.choice("price_class", PRICE_CLASSES, str, "a CloudFront price class"),
        "frontend_origins": tuple(origins),
        "domain_name": domain,
        "certificate_arn": certificate,
        "alarm_email": reader.text("alarm_email", EMAIL, "an e-mail address"),
        "approval": reader.get("approval", bool, required=True),
        "max_upload_mb": reader.number("max_upload_mb", 1, 5120),
        "thumbnail_sizes": tuple(sizes),
        "api_throttle_rate": reader.number("api_throttle_rate", 1, 10000),
        "api_throttle_burst": reader.number("api_throttle_burst", 1, 5000),
    }


def _parse_environment(
    source: str,
    name: str,
    table: Mapping[str, Any],
    defaults: Mapping[str, Any],
    accounts: Mapping[str, Account],
) -> Environment:
    path = f"environments.{name}"
    if not ENV_NAME.match(name):
        raise ConfigError(
            source, path, "name must start with a letter: 1-10 lowercase letters/digits"
        )
    reader = _Reader(source, _merge(_merge(ENVIRONMENT_DEFAULTS, defaults), table), path)
    reader.reject_unknown([*ENVIRONMENT_DEFAULTS, *ENVIRONMENT_OPTIONAL, *ENVIRONMENT_REQUIRED])

    account_name = reader.get("account", str, required=True)
    if account_name not in accounts:
        known = ", ".join(accounts) or "none declared"
        raise reader.fail("account", f"{show(account_name)} is not a declared account ({known})")
    settings = _parse_settings(reader)
    region = reader.region("region")
    account = accounts[account_name]
    if region != account.region:
        raise reader.fail(
            "region",
            f"{show(region)} differs from accounts.{account_name}.region "
            f"{show(account.region)}; Lambda code is served from that region's "
            "artifact bucket",
        )
    return Environment(name=name, account=account, region=region, **settings)


def _parse_pipeline(
    reader: _Reader, accounts: Mapping[str, Account], environments: Mapping[str, Environment]
) -> Pipeline:
    """`[pipeline]`: the account it lives in (default: the first), its source and branch.

    The pipeline deploys the environments of its own account only, so an account
    without one has nothing to deploy and is refused.
    """
    reader.reject_unknown([*PIPELINE_DEFAULTS, *PIPELINE_OPTIONAL, "repository"])
    account_name = reader.get("account", str) or next(iter(accounts))
    if account_name not in accounts:
        known = ", ".join(accounts)
        raise reader.fail("account", f"{show(account_name)} is not a declared account ({known})")
    if not any(env.account.name == account_name for env in environments.values()):
        raise reader.fail(
            "account",
            f"{show(account_name)} holds no environment; the pipeline deploys the "
            "environments of its own account",
        )
    connection = reader.text(
        "connection_arn", CONNECTION_ARN, "a CodeConnections connection ARN (connection/...)"
    )
    if connection:
        repository = reader.text(
            "repository",
            FULL_REPOSITORY_ID,
            "an owner/name repository id (connection_arn is set)",
            required=True,
        )
    else:
        repository = reader.text(
            "repository",
            CODECOMMIT_REPOSITORY,
            "a CodeCommit repository name (letters, digits, '.', '_', '-'; "
            "set connection_arn for owner/name)",
            required=True,
        )
    return Pipeline(
        account=account_name,
        branch=reader.text("branch", BRANCH, "a git branch name", required=True),
        repository=repository,
        connection_arn=connection,
        notification_email=reader.text("notification_email", EMAIL, "an e-mail address"),
    )


def parse_config(raw: Mapping[str, Any], source: str = DEFAULT_CONFIG_FILE) -> AppConfig:
    """Validate an already-read TOML document; raise ConfigError on the first problem."""
    top = _Reader(source, raw, "")
    top.reject_unknown(["app", "defaults", "accounts", "environments", "pipeline"])
    app = top.table_at("app")
    app.reject_unknown(["name"])
    name = app.text(
        "name", APP_NAME, "an app name (3-20 lowercase letters, digits, hyphens)", required=True
    )

    defaults_reader = _Reader(source, top.get("defaults", dict) or {}, "defaults")
    defaults_reader.reject_unknown(ENVIRONMENT_DEFAULTS)
    # Checked on their own first, so a bad default is reported as `defaults.<key>`.
    _parse_settings(
        _Reader(source, _merge(ENVIRONMENT_DEFAULTS, defaults_reader.table), "defaults")
    )

    account_tables = top.table_at("accounts")
    if not account_tables.table:
        raise ConfigError(source, "accounts", "declare at least one account")
    accounts = {
        key: _parse_account(source, key, account_tables.table_at(key).table)
        for key in account_tables.table
    }
    environment_tables = top.table_at("environments")
    if not environment_tables.table:
        raise ConfigError(source, "environments", "declare at least one environment")
    environments = {}
    for key in environment_tables.table:
        if key in accounts:
            raise ConfigError(
                source,
                f"environments.{key}",
                "name is also an account's; template folders would collide",
            )
        table = environment_tables.table_at(key).table
        environments[key] = _parse_environment(source, key, table, defaults_reader.table, accounts)
    pipeline = None
    if "pipeline" in top.table:
        table = _merge(PIPELINE_DEFAULTS, top.table_at("pipeline").table)
        pipeline = _parse_pipeline(_Reader(source, table, "pipeline"), accounts, environments)
    return AppConfig(
        name=name,
        accounts=accounts,
        environments=environments,
        source=source,
        pipeline=pipeline,
    )


def load_config(path: str | Path = DEFAULT_CONFIG_FILE, overrides: Iterable[str] = ()) -> AppConfig:
    """Read, override and validate the config file."""
    path = Path(path)
    source = path.name if path.parent == Path(".") else str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found (pass --config PATH)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, "", f"not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(source, "", f"cannot read: {err}") from None
    return parse_config(apply_overrides(raw, overrides), source)
