"""The Source action: one commit of a git repository, as CodePipeline hands it on.

CodeCommit's and a connection's CODE_ZIP output is the commit's files in a zip, without
`.git`; `git archive` writes exactly that. The action's output variables are the ones
the provider documents (CommitId, CommitMessage, BranchName, ...).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.errors import InfraError
from infra.local.pipeline.model import ActionDef

PROVIDERS = ("CodeCommit", "CodeStarSourceConnection")


@dataclass(frozen=True)
class Commit:
    id: str
    message: str
    author_date: str
    committer_date: str


def git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise InfraError(f"{repository}: git {' '.join(args)}: {reason}")
    return result.stdout


def branch_commit(repository: Path, branch: str) -> Commit:
    """The branch's latest commit in the repository (a working clone or a bare remote)."""
    try:
        commit_id = git(repository, "rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}")
    except InfraError:
        raise InfraError(f"{repository}: no branch {branch!r} to take the source from") from None
    fields = git(repository, "show", "-s", "--format=%H%x00%aI%x00%cI%x00%B", commit_id.strip())
    commit, author, committer, message = fields.split("\x00", 3)
    return Commit(commit, message.strip(), author, committer)


def source_zip(repository: Path, commit: Commit, destination: Path) -> Path:
    """The commit's tree as CODE_ZIP: its files, no `.git`."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    git(repository, "archive", "--format=zip", f"--output={destination}", commit.id)
    return destination


def source_variables(action: ActionDef, commit: Commit) -> dict[str, str]:
    """What the provider's action exports to its namespace."""
    config = action.configuration
    variables = {
        "CommitId": commit.id,
        "CommitMessage": commit.message,
        "BranchName": config.get("BranchName", ""),
        "AuthorDate": commit.author_date,
    }
    if action.provider == "CodeCommit":
        variables |= {
            "RepositoryName": config.get("RepositoryName", ""),
            "CommitterDate": commit.committer_date,
        }
    else:
        variables |= {
            "ConnectionArn": config.get("ConnectionArn", ""),
            "FullRepositoryName": config.get("FullRepositoryId", ""),
        }
    return variables


def check_source_action(action: ActionDef) -> None:
    if action.provider not in PROVIDERS:
        raise InfraError(
            f"source action {action.name}: provider {action.provider} cannot run locally "
            f"(known: {', '.join(PROVIDERS)})"
        )
    if action.configuration.get("OutputArtifactFormat", "CODE_ZIP") != "CODE_ZIP":
        raise InfraError(
            f"source action {action.name}: only OutputArtifactFormat CODE_ZIP runs locally"
        )
