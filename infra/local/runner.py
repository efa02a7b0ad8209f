"""`infra local up`: the local AWS, the app deployed into it the AWS way, then the app running.

1. The local AWS starts (moto's server plus our fixes) for the environment's account.
2. The account's base stack and the environment's stacks are deployed into it through
   the same path as on AWS: render, package, upload, change set, gate, execute.
3. The deployed templates are read back (`infra.local.topology`) and the app runs: the
   HTTP API, the event sources, the schedules, the site; every invocation is one line.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.aws import AwsTarget
from infra.config import AppConfig, Environment
from infra.environment_session import EnvironmentSession, deploy_environment
from infra.errors import InfraError
from infra.layout import environment_stacks
from infra.local.api_gateway import LocalHttpApi
from infra.local.aws_server import DEFAULT_ACCOUNT, LOCAL_CREDENTIALS, LocalAws
from infra.local.events import Delivery
from infra.local.functions import (
    FunctionConfiguration,
    FunctionFleet,
    Invocation,
    LocalFunction,
    local_packager,
)
from infra.local.jwt_authorizer import JwtVerifier
from infra.local.site import LocalSite, rewrite, security_headers
from infra.local.topology import Topology, backend_topology, data_topology
from infra.local.wiring import DeployedStack, Resolver, read_stack
from infra.naming import physical_name

Echo = Callable[[str], None]
STATE_FILE = "local.json"


@contextmanager
def scoped_environ(changes: dict[str, str | None]) -> Iterator[None]:
    """Set (a string) or remove (None) variables of this process, restored on exit."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class Ports:
    """The site, the HTTP API, the local AWS and the control endpoint, on consecutive ports."""

    site: int
    api: int
    aws: int
    control: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(base, base + 1, base + 2, base + 3)


def invocation_line(invocation: Invocation) -> str:
    """`12:00:01  resize  sqs shop-dev-resize (1)  183 ms  ok`, or the error."""
    clock = datetime.now(UTC).strftime("%H:%M:%S")
    outcome = (
        "ok" if invocation.ok else f"ERROR {invocation.error_type}: {invocation.error_message}"
    )
    return (
        f"{clock}  {invocation.function:14}  {invocation.trigger:32}  "
        f"{invocation.seconds * 1000:6.0f} ms  {outcome}"
    )


