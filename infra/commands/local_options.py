"""The option every `infra local ...` command shares: where the local run keeps its files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from infra.commands.options import FOLDER

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
