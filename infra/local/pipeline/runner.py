"""Run the deployed pipeline stage by stage, as CodePipeline runs it, against the local AWS.

Stages in order; a stage's BeforeEntry conditions first (SKIP or FAIL when a rule does
not pass); its actions by run order (actions that share a run order run one after the
other here, in declared order); a failed action stops the run with its log. A manual
approval stops the run unless it was approved up front (`--approve`); the run is then
saved and continued by `approve`. After an action deploys the pipeline's own stack the
definition is read again, so a change to the pipeline takes effect for what follows.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.errors import InfraError
from infra.files import write_atomic
from infra.local.pipeline import artifacts as artifact_store
from infra.local.pipeline import cloudformation as cfn_actions
from infra.local.pipeline import codebuild
from infra.local.pipeline.definition import read_pipeline
from infra.local.pipeline.execution import (
    FAILED,
    IN_PROGRESS,
    SUCCEEDED,
    SUPERSEDED,
    WAITING,
    Execution,
    save,
    waiting_runs,
)
from infra.local.pipeline.model import ActionDef, EnvironmentVariable, PipelineDef, StageDef
from infra.local.pipeline.source import (
    branch_commit,
    check_source_action,
    source_variables,
    source_zip,
)
from infra.local.pipeline.variables import UnresolvedVariable, entry_result, resolve_all
from infra.text_table import aligned

Echo = Callable[[str], None]
LOG_TAIL_LINES = 40


class ActionFailed(InfraError):
    """An action failed: the run stops there."""


class ApprovalNeeded(Exception):
    """A manual approval nobody has given yet: the run waits there."""


@dataclass
class PipelineRunner:
    """Runs one pipeline of the local AWS: reads it, runs it, continues it."""

    stack: str  # the pipeline stack's name
    repository: Path  # where the Source action takes its commit from
    state: Path  # the run's files: executions, builds, caches
    region: str
    account: str
    endpoint_url: str
    clients: Callable[[str], Any]
    echo: Echo
    approve: Sequence[str] = ()  # stage names or environment names; "*" approves every one
    pipeline: PipelineDef | None = field(default=None, init=False)

    # -- starting and continuing -----------------------------------------------------------

    def read(self) -> PipelineDef:
        self.pipeline = read_pipeline(
            self.clients("cloudformation"), self.stack, self.region, self.account, self.clients
        )
        return self.pipeline

    def start(self, variables: Mapping[str, str] = ()) -> Execution:  # type: ignore[assignment]
        """A new run from the branch's latest commit; a run waiting at an approval is
        superseded by it, as a newer run supersedes it on AWS."""
        pipeline = self.read()
        for waiting in waiting_runs(self.state, pipeline.name):
            waiting.status = SUPERSEDED
            save(waiting, self.state)
            self.echo(f"run {waiting.id} (waiting at {waiting.stage}) is superseded")
        given = dict(variables)
        unknown = sorted(set(given) - set(pipeline.variables))
        if unknown:
            raise InfraError(
                f"{pipeline.name}: no pipeline variable {', '.join(unknown)} "
                f"(declared: {', '.join(sorted(pipeline.variables)) or 'none'})"
            )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        execution = Execution(
            id=f"{stamp}-{uuid.uuid4().hex[:8]}",
            pipeline=pipeline.name,
            stack=self.stack,
            commit="",
        )
        execution.namespaces = {
            "codepipeline": {"PipelineExecutionId": execution.id},
            "variables": {**pipeline.variables, **given},
        }
        execution.stage = pipeline.stages[0].name
        self.echo(f"run {execution.id} of {pipeline.name}")
        return self.run(execution)

    def continue_waiting(self, stage_or_env: str) -> Execution:
        """Approve the waiting run's approval (by stage or environment name) and go on."""
        pipeline = self.read()
        runs = waiting_runs(self.state, pipeline.name)
        if not runs:
            raise InfraError(f"{pipeline.name}: no run is waiting for an approval")
        execution = runs[0]
        if not matches(stage_or_env, execution.stage):
            raise InfraError(
                f"run {execution.id} waits at {execution.stage}, not at {stage_or_env!r}"
            )
        execution.approved.append(execution.stage)
        execution.status = IN_PROGRESS
        self.echo(f"run {execution.id}: {execution.stage} approved")
        return self.run(execution)

    # -- the stages -------------------------------------------------------------------------

    def run(self, execution: Execution) -> Execution:
        assert self.pipeline is not None
        started = time.monotonic()
        try:
            while execution.stage:
                stage = self.stage_named(execution.stage)
                self.run_stage(stage, execution)
                execution.stage = self.stage_after(stage.name)
                execution.run_order = 0
                save(execution, self.state)
            execution.status = SUCCEEDED
        except ApprovalNeeded:
            execution.status = WAITING
        except InfraError as err:
            execution.status = FAILED
            self.echo(f"FAILED: {err}")
        save(execution, self.state)
        self.summary(execution, time.monotonic() - started)
        return execution

    def stage_named(self, name: str) -> StageDef:
        assert self.pipeline is not None
        for stage in self.pipeline.stages:
            if stage.name == name:
                return stage
        raise InfraError(f"{self.pipeline.name}: no stage {name!r} (the pipeline changed?)")

    def stage_after(self, name: str) -> str:
        assert self.pipeline is not None
        names = [stage.name for stage in self.pipeline.stages]
        index = names.index(name)
        return names[index + 1] if index + 1 < len(names) else ""

    def run_stage(self, stage: StageDef, execution: Execution) -> None:
        entering = execution.run_order == 0
        if entering:
            result = entry_result(stage.before_entry, execution.namespaces, f"stage {stage.name}")
            if result == "SKIP":
                self.echo(f"{stage.name}: skipped (its entry condition did not pass)")
                execution.record(stage.name, "-", "Skipped", 0.0, "entry condition")
                return
            if result is not None:
                execution.record(stage.name, "-", "Failed", 0.0, f"entry condition: {result}")
                raise ActionFailed(f"stage {stage.name}: entry condition result {result}")
        self.echo(f"{stage.name}")
        for order in sorted({action.run_order for action in stage.actions}):
            if order < execution.run_order:
                continue
            execution.run_order = order
            for action in (a for a in stage.actions if a.run_order == order):
                self.run_action(stage, action, execution)
        execution.run_order = 0

    # -- one action -------------------------------------------------------------------------

    def run_action(self, stage: StageDef, action: ActionDef, execution: Execution) -> None:
        where = f"{stage.name}/{action.name}"
        if (stage.name, action.name) in {(r.stage, r.action) for r in self.done(execution)}:
            return  # a continued run: this one already ran
        started = time.monotonic()
        try:
            outcome, detail, variables = self.dispatch(stage, action, execution, where)
        except ApprovalNeeded:
            execution.record(stage.name, action.name, "Waiting", time.monotonic() - started)
            raise
        except (InfraError, UnresolvedVariable) as err:
            execution.record(
                stage.name, action.name, "Failed", time.monotonic() - started, str(err)
            )
            raise ActionFailed(str(err)) from None
        if action.namespace:
            execution.namespaces[action.namespace] = variables
        seconds = time.monotonic() - started
        execution.record(stage.name, action.name, outcome, seconds, detail)
        self.echo(f"  {action.name:28} {outcome:10} {seconds:6.1f} s  {detail}".rstrip())
        save(execution, self.state)

    def done(self, execution: Execution) -> list[Any]:
        return [r for r in execution.records if r.outcome in ("Succeeded", "Approved")]

    def dispatch(
        self, stage: StageDef, action: ActionDef, execution: Execution, where: str
    ) -> tuple[str, str, dict[str, str]]:
        kind = (action.category, action.provider)
        if action.category == "Source":
            return self.source(action, execution, where)
        if kind in (("Build", "CodeBuild"), ("Test", "CodeBuild")):
            return self.build(action, execution, where)
        if kind == ("Deploy", "CloudFormation"):
            return self.deploy(action, execution, where)
        if kind == ("Approval", "Manual"):
            return self.approval(stage, action, execution, where)
        raise InfraError(f"{where}: {action.category}/{action.provider} actions cannot run locally")

    def source(
        self, action: ActionDef, execution: Execution, where: str
    ) -> tuple[str, str, dict[str, str]]:
        check_source_action(action)
        commit = branch_commit(self.repository, action.configuration.get("BranchName", "main"))
        execution.commit = commit.id
        path = source_zip(self.repository, commit, self.work(execution, action) / "source.zip")
        for name in action.outputs:
            self.store_artifact(execution, name, path)
        return (
            "Succeeded",
            f"{commit.id[:12]} {commit.message.splitlines()[0][:50]}",
            source_variables(action, commit),
        )

    def build(
        self, action: ActionDef, execution: Execution, where: str
    ) -> tuple[str, str, dict[str, str]]:
        assert self.pipeline is not None
        config = resolve_all(action.configuration, execution.namespaces, where)
        project = self.pipeline.project(config.get("ProjectName", ""))
        inputs = self.fetch_inputs(action, execution)
        primary_name = config.get("PrimarySource") or (action.inputs[0] if action.inputs else "")
        if primary_name not in inputs:
            raise InfraError(f"{where}: no primary source among its inputs ({', '.join(inputs)})")
        overrides = parse_environment_variables(config.get("EnvironmentVariables"), where)
        context = codebuild.BuildContext(
            region=self.region,
            account=self.account,
            endpoint_url=self.endpoint_url,
            initiator=f"codepipeline/{self.pipeline.name}",
            source_version=execution.commit,
            build_number=self.build_number(project.name),
            work=self.work(execution, action),
            cache=self.state / "pipeline" / "cache" / project.name,
            echo=self.quiet_echo(execution, action),
            clients=self.clients,
        )
        result = codebuild.run_build(
            project,
            inputs[primary_name][0],
            {name: folder for name, (folder, _) in inputs.items() if name != primary_name},
            overrides,
            context,
        )
        for note in result.notes:
            self.echo(f"  note: {note}")
        for report in result.reports.values():
            self.echo(
                f"  report {report.group}: {report.total} tests, {report.passed} passed, "
                f"{report.failed} failed, {report.errors} errors, {report.skipped} skipped"
            )
        if not result.succeeded:
            self.echo_tail(result.log)
            raise InfraError(f"{where}: the build failed: {result.message} (log: {result.log})")
        self.store_build_outputs(action, execution, result.artifacts, where)
        phases = ", ".join(f"{p.name} {p.seconds:.0f}s" for p in result.phases)
        return "Succeeded", phases, dict(result.exported)

    def deploy(
        self, action: ActionDef, execution: Execution, where: str
    ) -> tuple[str, str, dict[str, str]]:
        config = resolve_all(action.configuration, execution.namespaces, where)
        inputs = self.fetch_inputs(action, execution)
        outcome = cfn_actions.run_cloudformation_action(
            config, inputs, self.clients("cloudformation"), self.quiet_echo(execution, action),
            s3=self.clients("s3"),
        )  # fmt: skip
        if not outcome.succeeded:
            raise InfraError(f"{where}: {outcome.summary}")
        for name in action.outputs:  # holds the OutputFileName file, when the action names one
            self.store_artifact(execution, name, artifact_store.zip_files(outcome.output_files))
        if config.get("StackName") == self.stack and config.get("ActionMode") in (
            "CHANGE_SET_EXECUTE", "CREATE_UPDATE", "REPLACE_ON_FAILURE",
        ):  # fmt: skip
            self.read()  # the pipeline updated itself: what follows runs as it now says
        return "Succeeded", outcome.summary, dict(outcome.output_variables)

    def approval(
        self, stage: StageDef, action: ActionDef, execution: Execution, where: str
    ) -> tuple[str, str, dict[str, str]]:
        config = resolve_all(action.configuration, execution.namespaces, where)
        message = config.get("CustomData", "")
        if stage.name in execution.approved or any(matches(a, stage.name) for a in self.approve):
            self.notify(config, stage, message, approved=True)
            return "Approved", message, {}
        self.notify(config, stage, message, approved=False)
        self.echo(f"  {action.name}: waiting for a person. {message}")
        self.echo(f"  approve with: python -m infra local pipeline approve {short(stage.name)}")
        raise ApprovalNeeded()

    def notify(
        self, config: Mapping[str, str], stage: StageDef, message: str, approved: bool
    ) -> None:
        """The approval's notification, published to its topic as CodePipeline does."""
        topic = config.get("NotificationArn")
        if not topic or approved:
            return
        assert self.pipeline is not None
        body = {
            "approval": {
                "pipelineName": self.pipeline.name,
                "stageName": stage.name,
                "customData": message,
                "externalEntityLink": config.get("ExternalEntityLink", ""),
            }
        }
        self.clients("sns").publish(
            TopicArn=topic,
            Subject=f"APPROVAL NEEDED: {self.pipeline.name} {stage.name}"[:100],
            Message=json.dumps(body),
        )

    # -- artifacts and files ----------------------------------------------------------------

    def store(self) -> Any:
        assert self.pipeline is not None
        return artifact_store.ArtifactStore(
            self.clients("s3"), self.pipeline.artifact_bucket, self.pipeline.artifact_key,
            self.pipeline.name,
        )  # fmt: skip

    def store_artifact(self, execution: Execution, name: str, zip_file: Path | bytes) -> None:
        location = self.store().put(name, zip_file)
        execution.artifacts[name] = {"bucket": location.bucket, "key": location.key}

    def fetch_inputs(self, action: ActionDef, execution: Execution) -> dict[str, tuple[Path, Any]]:
        """Each input artifact, fresh from the artifact bucket into a folder of its own."""
        store = self.store()
        found: dict[str, tuple[Path, Any]] = {}
        for name in action.inputs:
            if name not in execution.artifacts:
                raise InfraError(
                    f"{action.name}: input artifact {name} was not made by any earlier action"
                )
            held = execution.artifacts[name]
            location = artifact_store.ArtifactLocation(held["bucket"], held["key"])
            folder = self.work(execution, action) / "inputs" / name
            shutil.rmtree(folder, ignore_errors=True)
            store.extract(location, folder, name)
            found[name] = (folder, location)
        return found

    def store_build_outputs(
        self, action: ActionDef, execution: Execution, made: Mapping[str | None, Path], where: str
    ) -> None:
        """The build's primary artifact is the first output; secondary ones by identifier."""
        for index, name in enumerate(action.outputs):
            path = made.get(name) or (made.get(None) if index == 0 else None)
            if path is None:
                raise InfraError(f"{where}: the build made no artifact for output {name}")
            self.store_artifact(execution, name, path)

    def work(self, execution: Execution, action: ActionDef) -> Path:
        folder = self.state / "pipeline" / "runs" / execution.id / safe(action.name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def build_number(self, project: str) -> int:
        counter = self.state / "pipeline" / "build-numbers.json"
        numbers = json.loads(counter.read_text()) if counter.exists() else {}
        numbers[project] = int(numbers.get(project, 0)) + 1
        write_atomic(counter, json.dumps(numbers))
        return int(numbers[project])

    def quiet_echo(self, execution: Execution, action: ActionDef) -> Echo:
        """Action details go to the action's log file, not the screen."""
        log = self.work(execution, action) / "action.log"

        def write(line: str) -> None:
            with log.open("a", encoding="utf-8") as out:
                out.write(line + "\n")

        return write

    def echo_tail(self, log: Path) -> None:
        try:
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        for line in lines[-LOG_TAIL_LINES:]:
            self.echo(f"  | {line}")

    def summary(self, execution: Execution, seconds: float) -> None:
        rows = [
            [r.stage, r.action, r.outcome, f"{r.seconds:.1f} s", r.detail[:60]]
            for r in execution.records
        ]
        self.echo("")
        for line in aligned(["stage", "action", "outcome", "time", "detail"], rows):
            self.echo(line)
        where = f" at {execution.stage}" if execution.status in (WAITING, FAILED) else ""
        self.echo(f"run {execution.id}: {execution.status}{where} in {seconds:.0f} s")


def matches(wanted: str, stage: str) -> bool:
    """`--approve prod` names Approve-prod; a stage's own name, or "*", names it too."""
    return wanted in ("*", stage) or stage.endswith(f"-{wanted}")


def short(stage: str) -> str:
    return stage.rsplit("-", 1)[-1] if "-" in stage else stage


def safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def parse_environment_variables(text: str | None, where: str) -> list[EnvironmentVariable]:
    """A CodeBuild action's EnvironmentVariables: a JSON list of {name, value, type}."""
    if not text:
        return []
    try:
        items = json.loads(text)
    except ValueError as err:
        raise InfraError(f"{where}: EnvironmentVariables is not JSON: {err}") from None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
    ):
        raise InfraError(f"{where}: EnvironmentVariables must be a list of {{name, value, type}}")
    return [
        EnvironmentVariable(i["name"], str(i.get("value", "")), str(i.get("type", "PLAINTEXT")))
        for i in items
    ]
