"""A generated corpus of bad values: every key of the schema, each wrong in every way.

The keys come from the schema `infra.config` checks against (and the app's own settings
from its declaration), never from a list written here, so a key added there is covered
here. Each key is set, in a complete and valid file, to a value of each wrong type, to
its valid value padded with whitespace or with a look-alike character, and to values
nested too deeply, through the file and through `--set`. Every case runs `render`
through the command group and must end the same way: exit code 2, exactly one line on
stderr naming the file and the key, no traceback, nothing written.
"""

from __future__ import annotations

import copy
import datetime
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from infra.cli import cli
from infra.config import (
    ACCOUNT_KEYS,
    APP_KEYS,
    CLEARABLE_KEYS,
    DEFAULTS_KEYS,
    ENVIRONMENT_KEYS,
    LAMBDA_KEYS,
    PIPELINE_KEYS,
    TOP_KEYS,
    load_config,
)
from infra.shown import dotted
from tests.config.corpus_app import app as declaration
from tests.config.toml_text import Raw, dump_toml, toml_value

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "infra.toml"
CONFIG = "infra.toml"
CERTIFICATE = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
CONNECTION = (
    "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
)
# Where each table of the schema sits in a file: the account and environment named here
# are the complete file's own.
ACCOUNT = ("accounts", "main")
ENVIRONMENT = ("environments", "prod")
DEEP = 1000  # far past what tomllib (a recursive parser) can read
SHALLOW_BUT_TOO_DEEP = 40  # tomllib reads it; the library must refuse it before recursing


def complete_config() -> dict[str, Any]:
    """The shipped file with every optional key set, so every string key has a valid value."""
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    data["accounts"]["main"] |= {
        "account_id": "111111111111",
        "flow_logs_vpc_id": "vpc-0123456789abcdef0",
    }
    data["defaults"] |= {
        "account": "main",
        "region": "eu-west-1",
        "alarm_email": "oncall@example.com",
        "certificate_arn": CERTIFICATE,
    }
    data["environments"]["prod"] |= {
        "price_class": "PriceClass_All",
        "domain_name": "photos.example.com",
        "certificate_arn": CERTIFICATE,
        "alarm_email": "prod-oncall@example.com",
    }
    data["environments"]["prod"]["settings"] = {"max_upload_mb": 20, "thumbnail_sizes": [128]}
    data["environments"]["prod"]["lambda"] |= {
        "runtime": "python3.13",
        "architecture": "x86_64",
        "timeout": 20,
    }
    data["pipeline"] |= {
        "repository": "acme/photos",
        "connection_arn": CONNECTION,
        "notification_email": "team@example.com",
    }
    return data


COMPLETE = complete_config()


def schema_keys() -> list[tuple[tuple[str, ...], type]]:
    """Every key of the schema where the complete file has it, with the kind it takes."""
    keys: list[tuple[tuple[str, ...], type]] = [((name,), kind) for name, kind in TOP_KEYS.items()]
    keys += [(("app", name), kind) for name, kind in APP_KEYS.items()]
    keys += [(ACCOUNT, dict)] + [((*ACCOUNT, name), kind) for name, kind in ACCOUNT_KEYS.items()]
    keys += [(("defaults", name), kind) for name, kind in DEFAULTS_KEYS.items()]
    keys += [(ENVIRONMENT, dict)]
    keys += [((*ENVIRONMENT, name), kind) for name, kind in ENVIRONMENT_KEYS.items()]
    for table in (("defaults",), ENVIRONMENT):
        keys += [((*table, "lambda", name), kind) for name, kind in LAMBDA_KEYS.items()]
        keys += [((*table, "settings", s.name), s.kind) for s in declaration.settings]
    keys += [(("pipeline", name), kind) for name, kind in PIPELINE_KEYS.items()]
    return keys


KEYS = schema_keys()

# A value of each type TOML has, and the kinds of key it is right for (never skipped: the
# shapes no key takes).
WRONG_TYPES: dict[str, tuple[Any, tuple[type, ...]]] = {
    "string": ("text", (str,)),
    "int": (7, (int, float)),
    "float": (1.5, (float,)),
    "bool": (True, (bool,)),
    "list": (["text"], (list,)),
    "list-of-lists": ([["text"]], ()),
    "table": ({"key": "text"}, (dict,)),
    "empty-table": ({}, (dict,)),
    "datetime": (datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.UTC), ()),
}
PADDINGS = {
    "leading-space": lambda v: f" {v}",
    "trailing-space": lambda v: f"{v} ",
    "trailing-newline": lambda v: f"{v}\n",
    "leading-tab": lambda v: f"\t{v}",
    "trailing-no-break-space": lambda v: f"{v}\u00a0",
}
# ASCII characters and a Unicode character that looks the same.
LOOK_ALIKES = {
    "a": "\u0430",  # Cyrillic a
    "e": "\u0435",
    "o": "\u043e",
    "p": "\u0440",
    "c": "\u0441",
    "i": "\u0456",
    "-": "\u2010",  # hyphen
    ".": "\u2024",  # one dot leader
    "/": "\u2215",  # division slash
}
DIGIT_LOOK_ALIKES = {str(d): chr(0x0660 + d) for d in range(10)}  # Arabic-Indic digits


