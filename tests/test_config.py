"""`infra.toml` validation as the user meets it: one line, exit code 2, nothing written.

Every bad config starts from the shipped `infra.toml` and changes one thing, so the
cases stay realistic and each proves that exactly that change is caught, under the
key the user has to edit. Good configs prove the shipped file and a minimal one
render, and that the documented precedence holds:
`--set` > `[environments.<name>]` > `[defaults]` > built-in defaults.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from infra.cli import cli
from infra.config import load_config
from tests.config.toml_text import Raw, dump_toml

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "infra.toml"
DECLARATION = REPO / "app.py"  # the shipped app, copied beside each config a test writes
CONFIG = "infra.toml"  # written into the test's folder, which is the working directory
CERTIFICATE = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
CONNECTION = (
    "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)
# The line of `name = "photos"`, where the invalid-TOML case cuts the closing quote.
APP_NAME_LINE = SHIPPED.read_text(encoding="utf-8").splitlines().index('name = "photos"') + 1
DELETE = object()  # a `changes` value that removes the key


def edited(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The shipped config with `dotted.key: value` changes (DELETE removes the key)."""
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        table = data
        for part in parents:
            table = table.setdefault(part, {})
        if value is DELETE:
            del table[last]
        else:
            table[last] = value
    return data


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_infra_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The options read INFRA_* variables; a developer's shell must not change the result."""
    for name in ("INFRA_CONFIG", "INFRA_ENV", "INFRA_OUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory, so `--config infra.toml` is printed as given."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def write_config(path: Path, text: str, *, declaration: bool = True) -> None:
    """`text` as the config file at `path`, with the shipped app.py beside it (its default)."""
    path.write_text(text, encoding="utf-8")
    if declaration:
        shutil.copyfile(DECLARATION, path.parent / "app.py")


def render(*args: str) -> Result:
    return CliRunner().invoke(cli, ["render", "--config", CONFIG, "--out", "out", *args])


def assert_refused(result: Result, workdir: Path, message: str) -> None:
    """Exit code 2, exactly one line on stderr, nothing on stdout and nothing written."""
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [message]
    assert result.stdout == ""
    assert not (workdir / "out").exists()


# -- bad configs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadConfig:
    """One mistake: how to make it from the shipped file, and the line the user must see."""

    id: str
    message: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    edit_text: Callable[[str], str] | None = None  # for what a data edit cannot express
    write: bool = True
    declaration: bool = True  # app.py beside the config, as the shipped file expects

    def text(self) -> str:
        if self.edit_text is not None:
            return self.edit_text(SHIPPED.read_text(encoding="utf-8"))
        return dump_toml(edited(self.changes))


BAD_CONFIGS = [
    BadConfig(
        "missing-file",
        "infra.toml: file not found (pass --config PATH)",
        write=False,
    ),
    BadConfig(
        "invalid-toml",
        f"infra.toml: not valid TOML: Illegal character '\\n' (at line {APP_NAME_LINE}, column 15)",
        edit_text=lambda text: text.replace('name = "photos"', 'name = "photos'),
    ),
    BadConfig(
        "unknown-top-level-key",
        "infra.toml: extra: unknown key (allowed: accounts, app, defaults, environments, pipeline)",
        changes={"extra": {"x": 1}},
    ),
    BadConfig(
        "unknown-environment-key",
        "infra.toml: environments.dev.memory: unknown key (allowed: account, alarm_email, "
        "api_throttle_burst, api_throttle_rate, approval, certificate_arn, domain_name, "
        "frontend_origins, lambda, log_retention_days, price_class, region, settings)",
        changes={"environments.dev.memory": 512},
    ),
    BadConfig(
        # The app's own settings live under `settings`, no longer beside the library's keys.
        "app-setting-outside-settings",
        "infra.toml: environments.dev.max_upload_mb: unknown key (allowed: account, "
        "alarm_email, api_throttle_burst, api_throttle_rate, approval, certificate_arn, "
        "domain_name, frontend_origins, lambda, log_retention_days, price_class, region, "
        "settings)",
        changes={"environments.dev.max_upload_mb": 20},
    ),
    BadConfig(
        "unknown-setting",
        "infra.toml: environments.dev.settings.max_upload: unknown key "
        "(allowed: max_upload_mb, thumbnail_sizes)",
        changes={"environments.dev.settings.max_upload": 20},
    ),
    BadConfig(
        "settings-not-a-table",
        "infra.toml: environments.dev.settings: 'max_upload_mb=20' must be a table",
        changes={"environments.dev.settings": "max_upload_mb=20"},
    ),
    BadConfig(
        "unknown-lambda-key",
        "infra.toml: environments.prod.lambda.memory_mb: unknown key "
        "(allowed: architecture, memory, runtime, timeout)",
        changes={"environments.prod.lambda.memory_mb": 512},
    ),
    BadConfig(
        "unknown-defaults-key",
        "infra.toml: defaults.memory: unknown key (allowed: account, alarm_email, "
        "api_throttle_burst, api_throttle_rate, approval, certificate_arn, frontend_origins, "
        "lambda, log_retention_days, price_class, region, settings)",
        changes={"defaults.memory": 512},
    ),
    BadConfig(
        "domain-name-is-no-default",
        "infra.toml: defaults.domain_name: cannot be a default: each environment needs a "
        "domain of its own (CloudFront serves a domain from one distribution only); set it "
        "under [environments.<name>]",
        changes={"defaults.domain_name": "photos.example.com"},
    ),
    BadConfig(
        "default-account-undeclared",
        "infra.toml: defaults.account: 'production' is not a declared account (main)",
        changes={"defaults.account": "production"},
    ),
    BadConfig(
        "default-region-unknown",
        "infra.toml: defaults.region: 'eu-west-9' is not an AWS region",
        changes={"defaults.region": "eu-west-9"},
    ),
    BadConfig(
        "default-region-differs-from-default-account",
        "infra.toml: defaults.region: 'us-east-1' differs from accounts.main.region "
        "'eu-west-1'; Lambda code is served from that region's artifact bucket",
        changes={"defaults.account": "main", "defaults.region": "us-east-1"},
    ),
    BadConfig(
        "default-alarm-email",
        "infra.toml: defaults.alarm_email: 'oncall' is not an e-mail address",
        changes={"defaults.alarm_email": "oncall"},
    ),
    BadConfig(
        "default-certificate-arn",
        "infra.toml: defaults.certificate_arn: 'arn:aws:acm:eu-west-1:1:certificate/x' is not "
        "an ACM certificate ARN in us-east-1",
        changes={"defaults.certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/x"},
    ),
    BadConfig(
        "string-for-number",
        "infra.toml: environments.prod.lambda.memory: '512' must be a whole number",
        changes={"environments.prod.lambda.memory": "512"},
    ),
    BadConfig(
        "float-for-number",
        "infra.toml: environments.dev.log_retention_days: 14.0 must be a whole number",
        changes={"environments.dev.log_retention_days": 14.0},
    ),
    BadConfig(
        # TOML booleans are Python ints; they must not pass as a number.
        "boolean-for-number",
        "infra.toml: environments.dev.settings.max_upload_mb: true must be a whole number",
        changes={"environments.dev.settings.max_upload_mb": True},
    ),
    BadConfig(
        "string-for-boolean",
        "infra.toml: environments.prod.approval: 'yes' must be true or false",
        changes={"environments.prod.approval": "yes"},
    ),
    BadConfig(
        "string-for-list",
        "infra.toml: environments.dev.frontend_origins: 'http://localhost:5173' must be a list",
        changes={"environments.dev.frontend_origins": "http://localhost:5173"},
    ),
    BadConfig(
        "environment-region-unknown",
        "infra.toml: environments.prod.region: 'eu-west-9' is not an AWS region",
        changes={"environments.prod.region": "eu-west-9"},
    ),
    BadConfig(
        "account-region-unknown",
        "infra.toml: accounts.main.region: 'eu-west-9' is not an AWS region",
        changes={"accounts.main.region": "eu-west-9"},
    ),
    BadConfig(
        "environment-region-differs-from-account",
        "infra.toml: environments.prod.region: 'us-east-1' differs from accounts.main.region "
        "'eu-west-1'; Lambda code is served from that region's artifact bucket",
        changes={"environments.prod.region": "us-east-1"},
    ),
    BadConfig(
        "environment-region-missing",
        "infra.toml: environments.dev.region: is required (in the environment or in [defaults])",
        changes={"environments.dev.region": DELETE},
    ),
    BadConfig(
        "environment-account-missing",
        "infra.toml: environments.prod.account: is required (in the environment or in [defaults])",
        changes={"environments.prod.account": DELETE},
    ),
    BadConfig(
        "account-id-too-short",
        "infra.toml: accounts.main.account_id: '11111111111' is not a 12-digit AWS account id",
        changes={"accounts.main.account_id": "11111111111"},
    ),
    BadConfig(
        "account-id-as-number",
        "infra.toml: accounts.main.account_id: 111111111111 must be a string (quote it)",
        changes={"accounts.main.account_id": 111111111111},
    ),
    BadConfig(
        "flow-logs-vpc-id",
        "infra.toml: accounts.main.flow_logs_vpc_id: 'vpc-123' is not a VPC id (vpc-...)",
        changes={"accounts.main.flow_logs_vpc_id": "vpc-123"},
    ),
    BadConfig(
        "retention-not-accepted-by-cloudwatch",
        "infra.toml: environments.dev.log_retention_days: 15 is not a retention CloudWatch Logs "
        "accepts (one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
        "1827, 2192, 2557, 2922, 3288, 3653)",
        changes={"environments.dev.log_retention_days": 15},
    ),
    BadConfig(
        "memory-too-small",
        "infra.toml: environments.prod.lambda.memory: 64 is out of range (128 to 10240)",
        changes={"environments.prod.lambda.memory": 64},
    ),
    BadConfig(
        "memory-too-large",
        "infra.toml: environments.prod.lambda.memory: 10241 is out of range (128 to 10240)",
        changes={"environments.prod.lambda.memory": 10241},
    ),
    BadConfig(
        "timeout-over-lambda-limit",
        "infra.toml: environments.prod.lambda.timeout: 901 is out of range (1 to 900)",
        changes={"environments.prod.lambda.timeout": 901},
    ),
    BadConfig(
        "runtime",
        "infra.toml: environments.prod.lambda.runtime: 'python3.9' is not a supported Python "
        "runtime (one of: python3.11, python3.12, python3.13)",
        changes={"environments.prod.lambda.runtime": "python3.9"},
    ),
    BadConfig(
        "architecture",
        "infra.toml: environments.prod.lambda.architecture: 'x86' is not a Lambda architecture "
        "(one of: arm64, x86_64)",
        changes={"environments.prod.lambda.architecture": "x86"},
    ),
    BadConfig(
        "price-class",
        "infra.toml: environments.prod.price_class: 'PriceClass_50' is not a CloudFront price "
        "class (one of: PriceClass_100, PriceClass_200, PriceClass_All)",
        changes={"environments.prod.price_class": "PriceClass_50"},
    ),
    BadConfig(
        "origin-plain-http",
        "infra.toml: environments.prod.frontend_origins[1]: 'http://photos.example.com' is not "
        "an origin like https://app.example.com",
        changes={
            "environments.prod.frontend_origins": [
                "https://photos.example.com",
                "http://photos.example.com",
            ]
        },
    ),
    BadConfig(
        "origin-with-path",
        "infra.toml: environments.dev.frontend_origins[0]: 'https://app.example.com/' is not "
        "an origin like https://app.example.com",
        changes={"environments.dev.frontend_origins": ["https://app.example.com/"]},
    ),
    BadConfig(
        "domain-without-certificate",
        "infra.toml: environments.prod.certificate_arn: is required because domain_name is set",
        changes={"environments.prod.domain_name": "photos.example.com"},
    ),
    BadConfig(
        "certificate-without-domain",
        "infra.toml: environments.prod.domain_name: is required because certificate_arn is set",
        changes={"environments.prod.certificate_arn": CERTIFICATE},
    ),
    BadConfig(
        "certificate-not-in-us-east-1",
        "infra.toml: environments.prod.certificate_arn: "
        f"{CERTIFICATE.replace('us-east-1', 'eu-west-1')!r} "
        "is not an ACM certificate ARN in us-east-1",
        changes={
            "environments.prod.domain_name": "photos.example.com",
            "environments.prod.certificate_arn": CERTIFICATE.replace("us-east-1", "eu-west-1"),
        },
    ),
    BadConfig(
        "domain-name",
        "infra.toml: environments.prod.domain_name: 'Photos.Example.com' is not a domain name",
        changes={
            "environments.prod.domain_name": "Photos.Example.com",
            "environments.prod.certificate_arn": CERTIFICATE,
        },
    ),
    BadConfig(
        "bad-default-named-as-default",
        "infra.toml: defaults.lambda.memory: 64 is out of range (128 to 10240)",
        changes={"defaults.lambda.memory": 64},
    ),
    BadConfig(
        "duplicate-thumbnail-sizes",
        "infra.toml: environments.dev.settings.thumbnail_sizes: [256, 256] must not repeat an item",
        changes={"environments.dev.settings.thumbnail_sizes": [256, 256]},
    ),
    BadConfig(
        "alarm-email",
        "infra.toml: environments.prod.alarm_email: 'oncall' is not an e-mail address",
        changes={"environments.prod.alarm_email": "oncall"},
    ),
    BadConfig(
        "thumbnail-size-too-small",
        "infra.toml: environments.dev.settings.thumbnail_sizes: [8]: item 8 is out of range "
        "(16 to 4096)",
        changes={"environments.dev.settings.thumbnail_sizes": [8]},
    ),
    BadConfig(
        "thumbnail-sizes-too-many",
        "infra.toml: environments.dev.settings.thumbnail_sizes: [64, 256, 1024] must have "
        "1 to 2 items",
        changes={"environments.dev.settings.thumbnail_sizes": [64, 256, 1024]},
    ),
    BadConfig(
        "thumbnail-sizes-empty",
        "infra.toml: environments.dev.settings.thumbnail_sizes: [] must have 1 to 2 items",
        changes={"environments.dev.settings.thumbnail_sizes": []},
    ),
    BadConfig(
        "bad-setting-default-named-as-default",
        "infra.toml: defaults.settings.max_upload_mb: 0 is out of range (1 to 5120)",
        changes={"defaults.settings.max_upload_mb": 0},
    ),
    BadConfig(
        "setting-over-maximum",
        "infra.toml: environments.prod.settings.max_upload_mb: 5121 is out of range (1 to 5120)",
        changes={"environments.prod.settings.max_upload_mb": 5121},
    ),
    BadConfig(
        "throttle-burst",
        "infra.toml: environments.prod.api_throttle_burst: 0 is out of range (1 to 5000)",
        changes={"environments.prod.api_throttle_burst": 0},
    ),
    BadConfig(
        "undeclared-account",
        "infra.toml: environments.prod.account: 'production' is not a declared account (main)",
        changes={"environments.prod.account": "production"},
    ),
    BadConfig(
        "no-accounts",
        "infra.toml: accounts: declare at least one account",
        changes={"accounts": {}},
    ),
    BadConfig(
        "no-environments",
        "infra.toml: environments: declare at least one environment",
        changes={"environments": {}},
    ),
    BadConfig(
        "environment-named-like-an-account",
        "infra.toml: environments.main: name is also an account's; template folders would collide",
        changes={"environments.main": {"account": "main", "region": "eu-west-1"}},
    ),
    BadConfig(
        "environment-name",
        "infra.toml: environments.Dev: name must start with a letter: 1-10 lowercase "
        "letters/digits",
        changes={"environments.Dev": {"account": "main", "region": "eu-west-1"}},
    ),
    BadConfig(
        "account-name",
        "infra.toml: accounts.main-account: name must start with a letter: 1-10 lowercase "
        "letters/digits",
        changes={"accounts.main-account": {"region": "eu-west-1"}},
    ),
    BadConfig(
        "app-name-uppercase",
        "infra.toml: app.name: 'Photos' is not an app name (3-20 lowercase letters, digits, "
        "hyphens)",
        changes={"app.name": "Photos"},
    ),
    BadConfig(
        "app-name-too-long",
        "infra.toml: app.name: 'photos-of-my-holidays' is not an app name (3-20 lowercase "
        "letters, digits, hyphens)",
        changes={"app.name": "photos-of-my-holidays"},
    ),
    BadConfig(
        "app-name-missing",
        "infra.toml: app.name: is required",
        changes={"app.name": DELETE},
    ),
    BadConfig(
        "app-unknown-key",
        "infra.toml: app.declare: unknown key (allowed: declaration, name)",
        changes={"app.declare": "app.py"},
    ),
    BadConfig(
        "declaration-missing",
        "infra.toml: app.declaration: app.py not found (a .py file or a package)",
        declaration=False,
    ),
    BadConfig(
        "declaration-elsewhere-missing",
        "infra.toml: app.declaration: src/app.py not found (a .py file or a package)",
        changes={"app.declaration": "src/app.py"},
    ),
    BadConfig(
        "declaration-not-a-string",
        "infra.toml: app.declaration: 1 must be a string (quote it)",
        changes={"app.declaration": 1},
    ),
    BadConfig(
        "pipeline-not-a-table",
        "infra.toml: pipeline: 'yes' must be a table",
        changes={"pipeline": "yes"},
    ),
    BadConfig(
        "pipeline-unknown-key",
        "infra.toml: pipeline.brnach: unknown key (allowed: account, branch, connection_arn, "
        "notification_email, repository)",
        changes={"pipeline.brnach": "main"},
    ),
    BadConfig(
        "pipeline-repository-missing",
        "infra.toml: pipeline.repository: is required",
        changes={"pipeline.repository": DELETE},
    ),
    BadConfig(
        "pipeline-owner-repository-without-connection",
        "infra.toml: pipeline.repository: 'acme/photos' is not a CodeCommit repository name "
        "(letters, digits, '.', '_', '-'; set connection_arn for owner/name)",
        changes={"pipeline.repository": "acme/photos"},
    ),
    BadConfig(
        "pipeline-plain-repository-with-connection",
        "infra.toml: pipeline.repository: 'photos' is not an owner/name repository id "
        "(connection_arn is set)",
        changes={"pipeline.connection_arn": CONNECTION},
    ),
    BadConfig(
        "pipeline-connection-arn",
        "infra.toml: pipeline.connection_arn: 'arn:aws:iam::111111111111:role/github' is not a "
        "CodeConnections connection ARN (connection/...)",
        changes={
            "pipeline.connection_arn": "arn:aws:iam::111111111111:role/github",
            "pipeline.repository": "acme/photos",
        },
    ),
    BadConfig(
        "pipeline-branch-number",
        "infra.toml: pipeline.branch: 1 must be a string (quote it)",
        changes={"pipeline.branch": 1},
    ),
    BadConfig(
        "pipeline-branch-name",
        "infra.toml: pipeline.branch: 'release..1' is not a git branch name",
        changes={"pipeline.branch": "release..1"},
    ),
    BadConfig(
        "pipeline-branch-glob",
        "infra.toml: pipeline.branch: 'release/*' is not a git branch name",
        changes={"pipeline.branch": "release/*"},
    ),
    BadConfig(
        "pipeline-undeclared-account",
        "infra.toml: pipeline.account: 'tools' is not a declared account (main)",
        changes={"pipeline.account": "tools"},
    ),
    BadConfig(
        "pipeline-account-without-environments",
        "infra.toml: pipeline.account: 'tools' holds no environment; the pipeline deploys the "
        "environments of its own account",
        changes={"accounts.tools": {"region": "eu-west-1"}, "pipeline.account": "tools"},
    ),
    BadConfig(
        "pipeline-notification-email",
        "infra.toml: pipeline.notification_email: 'team' is not an e-mail address",
        changes={"pipeline.notification_email": "team"},
    ),
    BadConfig(
        "set-without-equals",
        "--set: environments.dev.lambda.memory: expected KEY.PATH=VALUE, "
        "e.g. environments.dev.region=eu-west-1",
        args=("--set", "environments.dev.lambda.memory"),
    ),
    BadConfig(
        "set-empty-key-part",
        "--set: environments..memory=1: expected KEY.PATH=VALUE, "
        "e.g. environments.dev.region=eu-west-1",
        args=("--set", "environments..memory=1"),
    ),
    BadConfig(
        "set-empty-key",
        "--set: =1: expected KEY.PATH=VALUE, e.g. environments.dev.region=eu-west-1",
        args=("--set", "=1"),
    ),
    BadConfig(
        "set-with-a-newline",
        "--set: 'environments.dev.lambda.memory\\n512': expected KEY.PATH=VALUE, "
        "e.g. environments.dev.region=eu-west-1",
        args=("--set", "environments.dev.lambda.memory\n512"),
    ),
    BadConfig(
        # A value that is not TOML is taken as text, then validated like the file's.
        "set-value-is-validated",
        "infra.toml: environments.dev.lambda.memory: '1GB' must be a whole number",
        args=("--set", "environments.dev.lambda.memory=1GB"),
    ),
    BadConfig(
        "unknown-env",
        "infra.toml: no environment 'stage' (known: dev, prod)",
        args=("--env", "stage"),
    ),
    # -- a pattern matches the whole value, in ASCII: no trailing newline, no other digits --
    BadConfig(
        "app-name-trailing-newline",
        "infra.toml: app.name: 'photos\\n' is not an app name (3-20 lowercase letters, "
        "digits, hyphens)",
        changes={"app.name": "photos\n"},
    ),
    BadConfig(
        "account-id-trailing-newline",
        "infra.toml: accounts.main.account_id: '111111111111\\n' is not a 12-digit AWS account id",
        changes={"accounts.main.account_id": "111111111111\n"},
    ),
    BadConfig(
        "account-id-arabic-indic-digits",
        "infra.toml: accounts.main.account_id: '" + "\\u0661" * 12 + "' is not a 12-digit "
        "AWS account id",
        changes={"accounts.main.account_id": "\u0661" * 12},
    ),
    BadConfig(
        "origin-port-fullwidth-digits",
        "infra.toml: environments.dev.frontend_origins[0]: "
        "'https://app.example.com:\\uff18\\uff10' is not an origin like https://app.example.com",
        changes={"environments.dev.frontend_origins": ["https://app.example.com:\uff18\uff10"]},
    ),
    BadConfig(
        "origin-trailing-newline",
        "infra.toml: environments.dev.frontend_origins[0]: 'https://app.example.com\\n' is not "
        "an origin like https://app.example.com",
        changes={"environments.dev.frontend_origins": ["https://app.example.com\n"]},
    ),
    BadConfig(
        "branch-trailing-newline",
        "infra.toml: pipeline.branch: 'main\\n' is not a git branch name",
        changes={"pipeline.branch": "main\n"},
    ),
    BadConfig(
        "environment-name-trailing-newline",
        'infra.toml: environments."dev\\n": name must start with a letter: 1-10 lowercase '
        "letters/digits",
        changes={"environments.dev\n": {"account": "main", "region": "eu-west-1"}},
    ),
    BadConfig(
        "account-name-non-ascii-digit",
        'infra.toml: accounts."main\\u0661": name must start with a letter: 1-10 lowercase '
        "letters/digits",
        changes={"accounts.main\u0661": {"region": "eu-west-1"}},
    ),
    BadConfig(
        # A look-alike letter is shown escaped, or the line would read like a valid value.
        "region-cyrillic-e",
        "infra.toml: environments.prod.region: '\\u0435u-west-1' is not an AWS region",
        changes={"environments.prod.region": "\u0435u-west-1"},
    ),
    BadConfig(
        "alarm-email-no-break-space",
        "infra.toml: environments.prod.alarm_email: 'oncall\\xa0@example.com' is not an "
        "e-mail address",
        changes={"environments.prod.alarm_email": "oncall\xa0@example.com"},
    ),
    BadConfig(
        "unknown-key-with-a-newline",
        'infra.toml: environments.dev."memory\\n": unknown key (allowed: account, alarm_email, '
        "api_throttle_burst, api_throttle_rate, approval, certificate_arn, domain_name, "
        "frontend_origins, lambda, log_retention_days, price_class, region, settings)",
        changes={"environments.dev.memory\n": 512},
    ),
    # -- an empty string is not a missing key ----------------------------------------------
    BadConfig(
        "pipeline-account-empty",
        "infra.toml: pipeline.account: '' is not a declared account (main)",
        changes={"pipeline.account": ""},
    ),
    BadConfig(
        "declaration-empty",
        "infra.toml: app.declaration: '' is not a path to a .py file or a package",
        changes={"app.declaration": ""},
    ),
    BadConfig(
        "declaration-trailing-newline",
        "infra.toml: app.declaration: 'app.py\\n' is not a path to a .py file or a package",
        changes={"app.declaration": "app.py\n"},
    ),
    BadConfig(
        "account-id-empty",
        "infra.toml: accounts.main.account_id: is empty; leave the key out",
        changes={"accounts.main.account_id": ""},
    ),
    # -- wrong shapes ------------------------------------------------------------------------
    BadConfig(
        "list-of-lists-for-origins",
        "infra.toml: environments.dev.frontend_origins[0]: ['http://localhost:5173'] is not an "
        "origin like https://app.example.com",
        changes={"environments.dev.frontend_origins": [["http://localhost:5173"]]},
    ),
    BadConfig(
        "table-for-a-string",
        "infra.toml: environments.dev.region: {'name': 'eu-west-1'} must be a string",
        changes={"environments.dev.region": {"name": "eu-west-1"}},
    ),
    BadConfig(
        "datetime-for-a-string",
        "infra.toml: app.name: 1979-05-27T07:32:00+00:00 must be a string",
        changes={"app.name": datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.UTC)},
    ),
    BadConfig(
        "list-of-lists-for-a-list-setting",
        "infra.toml: environments.dev.settings.thumbnail_sizes: [[256]] must hold only whole "
        "numbers",
        changes={"environments.dev.settings.thumbnail_sizes": [[256]]},
    ),
    # -- nesting: refused before anything recurses, through the file and through --set -------
    BadConfig(
        "deep-list-in-the-file",
        "infra.toml: environments.dev.frontend_origins: nested more than 16 levels deep",
        changes={"environments.dev.frontend_origins": Raw("[" * 5000 + "]" * 5000)},
    ),
    BadConfig(
        "deep-inline-table-in-the-file",
        "infra.toml: environments.dev.lambda: nested more than 16 levels deep",
        changes={"environments.dev.lambda": Raw("{a = " * 5000 + "1" + "}" * 5000)},
    ),
    BadConfig(
        "deep-dotted-key-in-the-file",
        "infra.toml: environments.dev.settings" + ".a" * 14 + ": nested more than 16 levels deep",
        edit_text=lambda text: text + "\n[environments.dev.settings]\n" + "a." * 5000 + "a = 1\n",
    ),
    BadConfig(
        "deep-list-through-set",
        "infra.toml: environments.dev.frontend_origins: nested more than 16 levels deep",
        args=("--set", "environments.dev.frontend_origins=" + "[" * 5000 + "]" * 5000),
    ),
    BadConfig(
        "deep-key-through-set",
        "infra.toml: environments.dev.settings" + ".a" * 14 + ": nested more than 16 levels deep",
        args=("--set", "environments.dev.settings." + "a." * 5000 + "a=1"),
    ),
    BadConfig(
        "deep-key-through-set-into-a-deep-file",
        "infra.toml: environments.dev.settings" + ".a" * 14 + ": nested more than 16 levels deep",
        edit_text=lambda text: text + "\n[environments.dev.settings]\n" + "a." * 5000 + "a = 1\n",
        args=("--set", "environments.dev.settings." + "a." * 5000 + "b=1"),
    ),
]


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[case.id for case in BAD_CONFIGS])
def test_bad_config_is_one_line_and_exit_2(case: BadConfig, workdir: Path) -> None:
    if case.write:
        write_config(workdir / CONFIG, case.text(), declaration=case.declaration)
    assert_refused(render(*case.args), workdir, case.message)


