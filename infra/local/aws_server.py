"""Start and stop the local AWS (moto's server with our fixes) as a process of its own.

Stopped by its own process id, always: `LocalAws` is a context manager, and `stop` is
safe to call twice.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from infra.errors import InfraError

START_SECONDS = 60
DEFAULT_ACCOUNT = "123456789012"
# What a process talking to the local AWS signs with: never the shell's real credentials.
LOCAL_CREDENTIALS: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_DEFAULT_PROFILE": None,
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalAws:
    """moto's server on `host:port`, answering for `account`, logging to `log` if given.

    `environment` adds variables for the server's fixes (the mailbox file, say).
    """

    host: str = "127.0.0.1"
    port: int = 0
    account: str = DEFAULT_ACCOUNT
    log: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        """The URL AWS clients are given. `localhost`, so S3 serves virtual-hosted buckets
        (`<bucket>.localhost`, which browsers resolve to this machine)."""
        host = "localhost" if self.host in ("127.0.0.1", "localhost") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> LocalAws:
        if self.port == 0:
            self.port = free_port(self.host)
        env = {
            **os.environ,
            "MOTO_ACCOUNT_ID": self.account,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            **self.environment,
        }
        command = [sys.executable, "-m", "infra.local.moto_fixes", "-H", self.host]
        with open(self.log if self.log else os.devnull, "ab") as output:  # the child keeps its own
            self.process = subprocess.Popen(
                [*command, "-p", str(self.port)], stdout=output, stderr=output, env=env
            )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                url = f"http://127.0.0.1:{self.port}/moto-api/"
                urllib.request.urlopen(url, timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise InfraError(
                        f"the local AWS did not start on {self.host}:{self.port}"
                        + (f"; see {self.log}" if self.log else "")
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
