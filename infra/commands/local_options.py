"""What every `infra local ...` command shares: where the local run keeps its files, and the
ports a running `local up` wrote there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from infra.commands.options import FOLDER
from infra.errors import UsageError
from infra.local.runner import STATE_FILE

DEFAULT_STATE = Path("build/local")


def state_option(command: Any) -> Any:
    return click.option(
        "--state",
        type=FOLDER,
        default=DEFAULT_STATE,
        show_default=True,
        envvar="INFRA_LOCAL_STATE",
        help="Where local runs keep their builds, logs, mail and pipeline runs.",
    )(command)


def local_port(state: Path, service: str, missing: str) -> int:
    """The port of `service` (aws, api, site, control) of the `local up` keeping `state`."""
    try:
        ports = json.loads((state / STATE_FILE).read_text(encoding="utf-8"))["ports"]
        port = int(ports[service])
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"{state}: no local run found; {missing}") from None
    if not 0 < port < 65536:
        raise UsageError(f"{state / STATE_FILE}: {service} port {port} is not a port")
    return port
