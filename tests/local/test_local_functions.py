"""A function run on this machine as Lambda runs it: `LocalFunction` and its worker process.

Each test writes a tiny handler folder, packs it with the local packager (as `infra local
up` does) and invokes it through a real `LocalFunction`: its own Python process, started
with `-S -E` on the unpacked zip and the runtime's boto3 only, with the environment the
function's template gives it. What a handler sees (event, context, environment, what it
can import) and what callers see (results, Lambda's error shapes, timeouts, exits) are
checked from both sides: the handler reports what it found, and the test checks the
processes by their ids. Every process a test starts is stopped by the `functions` fixture.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.app import Function, Schedule
from infra.config import LambdaDefaults
from infra.errors import InfraError
from infra.local.functions import (
    FunctionConfiguration,
    FunctionFleet,
    Invocation,
    LocalFunction,
    local_packager,
)

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ENDPOINT = "http://localhost:4566"  # never called: no handler here talks to AWS
DEFAULTS = LambdaDefaults(runtime="python3.12", architecture="arm64", memory=128, timeout=3)
# What Lambda's Python runtime puts in a function's environment besides its template's.
LAMBDA_VARIABLES = {
    "PATH",
    "LANG",
    "TZ",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "LAMBDA_TASK_ROOT",
    "_HANDLER",
}
# Python itself adds LC_CTYPE when the machine lacks LANG's locale (PEP 538 coercion).
PYTHON_ADDS = {"LC_CTYPE"}

ECHO = """
import os
import time

def lambda_handler(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(event.get("pause", 0))
    return {
        "event": event,
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": [first, context.get_remaining_time_in_millis()],
    }
"""

RAISES = """
def charge(order):
    raise ValueError(f"order {order['id']} has no customer")

def lambda_handler(event, context):
    return charge(event["order"])
"""

SLEEPS = """
import os
import subprocess
import time

def lambda_handler(event, context):
    if event.get("child"):
        child = subprocess.Popen(["sleep", "60"])
        return {"pid": os.getpid(), "child": child.pid}
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}
"""

LOGS = """
import logging
import sys

logger = logging.getLogger()
logger.setLevel(logging.INFO)

def lambda_handler(event, context):
    print("print: resizing", event["key"])
    print("stderr: slow disk", file=sys.stderr)
    logger.info("resized %s", event["key"])
    logging.getLogger("quiet").debug("never shown at INFO")
    return {"resized": event["key"]}
"""

READS_ENVIRONMENT = """
import os

def lambda_handler(event, context):
    return {"environ": dict(os.environ), "cwd": os.getcwd()}
"""

IMPORTS = """
import importlib
import sys

import helpers  # the function's own module, zipped beside the handler

