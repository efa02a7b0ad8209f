"""A CodeBuild buildspec read as CodeBuild reads it, and its path rules.

`parse_buildspec` checks the shape the buildspec reference gives (version 0.2 or 0.1,
`env`, `phases`, `artifacts`, `reports`, `cache`) and turns a wrong one into one line
naming the project and the key. Scalars stay strings, as CodeBuild (Go) reads them into
strings: `yes` stays "yes", `0123` stays "0123".

`select_files` applies the reference's location patterns: `**/*` is every file under the
folder, `dir/*` the files directly in `dir`, `*/name` a file one folder down; a pattern that
names a folder takes the files under it.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import yaml

from infra.errors import InfraError

VERSIONS = ("0.2", "0.1")
PHASES = ("install", "pre_build", "build", "post_build")
SHELLS = ("bash", "/bin/sh")
ON_FAILURE = ("ABORT", "CONTINUE")
TOP_LEVEL = {"version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts"}
TOP_LEVEL |= {"cache"}
ENV_KEYS = {"shell", "variables", "parameter-store", "exported-variables", "secrets-manager"}
ENV_KEYS |= {"git-credential-helper"}
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
ARTIFACT_KEYS = {"files", "name", "discard-paths", "base-directory", "exclude-paths"}
ARTIFACT_KEYS |= {"enable-symlinks", "s3-prefix", "secondary-artifacts"}
REPORT_KEYS = {"files", "base-directory", "discard-paths", "file-format"}
YES = ("yes", "true")
NO = ("no", "false")
GLOB = set("*?[")


@dataclass(frozen=True)
class Phase:
    name: str  # install, pre_build, build or post_build
    commands: tuple[str, ...] = ()
    finally_commands: tuple[str, ...] = ()
    on_failure: str | None = None  # ABORT or CONTINUE; None: CodeBuild's phase transitions
    runtime_versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def phase_type(self) -> str:
        """The name CodeBuild's logs and API give the phase: BUILD, PRE_BUILD, ..."""
        return self.name.upper()


@dataclass(frozen=True)
class Artifacts:
    """One `artifacts` (or `secondary-artifacts` entry) definition."""

    files: tuple[str, ...]
    name: str | None = None
    base_directory: str | None = None
    discard_paths: bool = False
    exclude_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    group: str  # a name (CodeBuild makes `<project>-<name>`) or a report group ARN
    files: tuple[str, ...]
    base_directory: str | None = None
    discard_paths: bool = False
    file_format: str = "JUNITXML"


@dataclass(frozen=True)
class BuildSpec:
    version: str
    shell: str = "/bin/sh"
    variables: Mapping[str, str] = field(default_factory=dict)
    parameter_store: Mapping[str, str] = field(default_factory=dict)
    secrets_manager: Mapping[str, str] = field(default_factory=dict)
    exported_variables: tuple[str, ...] = ()
    phases: tuple[Phase, ...] = ()  # all four, in order; a phase not declared has no commands
    artifacts: Artifacts | None = None
    secondary_artifacts: Mapping[str, Artifacts] = field(default_factory=dict)
    reports: tuple[Report, ...] = ()
    cache_paths: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()  # keys accepted but not acted on locally, as "a.b" paths


