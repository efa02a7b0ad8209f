"""Load and validate `infra.toml` into typed, frozen settings.

Precedence, lowest to highest: built-in defaults < the file's `[defaults]`
table < the environment's own table < `--set KEY=VALUE` on the command line.
Every problem is reported as one line naming the file, the key and the reason.
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.errors import ConfigError
from infra.naming import full_match
from infra.shown import dotted, key_text, one_line, show
from infra.toml_nesting import MAX_NESTING, check_nesting, read_toml

if TYPE_CHECKING:
    from infra.app import App

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

APP_NAME = r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$"
ENV_NAME = r"^[a-z][a-z0-9]{0,9}$"
ACCOUNT_ID = r"^\d{12}$"
VPC_ID = r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$"
# Printable ASCII other than "@" and space, each side of one "@" (with re.ASCII, [^@\s]
# would let every other character through: a no-break space, a look-alike letter).
EMAIL = r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$"
DOMAIN = r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
ORIGIN = r"^(https://[a-z0-9.-]+(:\d+)?|http://(localhost|127\.0\.0\.1)(:\d+)?)$"
ACM_ARN = r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$"
CONNECTION_ARN = (
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f-]{36}$"
)
# CodeCommit: letters, digits, '.', '_', '-', up to 100 characters, not ending in '.git'.
CODECOMMIT_REPOSITORY = r"^(?!.*\.git$)[\w.-]{1,100}$"
# GitHub, GitLab (with subgroups) and Bitbucket: owner/name.
FULL_REPOSITORY_ID = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$"
# A git branch name without the characters git refuses or pipeline filters read as globs.
BRANCH = r"^(?![/.])(?!.*(\.\.|//|/\.|@\{|\.lock$))[A-Za-z0-9._/-]{1,255}(?<![/.])$"


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
    api_throttle_rate: int
    api_throttle_burst: int
    settings: Mapping[str, Any]  # the app's own settings, by the schema its declaration gives

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


@dataclass(frozen=True)
class AppConfig:
    """The whole file: the app's name, its accounts and its environments in file order.

    `declaration` is the app itself (its app.py); `root` is the folder paths in the
    declaration are relative to (infra.toml's folder).
    """

    name: str
    accounts: Mapping[str, Account]
    environments: Mapping[str, Environment]
    source: str
    declaration: App
    root: Path = Path(".")
    pipeline: Pipeline | None = None

    def environment(self, name: str) -> Environment:
        """The environment called `name`, or a ConfigError listing the known ones."""
        if name not in self.environments:
            known = ", ".join(self.environments)
            raise ConfigError(self.source, "", f"no environment {name!r} (known: {known})")
        return self.environments[name]


# The schema: every key of each table of the file and the kind of value it takes. The
# readers below check against it (unknown keys, types); the tests generate cases from it.
TOP_KEYS: dict[str, type] = {
    "app": dict,
    "defaults": dict,
    "accounts": dict,
    "environments": dict,
    "pipeline": dict,
}
APP_KEYS: dict[str, type] = {"name": str, "declaration": str}
ACCOUNT_KEYS: dict[str, type] = {
    "region": str,
    "account_id": str,
    "flow_logs_vpc_id": str,
    "trail_log_expiry_days": int,
}
ENVIRONMENT_KEYS: dict[str, type] = {
    "account": str,
    "region": str,
    "log_retention_days": int,
    "price_class": str,
    "frontend_origins": list,
    "domain_name": str,
    "certificate_arn": str,
    "alarm_email": str,
    "approval": bool,
    "api_throttle_rate": int,
    "api_throttle_burst": int,
    "lambda": dict,
    "settings": dict,  # the app's own keys: its declaration's Setting()s check them
}
LAMBDA_KEYS: dict[str, type] = {"runtime": str, "architecture": str, "memory": int, "timeout": int}
PIPELINE_KEYS: dict[str, type] = {
    "account": str,
    "repository": str,
    "branch": str,
    "connection_arn": str,
    "notification_email": str,
}
# Environment keys [defaults] refuses, and why: a value no two environments can share.
NOT_DEFAULTS: dict[str, str] = {
    "domain_name": "each environment needs a domain of its own (CloudFront serves a domain "
    "from one distribution only); set it under [environments.<name>]",
}
DEFAULTS_KEYS: dict[str, type] = {
    key: kind for key, kind in ENVIRONMENT_KEYS.items() if key not in NOT_DEFAULTS
}
# Optional environment keys where an empty string means "none": how an environment drops
# a value its [defaults] give (TOML has no null). Anywhere else an empty string is refused.
CLEARABLE_KEYS = frozenset({"domain_name", "certificate_arn", "alarm_email"})

# Built-in defaults for the keys an environment may leave out.
ENVIRONMENT_DEFAULTS: dict[str, Any] = {
    "log_retention_days": 30,
    "price_class": "PriceClass_100",
    "frontend_origins": [],
    "approval": False,
    "api_throttle_rate": 50,
    "api_throttle_burst": 100,
    "lambda": {"runtime": "python3.12", "architecture": "arm64", "memory": 256, "timeout": 10},
    "settings": {},
}
ACCOUNT_DEFAULTS: dict[str, Any] = {"trail_log_expiry_days": 365}
PIPELINE_DEFAULTS: dict[str, Any] = {"branch": "main"}


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
    """Typed access to one table of the file; every error names its dotted key.

    `schema` gives the table's keys and the kind of each (None: a table whose keys are
    names the file chooses, such as `accounts`, or the app's own `settings`).
    """

    def __init__(
        self,
        source: str,
        table: Mapping[str, Any],
        path: str,
        schema: Mapping[str, type] | None = None,
    ) -> None:
        self.source = source
        self.table = table
        self.path = path
        self.schema = schema

    def key(self, name: str) -> str:
        return f"{self.path}.{key_text(name)}" if self.path else key_text(name)

    def fail(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), reason)

    def reject_unknown(self, allowed: Iterable[str] | None = None) -> None:
        """Refuse a key that is not in `allowed` (default: the schema's keys)."""
        allowed = set(self.schema or ()) if allowed is None else set(allowed)
        for name in self.table:
            if name not in allowed:
                hint = ", ".join(sorted(allowed))
                raise self.fail(name, f"unknown key (allowed: {hint})")

    def get(self, name: str, *, required: bool = False) -> Any:
        """The value of `name`, of the kind the schema gives it; None when absent."""
        assert self.schema is not None, "a table without a schema has no typed keys"
        return self.typed(name, self.schema[name], required=required)

    def typed(self, name: str, kind: type, *, required: bool = False) -> Any:
        if name not in self.table:
            if required:
                raise self.fail(name, "is required")
            return None
        value = self.table[name]
        # TOML booleans are ints in Python; never accept one where a number is meant.
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            hint = " (quote it)" if kind is str and isinstance(value, int | float) else ""
            raise self.fail(name, f"{show(value)} must be {_kind_name(kind)}{hint}")
        return value

    def text(self, name: str, pattern: str, what: str, *, required: bool = False) -> str | None:
        """A string matching `pattern` as a whole, in ASCII; None when absent or cleared.

        An empty string is refused, never read as absent, except for the CLEARABLE_KEYS
        of an environment's table.
        """
        value = self.get(name, required=required)
        if value is None:
            return None
        if value == "":
            if self.schema is ENVIRONMENT_KEYS and name in CLEARABLE_KEYS:
                return None
            raise self.fail(name, "is required" if required else "is empty; leave the key out")
        if not full_match(pattern, value):
            raise self.fail(name, f"{show(value)} is not {what}")
        return value

    def choice(self, name: str, choices: Iterable[Any], what: str) -> Any:
        value = self.get(name, required=True)
        choices = tuple(choices)
        if value not in choices:
            listed = ", ".join(str(c) for c in choices)
            raise self.fail(name, f"{show(value)} is not {what} (one of: {listed})")
        return value

    def number(self, name: str, low: int, high: int) -> int:
        value = self.get(name, required=True)
        if not low <= value <= high:
            raise self.fail(name, f"{value} is out of range ({low} to {high})")
        return value

    def region(self, name: str) -> str:
        value = self.get(name, required=True)
        if value not in aws_regions():
            raise self.fail(name, f"{show(value)} is not an AWS region")
        return value

    def account(self, name: str, accounts: Mapping[str, Account]) -> Account:
        value = self.get(name, required=True)
        if value not in accounts:
            known = ", ".join(accounts) or "none declared"
            raise self.fail(name, f"{show(value)} is not a declared account ({known})")
        return accounts[value]

    def table_at(self, name: str, schema: Mapping[str, type] | None = None) -> _Reader:
        value = self.typed(name, dict, required=True)
        return _Reader(self.source, value, self.key(name), schema)


def _kind_name(kind: type) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
        float: "a number",
    }
    return names.get(kind, kind.__name__)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two tables: override wins, nested tables merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# -- the tables -------------------------------------------------------------------------


def apply_overrides(
    raw: dict[str, Any], overrides: Iterable[str], source: str = DEFAULT_CONFIG_FILE
) -> dict[str, Any]:
    """Apply `--set a.b.c=VALUE` pairs (VALUE read as a TOML value, else as text)."""
    data = raw
    for item in overrides:
        path, sep, text = item.partition("=")
        keys = path.strip().split(".")
        text = text.strip()
        if not sep or not all(keys):
            raise ConfigError(
                "--set",
                one_line(item),
                "expected KEY.PATH=VALUE, e.g. environments.dev.region=eu-west-1",
            )
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        except RecursionError:
            reason = f"nested more than {MAX_NESTING} levels deep"
            raise ConfigError(source, dotted(*keys), reason) from None
        patch: dict[str, Any] = {keys[-1]: value}
        for key in reversed(keys[:-1]):
            patch = {key: patch}
        check_nesting(patch, source)  # before merging, which recurses
        data = _merge(data, patch)
    return data


def _parse_lambda(reader: _Reader) -> LambdaDefaults:
    reader.reject_unknown()
    return LambdaDefaults(
        runtime=reader.choice("runtime", LAMBDA_RUNTIMES, "a supported Python runtime"),
        architecture=reader.choice("architecture", ARCHITECTURES, "a Lambda architecture"),
        memory=reader.number("memory", 128, 10240),
        timeout=reader.number("timeout", 1, 900),
    )


def _parse_account(source: str, name: str, table: Mapping[str, Any]) -> Account:
    path = dotted("accounts", name)
    reader = _Reader(source, _merge(ACCOUNT_DEFAULTS, table), path, ACCOUNT_KEYS)
    reader.reject_unknown()
    if not full_match(ENV_NAME, name):
        raise ConfigError(
            source, path, "name must start with a letter: 1-10 lowercase letters/digits"
        )
    return Account(
        name=name,
        account_id=reader.text("account_id", ACCOUNT_ID, "a 12-digit AWS account id"),
        region=reader.region("region"),
        flow_logs_vpc_id=reader.text("flow_logs_vpc_id", VPC_ID, "a VPC id (vpc-...)"),
        trail_log_expiry_days=reader.number("trail_log_expiry_days", 1, 3653),
    )


def _parse_settings(
    reader: _Reader, declaration: App, *, partial: bool = False, own: Iterable[str] = ()
) -> dict[str, Any]:
    """Every environment setting but account and region, validated, by Environment field.

    `partial`: the [defaults] table, checked alone (no setting is required there).
    `own`: the keys the environment's own table gives; a certificate_arn from [defaults]
    serves only the environments that set a domain_name.
    """
    origins = reader.get("frontend_origins", required=True)
    for index, origin in enumerate(origins):
        if not isinstance(origin, str) or not full_match(ORIGIN, origin):
            raise ConfigError(
                reader.source,
                f"{reader.key('frontend_origins')}[{index}]",
                f"{show(origin)} is not an origin like https://app.example.com",
            )
    domain = reader.text("domain_name", DOMAIN, "a domain name")
    certificate = reader.text("certificate_arn", ACM_ARN, "an ACM certificate ARN in us-east-1")
    if domain and not certificate:
        raise reader.fail("certificate_arn", "is required because domain_name is set")
    if certificate and not domain:
        if not partial and "certificate_arn" in own:
            raise reader.fail("domain_name", "is required because certificate_arn is set")
        certificate = None
    return {
        "log_retention_days": reader.choice(
            "log_retention_days", LOG_RETENTION_DAYS, "a retention CloudWatch Logs accepts"
        ),
        "lambda_defaults": _parse_lambda(reader.table_at("lambda", LAMBDA_KEYS)),
        "price_class": reader.choice("price_class", PRICE_CLASSES, "a CloudFront price class"),
        "frontend_origins": tuple(origins),
        "domain_name": domain,
        "certificate_arn": certificate,
        "alarm_email": reader.text("alarm_email", EMAIL, "an e-mail address"),
        "approval": reader.get("approval", required=True),
        "api_throttle_rate": reader.number("api_throttle_rate", 1, 10000),
        "api_throttle_burst": reader.number("api_throttle_burst", 1, 5000),
        "settings": _parse_app_settings(reader.table_at("settings"), declaration, partial=partial),
    }


def _parse_app_settings(
    reader: _Reader, declaration: App, *, partial: bool = False
) -> dict[str, Any]:
    """The app's own settings: only those it declares, each checked by its declared schema.

    `partial` checks what is given without requiring the rest (`[defaults.settings]`:
    each environment may give a required setting itself).
    """
    declared = {setting.name: setting for setting in declaration.settings}
    if not declared:
        for name in reader.table:
            raise reader.fail(name, "unknown key: the app declares no settings")
    reader.reject_unknown(declared)
    values = {}
    for name, setting in declared.items():
        value = reader.table.get(name, setting.default)
        if value is None:
            if partial:
                continue
            raise reader.fail(name, "is required (the app declares no default)")
        reason = setting.check(value)
        if reason is not None:
            raise reader.fail(name, reason)
        values[name] = setting.normalized(value)
    return values


def _parse_defaults(
    top: _Reader, accounts: Mapping[str, Account], declaration: App
) -> Mapping[str, Any]:
    """`[defaults]`: environment keys for every environment, checked alone first, so a bad
    default is reported as `defaults.<key>` and not once per environment."""
    reader = _Reader(top.source, top.get("defaults") or {}, "defaults", DEFAULTS_KEYS)
    for name, reason in NOT_DEFAULTS.items():
        if name in reader.table:
            raise reader.fail(name, f"cannot be a default: {reason}")
    reader.reject_unknown()
    merged = _Reader(
        top.source, _merge(ENVIRONMENT_DEFAULTS, reader.table), "defaults", ENVIRONMENT_KEYS
    )
    _parse_settings(merged, declaration, partial=True)
    account = merged.account("account", accounts) if "account" in reader.table else None
    if "region" in reader.table:
        region = merged.region("region")
        if account is not None:
            _same_region(merged, region, account)
    return reader.table


def _same_region(reader: _Reader, region: str, account: Account) -> None:
    if region != account.region:
        raise reader.fail(
            "region",
            f"{show(region)} differs from {dotted('accounts', account.name, 'region')} "
            f"{show(account.region)}; Lambda code is served from that region's "
            "artifact bucket",
        )


def _parse_environment(
    source: str,
    name: str,
    table: Mapping[str, Any],
    defaults: Mapping[str, Any],
    accounts: Mapping[str, Account],
    declaration: App,
) -> Environment:
    path = dotted("environments", name)
    if not full_match(ENV_NAME, name):
        raise ConfigError(
            source, path, "name must start with a letter: 1-10 lowercase letters/digits"
        )
    merged = _merge(_merge(ENVIRONMENT_DEFAULTS, defaults), table)
    reader = _Reader(source, merged, path, ENVIRONMENT_KEYS)
    reader.reject_unknown()
    for required in ("account", "region"):
        if required not in merged:
            raise reader.fail(required, "is required (in the environment or in [defaults])")
    account = reader.account("account", accounts)
    settings = _parse_settings(reader, declaration, own=table)
    region = reader.region("region")
    _same_region(reader, region, account)
    return Environment(name=name, account=account, region=region, **settings)


def _parse_pipeline(
    reader: _Reader, accounts: Mapping[str, Account], environments: Mapping[str, Environment]
) -> Pipeline:
    """`[pipeline]`: the account it lives in (default: the first), its source and branch.

    The pipeline deploys the environments of its own account only, so an account
    without one has nothing to deploy and is refused.
    """
    reader.reject_unknown()
    if "account" in reader.table:
        account_name = reader.account("account", accounts).name
    else:
        account_name = next(iter(accounts))
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


def _declaration_path(app: _Reader) -> str:
    """`[app] declaration`, or app.py when the key is left out (never when it is empty)."""
    from infra.app.load import DEFAULT_DECLARATION

    relative = app.get("declaration")
    if relative is None:
        return DEFAULT_DECLARATION
    if not relative.strip() or relative != relative.strip() or not relative.isprintable():
        raise app.fail("declaration", f"{show(relative)} is not a path to a .py file or a package")
    return relative


def parse_config(
    raw: Mapping[str, Any],
    source: str = DEFAULT_CONFIG_FILE,
    *,
    root: Path = Path("."),
    declaration: App | None = None,
) -> AppConfig:
    """Validate an already-read TOML document; raise ConfigError on the first problem.

    Without `declaration`, the app is imported from `[app] declaration` under `root`.
    """
    check_nesting(raw, source)
    top = _Reader(source, raw, "", TOP_KEYS)
    top.reject_unknown()
    app = top.table_at("app", APP_KEYS)
    app.reject_unknown()
    name = app.text(
        "name", APP_NAME, "an app name (3-20 lowercase letters, digits, hyphens)", required=True
    )
    if declaration is None:
        from infra.app.load import load_declaration

        declaration = load_declaration(root / _declaration_path(app), source)

    account_tables = top.table_at("accounts")
    if not account_tables.table:
        raise ConfigError(source, "accounts", "declare at least one account")
    accounts = {
        key: _parse_account(source, key, account_tables.table_at(key).table)
        for key in account_tables.table
    }
    defaults = _parse_defaults(top, accounts, declaration)
    environment_tables = top.table_at("environments")
    if not environment_tables.table:
        raise ConfigError(source, "environments", "declare at least one environment")
    environments = {}
    for key in environment_tables.table:
        if key in accounts:
            raise ConfigError(
                source,
                dotted("environments", key),
                "name is also an account's; template folders would collide",
            )
        table = environment_tables.table_at(key).table
        environments[key] = _parse_environment(source, key, table, defaults, accounts, declaration)
    pipeline = None
    if "pipeline" in top.table:
        table = _merge(PIPELINE_DEFAULTS, top.table_at("pipeline").table)
        pipeline = _parse_pipeline(
            _Reader(source, table, "pipeline", PIPELINE_KEYS), accounts, environments
        )
    return AppConfig(
        name=name,
        accounts=accounts,
        environments=environments,
        source=source,
        declaration=declaration,
        root=root,
        pipeline=pipeline,
    )


def load_config(path: str | Path = DEFAULT_CONFIG_FILE, overrides: Iterable[str] = ()) -> AppConfig:
    """Read, override and validate the config file."""
    path = Path(path)
    source = one_line(path.name if path.parent == Path(".") and path.name else str(path))
    if path.is_dir():
        raise ConfigError(source, "", "is a folder; pass --config the path of the settings file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "", "file not found (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(source, "", f"cannot read: {err}") from None
    raw = read_toml(text, source)
    check_nesting(raw, source)  # before --set merges into it, which recurses
    return parse_config(apply_overrides(raw, overrides, source), source, root=path.parent)
