"""The functions keep to app.py: the variables they read, the AWS actions they call,
the shared modules they import, the routes they must never shadow."""

from __future__ import annotations

import ast
import importlib
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import link_codes
import links_testing as lt
import pytest

from infra.app import App, HttpRoutes
from infra.app.load import load_declaration

FOLDERS = {
    "create-link": "create_link",
    "redirect": "redirect",
    "count-clicks": "count_clicks",
    "nightly-report": "nightly_report",
}


@pytest.fixture(scope="module")
def app() -> App:
    return load_declaration(lt.APP / "app.py", "infra.toml")


@pytest.fixture(scope="module")
def specs(app: App) -> dict[str, Any]:
    return {spec.name: spec for spec in app.functions}


def test_every_declared_function_is_here(specs: dict[str, Any], app: App) -> None:
    assert set(specs) == set(FOLDERS)
    assert app.shared_code == "lambdas/shared"
    for name, spec in specs.items():
        assert spec.code == f"lambdas/{FOLDERS[name]}"
        assert spec.handler == "handler.lambda_handler"
        assert callable(lt.load_handler(FOLDERS[name]).lambda_handler)


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which names were read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("a function must read its variables by name, not list them")

    def __len__(self) -> int:
        return len(self.values)


@pytest.mark.parametrize("name", FOLDERS)
def test_settings_read_exactly_the_declared_variables(specs: dict[str, Any], name: str) -> None:
    declared = set(specs[name].environment)
    logic = importlib.import_module(f"{FOLDERS[name]}_logic")
    env = RecordingEnv({key: lt.FUNCTION_ENV[key] for key in declared})
    logic.Settings.from_env(env)
    assert env.read == declared


def _code_files(folder: str, shared: tuple[str, ...]) -> list[Path]:
    own = sorted((lt.LAMBDAS / folder).glob("*.py"))
    return own + [lt.LAMBDAS / "shared" / module for module in shared]


@pytest.mark.parametrize("name", FOLDERS)
def test_only_the_handler_touches_the_environment(specs: dict[str, Any], name: str) -> None:
    """os.environ is read in one place, `Settings.from_env(os.environ)` in handler.py."""
    for path in _code_files(FOLDERS[name], specs[name].shared):
        source = path.read_text()
        uses = len(re.findall(r"\benviron\b|\bgetenv\b|\benvirons\b", source))
        expected = 1 if path.name == "handler.py" else 0
        assert uses == expected, path
        if expected:
            assert "Settings.from_env(os.environ)" in source, path


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("name", FOLDERS)
def test_imports_are_stdlib_boto3_own_or_declared_shared(specs: dict[str, Any], name: str) -> None:
    spec = specs[name]
    folder = lt.LAMBDAS / FOLDERS[name]
    own = {path.stem for path in folder.glob("*.py")}
    available_shared = {path.stem for path in (lt.LAMBDAS / "shared").glob("*.py")}
    imported = set().union(*(_imports(p) for p in _code_files(FOLDERS[name], spec.shared)))
    declared = {module.removesuffix(".py") for module in spec.shared}
    assert imported & available_shared == declared, "import exactly the declared shared modules"
    third_party = imported - own - declared - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party <= {"boto3", "botocore"}
    assert not (folder / "requirements.txt").exists() or not any(
        line.split("#")[0].strip()
        for line in (folder / "requirements.txt").read_text().splitlines()
    )


def test_no_route_segment_can_be_a_code(app: App) -> None:
    """`GET /{code}` catches every one-segment path: a literal route prefix must be reserved."""
    for spec in app.functions:
        if isinstance(spec.trigger, HttpRoutes):
            for route in spec.trigger.routes:
                first = route.split(" ", 1)[1].strip("/").split("/")[0]
                if not first.startswith("{"):
                    assert link_codes.is_reserved(first), route


# --- the AWS actions each function calls are exactly its grants --------------------------


def _actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions a call needs: a transaction needs its parts' item actions."""
    if operation == "TransactWriteItems":
        parts = {"Update": "UpdateItem", "Put": "PutItem", "Delete": "DeleteItem"}
        parts["ConditionCheck"] = "ConditionCheckItem"
        return {f"dynamodb:{parts[kind]}" for item in params["TransactItems"] for kind in item}
    return {f"{service}:{operation}"}


def test_the_actions_called_are_exactly_the_grants(
    aws: Any,
    specs: dict[str, Any],
    stream: lt.Stream,
    read_reports: Any,
    context: Any,
) -> None:
    used: dict[str, set[str]] = {name: set() for name in FOLDERS}
    current = [""]
    returns: list[str] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.signing_name
        used.setdefault(current[0], set()).update(_actions(service, model.name, params))
        parts = [params, *(next(iter(p.values())) for p in params.get("TransactItems", []))]
        # Returned old items may need read actions the grants do not give.
        returns.extend(key for part in parts for key in part if key.startswith("ReturnValues"))

    boto3.setup_default_session()  # handlers' clients are created after this, with the hook
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", record)
    try:

        def call(name: str, event: dict[str, Any]) -> dict[str, Any]:
            current[0] = name
            try:
                return lt.load_handler(FOLDERS[name]).lambda_handler(event, context)
            finally:
                current[0] = ""

        created = call("create-link", lt.create_link_event({"url": "https://example.com/"}))
        code = created["body"].split('"code": "')[1].split('"')[0]
        assert (
            call("create-link", lt.create_link_event({"url": "https://x.example/", "code": code}))[
                "statusCode"
            ]
            == 409
        )
        assert call("redirect", lt.redirect_event(code))["statusCode"] == 302
        assert call("redirect", lt.redirect_event("nosuchcode"))["statusCode"] == 404
        assert call("count-clicks", lt.stream_event(*stream.read())) == {"batchItemFailures": []}
        assert call("nightly-report", lt.scheduled_event())["listed"] == [code]
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-parameter-build", record)
        boto3.DEFAULT_SESSION = None
    assert len(read_reports()) == 1
    for name, spec in specs.items():
        granted = {action.JSONrepr() for grant in spec.grants for action in grant.actions}
        assert used[name] == granted, name
    assert used.get("", set()) == set()
    assert returns == []
