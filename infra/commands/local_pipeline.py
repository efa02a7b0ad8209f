"""`python -m infra local pipeline ...`: the deployed pipeline, run on this machine.

`run` starts a run from the branch's latest commit; `approve ENV` continues a run that
waits at that environment's approval; `remote PATH` makes a git remote whose pushes to
the pipeline's branch start a run, as the push trigger does on AWS.
"""

from __future__ import annotations

import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from infra.aws import AwsTarget, check_endpoint_url
from infra.commands.local_options import local_port, state_option
from infra.commands.options import EXISTING_FOLDER, FOLDER, config_options, read_config
from infra.config import AppConfig
from infra.errors import InfraError, UsageError
from infra.local.aws_server import DEFAULT_ACCOUNT
from infra.naming import pipeline_name


@dataclass(frozen=True)
class Target:
    """The pipeline stack of the app's pipeline account, in the local AWS."""

    stack: str
    region: str
    account: str
    endpoint_url: str
    branch: str


def local_endpoint(state: Path, given: str | None) -> str:
    """--endpoint-url, else the local AWS of the `infra local up` that keeps this state."""
    if given:
        check_endpoint_url(given, "--endpoint-url")
        return given
    missing = "start one with `infra local up`, or pass --endpoint-url"
    return f"http://localhost:{local_port(state, 'aws', missing)}"


def pipeline_target(config: AppConfig, state: Path, endpoint_url: str | None) -> Target:
    if config.pipeline is None:
        raise UsageError(f"{config.source}: no [pipeline] table, so there is no pipeline to run")
    account = config.accounts[config.pipeline.account]
    return Target(
        stack=pipeline_name(config.name, account.name),
        region=account.region,
        account=account.account_id or DEFAULT_ACCOUNT,
        endpoint_url=local_endpoint(state, endpoint_url),
        branch=config.pipeline.branch,
    )


def repository_of(config_path: Path, given: Path | None) -> Path:
    """--repo, else the git repository holding the settings file."""
    if given is not None:
        return given.resolve()
    folder = config_path.resolve().parent
    found = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode != 0:
        raise UsageError(f"{folder}: not in a git repository; pass --repo")
    return Path(found.stdout.strip())


def runner_for(
    config_path: Path, overrides: tuple[str, ...], state: Path, endpoint_url: str | None,
    repo: Path | None, approve: tuple[str, ...],
) -> Any:  # fmt: skip
    from infra.local.pipeline.runner import PipelineRunner

    config = read_config(config_path, overrides)
    target = pipeline_target(config, state, endpoint_url)
    aws = AwsTarget(endpoint_url=target.endpoint_url)
    return PipelineRunner(
        stack=target.stack,
        repository=repository_of(config_path, repo),
        state=state.resolve(),
        region=target.region,
        account=target.account,
        endpoint_url=target.endpoint_url,
        clients=lambda service: aws.client(service, target.region),
        echo=click.echo,
        approve=approve,
    )


def shared_options(command: Any) -> Any:
    command = click.option(
        "--endpoint-url", default=None, help="The local AWS (default: the one `local up` runs)."
    )(command)
    return config_options(state_option(command))


@click.group("pipeline")
def pipeline_group() -> None:
    """Run the deployed pipeline on this machine, stage by stage, against the local AWS."""


@pipeline_group.command("run")
@shared_options
@click.option(
    "--repo",
    type=EXISTING_FOLDER,
    default=None,
    help="The git repository (or bare remote) the Source action reads (default: this one).",
)
@click.option(
    "--approve",
    multiple=True,
    is_flag=False,
    flag_value="*",
    metavar="[ENV]",
    help="Approve manual approvals as the run reaches them: all, or only ENV's. Repeatable.",
)
@click.option(
    "--variable",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="A pipeline variable for this run (e.g. GateAllow=...). Repeatable.",
)
def run_command(
    config_path: Path, overrides: tuple[str, ...], state: Path, endpoint_url: str | None,
    repo: Path | None, approve: tuple[str, ...], variables: tuple[str, ...],
) -> None:  # fmt: skip
    """Start a run from the latest commit of the pipeline's branch."""
    given: dict[str, str] = {}
    for item in variables:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--variable {item!r}: expected NAME=VALUE")
        given[name] = value
    with local_credentials():
        runner = runner_for(config_path, overrides, state, endpoint_url, repo, approve)
        execution = runner.start(given)
    exit_for(execution.status)


@pipeline_group.command("approve")
@shared_options
@click.option("--repo", type=EXISTING_FOLDER)
@click.argument("stage")
def approve_command(
    config_path: Path, overrides: tuple[str, ...], state: Path, endpoint_url: str | None,
    repo: Path | None, stage: str,
) -> None:  # fmt: skip
    """Approve the waiting run's STAGE (an environment name, e.g. prod) and continue it."""
    with local_credentials():
        runner = runner_for(config_path, overrides, state, endpoint_url, repo, ())
        execution = runner.continue_waiting(stage)
    exit_for(execution.status)


@pipeline_group.command("remote")
@shared_options
@click.argument("path", type=FOLDER)
def remote_command(
    config_path: Path, overrides: tuple[str, ...], state: Path, endpoint_url: str | None,
    path: Path,
) -> None:  # fmt: skip
    """Make PATH a bare git remote whose pushes to the pipeline's branch start a run."""
    config = read_config(config_path, overrides)
    target = pipeline_target(config, state, endpoint_url)
    path = path.resolve()
    if path.exists() and any(path.iterdir()):
        raise UsageError(f"{path}: exists and is not empty")
    made = subprocess.run(
        ["git", "init", "--quiet", "--bare", str(path)], capture_output=True, text=True
    )
    if made.returncode != 0:
        reason = (made.stderr.strip().splitlines() or ["git init failed"])[-1]
        raise UsageError(f"{path}: cannot make a git remote here: {reason}")
    hook = path / "hooks" / "post-receive"
    hook.write_text(post_receive_hook(config_path, overrides, state, target, path), "utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    click.echo(f"remote at {path}: `git remote add local {path}`, then push to {target.branch}")


def post_receive_hook(
    config_path: Path, overrides: tuple[str, ...], state: Path, target: Target, remote: Path
) -> str:
    """A push to the branch starts a run on the pushed commit (git's variables unset first:
    the run reads the remote as a repository of its own)."""
    command = [
        sys.executable, "-m", "infra", "local", "pipeline", "run",
        "--config", str(config_path.resolve()), "--state", str(state.resolve()),
        "--endpoint-url", target.endpoint_url, "--repo", str(remote),
        *(part for item in overrides for part in ("--set", item)),
    ]  # fmt: skip
    zero = "0" * 40
    return (
        "#!/bin/sh\n"
        "# Pushes to the pipeline's branch start a local run, as the push trigger does on AWS.\n"
        "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_QUARANTINE_PATH\n"
        "while read old new ref; do\n"
        f'  if [ "$ref" = "refs/heads/{target.branch}" ] && [ "$new" != "{zero}" ]; then\n'
        f"    {shlex.join(command)}\n"
        "  fi\n"
        "done\n"
    )


def local_credentials() -> Any:
    """The local AWS takes any credentials: never send the shell's real ones."""
    from infra.local.aws_server import LOCAL_CREDENTIALS
    from infra.local.runner import scoped_environ

    return scoped_environ(LOCAL_CREDENTIALS)


def exit_for(status: str) -> None:
    """0 when the run finished or waits for a person; 1 when it failed."""
    from infra.local.pipeline.execution import FAILED

    if status == FAILED:
        raise InfraError("the pipeline run failed (see above)")
