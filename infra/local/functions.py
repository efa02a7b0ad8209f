"""The app's functions, run on this machine as Lambda runs them.

Each function runs from its packaged code: the packager builds its zip (own files, the
shared modules it declares, its dependencies installed for this machine's Python) and
the zip is unpacked into the local state folder. Its process sees only that code and
what the Lambda runtime provides (boto3 and its dependencies), with exactly the
environment its deployed template gives it, so a missing requirement or a wrong
setting breaks here as it would on AWS. A changed source file is picked up on the next
invocation: the zip is rebuilt and the process restarted. The process leads a process
group of its own: a timeout or `stop` ends it and whatever it started, as Lambda ends a
sandbox, and the next invocation gets a fresh process.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.app import Function
from infra.errors import InfraError
from infra.package import RUNTIME_PROVIDED, DependencyCache, Packager

WORKER = Path(__file__).with_name("worker.py")
# What the Lambda runtime puts on the path beside the function's code.
RUNTIME_PACKAGES = (*RUNTIME_PROVIDED, "jmespath", "dateutil", "urllib3", "six")
START_SECONDS = 60.0

Log = Callable[[str], None]


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended."""

    function: str
    trigger: str
    ok: bool
    seconds: float
    result: Any = None
    error_type: str = ""
    error_message: str = ""
    stack_trace: tuple[str, ...] = ()

    @property
    def error(self) -> dict[str, Any]:
        """The error as Lambda reports it to callers and destinations."""
        return {
            "errorType": self.error_type,
            "errorMessage": self.error_message,
            "stackTrace": list(self.stack_trace),
        }


@dataclass
class FunctionConfiguration:
    """A deployed function: the values its template gives it, resolved."""

    declared: Function
    name: str  # the physical name, `<app>-<env>-<function>`
    arn: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    log_group: str = ""