def valid_value(key: tuple[str, ...]) -> Any:
    value: Any = COMPLETE
    for part in key:
        value = value[part]
    return value


def replace_first(value: str, table: dict[str, str]) -> str | None:
    for index, char in enumerate(value):
        if char in table:
            return value[:index] + table[char] + value[index + 1 :]
    return None


@dataclass(frozen=True)
class Case:
    """One bad value for one key: in the file, or through --set as TOML text."""

    id: str
    key: tuple[str, ...]
    value: Any = None
    set_text: str | None = None

    def text(self) -> str:
        data = copy.deepcopy(COMPLETE)
        if self.set_text is None:
            *parents, last = self.key
            table = data
            for part in parents:
                table = table[part]
            table[last] = self.value
        return dump_toml(data)

    def args(self) -> list[str]:
        if self.set_text is None:
            return []
        return ["--set", f"{'.'.join(self.key)}={self.set_text}"]


def cases() -> Iterator[Case]:
    for key, kind in KEYS:
        name = ".".join(key)
        for label, (value, right_for) in WRONG_TYPES.items():
            if kind not in right_for:
                yield Case(f"{name}-{label}", key, value)
        deep_list = "[" * DEEP + "]" * DEEP
        yield Case(f"{name}-deep-list", key, Raw(deep_list))
        yield Case(f"{name}-deep-table", key, Raw("{ a = " * DEEP + "1" + " }" * DEEP))
        shallow = [1]
        for _ in range(SHALLOW_BUT_TOO_DEEP):
            shallow = [shallow]
        yield Case(f"{name}-nested-{SHALLOW_BUT_TOO_DEEP}", key, shallow)
        yield Case(f"{name}-deep-list-through-set", key, set_text=deep_list)
        yield Case(f"{name}-nested-through-set", key, set_text=toml_value(shallow))
        if kind is int:  # TOML reads no such digits: the text is taken as a string
            yield Case(f"{name}-fullwidth-digits-through-set", key, set_text="\uff11\uff12\uff18")
        if kind is not str:
            continue
        valid = valid_value(key)
        for label, pad in PADDINGS.items():
            yield Case(f"{name}-{label}", key, pad(valid))
        if key[-1] not in CLEARABLE_KEYS:
            yield Case(f"{name}-empty", key, "")
        for label, table in (("look-alike", LOOK_ALIKES), ("digit-look-alike", DIGIT_LOOK_ALIKES)):
            changed = replace_first(valid, table)
            if changed is not None:
                yield Case(f"{name}-{label}", key, changed)


CASES = list(cases())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the whole corpus; its app.py is the reference app, imported once."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "app.py").write_text("from tests.config.corpus_app import app\n", encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def no_infra_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INFRA_CONFIG", "INFRA_ENV", "INFRA_OUT"):
        monkeypatch.delenv(name, raising=False)


def test_the_complete_file_is_valid(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case differs from it in one value, so each proves that value is refused."""
    monkeypatch.chdir(workdir)
    (workdir / CONFIG).write_text(dump_toml(COMPLETE), encoding="utf-8")
    assert tomllib.loads(dump_toml(COMPLETE)) == COMPLETE
    load_config(CONFIG)


def test_the_corpus_covers_every_key_of_the_schema() -> None:
    covered = {case.key for case in CASES}
    assert covered == {key for key, _kind in KEYS}
    assert len({case.id for case in CASES}) == len(CASES)
    # Every string key has a valid value to pad and disguise.
    assert all(isinstance(valid_value(key), str) for key, kind in KEYS if kind is str)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_value_is_one_line_naming_the_file_and_the_key(
    case: Case, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    (workdir / CONFIG).write_text(case.text(), encoding="utf-8")
    result = CliRunner().invoke(cli, ["render", "--config", CONFIG, "--out", "out", *case.args()])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    where = f"{CONFIG}: {dotted(*case.key)}"
    assert line.startswith(where) and line[len(where)] in ":.[", line
    assert not (workdir / "out").exists()