class _Reader:
    """Type checks that name the buildspec and the key path in one line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.ignored: list[str] = []

    def fail(self, where: str, reason: str) -> InfraError:
        return InfraError(
            f"{self.source}: {where}: {reason}" if where else f"{self.source}: {reason}"
        )

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if _empty(value):
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, not {_kind(value)}")
        return value

    def keys(self, value: dict[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(
                where, f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
            )

    def scalar(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a single value, not {_kind(value)}")
        return value

    def strings(self, value: Any, where: str, *, single: bool = False) -> tuple[str, ...]:
        """A list of scalars; `single` also takes one scalar (exclude-paths, files)."""
        if _empty(value):
            return ()
        if single and isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list, not {_kind(value)}")
        return tuple(self.scalar(item, f"{where}[{index}]") for index, item in enumerate(value))

    def commands(self, value: Any, where: str) -> tuple[str, ...]:
        if _empty(value):
            return ()
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list of commands, not {_kind(value)}")
        for index, item in enumerate(value):
            if isinstance(item, dict):
                raise self.fail(
                    f"{where}[{index}]",
                    "is a mapping, not a command: quote the command "
                    "(YAML reads a colon followed by a space as a key)",
                )
        return self.strings(value, where)

    def variables(self, value: Any, where: str) -> dict[str, str]:
        return {
            self.scalar(name, where): self.scalar(item, f"{where}.{name}")
            for name, item in self.mapping(value, where).items()
        }

    def flag(self, value: Any, where: str) -> bool:
        text = self.scalar(value, where).lower()
        if text in YES:
            return True
        if text in NO:
            return False
        raise self.fail(where, f"must be yes or no, not {value!r}")


def _empty(value: Any) -> bool:
    """`key:` with nothing after it: YAML's null, which the base loader reads as ""."""
    return value is None or value == ""


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if _empty(value):
        return "empty"
    if isinstance(value, str):
        return f"the string {value!r}"
    return type(value).__name__


def parse_buildspec(text: str, source: str) -> BuildSpec:
    """The buildspec in `text`; `source` names it in errors ("project app-check, inline")."""
    reader = _Reader(source)
    try:
        document = yaml.load(text, Loader=yaml.BaseLoader)  # every scalar a string, as CodeBuild
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise reader.fail(where, f"not valid YAML: {problem}") from None
    if not isinstance(document, dict):
        raise reader.fail("", f"must be a YAML mapping, not {_kind(document)}")
    reader.keys(document, TOP_LEVEL, "top level")
    version = document.get("version")
    if version not in VERSIONS:
        raise reader.fail("version", f"must be 0.2 (or 0.1), not {version!r}")
    for key in ("run-as", "proxy", "batch"):
        if key in document:
            reader.ignored.append(key)
    env = _env(reader, document.get("env"))
    phases = _phases(reader, document.get("phases"))
    artifacts, secondary = _artifacts(reader, document.get("artifacts"))
    cache = reader.mapping(document.get("cache"), "cache")
    reader.keys(cache, {"paths"}, "cache")
    return BuildSpec(
        version=version,
        phases=phases,
        artifacts=artifacts,
        secondary_artifacts=secondary,
        reports=_reports(reader, document.get("reports")),
        cache_paths=reader.strings(cache.get("paths"), "cache.paths"),
        ignored=tuple(reader.ignored),
        **env,
    )


def _env(reader: _Reader, value: Any) -> dict[str, Any]:
    env = reader.mapping(value, "env")
    reader.keys(env, ENV_KEYS, "env")
    shell = reader.scalar(env.get("shell", "/bin/sh"), "env.shell")
    if shell not in SHELLS:
        raise reader.fail(
            "env.shell", f"must be one of {', '.join(SHELLS)} on Linux, not {shell!r}"
        )
    if "git-credential-helper" in env:
        reader.ignored.append("env.git-credential-helper")
    return {
        "shell": shell,
        "variables": reader.variables(env.get("variables"), "env.variables"),
        "parameter_store": reader.variables(env.get("parameter-store"), "env.parameter-store"),
        "secrets_manager": reader.variables(env.get("secrets-manager"), "env.secrets-manager"),
        "exported_variables": reader.strings(
            env.get("exported-variables"), "env.exported-variables"
        ),
    }


def _phases(reader: _Reader, value: Any) -> tuple[Phase, ...]:
    if _empty(value):
        raise reader.fail("phases", "is required")
    phases = reader.mapping(value, "phases")
    reader.keys(phases, set(PHASES), "phases")
    return tuple(
        _phase(reader, name, phases[name]) if name in phases else Phase(name) for name in PHASES
    )


