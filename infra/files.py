"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from infra.errors import InfraError

FILE_MODE = 0o644


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as err:
        raise InfraError(f"{path}: cannot write: {err.strerror or err}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as temp:
            temp.write(text)
        os.chmod(temp_name, FILE_MODE)  # mkstemp makes it private; these files are not
        os.replace(temp_name, path)
    except OSError as err:
        Path(temp_name).unlink(missing_ok=True)
        raise InfraError(f"{path}: cannot write: {err.strerror or err}") from None
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
