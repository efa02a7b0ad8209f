"""An app running on this machine for a test: `infra local up`'s runner, on free ports.

`running_app` deploys an environment into its own local AWS and runs it as `local up`
does; everything it started (the local AWS by its process id, the function processes,
the servers) is stopped when the block ends. `LocalUser` signs a user up and in through
the local Cognito, reading the confirmation code from the run's mailbox.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.runner import LocalApp, Ports, local_app, local_config

WAIT_SECONDS = 60


def free_base_port(attempts: int = 50) -> int:
    """A port P with P..P+3 all free on 127.0.0.1 (the site, API, AWS and control ports)."""
    for _ in range(attempts):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + 3 > 65535:
            continue
        with ExitStack() as held:
            try:
                for port in range(base, base + 4):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return base
    raise RuntimeError("no four consecutive free ports on 127.0.0.1")


@dataclass
class Output:
    """What the run printed, line by line, safe to read while it runs."""

    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines)

    def wait_for(self, needle: str, seconds: float = WAIT_SECONDS) -> str:
        """The first line containing `needle`, waiting for it to be printed."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                for line in self.lines:
                    if needle in line:
                        return line
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never printed; the run printed:\n{self.text()}")


@dataclass
class Running:
    app: LocalApp
    output: Output

    @property
    def ports(self) -> Ports:
        return self.app.ports

    @property
    def api_url(self) -> str:
        return f"http://localhost:{self.ports.api}"

    @property
    def site_url(self) -> str:
        return f"http://localhost:{self.ports.site}"

    def client(self, service: str) -> Any:
        return self.app.clients(service)

    def physical_id(self, kind: str, resource_type: str) -> str:
        """The one resource of `resource_type` in the `kind` stack, by its physical id."""
        stack = self.app.stacks[kind]
        (logical,) = stack.resources(resource_type)
        return stack.physical_ids[logical]


@contextmanager
def running_app(config_path: Path, env: str, state: Path) -> Iterator[Running]:
    """`infra local up --env ENV` for the settings file at `config_path`, until the block ends."""
    base = free_base_port()
    config, environment = local_config(config_path, (), (env,), base)
    output = Output()
    with local_app(config, environment, state, base, output, fresh=True) as app:
        yield Running(app, output)


@dataclass
class LocalUser:
    """A user of the app's user pool, signed up, confirmed and signed in on the local run."""

    run: Running
    email: str = field(default_factory=lambda: f"user-{secrets.token_hex(4)}@example.com")
    password: str = "Correct-Horse-9-battery"
    id_token: str = ""

    @property
    def pool_client(self) -> str:
        return self.run.physical_id("data", "AWS::Cognito::UserPoolClient")

    def confirmation_code(self) -> str:
        mailbox = self.run.app.state / "mailbox.jsonl"
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if mailbox.exists():
                for line in mailbox.read_text(encoding="utf-8").splitlines():
                    mail = json.loads(line)
                    if mail["to"] == self.email:
                        return str(mail["code"])
            time.sleep(0.1)
        raise AssertionError(f"no confirmation code was sent to {self.email}")

    def sign_up(self) -> LocalUser:
        cognito = self.run.client("cognito-idp")
        cognito.sign_up(
            ClientId=self.pool_client,
            Username=self.email,
            Password=self.password,
            UserAttributes=[{"Name": "email", "Value": self.email}],
        )
        cognito.confirm_sign_up(
            ClientId=self.pool_client,
            Username=self.email,
            ConfirmationCode=self.confirmation_code(),
        )
        return self.sign_in()

    def sign_in(self) -> LocalUser:
        """SRP sign-in, the one flow the app's client allows (as the web page signs in)."""
        from pycognito.aws_srp import AWSSRP

        srp = AWSSRP(
            username=self.email,
            password=self.password,
            pool_id=self.run.physical_id("data", "AWS::Cognito::UserPool"),
            client_id=self.pool_client,
            client=self.run.client("cognito-idp"),
        )
        self.id_token = srp.authenticate_user()["AuthenticationResult"]["IdToken"]
        return self

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.id_token}", "content-type": "application/json"}