def _phase(reader: _Reader, name: str, value: Any) -> Phase:
    where = f"phases.{name}"
    if _empty(value):
        raise reader.fail(where, "is empty: give it commands, or leave the phase out")
    phase = reader.mapping(value, where)
    reader.keys(phase, PHASE_KEYS, where)
    if name != "install" and "commands" not in phase:
        raise reader.fail(where, "commands is required when the phase is given")
    if "runtime-versions" in phase and name != "install":
        raise reader.fail(f"{where}.runtime-versions", "is allowed only in the install phase")
    if "run-as" in phase:
        reader.ignored.append(f"{where}.run-as")
    on_failure = phase.get("on-failure")
    if (
        on_failure is not None
        and reader.scalar(on_failure, f"{where}.on-failure") not in ON_FAILURE
    ):
        raise reader.fail(f"{where}.on-failure", f"must be ABORT or CONTINUE, not {on_failure!r}")
    return Phase(
        name=name,
        commands=reader.commands(phase.get("commands"), f"{where}.commands"),
        finally_commands=reader.commands(phase.get("finally"), f"{where}.finally"),
        on_failure=on_failure,
        runtime_versions=reader.variables(
            phase.get("runtime-versions"), f"{where}.runtime-versions"
        ),
    )


def _artifacts(reader: _Reader, value: Any) -> tuple[Artifacts | None, dict[str, Artifacts]]:
    if _empty(value):
        return None, {}
    artifacts = reader.mapping(value, "artifacts")
    secondary = reader.mapping(
        artifacts.get("secondary-artifacts"), "artifacts.secondary-artifacts"
    )
    definitions = {
        identifier: _artifact(
            reader,
            reader.mapping(item, f"artifacts.secondary-artifacts.{identifier}"),
            f"artifacts.secondary-artifacts.{identifier}",
        )
        for identifier, item in secondary.items()
    }
    return _artifact(reader, artifacts, "artifacts"), definitions


def _artifact(reader: _Reader, value: dict[str, Any], where: str) -> Artifacts:
    allowed = ARTIFACT_KEYS if where == "artifacts" else ARTIFACT_KEYS - {"secondary-artifacts"}
    reader.keys(value, allowed, where)
    if "files" not in value:
        raise reader.fail(f"{where}.files", "is required")
    for key in ("enable-symlinks", "s3-prefix"):
        if key in value:
            reader.ignored.append(f"{where}.{key}")
    name = value.get("name")
    base = value.get("base-directory")
    return Artifacts(
        files=reader.strings(value["files"], f"{where}.files", single=True),
        name=None if name is None else reader.scalar(name, f"{where}.name"),
        base_directory=None if base is None else reader.scalar(base, f"{where}.base-directory"),
        discard_paths=reader.flag(value.get("discard-paths", "no"), f"{where}.discard-paths"),
        exclude_paths=reader.strings(
            value.get("exclude-paths"), f"{where}.exclude-paths", single=True
        ),
    )


def _reports(reader: _Reader, value: Any) -> tuple[Report, ...]:
    reports = []
    for group, item in reader.mapping(value, "reports").items():
        where = f"reports.{group}"
        report = reader.mapping(item, where)
        reader.keys(report, REPORT_KEYS, where)
        if "files" not in report:
            raise reader.fail(f"{where}.files", "is required")
        base = report.get("base-directory")
        reports.append(
            Report(
                group=group,
                files=reader.strings(report["files"], f"{where}.files", single=True),
                base_directory=None
                if base is None
                else reader.scalar(base, f"{where}.base-directory"),
                discard_paths=reader.flag(
                    report.get("discard-paths", "no"), f"{where}.discard-paths"
                ),
                file_format=reader.scalar(
                    report.get("file-format", "JUNITXML"), f"{where}.file-format"
                ).upper(),
            )
        )
    return tuple(reports)


# -- locations ------------------------------------------------------------------------------


def _segments(pattern: str) -> tuple[str, ...]:
    parts = [part for part in pattern.replace("\\", "/").split("/") if part not in ("", ".")]
    return tuple(parts)


def _matches(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_matches(rest, parts[start:]) for start in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], head) and _matches(rest, parts[1:])


def matches(pattern: str, relative: str) -> bool:
    """Whether the file at `relative` (a/b/c.txt) is one `pattern` names."""
    return _matches(_segments(pattern), _segments(relative))


def _walk(root: Path) -> Iterator[str]:
    """Every file under `root` as a relative posix path; symbolic links to folders are not
    followed (links to files are taken as the files they point to)."""
    for folder, folders, files in os.walk(root):
        folders.sort()
        base = Path(folder).relative_to(root)
        for name in sorted(files):
            yield (base / name).as_posix()