def lambda_handler(event, context):
    found = {}
    for name in event["modules"]:
        try:
            importlib.import_module(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return {
        "found": found,
        "helper": helpers.greet(),
        "path": sys.path,
        "no_site": sys.flags.no_site,
        "ignore_environment": sys.flags.ignore_environment,
    }
"""


@pytest.fixture
def functions(tmp_path: Path) -> Iterator[Callable[..., LoggedFunction]]:
    """Makes a LocalFunction from handler source; every one is stopped at the end."""
    made: list[LoggedFunction] = []
    state = tmp_path / "state"

    def make(
        source: str,
        *,
        name: str = "worker",
        timeout: int = 3,
        memory: int = 256,
        environment: dict[str, str] | None = None,
        files: dict[str, str] | None = None,
        shared: tuple[str, ...] = (),
        handler: str = "handler.lambda_handler",
    ) -> LoggedFunction:
        root = tmp_path / "app"
        code = root / "functions" / name
        code.mkdir(parents=True, exist_ok=True)
        (code / "handler.py").write_text(textwrap.dedent(source), encoding="utf-8")
        for file_name, text in (files or {}).items():
            (code / file_name).write_text(textwrap.dedent(text), encoding="utf-8")
        declared = Function(
            name=name,
            code=f"functions/{name}",
            trigger=Schedule("rate(1 day)"),
            description=f"the {name} test function",
            handler=handler,
            shared=shared,
        )
        physical = f"shop-dev-{name}"
        configuration = FunctionConfiguration(
            declared=declared,
            name=physical,
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}",
            handler=handler,
            timeout=timeout,
            memory=memory,
            environment=environment or {},
            log_group=f"/aws/lambda/{physical}",
        )
        function = LoggedFunction(
            configuration, local_packager(root, state, "shared"), DEFAULTS, state
        )
        made.append(function)
        return function

    yield make
    for function in made:
        function.stop()


class LoggedFunction(LocalFunction):
    """A LocalFunction whose log lines (the runner's echo) are kept in `lines`."""

    def __init__(self, configuration: FunctionConfiguration, *args: Any) -> None:
        self.lines: list[str] = []
        super().__init__(configuration, *args, ENDPOINT, REGION, self.lines.append)


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie waiting for its parent is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def wait_for_line(lines: list[str], needle: str, seconds: float = 5.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in list(lines):
            if needle in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never logged; the log was:\n" + "\n".join(lines))


def ok(invocation: Invocation) -> Any:
    assert invocation.ok, invocation.error
    return invocation.result


# -- results and the context ------------------------------------------------------------------


def test_the_handler_gets_the_event_and_lambdas_context(functions: Callable[..., Any]) -> None:
    function = functions(ECHO, timeout=3, memory=256)
    event = {"orderId": "o-1001", "items": [{"sku": "A-7", "quantity": 2}], "pause": 0.2}

    result = ok(function.invoke(event, "test"))

    assert result["event"] == event
    assert result["function_name"] == "shop-dev-worker"
    assert result["function_version"] == "$LATEST"
    assert result["invoked_function_arn"] == function.configuration.arn
    assert result["memory_limit_in_mb"] == "256"  # a string, as the Python runtime gives it
    assert result["log_group_name"] == "/aws/lambda/shop-dev-worker"
    assert "[$LATEST]" in result["log_stream_name"]
    first, later = result["remaining"]
    assert 2000 < first <= 3000  # the 3 s timeout, counted from the invocation's start
    assert 150 <= first - later < 1000  # the handler slept 0.2 s in between
    assert len(result["aws_request_id"]) == 36


def test_a_warm_process_answers_the_next_invocation_with_a_new_request_id(
    functions: Callable[..., Any],
) -> None:
    function = functions(ECHO)

    first = ok(function.invoke({"n": 1}, "test"))
    second = ok(function.invoke({"n": 2}, "test"))

    assert second["event"] == {"n": 2}
    assert second["pid"] == first["pid"]  # the same sandbox, warm
    assert second["aws_request_id"] != first["aws_request_id"]
    assert second["remaining"][0] > 2000  # each invocation has its own deadline


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("Decimal('19.99')", 19.99),  # what a DynamoDB read gives: a number, not a string
        ("Decimal('3')", 3),
        ("{'total': Decimal('2.50'), 'count': Decimal('4')}", {"total": 2.5, "count": 4}),
        ("None", None),
        ("'plain text'", "plain text"),
    ],
)
def test_a_result_is_json_as_the_runtime_writes_it(
    functions: Callable[..., Any], returned: str, expected: Any
) -> None:
    source = f"""
    from decimal import Decimal

    def lambda_handler(event, context):
        return {returned}
    """
    function = functions(source)

    assert ok(function.invoke({}, "test")) == expected


def test_a_result_json_cannot_hold_is_a_marshal_error(functions: Callable[..., Any]) -> None:
    source = """
    import datetime

    def lambda_handler(event, context):
        return {"at": datetime.datetime(2026, 1, 1)}
    """
    function = functions(source)

    invocation = function.invoke({}, "test")

    assert not invocation.ok
    assert invocation.error_type == "Runtime.MarshalError"
    assert invocation.error_message.startswith("Unable to marshal response: ")
    assert "datetime" in invocation.error_message


# -- errors -----------------------------------------------------------------------------------


def test_an_exception_is_reported_as_lambda_reports_it(functions: Callable[..., Any]) -> None:
    function = functions(RAISES)

    invocation = function.invoke({"order": {"id": "o-7"}}, "test")

    assert not invocation.ok
    error = invocation.error
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "order o-7 has no customer"
    trace = error["stackTrace"]
    # Only the handler's frames, each `  File "...", line N, in name\n    code\n`.
    assert [frame.split(", in ")[1].split("\n")[0] for frame in trace] == [
        "lambda_handler",
        "charge",
    ]
    assert all(frame.startswith('  File "') and "/handler.py" in frame for frame in trace)
    assert "raise ValueError(f\"order {order['id']} has no customer\")" in trace[-1]
    assert not any("worker.py" in frame or "Traceback" in frame for frame in trace)


def test_after_an_exception_the_same_process_serves_the_next_invocation(
    functions: Callable[..., Any],
) -> None:
    source = """
    import os

    def lambda_handler(event, context):
        if event.get("fail"):
            raise KeyError("customer")
        return os.getpid()
    """
    function = functions(source)
    pid = ok(function.invoke({}, "test"))

    failed = function.invoke({"fail": True}, "test")
    after = function.invoke({}, "test")

    assert (failed.error_type, failed.error_message) == ("KeyError", "'customer'")
    assert ok(after) == pid


@pytest.mark.parametrize(
    ("source", "handler", "error_type", "message"),
    [
        (
            "import requests\n\ndef lambda_handler(event, context):\n    return 1\n",
            "handler.lambda_handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'handler': No module named 'requests'",
        ),
        (
            "def lambda_handler(event, context)\n    return 1\n",
            "handler.lambda_handler",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'handler': ",
        ),
        (
            "def handle(event, context):\n    return 1\n",
            "handler.lambda_handler",
            "Runtime.HandlerNotFound",
            "Handler 'lambda_handler' missing on module 'handler'",
        ),
        (
            "import os\nTABLE = os.environ['TABLE_NAME']\n\n"
            "def lambda_handler(event, context):\n    return TABLE\n",
            "handler.lambda_handler",
            "KeyError",
            "'TABLE_NAME'",
        ),
        (
            "import sys\nsys.exit(2)\n",
            "handler.lambda_handler",
            "Runtime.ExitError",
            "Runtime exited with error: exit status 2",
        ),
    ],
    ids=["missing-dependency", "syntax-error", "no-such-handler", "module-level-error", "exits"],
)
def test_a_handler_that_cannot_load_fails_every_invocation_with_lambdas_init_error(
    functions: Callable[..., Any], source: str, handler: str, error_type: str, message: str
) -> None:
    function = functions(source, handler=handler)

    first = function.invoke({}, "test")
    second = function.invoke({}, "test")

    for invocation in (first, second):
        assert not invocation.ok
        assert invocation.error_type == error_type
        assert invocation.error_message.startswith(message)
    assert function.process is None  # nothing left running after a failed init


def test_sys_exit_in_a_handler_ends_its_process_and_the_next_invocation_gets_a_new_one(
    functions: Callable[..., Any],
) -> None:
    source = """
    import os
    import sys

    def lambda_handler(event, context):
        if event.get("exit"):
            sys.exit(3)
        return os.getpid()
    """
    function = functions(source)
    pid = ok(function.invoke({}, "test"))

    exited = function.invoke({"exit": True}, "test")
    after = ok(function.invoke({}, "test"))

    assert exited.error_type == "Runtime.ExitError"
    assert exited.error_message == "Runtime exited with error: exit status 3"
    assert exited.seconds < 2  # reported when it exits, not after the timeout
    assert gone(pid)
    assert after != pid


# -- timeouts ---------------------------------------------------------------------------------


def test_a_timeout_kills_the_invocation_and_the_next_one_runs_in_a_fresh_process(
    functions: Callable[..., Any],
) -> None:
    function = functions(SLEEPS, timeout=1)
    pid = ok(function.invoke({}, "test"))["pid"]

    timed_out = function.invoke({"sleep": 30}, "test")

    assert not timed_out.ok
    assert timed_out.error_type == "Sandbox.Timedout"
    assert timed_out.error_message == "Task timed out after 1.00 seconds"
    assert 1.0 <= timed_out.seconds < 3.0
    assert gone(pid)
    fresh = ok(function.invoke({}, "test"))["pid"]
    assert fresh != pid
    assert alive(fresh)


def test_a_handler_just_under_its_timeout_succeeds(functions: Callable[..., Any]) -> None:
    function = functions(SLEEPS, timeout=1)

    assert ok(function.invoke({"sleep": 0.5}, "test"))["pid"] > 0


def test_a_timeout_also_ends_what_the_handler_started(functions: Callable[..., Any]) -> None:
    source = """
    import subprocess
    import time

    def lambda_handler(event, context):
        child = subprocess.Popen(["sleep", "60"])
        print("child", child.pid, flush=True)
        time.sleep(30)
    """
    function = functions(source, timeout=1)

    invocation = function.invoke({}, "test")

    assert invocation.error_type == "Sandbox.Timedout"
    child = int(wait_for_line(function.lines, "| child ").rsplit(" ", 1)[1])
    assert gone(child)


# -- logs -------------------------------------------------------------------------------------


def test_prints_and_log_records_go_to_the_functions_log_not_its_result(
    functions: Callable[..., Any],
) -> None:
    function = functions(LOGS)

    invocation = function.invoke({"key": "photos/cat.jpg"}, "test")

    assert ok(invocation) == {"resized": "photos/cat.jpg"}
    assert wait_for_line(function.lines, "print: resizing photos/cat.jpg").startswith("  worker | ")
    wait_for_line(function.lines, "stderr: slow disk")
    # The root logger has the runtime's handler: `[LEVEL]\ttime\trequest id\tmessage`.
    logged = wait_for_line(function.lines, "resized photos/cat.jpg")
    level, stamp, request_id, message = logged.split(" | ", 1)[1].split("\t")
    assert level == "[INFO]"
    assert stamp.endswith("Z") and "T" in stamp
    assert len(request_id) == 36
    assert message == "resized photos/cat.jpg"
    assert not any("never shown" in line for line in function.lines)


# -- the environment and isolation ------------------------------------------------------------


def test_the_environment_is_the_templates_variables_plus_lambdas_own(
    functions: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELL_SECRET", "do-not-leak")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("PYTHONPATH", "/work/main")
    monkeypatch.setenv("VIRTUAL_ENV", "/work/main/.venv")
    template = {"TABLE_NAME": "shop-dev-orders", "POWERTOOLS_SERVICE_NAME": "worker"}
    function = functions(READS_ENVIRONMENT, memory=512, environment=template)

    result = ok(function.invoke({}, "test"))
    environ = result["environ"]

    assert LAMBDA_VARIABLES | template.keys() <= environ.keys()
    assert environ.keys() - LAMBDA_VARIABLES - template.keys() <= PYTHON_ADDS
    assert {key: environ[key] for key in template} == template
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == REGION
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "shop-dev-worker"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/shop-dev-worker"
    assert environ["AWS_ENDPOINT_URL"] == ENDPOINT
    assert environ["_HANDLER"] == "handler.lambda_handler"
    assert environ["LAMBDA_TASK_ROOT"] == result["cwd"]
    assert environ["AWS_ACCESS_KEY_ID"] == "local"  # never the shell's ("testing" here)


def test_the_handler_imports_only_its_package_and_the_runtimes_boto3(
    functions: Callable[..., Any],
) -> None:
    helpers = 'def greet():\n    return "hello from helpers"\n'
    function = functions(IMPORTS, files={"helpers.py": helpers})
    modules = ["boto3", "botocore", "infra", "tests", "troposphere", "pytest", "moto"]

    result = ok(function.invoke({"modules": modules}, "test"))

    assert result["found"] == {
        "boto3": True,  # the Lambda runtime provides it
        "botocore": True,
        "infra": False,  # the project's own packages
        "tests": False,
        "troposphere": False,  # the dev venv's site-packages
        "pytest": False,
        "moto": False,
    }
    assert result["helper"] == "hello from helpers"
    assert (result["no_site"], result["ignore_environment"]) == (1, 1)
    assert not any("site-packages" in entry for entry in result["path"])
    assert result["path"][0] == function.code.as_posix()
    assert not (function.code / "__pycache__").exists()  # -B: the code folder stays as unzipped


LOOKUPS = """
import socket


def lambda_handler(event, context):
    found = {}
    for host in event["hosts"]:
        try:
            found[host] = sorted({info[4][0] for info in socket.getaddrinfo(host, 80)})
        except OSError as err:
            found[host] = type(err).__name__
    return found
"""


def test_subdomains_of_localhost_are_this_machine_as_browsers_resolve_them(
    functions: Callable[..., Any],
) -> None:
    """The local AWS's virtual-hosted buckets are `<bucket>.localhost`; RFC 6761 makes every
    such name loopback, but the system resolver here knows only `localhost` itself."""
    hosts = ["media-bucket.localhost", "A.B.LOCALHOST.", "127.0.0.1"]
    found = ok(functions(LOOKUPS).invoke({"hosts": hosts}, "test"))

    assert found["media-bucket.localhost"] == ["127.0.0.1"]
    assert found["A.B.LOCALHOST."] == ["127.0.0.1"]
    assert found["127.0.0.1"] == ["127.0.0.1"]  # addresses pass through untouched


# -- hot reload -------------------------------------------------------------------------------


def test_a_changed_source_file_is_picked_up_by_the_next_invocation(
    functions: Callable[..., Any],
) -> None:
    source = "import os\n\ndef lambda_handler(event, context):\n    return ['{}', os.getpid()]\n"
    function = functions(source.format("v1"))
    version, pid = ok(function.invoke({}, "test"))
    handler = function.packager.root / "functions" / "worker" / "handler.py"

    handler.write_text(source.format("v2"), encoding="utf-8")
    reloaded, new_pid = ok(function.invoke({}, "test"))
    unchanged, same_pid = ok(function.invoke({}, "test"))

    assert (version, reloaded, unchanged) == ("v1", "v2", "v2")
    assert new_pid != pid and gone(pid)
    assert same_pid == new_pid  # no change, no restart
    assert any("code changed, reloading" in line for line in function.lines)


def test_a_changed_shared_module_is_picked_up_too(
    functions: Callable[..., Any], tmp_path: Path
) -> None:
    shared = tmp_path / "app" / "shared"
    shared.mkdir(parents=True)
    (shared / "pricing.py").write_text("RATE = 0.2\n", encoding="utf-8")
    source = "import pricing\n\ndef lambda_handler(event, context):\n    return pricing.RATE\n"
    function = functions(source, shared=("pricing.py",))
    assert ok(function.invoke({}, "test")) == 0.2

    (shared / "pricing.py").write_text("RATE = 0.25\n", encoding="utf-8")

    assert ok(function.invoke({}, "test")) == 0.25


def test_a_source_that_breaks_is_reported_and_its_fix_picked_up(
    functions: Callable[..., Any],
) -> None:
    function = functions("def lambda_handler(event, context):\n    return 'ok'\n")
    assert ok(function.invoke({}, "test")) == "ok"
    handler = function.packager.root / "functions" / "worker" / "handler.py"

    handler.write_text("def lambda_handler(event, context):\n    return (\n", encoding="utf-8")
    broken = function.invoke({}, "test")
    handler.write_text("def lambda_handler(event, context):\n    return 'fixed'\n")
    fixed = function.invoke({}, "test")

    assert broken.error_type == "Runtime.UserCodeSyntaxError"
    assert ok(fixed) == "fixed"


# -- stopping ---------------------------------------------------------------------------------


def test_stop_leaves_no_process_behind(functions: Callable[..., Any]) -> None:
    function = functions(SLEEPS)
    result = ok(function.invoke({"child": True}, "test"))
    assert alive(result["pid"]) and alive(result["child"])

    function.stop()
    function.stop()  # twice is safe

    assert function.process is None
    assert gone(result["pid"])
    assert gone(result["child"])  # what the handler started ends with its sandbox


def test_the_fleet_finds_functions_by_arn_or_name_and_stops_them_all(
    functions: Callable[..., Any],
) -> None:
    fleet = FunctionFleet()
    for name in ("resize", "notify"):
        fleet.add(functions(SLEEPS, name=name))
    pids = [ok(function.invoke({}, "test"))["pid"] for function in fleet.functions.values()]

    by_arn = fleet.by_arn(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-dev-resize")
    by_name = fleet.by_arn("shop-dev-notify")
    with pytest.raises(InfraError, match="no local function for shop-dev-missing"):
        fleet.by_arn("shop-dev-missing")
    fleet.stop()

    assert (by_arn.name, by_name.name) == ("resize", "notify")
    assert all(gone(pid) for pid in pids)
    # Stopped for good: an invocation that comes after the run stopped starts nothing.
    late = by_arn.invoke({}, "test")
    assert by_arn.process is None
    assert not late.ok and late.error_type == "Stopped", late
