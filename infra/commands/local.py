"""`python -m infra local ...`: the app on this machine, without Docker, an account or a network.

`local up` deploys an environment into the local AWS and runs it until Ctrl-C;
`local fire FUNCTION` fires a scheduled function in the run that is up.
"""

from __future__ import annotations

import http.client
import signal
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import click

from infra.commands.local_options import local_port, state_option
from infra.commands.local_pipeline import pipeline_group
from infra.commands.options import config_options, one_env_option
from infra.errors import InfraError, UsageError

DEFAULT_PORT = 8000


@click.group("local")
def local_group() -> None:
    """Run the app on this machine: the local AWS, its functions, API, events and site."""


local_group.add_command(pipeline_group)


@local_group.command("up")
@config_options
@one_env_option
@state_option
@click.option(
    "--port",
    type=click.IntRange(1024, 65531),
    default=DEFAULT_PORT,
    show_default=True,
    envvar="INFRA_LOCAL_PORT",
    help="The site's port; the HTTP API, the local AWS and the control port follow it.",
)
@click.option("--fresh", is_flag=True, help="Start from nothing: delete the local state first.")
def up_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    state: Path,
    port: int,
    fresh: bool,
) -> None:
    """Deploy the environment into the local AWS and run it until Ctrl-C."""
    from infra.local.runner import local_app, local_config

    config, environment = local_config(config_path, overrides, environments, port)
    stopping = threading.Event()
    for sign in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sign, lambda *_: stopping.set())
    with local_app(config, environment, state, port, click.echo, fresh=fresh):
        stopping.wait()
    click.echo("stopped")


@local_group.command("fire")
@state_option
@click.argument("function")
def fire_command(state: Path, function: str) -> None:
    """Fire FUNCTION's schedule now, in the run `local up` started."""
    port = local_port(state, "control", "start one with `infra local up`")
    url = f"http://127.0.0.1:{port}/fire/{urllib.parse.quote(function, safe='')}"
    request = urllib.request.Request(url, method="POST", data=b"")
    try:
        urllib.request.urlopen(request, timeout=5).close()
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise UsageError(f"{function}: no scheduled function of that name") from None
        raise InfraError(f"the local run answered {err.code}") from None
    except (OSError, http.client.HTTPException):
        raise InfraError("the local run is not answering: is `infra local up` running?") from None
    click.echo(f"fired {function}")