def _prefix(segments: tuple[str, ...]) -> tuple[str, ...]:
    """The literal folders a pattern starts with: where to look for its files."""
    literal: list[str] = []
    for part in segments[:-1]:
        if GLOB & set(part):
            break
        literal.append(part)
    return tuple(literal)


def select_files(root: Path, patterns: Sequence[str], excludes: Sequence[str] = ()) -> list[str]:
    """The files under `root` that a pattern names and no exclude does, sorted."""
    compiled = []
    for pattern in patterns:
        segments = _segments(pattern)
        literal = segments and not any(GLOB & set(part) for part in segments)
        if literal and root.joinpath(*segments).is_dir():
            segments = (*segments, "**", "*")
        compiled.append(segments)
    excluded = [_segments(pattern) for pattern in excludes]
    chosen: set[str] = set()
    for start in {_prefix(segments) for segments in compiled if segments}:
        folder = root.joinpath(*start)
        if not folder.is_dir():
            continue
        for relative in _walk(folder):
            parts = (*start, *_segments(relative))
            if any(_matches(pattern, parts) for pattern in compiled) and not any(
                _matches(pattern, parts) for pattern in excluded
            ):
                chosen.add("/".join(parts))
    return sorted(chosen)


def base_directories(root: Path, base: str | None) -> list[Path]:
    """The folders a base-directory names: one folder, or `my-build*` for every match."""
    if not base:
        return [root]
    path = Path(base)
    if path.is_absolute():
        return [path] if path.is_dir() else []
    if not GLOB & set(base):
        return [root / path] if (root / path).is_dir() else []
    return sorted(found for found in root.glob(base) if found.is_dir())


def expand(text: str, env: Mapping[str, str]) -> str:
    """$NAME and ${NAME} from the build's variables (base-directory, cache paths)."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), text)


def artifact_files(src: Path, definition: Artifacts, env: Mapping[str, str]) -> dict[str, Path]:
    """The files of one artifacts definition by their name in the zip."""
    base = expand(definition.base_directory, env) if definition.base_directory else None
    entries: dict[str, Path] = {}
    for folder in base_directories(src, base):
        for relative in select_files(folder, definition.files, definition.exclude_paths):
            name = relative.rsplit("/", 1)[-1] if definition.discard_paths else relative
            entries[name] = folder / relative
    return entries


def zip_artifact(entries: Mapping[str, Path], target: Path) -> Path:
    """A zip as CodePipeline passes artifacts: the paths at its root, file modes kept."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            archive.write(entries[name], name)
    return target


# -- reports ---------------------------------------------------------------------------------


def report_group(project: str, group: str) -> str:
    """The report group's name: the one in an ARN, or `<project>-<name>` for a name."""
    return (
        group.rsplit("report-group/", 1)[-1] if group.startswith("arn:") else f"{project}-{group}"
    )


def report_files(src: Path, report: Report, env: Mapping[str, str]) -> list[Path]:
    base = expand(report.base_directory, env) if report.base_directory else None
    return [
        folder / relative
        for folder in base_directories(src, base)
        for relative in select_files(folder, report.files)
    ]


def count_report(path: Path, file_format: str) -> tuple[int, int, int, int]:
    """(passed, failed, errors, skipped) of one JUnit XML or Cucumber JSON report file."""
    if file_format == "CUCUMBERJSON":
        passed = failed = skipped = 0
        for feature in json.loads(path.read_text(encoding="utf-8")):
            for scenario in feature.get("elements", []):
                if scenario.get("type", "scenario") != "scenario":
                    continue
                steps = [step.get("result", {}).get("status") for step in scenario.get("steps", [])]
                if "failed" in steps:
                    failed += 1
                elif steps and all(status == "passed" for status in steps):
                    passed += 1
                else:
                    skipped += 1
        return passed, failed, 0, skipped
    counts = {"passed": 0, "failure": 0, "error": 0, "skipped": 0}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        outcome = next(
            (kind for kind in ("failure", "error", "skipped") if case.find(kind) is not None),
            "passed",
        )
        counts[outcome] += 1
    return counts["passed"], counts["failure"], counts["error"], counts["skipped"]
