"""One run of the pipeline: where it is, what it has made, and what each action did.

Kept as JSON in the local state, so a run stopped at a manual approval is continued
later by `infra local pipeline approve`, with the artifacts and variables it had.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.errors import InfraError
from infra.files import write_atomic

IN_PROGRESS, SUCCEEDED, FAILED, WAITING, SUPERSEDED = (
    "InProgress", "Succeeded", "Failed", "WaitingForApproval", "Superseded",
)  # fmt: skip


@dataclass
class ActionRecord:
    stage: str
    action: str
    outcome: str  # Succeeded, Failed, Skipped, Approved, Waiting
    seconds: float
    detail: str = ""


@dataclass
class Execution:
    id: str
    pipeline: str
    stack: str
    commit: str
    status: str = IN_PROGRESS
    stage: str = ""  # the stage running, or waiting
    run_order: int = 0  # within `stage`: the run order to continue from
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> bucket, key
    records: list[ActionRecord] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)  # stages approved while waiting

    def record(
        self, stage: str, action: str, outcome: str, seconds: float, detail: str = ""
    ) -> None:
        self.records.append(ActionRecord(stage, action, outcome, seconds, detail))


def executions_folder(state: Path) -> Path:
    return state / "pipeline" / "executions"


def save(execution: Execution, state: Path) -> Path:
    """Written whole to a temporary file, then renamed: never half a run on disk."""
    path = executions_folder(state) / f"{execution.id}.json"
    write_atomic(path, json.dumps(asdict(execution), indent=1, sort_keys=True))
    return path


def load(path: Path) -> Execution:
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        records = [ActionRecord(**item) for item in raw.pop("records", [])]
        return Execution(**raw, records=records)
    except (OSError, ValueError, TypeError) as err:
        raise InfraError(f"{path}: not a pipeline run this version can read: {err}") from None


def waiting_runs(state: Path, pipeline: str) -> list[Execution]:
    """Runs of `pipeline` stopped at an approval, newest first."""
    folder = executions_folder(state)
    found = [load(path) for path in sorted(folder.glob("*.json"))] if folder.exists() else []
    waiting = [run for run in found if run.pipeline == pipeline and run.status == WAITING]
    return sorted(waiting, key=lambda run: run.id, reverse=True)