def host_pip_install(requirements: Path, target: Path, _defaults: Any) -> None:
    """Dependencies for this machine's Python (the zip on AWS gets Lambda's platform)."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--prefer-binary", "--target", str(target), "--requirement",
        str(requirements),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        reason = (lines or result.stderr.strip().splitlines() or ["no output"])[0]
        raise InfraError(f"{requirements}: pip could not install for this machine: {reason}")


def runtime_folder(state: Path) -> Path:
    """A folder holding only what the Lambda runtime provides: boto3 and its dependencies."""
    folder = state / "runtime"
    if folder.exists():
        return folder
    staging = state / f".runtime-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    for name in RUNTIME_PACKAGES:
        try:
            module = __import__(name)
        except ImportError:
            continue
        origin = Path(module.__file__ or "").parent if module.__file__ else None
        if origin is None or not origin.exists():
            continue
        if origin.name == name:
            (staging / name).symlink_to(origin, target_is_directory=True)
        else:  # a single-file module such as six.py
            (staging / Path(module.__file__).name).symlink_to(Path(module.__file__))
    try:
        staging.rename(folder)
    except OSError:  # another runner made it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


class LocalFunction:
    """One function: its code on disk, its process, and one invocation at a time."""

    def __init__(
        self,
        configuration: FunctionConfiguration,
        packager: Packager,
        defaults: Any,
        state: Path,
        endpoint: str,
        region: str,
        log: Log,
    ) -> None:
        self.configuration = configuration
        self.packager = packager
        self.defaults = defaults
        self.state = state
        self.endpoint = endpoint
        self.region = region
        self.log = log
        self.lock = threading.Lock()
        self.process: subprocess.Popen[str] | None = None
        self.closed = False  # the run is stopping: no new process may start
        self.code: Path | None = None
        self.zip_name = ""
        self.log_stream = ""

    @property
    def name(self) -> str:
        return self.configuration.declared.name

    # -- code -------------------------------------------------------------------------------

    def current_code(self) -> Path:
        """The unpacked code of the function's current sources (rebuilt when they change)."""
        built = self.packager.build(self.configuration.declared, self.defaults)
        if built.file == self.zip_name and self.code is not None and self.code.exists():
            return self.code
        folder = self.state / "code" / built.file.removesuffix(".zip")
        if not folder.exists():
            staging = folder.with_name(f".{folder.name}-{uuid.uuid4().hex[:8]}")
            with zipfile.ZipFile(self.packager.out / built.file) as archive:
                archive.extractall(staging)
            try:
                staging.rename(folder)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
        if self.zip_name and built.file != self.zip_name:
            self.log(f"{self.name}: code changed, reloading ({built.file})")
            self.stop()
        self.zip_name, self.code = built.file, folder
        return folder

    # -- the process ------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """Exactly what Lambda sets, plus the template's variables; nothing from this shell."""
        configuration = self.configuration
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python_local",
            "AWS_LAMBDA_FUNCTION_NAME": configuration.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": configuration.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "LAMBDA_TASK_ROOT": str(self.code),
            "_HANDLER": configuration.handler,
            **configuration.environment,
        }

    def start(self) -> subprocess.Popen[str]:
        if self.closed:
            raise _InitError({"errorType": "Stopped", "errorMessage": "the local run is stopping"})
        code = self.current_code()
        if self.process is not None and self.process.poll() is None:
            return self.process
        runtime = runtime_folder(self.state)
        self.log_stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"
        bootstrap = (
            "import sys; sys.path[0:1] = [sys.argv[1], sys.argv[2]]; "
            "import runpy; sys.argv = [sys.argv[3], sys.argv[4]]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')"
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-S",
                "-E",
                "-B",
                "-u",
                "-c",
                bootstrap,
                str(code),
                str(runtime),
                str(WORKER),
                self.configuration.handler,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=code,
            env=self.environment(),
            start_new_session=True,
        )
        threading.Thread(target=self._forward_logs, args=(process,), daemon=True).start()
        self.process = process
        if self.closed:  # close() ran while it started: it may not have seen this process
            self.stop()
            raise _InitError({"errorType": "Stopped", "errorMessage": "the local run is stopping"})
        ready = self._reply(process, START_SECONDS)
        if ready is None or not ready.get("ok"):
            self.stop()
            if ready is None and process.returncode not in (None, -signal.SIGKILL):
                ready = exit_error(process.returncode)
            raise _InitError(ready or {"errorType": "InitTimeout", "errorMessage": "no answer"})
        return process

    def _forward_logs(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                self.log(f"  {self.name} | {line.rstrip()}")

    def _reply(self, process: subprocess.Popen[str], seconds: float) -> dict[str, Any] | None:
        """The worker's next line, or None when `seconds` pass or the process ends first."""
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], seconds)
        if not ready:
            return None
        line = process.stdout.readline()
        if not line:  # its end of the pipe closed: the process is ending
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            return None
        return json.loads(line)

    def close(self) -> None:
        """Stop for good: the process now, and any an invocation still waiting would start."""
        self.closed = True
        self.stop()

    def stop(self) -> None:
        """End the process and everything it started (its process group), by its id."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pipe in (process.stdin, process.stdout):  # stderr: its reader thread closes it
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()

    # -- invoking ---------------------------------------------------------------------------

    def invoke(self, event: Any, trigger: str) -> Invocation:
        """Run the handler once, as a synchronous invocation; never raises for its errors."""
        with self.lock:
            started = time.monotonic()
            try:
                process = self.start()
            except _InitError as err:
                return self._failed(trigger, started, err.reply)
            request = {
                "event": event,
                "requestId": str(uuid.uuid4()),
                "functionArn": self.configuration.arn,
                "timeout": self.configuration.timeout,
            }
            assert process.stdin is not None
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError):
                self.stop()
                return self._failed(
                    trigger, started, {"errorType": "Runtime.ExitError", "errorMessage": "exited"}
                )
            reply = self._reply(process, float(self.configuration.timeout))
            if reply is None:
                exited = process.poll() is not None  # before the timeout, on its own
                self.stop()
                seconds = time.monotonic() - started
                if exited:
                    return self._failed(trigger, started, exit_error(process.returncode), seconds)
                message = f"Task timed out after {self.configuration.timeout:.2f} seconds"
                return self._failed(
                    trigger, started, {"errorType": "Sandbox.Timedout", "errorMessage": message},
                    seconds,
                )  # fmt: skip
            if not reply.get("ok"):
                return self._failed(trigger, started, reply)
            return Invocation(
                self.name, trigger, True, time.monotonic() - started, reply.get("result")
            )

    def _failed(
        self,
        trigger: str,
        started: float,
        reply: dict[str, Any],
        seconds: float | None = None,
    ) -> Invocation:
        return Invocation(
            self.name,
            trigger,
            False,
            seconds if seconds is not None else time.monotonic() - started,
            error_type=str(reply.get("errorType", "Error")),
            error_message=str(reply.get("errorMessage", "")),
            stack_trace=tuple(reply.get("stackTrace", ())),
        )


def exit_error(status: int | None) -> dict[str, Any]:
    """What Lambda reports when the runtime's process ends during an invocation."""
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"Runtime exited with error: exit status {status}",
    }


class _InitError(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(reply.get("errorMessage", ""))
        self.reply = reply


@dataclass
class FunctionFleet:
    """Every function of the environment, by declared name and by ARN."""

    functions: dict[str, LocalFunction] = field(default_factory=dict)

    def add(self, function: LocalFunction) -> None:
        self.functions[function.name] = function

    def by_arn(self, arn: str) -> LocalFunction:
        for function in self.functions.values():
            if arn in (function.configuration.arn, function.configuration.name):
                return function
        raise InfraError(f"no local function for {arn}")

    def stop(self) -> None:
        for function in self.functions.values():
            function.close()


def local_packager(root: Path, state: Path, shared_code: str) -> Packager:
    """A packager whose zips and dependencies (for this machine) live in the local state."""
    cache = DependencyCache(state / "deps", host_pip_install)
    return Packager(root, state / "zips", cache, shared_code=shared_code)
