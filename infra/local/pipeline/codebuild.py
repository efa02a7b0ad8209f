"""One CodeBuild build, run on this machine as CodeBuild runs it.

The image is this machine: each build gets a fresh virtual environment in its work folder,
made from the base interpreter, that sees the packages of the environment running `infra`
through a .pth file, so `pip install -e .` installs only the project, and into the build's
environment, never the caller's. Every AWS call of the build goes to the local AWS.

What CodeBuild does, and this does (AWS's buildspec reference and "Environment variables in
build environments"):

- Buildspec 0.2: the commands of all phases run as if in one shell session. Each command
  runs in its own `bash` (or `bash --posix` for the default `/bin/sh`, which is bash on
  Amazon Linux) started from the previous command's variables and folder; shell
  variables set without `export` are carried too. `exit 0` ends only its command.
- Phases install, pre_build, build, post_build in order; a command that fails fails its
  phase and skips the phase's other commands, then `finally` runs. After a failed install
  or pre_build the build ends; after a failed build, post_build runs and artifacts are
  still uploaded. `on-failure: CONTINUE` goes on to the next phase, `ABORT` ends the build.
  CODEBUILD_BUILD_SUCCEEDING is 1, or 0 once a phase failed.
- Variables: the action's (start build) over the project's over the buildspec's.
- `exported-variables` are read from the environment after the last phase that ran.
- Artifacts are zipped with the paths the buildspec gives (files, exclude-paths,
  base-directory, discard-paths); a definition that matches no file fails UPLOAD_ARTIFACTS.
- The project's TimeoutInMinutes stops the build: TIMED_OUT.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import site
import subprocess
import sys
import time
import uuid
import venv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from botocore.exceptions import BotoCoreError, ClientError

from infra.errors import InfraError
from infra.local.aws_server import LOCAL_CREDENTIALS
from infra.local.pipeline.buildspec import (
    Artifacts,
    BuildSpec,
    Phase,
    artifact_files,
    count_report,
    expand,
    parse_buildspec,
    report_files,
    report_group,
    select_files,
    zip_artifact,
)
from infra.local.pipeline.model import EnvironmentVariable, ProjectDef

Echo = Callable[[str], None]
# Dropped from this machine's environment: they would point the build at the caller's
# Python, packages, AWS account or an outer build.
DROPPED = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "__PYVENV_LAUNCHER__"}
DROPPED |= {"PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_ROOT", "PYTEST_CURRENT_TEST"}
DROPPED_PREFIXES = ("AWS_", "CODEBUILD_")
# Read back after each command but set by bash itself, never carried over.
VOLATILE = {"_", "PWD", "SHLVL"}
SECRET_TYPES = ("PARAMETER_STORE", "SECRETS_MANAGER")
STOP_SECONDS = 5  # how long stopped processes get to disappear
VARIABLE_TYPES = ("PLAINTEXT", *SECRET_TYPES)


@dataclass(frozen=True)
class BuildContext:
    """Where and for whom a build runs.

    `clients(service)` returns a boto3 client on the local AWS (for PARAMETER_STORE and
    SECRETS_MANAGER variables); `work` holds this build's files, log and virtual
    environment; `cache` is the project's cache folder, kept across builds.
    `timeout_seconds`, when given, replaces the project's TimeoutInMinutes.
    """

    region: str
    account: str
    endpoint_url: str
    initiator: str  # "codepipeline/<pipeline name>"
    source_version: str | None  # the commit: CODEBUILD_RESOLVED_SOURCE_VERSION
    build_number: int
    work: Path
    cache: Path
    echo: Echo
    clients: Callable[[str], Any]
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class PhaseResult:
    name: str  # PROVISIONING, INSTALL, PRE_BUILD, BUILD, POST_BUILD, UPLOAD_ARTIFACTS
    status: str  # SUCCEEDED, FAILED, TIMED_OUT
    seconds: float
    message: str = ""  # CodeBuild's phase context: "COMMAND_EXECUTION_ERROR: ..."


@dataclass(frozen=True)
class ReportSummary:
    group: str  # the report group's name: `<project>-<name>`, or the name in its ARN
    file_format: str
    files: tuple[Path, ...]
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int


@dataclass(frozen=True)
class BuildResult:
    build_id: str
    status: str  # SUCCEEDED, FAILED or TIMED_OUT
    phases: tuple[PhaseResult, ...]
    exported: Mapping[str, str]  # buildspec `env: exported-variables`
    artifacts: Mapping[str | None, Path]  # zip files: None is the primary artifact
    artifact_name: str | None  # the primary's `artifacts: name`, evaluated by the shell
    reports: Mapping[str, ReportSummary]
    log: Path
    notes: tuple[str, ...]  # where this run differs from AWS, for the user
    message: str = ""  # why it failed: "BUILD: COMMAND_EXECUTION_ERROR: ..."

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


class _ProvisioningError(Exception):
    """A variable the build cannot have: the build fails before its first phase."""


def run_build(
    project: ProjectDef,
    primary: Path,
    secondary: Mapping[str, Path],
    overrides: Sequence[EnvironmentVariable],
    context: BuildContext,
) -> BuildResult:
    """Run one build of `project` on `primary` (a fresh copy of the primary input
    artifact, changed in place), with `secondary` input artifacts by name and the action's
    `overrides` (its EnvironmentVariables, #{...} already resolved).

    A buildspec that cannot be read raises InfraError (one line naming the project);
    everything else, a failing command included, is in the BuildResult.
    """
    spec = load_buildspec(project, primary)
    return _Build(project, spec, primary.resolve(), secondary, overrides, context).run()


def load_buildspec(project: ProjectDef, primary: Path) -> BuildSpec:
    if project.inline_buildspec:
        return parse_buildspec(
            project.buildspec, f"CodeBuild project {project.name} (inline buildspec)"
        )
    source = f"CodeBuild project {project.name} ({project.buildspec})"
    if project.buildspec.startswith("arn:"):
        raise InfraError(f"{source}: a buildspec in S3 is not supported locally")
    path = primary / (project.buildspec or "buildspec.yml")
    if not path.is_file():
        raise InfraError(f"{source}: no such file in the primary source ({path})")
    return parse_buildspec(path.read_text(encoding="utf-8"), source)


# -- the build --------------------------------------------------------------------------------


class _Build:
    def __init__(
        self,
        project: ProjectDef,
        spec: BuildSpec,
        primary: Path,
        secondary: Mapping[str, Path],
        overrides: Sequence[EnvironmentVariable],
        context: BuildContext,
    ) -> None:
        self.project, self.spec, self.src, self.context = project, spec, primary, context
        self.secondary = {name: path.resolve() for name, path in secondary.items()}
        self.overrides = tuple(overrides)
        self.build_uuid = str(uuid.uuid4())
        self.build_id = f"{project.name}:{self.build_uuid}"
        self.work = context.work.resolve()
        self.state = self.work / "state"
        self.venv = self.work / "venv"
        self.wrapper = self.state / "run-command.sh"
        self.notes: list[str] = [
            f"buildspec key {key} is not applied locally" for key in spec.ignored
        ]
        self.phases: list[PhaseResult] = []
        self.env: dict[str, str] = {}
        self.cwd = self.src
        self.secret_names: set[str] = set()  # masked in what the build echoes
        self.project_secrets: set[str] = set()  # the project's and action's: not exportable
        self.succeeding = True
        timeout = context.timeout_seconds or project.timeout_minutes * 60
        self.deadline = time.monotonic() + timeout
        self.bash = shutil.which("bash") or ""
        self.log = _Log(self.work / "build.log", context.echo)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
            self.log.line(f"Note: {text}")

    def run(self) -> BuildResult:
        try:
            return self._run()
        finally:
            stopped = _stop_leftovers(self.build_id)
            if stopped:
                self.log.line(f"Stopped {stopped} process(es) the build left running")
            self.log.close()

    def _run(self) -> BuildResult:
        self.log.line(f"Build {self.build_id}: the buildspec runs on this machine")
        if not self.provision():
            return self.result("FAILED")
        ran_all, timed_out = self.run_phases()
        exported = self.exported()
        artifacts: dict[str | None, Path] = {}
        name = None
        if ran_all:
            artifacts, name = self.upload_artifacts()
            self.save_cache()
        reports = self.read_reports()
        status = "TIMED_OUT" if timed_out else "SUCCEEDED" if self.succeeding else "FAILED"
        self.log.line(f"Build {status}")
        return self.result(status, exported, artifacts, name, reports)

    def result(
        self,
        status: str,
        exported: Mapping[str, str] | None = None,
        artifacts: Mapping[str | None, Path] | None = None,
        artifact_name: str | None = None,
        reports: Mapping[str, ReportSummary] | None = None,
    ) -> BuildResult:
        failed = next((phase for phase in self.phases if phase.status != "SUCCEEDED"), None)
        return BuildResult(
            build_id=self.build_id,
            status=status,
            phases=tuple(self.phases),
            exported=dict(exported or {}),
            artifacts=dict(artifacts or {}),
            artifact_name=artifact_name,
            reports=dict(reports or {}),
            log=self.log.path,
            notes=tuple(self.notes),
            message=f"{failed.name}: {failed.message}" if failed else "",
        )

    # -- provisioning: the environment, the variables, the cache ------------------------------

    def provision(self) -> bool:
        started = time.monotonic()
        self.log.line("Entering phase PROVISIONING")
        status, message = "SUCCEEDED", ""
        try:
            if not self.bash:
                raise _ProvisioningError("CLIENT_ERROR: bash is not installed on this machine")
            self.state.mkdir(parents=True, exist_ok=True)
            self.wrapper.write_text(_wrapper_script(self.bash), encoding="utf-8")
            bin_dir = make_build_venv(self.venv)
            self.env = self.environment(bin_dir)
            self.restore_cache()
        except _ProvisioningError as error:
            status, message = "FAILED", str(error)
            self.succeeding = False
        self.end_phase("PROVISIONING", status, message, started)
        return status == "SUCCEEDED"

    def environment(self, bin_dir: Path) -> dict[str, str]:
        """This machine's environment, then CodeBuild's variables, then the buildspec's, the
        project's and the action's, each replacing the one before; the local AWS last."""
        env = _machine_environment()
        env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", os.defpath)])
        env["VIRTUAL_ENV"] = str(self.venv)
        env["HOME"] = os.environ.get("HOME") or str(Path.home())
        env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = self.context.region
        spec = self.spec
        env.update(spec.variables)
        env.update({name: self.parameter(value) for name, value in spec.parameter_store.items()})
        env.update({name: self.secret(value) for name, value in spec.secrets_manager.items()})
        self.secret_names |= set(spec.parameter_store) | set(spec.secrets_manager)
        for variable in (*self.project.environment_variables, *self.overrides):
            env[variable.name] = self.variable(variable)
        for name, value in self.local_aws().items():
            declared = name in env and env[name] != value and name in self.declared()
            if declared:
                self.note(
                    f"variable {name} is replaced: every AWS call of a local build goes "
                    "to the local AWS"
                )
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        for name in sorted(self.declared()):
            if name.startswith("CODEBUILD_"):
                self.note(f"variable {name} is reserved by CodeBuild and is set by the build")
        env.update(self.codebuild_variables())
        for name in self.secret_names:
            self.log.secrets.append(env.get(name, ""))
        return env

    def declared(self) -> set[str]:
        spec = self.spec
        names = set(spec.variables) | set(spec.parameter_store) | set(spec.secrets_manager)
        return names | {
            variable.name for variable in (*self.project.environment_variables, *self.overrides)
        }

    def local_aws(self) -> dict[str, str | None]:
        return {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.context.endpoint_url,
            "AWS_CONFIG_FILE": str(self.state / "aws-config"),  # none: no profile's settings
            "AWS_SHARED_CREDENTIALS_FILE": str(self.state / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def codebuild_variables(self) -> dict[str, str]:
        context = self.context
        arn = f"arn:aws:codebuild:{context.region}:{context.account}:build/{self.build_id}"
        values = {
            "CODEBUILD_BUILD_ID": self.build_id,
            "CODEBUILD_BUILD_ARN": arn,
            "CODEBUILD_BUILD_NUMBER": str(context.build_number),
            "CODEBUILD_BUILD_IMAGE": self.project.image,
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "CODEBUILD_INITIATOR": context.initiator,
            "CODEBUILD_LOG_PATH": self.build_uuid,
            "CODEBUILD_SRC_DIR": str(self.src),
            "CODEBUILD_START_TIME": str(int(time.time() * 1000)),
        }
        if context.source_version:
            values["CODEBUILD_RESOLVED_SOURCE_VERSION"] = context.source_version
        if self.project.encryption_key:
            values["CODEBUILD_KMS_KEY_ID"] = self.project.encryption_key
        for name, path in self.secondary.items():
            values[f"CODEBUILD_SRC_DIR_{name}"] = str(path)
        return values

    def variable(self, variable: EnvironmentVariable) -> str:
        if variable.type not in VARIABLE_TYPES:
            raise _ProvisioningError(
                f"CLIENT_ERROR: variable {variable.name} has type {variable.type!r}; "
                f"CodeBuild takes {', '.join(VARIABLE_TYPES)}"
            )
        if variable.type == "PLAINTEXT":
            return variable.value
        self.secret_names.add(variable.name)
        self.project_secrets.add(variable.name)
        if variable.type == "PARAMETER_STORE":
            return self.parameter(variable.value)
        return self.secret(variable.value)

    def parameter(self, name: str) -> str:
        try:
            reply = self.context.clients("ssm").get_parameter(Name=name, WithDecryption=True)
        except (ClientError, BotoCoreError) as error:
            raise _ProvisioningError(
                f"Decrypted Variables Error: parameter {name} from the local AWS: {error}"
            ) from None
        return str(reply["Parameter"]["Value"])

    def secret(self, reference: str) -> str:
        """`secret-id:json-key:version-stage:version-id`; the id may be an ARN (colons)."""
        parts = reference.split(":")
        count = 7 if reference.startswith("arn:") else 1
        secret_id, rest = ":".join(parts[:count]), [*parts[count:], "", "", ""]
        json_key, stage, version = rest[:3]
        request = {"SecretId": secret_id}
        if stage:
            request["VersionStage"] = stage
        if version:
            request["VersionId"] = version
        try:
            value = str(
                self.context.clients("secretsmanager").get_secret_value(**request)["SecretString"]
            )
            if not json_key:
                return value
            found = json.loads(value)[json_key]
        except (ClientError, BotoCoreError, ValueError, KeyError, TypeError) as error:
            raise _ProvisioningError(
                f"Secrets Manager Error: secret {reference} from the local AWS: {error!r}"
            ) from None
        return found if isinstance(found, str) else json.dumps(found)

    # -- phases ---------------------------------------------------------------------------

    def run_phases(self) -> tuple[bool, bool]:
        """(every phase ran, the build timed out), following CodeBuild's phase transitions."""
        for phase in self.spec.phases:
            status = self.run_phase(phase)
            if status == "TIMED_OUT":
                return False, True
            if status == "SUCCEEDED" or phase.on_failure == "CONTINUE":
                continue
            if phase.on_failure == "ABORT" or phase.name in ("install", "pre_build"):
                return False, False
        return True, False

    def run_phase(self, phase: Phase) -> str:
        started = time.monotonic()
        self.log.line(f"Entering phase {phase.phase_type}")
        for runtime, asked in phase.runtime_versions.items():
            self.runtime_note(runtime, expand(asked, self.env))
        status, message = "SUCCEEDED", ""
        for block in (phase.commands, phase.finally_commands):
            for command in block:
                code = self.command(command)
                if code is None:
                    status, message = "TIMED_OUT", "BUILD_TIMED_OUT: Build has timed out."
                    break
                if code:
                    self.log.line(f"Command did not exit successfully {command} exit status {code}")
                    if status == "SUCCEEDED":
                        status = "FAILED"
                        message = (
                            "COMMAND_EXECUTION_ERROR: Error while executing command: "
                            f"{command}. Reason: exit status {code}"
                        )
                    break
            if status == "TIMED_OUT":
                break
        self.end_phase(phase.phase_type, status, message, started)
        return status

    def end_phase(self, name: str, status: str, message: str, started: float) -> None:
        if status != "SUCCEEDED":
            self.succeeding = False
        self.log.line(f"Phase complete: {name} State: {status}")
        code, _, reason = message.partition(": ")
        self.log.line(f"Phase context status code: {code} Message: {reason}")
        self.phases.append(PhaseResult(name, status, round(time.monotonic() - started, 3), message))

    def runtime_note(self, runtime: str, asked: str) -> None:
        if runtime != "python":
            self.note(
                f"runtime-versions asks for {runtime} {asked}: not installed locally; "
                f"the build uses the {runtime} this machine has, if any"
            )
            return
        have = f"{sys.version_info.major}.{sys.version_info.minor}"
        wanted = asked.removesuffix(".x")
        if asked == "latest" or not (have == wanted or have.startswith(f"{wanted}.")):
            self.note(
                f"runtime-versions asks for python {asked}; this machine has python {have}, "
                "and the build runs with it"
            )

    def command(self, command: str) -> int | None:
        """Run one command in the session; its exit status, or None when the build timed out."""
        self.log.line(f"Running command {command}")
        (self.state / "command").write_text(command + "\n", encoding="utf-8")
        for name in ("env", "cwd"):
            (self.state / name).unlink(missing_ok=True)
        env = {**self.env, "CODEBUILD_BUILD_SUCCEEDING": "1" if self.succeeding else "0"}
        posix = ["--posix"] if self.spec.shell == "/bin/sh" else []
        process = subprocess.Popen(
            [self.bash, "--noprofile", "--norc", *posix, str(self.wrapper), str(self.state)],
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.fileno(),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while True:
            try:
                code = process.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                self.log.pump()
                if time.monotonic() > self.deadline:
                    _kill_group(process.pid)
                    process.wait()
                    self.log.line("Build timed out: the project's timeout stopped the command")
                    return None
        self.log.pump()
        if self.spec.version == "0.2":
            self.adopt_state()
        return code

    def adopt_state(self) -> None:
        """The variables and folder the command left, for the next command."""
        try:
            raw = (self.state / "env").read_bytes()
            folder = Path((self.state / "cwd").read_text(encoding="utf-8").rstrip("\n"))
        except OSError:
            return  # killed before it could say: the session stays as it was
        env = {}
        for entry in raw.split(b"\0"):
            name, sep, value = os.fsdecode(entry).partition("=")
            if sep and name not in VOLATILE:
                env[name] = value
        self.env = env
        if folder.is_dir():
            self.cwd = folder

    def exported(self) -> dict[str, str]:
        exported = {}
        for name in self.spec.exported_variables:
            if name.startswith("AWS_") or name in self.project_secrets:
                self.note(f"exported variable {name} cannot be exported (CodeBuild refuses it too)")
            elif name in self.env:
                exported[name] = self.env[name]
            else:
                self.note(f"exported variable {name} was not set when the build ended")
        return exported

    # -- artifacts, reports, cache ----------------------------------------------------------

    def upload_artifacts(self) -> tuple[dict[str | None, Path], str | None]:
        if self.spec.artifacts is None:
            return {}, None
        started = time.monotonic()
        self.log.line("Entering phase UPLOAD_ARTIFACTS")
        definitions: dict[str | None, Artifacts] = {None: self.spec.artifacts}
        definitions.update(self.spec.secondary_artifacts)
        folder = self.work / "artifacts"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        zips: dict[str | None, Path] = {}
        status, message = "SUCCEEDED", ""
        for key, definition in definitions.items():
            entries = artifact_files(self.src, definition, self.env)
            if not entries:
                status, message = "FAILED", "CLIENT_ERROR: no matching artifact paths found"
                self.log.line(f"artifacts {key or '(primary)'}: no matching artifact paths found")
                continue
            zips[key] = zip_artifact(entries, folder / f"{key or 'primary'}.zip")
            self.log.line(
                f"artifacts {key or '(primary)'}: {len(entries)} file(s) in {zips[key].name}"
            )
        self.end_phase("UPLOAD_ARTIFACTS", status, message, started)
        name = self.spec.artifacts.name
        return zips, self.shell_value(name) if name else None

    def shell_value(self, text: str) -> str:
        """A buildspec value in the shell command language (`artifacts: name`)."""
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        try:
            done = subprocess.run(
                [self.bash, "--noprofile", "--norc", "-c", f'printf "%s" "{escaped}"'],
                env=self.env,
                cwd=self.src,
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
        except (subprocess.SubprocessError, OSError):
            self.note(
                f"artifacts name {text!r} could not be evaluated by the shell; kept as written"
            )
            return text
        return done.stdout

    def read_reports(self) -> dict[str, ReportSummary]:
        summaries = {}
        for report in self.spec.reports:
            group = report_group(self.project.name, report.group)
            files = report_files(self.src, report, self.env)
            if not files:
                self.note(f"report group {group}: no report files found")
                continue
            if report.file_format not in ("JUNITXML", "CUCUMBERJSON"):
                self.note(
                    f"report group {group}: {report.file_format} reports are not summarized locally"
                )
                continue
            try:
                counts = [count_report(path, report.file_format) for path in files]
            except (ParseError, ValueError, OSError) as error:
                self.note(f"report group {group}: a report could not be read: {error}")
                continue
            passed, failed, errors, skipped = (sum(column) for column in zip(*counts, strict=True))
            summaries[group] = ReportSummary(
                group,
                report.file_format,
                tuple(files),
                passed + failed + errors + skipped,
                passed,
                failed,
                errors,
                skipped,
            )
            self.log.line(
                f"Report {group}: {passed} passed, {failed} failed, {errors} errors, "
                f"{skipped} skipped"
            )
        return summaries

    def cache_patterns(self) -> list[str]:
        """The buildspec's cache paths inside the source folder, relative to it."""
        if self.project.cache_type == "NO_CACHE":
            if self.spec.cache_paths:
                self.note(
                    "cache paths are given but the project has no cache: nothing is cached "
                    "(as on AWS)"
                )
            return []
        patterns = []
        for pattern in self.spec.cache_paths:
            expanded = expand(pattern, self.env)
            path = Path(expanded)
            if not path.is_absolute():
                patterns.append(expanded)
            elif path.is_relative_to(self.src):
                patterns.append(path.relative_to(self.src).as_posix())
            else:
                self.note(
                    f"cache path {pattern} is outside the source folder: not restored or saved "
                    "locally (the folder is this machine's own and simply stays)"
                )
        return patterns

    def restore_cache(self) -> None:
        stored = self.context.cache / "files"
        if not self.cache_patterns() or not stored.is_dir():
            return
        files = select_files(stored, ["**/*"])
        for relative in files:
            target = self.src / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(stored / relative, target)
        self.log.line(f"Restored {len(files)} cached file(s) from {stored}")

    def save_cache(self) -> None:
        patterns = self.cache_patterns()
        if not patterns:
            return
        files = select_files(self.src, patterns)
        saving = self.context.cache / f".saving-{self.build_uuid}"
        for relative in files:
            target = saving / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.src / relative, target)
        saving.mkdir(parents=True, exist_ok=True)
        stored = self.context.cache / "files"
        shutil.rmtree(stored, ignore_errors=True)
        saving.rename(stored)
        self.log.line(f"Saved {len(files)} file(s) to the project's cache {stored}")


# -- the machine as the image -------------------------------------------------------------------


def _machine_environment() -> dict[str, str]:
    """This process's environment without the caller's Python environment, AWS identity or
    CodeBuild values; the caller's virtual environment leaves PATH."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in DROPPED and not name.startswith(DROPPED_PREFIXES)
    }
    callers = set()
    if sys.prefix != sys.base_prefix:  # a virtual environment (outside one, bin is the machine's)
        callers.add(Path(sys.prefix) / "bin")
    if os.environ.get("VIRTUAL_ENV"):
        callers.add(Path(os.environ["VIRTUAL_ENV"]) / "bin")
    if "PATH" in env:
        env["PATH"] = os.pathsep.join(
            part for part in env["PATH"].split(os.pathsep) if part and Path(part) not in callers
        )
    return env


def make_build_venv(folder: Path) -> Path:
    """A fresh virtual environment from the base interpreter that sees the packages of the
    environment running `infra` (after its own), with their commands in its bin. Its bin."""
    venv.EnvBuilder(clear=True, symlinks=True, with_pip=False).create(folder)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = folder / "lib" / version / "site-packages"
    machine = [path for path in site.getsitepackages() if Path(path).is_dir()]
    (site_packages / "_infra_local_machine.pth").write_text(
        "".join(f"{path}\n" for path in machine), encoding="utf-8"
    )
    bin_dir = folder / "bin"
    python = bin_dir / "python"
    for script, module, attribute in _console_scripts(machine):
        target = bin_dir / script
        if target.exists():
            continue
        head = attribute.split(".")[0]
        target.write_text(
            f"#!{python}\n# {script}, from the packages of the environment running infra\n"
            f"import sys\nfrom {module} import {head}\n\n"
            f'if __name__ == "__main__":\n    sys.exit({attribute}())\n',
            encoding="utf-8",
        )
        target.chmod(0o755)
    return bin_dir


def _console_scripts(paths: list[str]) -> list[tuple[str, str, str]]:
    """(command, module, attribute) of each console script in `paths`, editable installs left
    out: their code is not in those folders, so the build would not import it."""
    found = []
    for dist in metadata.distributions(path=paths):
        direct = dist.read_text("direct_url.json")
        if direct and json.loads(direct).get("dir_info", {}).get("editable"):
            continue
        for entry in dist.entry_points:
            if entry.group == "console_scripts" and entry.module and entry.attr:
                found.append((entry.name, entry.module, entry.attr))
    return sorted(set(found))


def _wrapper_script(bash: str) -> str:
    """Runs one command (the `command` file of the state folder given as $1), then writes
    its variables (shell variables exported) and folder for the next command.

    The variables bash sets itself are not carried: the names a bare bash defines.
    """
    listed = subprocess.run(
        [bash, "--noprofile", "--norc", "-c", "compgen -v"],
        env={},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    own = "|".join(sorted({*listed, "POSIXLY_CORRECT"}))
    env_program = shutil.which("env") or "/usr/bin/env"
    return f"""__cb_state=$1
shift
__cb_save() {{
    __cb_status=$?
    if [ -z "${{__cb_saved:-}}" ]; then
        __cb_saved=1
        for __cb_name in $(compgen -v); do
            case $__cb_name in
                __cb_*|{own}) ;;
                *) export "$__cb_name" 2>/dev/null ;;
            esac
        done
        {env_program} -0 > "$__cb_state/env"
        pwd > "$__cb_state/cwd"
    fi
    exit "$__cb_status"
}}
trap __cb_save EXIT
. "$__cb_state/command"
__cb_save
"""


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _stop_leftovers(build_id: str) -> int:
    """Stop every process still running with this build's CODEBUILD_BUILD_ID (background
    commands), as the end of a build ends its container, and wait until they are gone.
    Their count."""
    marker = f"CODEBUILD_BUILD_ID={build_id}".encode()
    stopped = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            os.kill(int(entry.name), signal.SIGKILL)
            stopped.append(int(entry.name))
        except (OSError, ValueError):
            continue
    deadline = time.monotonic() + STOP_SECONDS
    while any(_running(pid) for pid in stopped) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(stopped)


def _running(pid: int) -> bool:
    """Not yet ended (a zombie has ended: only its parent's wait is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


@dataclass
class _Log:
    """The build's log file, written by the commands themselves, echoed line by line."""

    path: Path
    echo: Echo
    secrets: list[str] = field(default_factory=list)  # masked in what is echoed

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = self.path.open("ab")
        self.reader = self.path.open("rb")
        self.reader.seek(0, os.SEEK_END)
        self.partial = b""

    def fileno(self) -> int:
        return self.writer.fileno()

    def line(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]
        self.writer.write(f"[Container] {stamp} {text}\n".encode())
        self.writer.flush()
        self.pump()

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def pump(self) -> None:
        data = self.partial + self.reader.read()
        *lines, self.partial = data.split(b"\n")
        for line in lines:
            self.echo(self.mask(line.decode("utf-8", "replace").rstrip("\r")))

    def close(self) -> None:
        self.pump()
        if self.partial:
            self.echo(self.mask(self.partial.decode("utf-8", "replace")))
            self.partial = b""
        self.writer.close()
        self.reader.close()
        if any(self.secrets):
            self.path.write_text(
                self.mask(self.path.read_text(encoding="utf-8", errors="replace")), encoding="utf-8"
            )