def test_bad_configs_each_start_from_a_valid_file() -> None:
    """Guards the table: each case differs from a file that parses, so it tests one thing."""
    assert len({case.id for case in BAD_CONFIGS}) == len(BAD_CONFIGS)
    shipped = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert tomllib.loads(dump_toml(shipped)) == shipped


@pytest.mark.parametrize(
    ("given", "printed"),
    [
        ("conf/infra.toml", "conf/infra.toml"),
        ("./infra.toml", "infra.toml"),
    ],
)
def test_source_is_printed_as_given(given: str, printed: str, workdir: Path) -> None:
    path = workdir / given
    path.parent.mkdir(exist_ok=True)
    write_config(path, dump_toml(edited({"environments.prod.region": "eu-west-9"})))
    result = CliRunner().invoke(cli, ["render", "--config", given, "--out", "out"])
    assert_refused(
        result, workdir, f"{printed}: environments.prod.region: 'eu-west-9' is not an AWS region"
    )


def test_absolute_config_path_is_printed_in_full(workdir: Path) -> None:
    path = workdir / "settings" / "app.toml"
    result = CliRunner().invoke(cli, ["render", "--config", str(path), "--out", "out"])
    assert_refused(result, workdir, f"{path}: file not found (pass --config PATH)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "infra.toml: file not found (pass --config PATH)"),
        (
            dump_toml(edited({"environments.prod.region": "eu-west-9"})),
            "infra.toml: environments.prod.region: 'eu-west-9' is not an AWS region",
        ),
        (
            # The real process's stack is not the test runner's: tomllib fails elsewhere.
            dump_toml(edited({"environments.dev.frontend_origins": Raw("[" * 5000 + "]" * 5000)})),
            "infra.toml: environments.dev.frontend_origins: nested more than 16 levels deep",
        ),
    ],
    ids=["missing-file", "bad-region", "nested-too-deep"],
)
def test_real_process_prints_no_traceback_and_writes_nothing(
    text: str | None, message: str, tmp_path: Path
) -> None:
    """The whole `python -m infra` path, as a user runs it, not just the click command."""
    if text is not None:
        write_config(tmp_path / CONFIG, text)
    env = {key: value for key, value in os.environ.items() if not key.startswith("INFRA_")}
    completed = subprocess.run(
        [sys.executable, "-m", "infra", "render", "--config", CONFIG, "--out", "out"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [message]
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    assert not (tmp_path / "out").exists()


# -- good configs -----------------------------------------------------------------------------


def test_shipped_config_parses() -> None:
    config = load_config(SHIPPED)
    assert config.name == "photos"
    assert list(config.accounts) == ["main"]
    assert list(config.environments) == ["dev", "prod"]
    dev, prod = config.environments["dev"], config.environments["prod"]
    assert dev.account is config.accounts["main"]
    assert (dev.log_retention_days, prod.log_retention_days) == (14, 365)
    assert (dev.approval, prod.approval) == (False, True)
    assert prod.lambda_defaults.memory == 512
    assert prod.lambda_defaults.python_version == "3.12"
    assert prod.cors_origins == ("https://photos.example.com",)
    pipeline = config.pipeline
    assert pipeline is not None
    assert pipeline.account == "main"
    assert (pipeline.repository, pipeline.branch) == ("photos", "main")
    assert (pipeline.connection_arn, pipeline.notification_email) == (None, None)
    assert config.declaration.settings  # app.py beside infra.toml, loaded from its folder
    assert config.root == REPO
    assert dev.settings == {"max_upload_mb": 10, "thumbnail_sizes": (256, 1024)}
    assert prod.settings == dev.settings


def test_pipeline_defaults_to_the_first_account_and_main(workdir: Path) -> None:
    config_text = dump_toml({**MINIMAL, "pipeline": {"repository": "photos"}})
    write_config(workdir / CONFIG, config_text)
    pipeline = load_config(CONFIG).pipeline
    assert pipeline is not None
    assert (pipeline.account, pipeline.branch) == ("main", "main")


def test_pipeline_through_a_connection_takes_owner_and_name(workdir: Path) -> None:
    changes = {
        "pipeline.repository": "acme/photos",
        "pipeline.connection_arn": CONNECTION,
        "pipeline.branch": "release/2026",
        "pipeline.notification_email": "team@example.com",
    }
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    pipeline = load_config(CONFIG).pipeline
    assert pipeline is not None and pipeline.connection_arn == CONNECTION
    assert pipeline.notification_email == "team@example.com"
    assert (pipeline.repository, pipeline.branch) == ("acme/photos", "release/2026")
    assert render().exit_code == 0


MINIMAL = {
    "app": {"name": "photos"},
    "accounts": {"main": {"region": "eu-west-1"}},
    "environments": {"dev": {"account": "main", "region": "eu-west-1"}},
}


def test_optional_keys_may_be_left_out(workdir: Path) -> None:
    """No [defaults], no optional keys: built-in defaults fill in and every stack renders."""
    write_config(workdir / CONFIG, dump_toml(MINIMAL))
    config = load_config(CONFIG)
    dev = config.environments["dev"]
    assert dev.account.account_id is None
    assert dev.account.trail_log_expiry_days == 365
    assert (dev.domain_name, dev.certificate_arn, dev.alarm_email) == (None, None, None)
    assert dev.frontend_origins == ()
    assert dev.lambda_defaults.memory == 256
    assert (dev.api_throttle_rate, dev.api_throttle_burst) == (50, 100)

    result = render()
    assert result.exit_code == 0, result.output
    assert sorted(
        p.relative_to(workdir / "out").as_posix() for p in (workdir / "out").rglob("*")
    ) == [
        "dev",
        "dev/backend.json",
        "dev/data.json",
        "dev/frontend.json",
        "main",
        "main/base.json",
    ]


def rendered_text(workdir: Path, relative: str) -> str:
    return (workdir / "out" / relative).read_text(encoding="utf-8")


def test_every_optional_key_set_renders(workdir: Path) -> None:
    """Each optional value reaches the template that uses it."""
    changes = {
        "accounts.main.account_id": "111111111111",
        "accounts.main.flow_logs_vpc_id": "vpc-0123456789abcdef0",
        "environments.prod.domain_name": "photos.example.com",
        "environments.prod.certificate_arn": CERTIFICATE,
        "environments.prod.settings.thumbnail_sizes": [16, 4096],
        "environments.dev.frontend_origins": ["http://127.0.0.1:8080", "https://a.example.com"],
    }
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    result = render()
    assert result.exit_code == 0, result.output
    assert "vpc-0123456789abcdef0" in rendered_text(workdir, "main/base.json")
    assert CERTIFICATE in rendered_text(workdir, "prod/frontend.json")
    assert '"16,4096"' in rendered_text(workdir, "prod/backend.json")
    assert "http://127.0.0.1:8080" in rendered_text(workdir, "dev/backend.json")


def test_alarm_email_renders(workdir: Path) -> None:
    changes = {"environments.prod.alarm_email": "oncall@example.com"}
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    result = render()
    assert result.exit_code == 0, result.output
    assert "oncall@example.com" in rendered_text(workdir, "prod/backend.json")


# -- [defaults]: any environment key but domain_name ------------------------------------------


def test_account_and_region_may_be_defaults(workdir: Path) -> None:
    """Environments of one account need not repeat it; an environment may still differ."""
    changes = {
        "defaults.account": "main",
        "defaults.region": "eu-west-1",
        "environments.dev.account": DELETE,
        "environments.dev.region": DELETE,
        "accounts.tools": {"region": "us-east-1"},
        "environments.prod.account": "tools",
        "environments.prod.region": "us-east-1",
    }
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    config = load_config(CONFIG)
    dev, prod = config.environments["dev"], config.environments["prod"]
    assert (dev.account.name, dev.region) == ("main", "eu-west-1")
    assert (prod.account.name, prod.region) == ("tools", "us-east-1")


def test_a_default_region_must_still_be_the_environments_accounts(workdir: Path) -> None:
    changes = {
        "defaults.region": "eu-west-1",
        "environments.prod.region": DELETE,
        "accounts.tools": {"region": "us-east-1"},
        "environments.prod.account": "tools",
    }
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    assert_refused(
        render(),
        workdir,
        "infra.toml: environments.prod.region: 'eu-west-1' differs from accounts.tools.region "
        "'us-east-1'; Lambda code is served from that region's artifact bucket",
    )


def test_alarm_email_default_applies_and_an_environment_may_clear_it(workdir: Path) -> None:
    changes = {"defaults.alarm_email": "oncall@example.com", "environments.dev.alarm_email": ""}
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    config = load_config(CONFIG)
    assert config.environments["prod"].alarm_email == "oncall@example.com"
    assert config.environments["dev"].alarm_email is None


def test_default_certificate_serves_the_environments_with_a_domain(workdir: Path) -> None:
    """One wildcard certificate for every environment's own domain; none without one."""
    changes = {
        "defaults.certificate_arn": CERTIFICATE,
        "environments.prod.domain_name": "photos.example.com",
    }
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    config = load_config(CONFIG)
    assert config.environments["prod"].certificate_arn == CERTIFICATE
    assert config.environments["dev"].certificate_arn is None
    result = render()
    assert result.exit_code == 0, result.output
    assert CERTIFICATE in rendered_text(workdir, "prod/frontend.json")
    assert CERTIFICATE not in rendered_text(workdir, "dev/frontend.json")


# -- precedence: --set > [environments.<name>] > [defaults] > built-in --------------------------


def backend_memory(workdir: Path, *args: str) -> dict[str, int]:
    """Render with `args`; the MemorySize of a function that declares none, per environment."""
    result = render(*args)
    assert result.exit_code == 0, result.output
    memory = {}
    for env in ("dev", "prod"):
        template = json.loads((workdir / "out" / env / "backend.json").read_text())
        memory[env] = template["Resources"]["UploadsFunction"]["Properties"]["MemorySize"]
    return memory


def test_environment_beats_defaults(workdir: Path) -> None:
    """Shipped: [defaults.lambda] memory 256, [environments.prod.lambda] memory 512."""
    write_config(workdir / CONFIG, SHIPPED.read_text(encoding="utf-8"))
    assert backend_memory(workdir) == {"dev": 256, "prod": 512}


def test_defaults_beat_built_ins(workdir: Path) -> None:
    write_config(workdir / CONFIG, dump_toml(edited({"defaults.lambda.memory": 384})))
    assert backend_memory(workdir) == {"dev": 384, "prod": 512}


def test_built_ins_apply_without_defaults(workdir: Path) -> None:
    write_config(
        workdir / CONFIG,
        dump_toml(edited({"defaults": DELETE, "environments.prod.lambda": DELETE})),
    )
    assert backend_memory(workdir) == {"dev": 256, "prod": 256}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("environments.dev.lambda.memory=1024", {"dev": 1024, "prod": 512}),
        ("environments.prod.lambda.memory=2048", {"dev": 256, "prod": 2048}),
        ("defaults.lambda.memory=768", {"dev": 768, "prod": 512}),
    ],
)
def test_set_beats_the_file(override: str, expected: dict[str, int], workdir: Path) -> None:
    """`--set` patches the file before validation, so [defaults] still loses to the env."""
    write_config(workdir / CONFIG, SHIPPED.read_text(encoding="utf-8"))
    assert backend_memory(workdir, "--set", override) == expected