@dataclass
class LocalApp:
    """One environment of the app, running on this machine."""

    config: AppConfig
    environment: Environment
    state: Path
    ports: Ports
    echo: Echo
    aws: LocalAws | None = None
    topology: Topology = field(default_factory=Topology)
    fleet: FunctionFleet = field(default_factory=FunctionFleet)
    delivery: Delivery | None = None
    stacks: dict[str, DeployedStack] = field(default_factory=dict)
    servers: list[Any] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def region(self) -> str:
        return self.environment.region

    @property
    def account(self) -> str:
        return self.environment.account.account_id or ""

    def clients(self, service: str) -> Any:
        assert self.aws is not None
        return AwsTarget(endpoint_url=self.aws.endpoint).client(service, self.region)

    # -- 1 and 2: the local AWS, and the stacks deployed into it ---------------------------------

    def deploy(self) -> None:
        assert self.aws is not None
        session = EnvironmentSession(
            self.config, self.environment, AwsTarget(endpoint_url=self.aws.endpoint)
        )
        templates = self.state / "templates"
        for account_stacks in (("base",), ()):  # the account's base first, then the app's
            for deployed in deploy_environment(
                session, account_stacks, templates, echo=self.quiet, warn=self.echo
            ):
                self.echo(f"deployed {deployed.stack} ({deployed.result})")

    def quiet(self, line: str) -> None:
        """Deploy details go to the state folder's log, not the screen."""
        with (self.state / "deploy.log").open("a", encoding="utf-8") as log:
            log.write(line + "\n")

    # -- 3: reading the wiring back --------------------------------------------------------------

    def read_topology(self) -> None:
        cfn = self.clients("cloudformation")
        topology = Topology()
        for kind in (kind.name for kind in environment_stacks(self.config)):
            name = physical_name(self.config.name, self.environment.name, kind, limit=128)
            if not _exists(cfn, name):
                continue
            stack = read_stack(cfn, name)
            self.stacks[kind] = stack
            resolver = Resolver(stack, self.region, self.account, self.clients)
            if kind == "data":
                data_topology(stack, resolver, topology)
            elif kind == "backend":
                backend_topology(stack, resolver, topology)
        self.topology = topology

    def start_functions(self) -> None:
        assert self.aws is not None
        declared = {
            physical_name(self.config.name, self.environment.name, function.name): function
            for function in self.config.declaration.functions
        }
        packager = local_packager(self.config.root, self.state, self.config.declaration.shared_code)
        for name, props in self.topology.functions.items():
            if name not in declared:
                raise InfraError(f"{name}: deployed, but the app declares no such function")
            configuration = FunctionConfiguration(
                declared=declared[name],
                name=name,
                arn=f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
                handler=str(props.get("Handler", "handler.lambda_handler")),
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment={
                    str(k): str(v)
                    for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
                },
                log_group=f"/aws/lambda/{name}",
            )
            self.fleet.add(
                LocalFunction(
                    configuration,
                    packager,
                    self.environment.lambda_defaults,
                    self.state,
                    self.aws.endpoint,
                    self.region,
                    self.echo,
                )
            )

    def report(self, invocation: Invocation) -> None:
        self.echo(invocation_line(invocation))
        for line in invocation.stack_trace[-3:] if not invocation.ok else ():
            self.echo("    " + line.rstrip().replace("\n", "\n    "))

    def start_api(self) -> str | None:
        if not self.topology.routes:
            return None
        assert self.aws is not None
        api = LocalHttpApi(
            self.topology.routes,
            self.topology.cors,
            self.topology.api or "local",
            self.fleet,
            JwtVerifier(self.aws.endpoint),
            self.report,
            self.echo,
        )
        self.serve(api.server("127.0.0.1", self.ports.api))
        return f"http://localhost:{self.ports.api}"

    def origins(self, api_url: str | None) -> dict[str, str]:
        """AWS's origins -> this machine's, for the CSP and config.json."""
        assert self.aws is not None
        mapped = {f"https://cognito-idp.{self.region}.amazonaws.com": self.aws.endpoint}
        if api_url and self.topology.api:
            mapped[f"https://{self.topology.api}.execute-api.{self.region}.amazonaws.com"] = api_url
        for bucket in self.topology.buckets:
            mapped[f"https://{bucket.name}.s3.{self.region}.amazonaws.com"] = (
                f"http://{bucket.name}.localhost:{self.ports.aws}"
            )
        return mapped

    def start_site(self, api_url: str | None) -> str | None:
        from infra.publish import needed_values, read_shared, site_config

        site = self.config.declaration.site
        frontend = self.stacks.get("frontend")
        if site is None or frontend is None:
            return None
        origins = self.origins(api_url)
        values = needed_values(site)
        shared = read_shared(self.clients("ssm"), self.config.name, self.environment.name, values)
        text = site_config(
            self.config.name, self.environment.name, self.region, site, shared,
            dict(self.environment.settings),
        ).decode()  # fmt: skip
        config = json.loads(rewrite(text, origins))
        config["cognitoEndpoint"] = self.aws.endpoint + "/" if self.aws else ""
        body = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
        resolver = Resolver(frontend, self.region, self.account, self.clients)
        headers: dict[str, str] = {}
        for item in frontend.resources("AWS::CloudFront::ResponseHeadersPolicy").values():
            policy = resolver.value(item["Properties"]["ResponseHeadersPolicyConfig"])
            headers |= security_headers(policy, origins)
        local = LocalSite(self.config.root / site.folder, body, headers, self.echo)
        self.serve(local.server("127.0.0.1", self.ports.site))
        return f"http://localhost:{self.ports.site}"

    def serve(self, server: Any) -> None:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)

    def start_delivery(self) -> None:
        self.delivery = Delivery(
            self.topology, self.fleet, self.clients, self.region, self.report, self.echo
        )
        self.delivery.start()

    def start_control(self) -> None:
        """`infra local fire`: fire a function's schedule in this run."""
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                name = self.path.strip("/").removeprefix("fire/")
                fired = app.delivery is not None and app.delivery.fire(
                    physical_name(app.config.name, app.environment.name, name)
                    if name in {f.name for f in app.config.declaration.functions}
                    else name
                )
                self.send_response(202 if fired else 404)
                self.end_headers()

        self.serve(ThreadingHTTPServer(("127.0.0.1", self.ports.control), Handler))

    def watch_mailbox(self, mailbox: Path) -> None:
        """Cognito's e-mails, which the local AWS writes to a file: shown as they arrive."""

        def follow() -> None:
            offset = 0
            while not self.stopping.wait(0.3):
                if not mailbox.exists():
                    continue
                with mailbox.open(encoding="utf-8") as box:
                    box.seek(offset)
                    for line in box:
                        mail = json.loads(line)
                        self.echo(f"mail to {mail['to']}: {mail['subject']}: {mail['code']}")
                    offset = box.tell()

        threading.Thread(target=follow, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        if self.delivery is not None:
            self.delivery.stop()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.fleet.stop()


def _exists(cfn: Any, name: str) -> bool:
    from infra.changesets import stack_status

    return stack_status(cfn, name) not in (None, "REVIEW_IN_PROGRESS")


def local_config(
    config_path: Path, overrides: tuple[str, ...], environments: tuple[str, ...], base_port: int
) -> tuple[AppConfig, Environment]:
    """The config as a local run deploys it: any account id, and the local site's origin.

    The local AWS answers for any account, so an environment without an account id gets
    moto's; the site's local origin joins `frontend_origins`, so the API's and the buckets'
    CORS rules let the page served on this machine in, through the same templates as on AWS.
    """
    from infra.commands.options import read_config
    from infra.targets import choose_environment

    environment = choose_environment(read_config(config_path, overrides), environments)
    added = list(overrides)
    if not environment.account.account_id:
        added.append(f'accounts.{environment.account.name}.account_id="{DEFAULT_ACCOUNT}"')
    origin = f"http://localhost:{Ports.from_base(base_port).site}"
    if origin not in environment.frontend_origins:
        origins = json.dumps([*environment.frontend_origins, origin])
        added.append(f"environments.{environment.name}.frontend_origins={origins}")
    config = read_config(config_path, tuple(added))
    return config, config.environment(environment.name)


@contextmanager
def local_app(
    config: AppConfig, environment: Environment, state: Path, base_port: int, echo: Echo,
    fresh: bool = False,
) -> Iterator[LocalApp]:  # fmt: skip
    """The environment deployed into a local AWS and running; everything stopped on exit."""
    state = state.resolve()
    if fresh and state.exists():
        shutil.rmtree(state)
    state.mkdir(parents=True, exist_ok=True)
    mailbox = state / "mailbox.jsonl"
    mailbox.unlink(missing_ok=True)
    ports = Ports.from_base(base_port)
    app = LocalApp(config, environment, state, ports, echo)
    with ExitStack() as stack:
        # This process talks only to the local AWS: never with the shell's real credentials.
        stack.enter_context(scoped_environ(LOCAL_CREDENTIALS))
        aws = LocalAws(
            "127.0.0.1", ports.aws, app.account, log=state / "aws.log",
            environment={"INFRA_LOCAL_MAILBOX": str(mailbox)},
        )  # fmt: skip
        app.aws = stack.enter_context(aws)
        stack.callback(app.stop)
        echo(f"local AWS on {aws.endpoint} (log: {state / 'aws.log'})")
        app.deploy()
        app.read_topology()
        app.start_functions()
        app.watch_mailbox(mailbox)
        api_url = app.start_api()
        site_url = app.start_site(api_url)
        app.start_delivery()
        app.start_control()
        (state / STATE_FILE).write_text(
            json.dumps({"ports": ports.__dict__, "env": environment.name}), encoding="utf-8"
        )
        if api_url:
            echo(f"HTTP API on {api_url}")
        if site_url:
            echo(f"site on {site_url}")
        echo("ready; Ctrl-C stops everything")
        yield app