def test_later_set_wins(workdir: Path) -> None:
    write_config(workdir / CONFIG, SHIPPED.read_text(encoding="utf-8"))
    args = ("--set", "environments.dev.lambda.memory=1024")
    args += ("--set", "environments.dev.lambda.memory=2048")
    assert backend_memory(workdir, *args) == {"dev": 2048, "prod": 512}


MB = 1024 * 1024


def upload_limits(workdir: Path, *args: str) -> dict[str, str]:
    """Render with `args`; the uploads function's MAX_UPLOAD_BYTES (from max_upload_mb), per env."""
    result = render(*args)
    assert result.exit_code == 0, result.output
    limits = {}
    for env in ("dev", "prod"):
        template = json.loads((workdir / "out" / env / "backend.json").read_text())
        variables = template["Resources"]["UploadsFunction"]["Properties"]["Environment"]
        limits[env] = variables["Variables"]["MAX_UPLOAD_BYTES"]
    return limits


@pytest.mark.parametrize(
    ("changes", "args", "expected"),
    [
        ({}, (), {"dev": 10, "prod": 10}),
        ({"defaults.settings": DELETE}, (), {"dev": 10, "prod": 10}),  # app.py's default
        ({"defaults.settings.max_upload_mb": 5}, (), {"dev": 5, "prod": 5}),
        ({"environments.prod.settings.max_upload_mb": 20}, (), {"dev": 10, "prod": 20}),
        (
            {"environments.prod.settings.max_upload_mb": 20},
            ("--set", "environments.prod.settings.max_upload_mb=40"),
            {"dev": 10, "prod": 40},
        ),
        (
            {"environments.prod.settings.max_upload_mb": 20},
            ("--set", "defaults.settings.max_upload_mb=30"),
            {"dev": 30, "prod": 20},
        ),
    ],
    ids=[
        "shipped",
        "declared-default",
        "defaults",
        "environment-beats-defaults",
        "set-beats-environment",
        "set-on-defaults-loses-to-environment",
    ],
)
def test_settings_precedence_reaches_the_template(
    changes: dict[str, Any], args: tuple[str, ...], expected: dict[str, int], workdir: Path
) -> None:
    write_config(workdir / CONFIG, dump_toml(edited(changes)))
    assert upload_limits(workdir, *args) == {env: str(mb * MB) for env, mb in expected.items()}
