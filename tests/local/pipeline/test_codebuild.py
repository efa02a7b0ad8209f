"""The local CodeBuild: real buildspecs run for real, in a fresh virtual environment each.

Each test writes a small buildspec and a source folder in tmp_path and reads what the
build did from its BuildResult, its log, its zips and the files its commands wrote. The
expectations are the buildspec reference's (docs.aws.amazon.com/codebuild, "Build
specification reference", "Environment variables in build environments", "Build phase
transitions"). No test installs anything from the network.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import site
import sys
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.errors import InfraError
from infra.local.pipeline.buildspec import parse_buildspec, select_files
from infra.local.pipeline.codebuild import BuildContext, BuildResult, load_buildspec, run_build
from infra.local.pipeline.model import EnvironmentVariable, ProjectDef
from pipelines.buildspecs import check_buildspec

REPO = Path(__file__).resolve().parents[3]
REGION = "eu-west-1"
ACCOUNT = "123456789012"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
NOWHERE = "http://127.0.0.1:9"  # the local AWS, for builds that make no AWS call


@dataclass
class Builds:
    """Runs builds in `root`; each gets its own work folder, projects keep their cache."""

    root: Path
    endpoint: str = NOWHERE
    lines: list[str] = field(default_factory=list)
    count: int = 0
    folders: int = 0
    src: Path = Path()  # the primary source of the last build

    def clients(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def source(self, files: Mapping[str, str] | None = None, name: str = "src") -> Path:
        self.folders += 1
        folder = self.root / f"{name}-{self.folders}"
        folder.mkdir(parents=True)
        for relative, text in (files or {}).items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
        return folder

    def work(self, number: int) -> Path:
        return self.root / f"work-{number}"

    def run(
        self,
        buildspec: str,
        *,
        src: Path | None = None,
        project: Mapping[str, Any] | None = None,
        overrides: Iterable[EnvironmentVariable] = (),
        secondary: Mapping[str, Path] | None = None,
        timeout: float | None = None,
    ) -> BuildResult:
        self.count += 1
        definition = ProjectDef(**{"name": "demo", "buildspec": buildspec, **(project or {})})
        context = BuildContext(
            region=REGION,
            account=ACCOUNT,
            endpoint_url=self.endpoint,
            initiator="codepipeline/demo-pipeline",
            source_version=COMMIT,
            build_number=self.count,
            work=self.work(self.count),
            cache=self.root / "cache" / definition.name,
            echo=self.lines.append,
            clients=self.clients,
            timeout_seconds=timeout,
        )
        self.src = src or self.source()
        return run_build(definition, self.src, secondary or {}, tuple(overrides), context)


@pytest.fixture
def builds(tmp_path: Path) -> Builds:
    return Builds(tmp_path)


def statuses(result: BuildResult) -> dict[str, str]:
    return {phase.name: phase.status for phase in result.phases}


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# -- phases and the shell session -----------------------------------------------------------


def test_phases_run_in_order_in_one_shell_session(builds: Builds) -> None:
    """Buildspec 0.2: a variable exported, a variable set and a `cd` in one command hold in
    the next command and the next phases; `exit 0` ends only its command."""
    result = builds.run(
        """
version: 0.2
phases:
  install:
    commands:
      - echo install >> "$CODEBUILD_SRC_DIR/order.txt"
      - export FROM_INSTALL=exported
      - mkdir -p deep/er && cd deep/er
  pre_build:
    commands:
      - echo pre_build >> "$CODEBUILD_SRC_DIR/order.txt"
      - PLAIN=set-without-export
      - exit 0
      - echo "after exit 0" >> "$CODEBUILD_SRC_DIR/order.txt"
  build:
    commands:
      - echo build >> "$CODEBUILD_SRC_DIR/order.txt"
      - trap 'echo "its own trap ran"' EXIT; export AFTER_TRAP=kept
      - echo "$FROM_INSTALL $PLAIN $(pwd) $AFTER_TRAP" > "$CODEBUILD_SRC_DIR/seen.txt"
  post_build:
    commands:
      - echo post_build >> "$CODEBUILD_SRC_DIR/order.txt"
"""
    )
    src = builds.src
    assert result.succeeded, result.message
    assert list(statuses(result)) == ["PROVISIONING", "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD"]
    order = (src / "order.txt").read_text().split()
    assert order == ["install", "pre_build", "after", "exit", "0", "build", "post_build"]
    assert (src / "seen.txt").read_text().split() == [
        "exported",
        "set-without-export",
        str(src / "deep" / "er"),
        "kept",
    ]
    assert "its own trap ran" in builds.lines


def test_failed_build_phase_still_runs_post_build_and_fails_the_build(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
phases:
  build:
    commands:
      - echo "about to fail"
      - ls /no/such/folder
      - echo "never printed"
  post_build:
    commands:
      - echo "post_build sees CODEBUILD_BUILD_SUCCEEDING=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files: ['**/*']
""",
        src=builds.source({"kept.txt": "x"}),
    )
    assert result.status == "FAILED" and not result.succeeded
    assert statuses(result) == {
        "PROVISIONING": "SUCCEEDED",
        "INSTALL": "SUCCEEDED",
        "PRE_BUILD": "SUCCEEDED",
        "BUILD": "FAILED",
        "POST_BUILD": "SUCCEEDED",
        "UPLOAD_ARTIFACTS": "SUCCEEDED",  # always attempted after BUILD, as on AWS
    }
    assert result.message.startswith("BUILD: COMMAND_EXECUTION_ERROR")
    assert "ls /no/such/folder" in result.message and "exit status 2" in result.message
    log = result.log.read_text()
    assert "Running command ls /no/such/folder" in log
    assert "No such file or directory" in log  # the command's own output
    assert "never printed" not in log.replace('Running command echo "never printed"', "")
    assert "post_build sees CODEBUILD_BUILD_SUCCEEDING=0" in log
    assert None in result.artifacts
    assert any("No such file or directory" in line for line in builds.lines)  # echoed too


def test_failed_install_skips_every_later_phase(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
phases:
  install:
    commands:
      - "false"
  pre_build:
    commands: [echo pre_build ran]
  build:
    commands: [echo build ran]
  post_build:
    commands: [echo post_build ran]
artifacts:
  files: ['**/*']
"""
    )
    assert list(statuses(result)) == ["PROVISIONING", "INSTALL"]
    assert result.status == "FAILED"
    assert result.artifacts == {}
    assert " ran" not in "".join(line for line in builds.lines if "Running command" not in line)


def test_finally_runs_after_a_failure_and_its_own_failure_fails_the_phase(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
phases:
  pre_build:
    commands:
      - "false"
      - echo skipped
    finally:
      - echo "finally after failure" > "$CODEBUILD_SRC_DIR/finally.txt"
  build:
    commands:
      - echo build ran
"""
    )
    src = builds.src
    assert (src / "finally.txt").read_text() == "finally after failure\n"
    assert list(statuses(result)) == ["PROVISIONING", "INSTALL", "PRE_BUILD"]

    result = builds.run(
        """
version: 0.2
phases:
  build:
    commands:
      - echo fine
    finally:
      - exit 3
"""
    )
    assert statuses(result)["BUILD"] == "FAILED"
    assert "exit 3. Reason: exit status 3" in result.message


def test_on_failure_continue_and_abort(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
phases:
  install:
    on-failure: CONTINUE
    commands:
      - "false"
  build:
    on-failure: ABORT
    commands:
      - echo "build ran, succeeding=$CODEBUILD_BUILD_SUCCEEDING"
      - "false"
  post_build:
    commands:
      - echo post_build ran
artifacts:
  files: ['**/*']
"""
    )
    assert statuses(result) == {
        "PROVISIONING": "SUCCEEDED",
        "INSTALL": "FAILED",
        "PRE_BUILD": "SUCCEEDED",
        "BUILD": "FAILED",
    }
    assert result.status == "FAILED"
    assert "build ran, succeeding=0" in builds.lines
    assert "post_build ran" not in builds.lines
    assert result.artifacts == {}


def test_version_01_runs_each_command_in_its_own_shell(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.1
phases:
  build:
    commands:
      - export ONLY_HERE=1 && cd /
      - echo "[$ONLY_HERE] $(pwd)" > "$CODEBUILD_SRC_DIR/seen.txt"
"""
    )
    src = builds.src
    assert result.succeeded
    assert (src / "seen.txt").read_text() == f"[] {src}\n"


# -- variables ----------------------------------------------------------------------------


def test_exported_variables_come_from_the_final_environment(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
env:
  variables:
    DEFAULTED: from-buildspec
    CHANGED: from-buildspec
  exported-variables:
    - DEFAULTED
    - CHANGED
    - PLAIN
    - AWS_REGION
    - NEVER_SET
phases:
  build:
    commands:
      - export CHANGED=changed-in-build
  post_build:
    commands:
      - PLAIN="set in post_build"
"""
    )
    assert result.exported == {
        "DEFAULTED": "from-buildspec",
        "CHANGED": "changed-in-build",
        "PLAIN": "set in post_build",
    }
    assert any("AWS_REGION cannot be exported" in note for note in result.notes)
    assert any("NEVER_SET was not set" in note for note in result.notes)


def test_variable_precedence_action_over_project_over_buildspec(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
env:
  variables:
    ALL_THREE: buildspec
    TWO: buildspec
    ONE: buildspec
    LITERAL: "$HOME/not-expanded"
    NUMBER: 0123
  exported-variables: [ALL_THREE, TWO, ONE, LITERAL, NUMBER]
phases:
  build:
    commands: ["true"]
""",
        project={
            "environment_variables": (
                EnvironmentVariable("ALL_THREE", "project"),
                EnvironmentVariable("TWO", "project"),
            )
        },
        overrides=[EnvironmentVariable("ALL_THREE", "action")],
    )
    assert result.exported == {
        "ALL_THREE": "action",
        "TWO": "project",
        "ONE": "buildspec",
        "LITERAL": "$HOME/not-expanded",  # "replaced by the literal value", as documented
        "NUMBER": "0123",  # a string, as CodeBuild reads it
    }


def test_codebuild_variables_and_the_local_aws(
    builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caller's own AWS identity, which the build must never see.
    monkeypatch.setenv("AWS_PROFILE", "callers-profile")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "callers-token")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACALLER")
    extra = builds.source({"e.txt": "e"}, name="extra")
    started = int(time.time() * 1000)
    result = builds.run(
        """
version: 0.2
phases:
  build:
    commands:
      - env > "$CODEBUILD_SRC_DIR/env.txt"
""",
        project={
            "image": "aws/codebuild/amazonlinux-aarch64-standard:3.0",
            "encryption_key": "alias/base",
        },
        secondary={"extra": extra},
    )
    src = builds.src
    env = read_env(src / "env.txt")
    build_id = env["CODEBUILD_BUILD_ID"]
    name, _, build_uuid = build_id.partition(":")
    assert result.build_id == build_id and name == "demo" and len(build_uuid) == 36
    assert env["CODEBUILD_BUILD_ARN"] == f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{build_id}"
    assert env["CODEBUILD_BUILD_NUMBER"] == "1"
    assert env["CODEBUILD_INITIATOR"] == "codepipeline/demo-pipeline"
    assert env["CODEBUILD_RESOLVED_SOURCE_VERSION"] == COMMIT
    assert env["CODEBUILD_SRC_DIR"] == str(src)
    assert env["CODEBUILD_SRC_DIR_extra"] == str(extra)
    assert env["CODEBUILD_BUILD_IMAGE"] == "aws/codebuild/amazonlinux-aarch64-standard:3.0"
    assert env["CODEBUILD_KMS_KEY_ID"] == "alias/base"
    assert env["CODEBUILD_BUILD_SUCCEEDING"] == "1"
    assert started <= int(env["CODEBUILD_START_TIME"]) <= int(time.time() * 1000)
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["HOME"] == os.environ["HOME"]
    # Every AWS call goes to the local AWS, never with the caller's identity.
    assert env["AWS_ENDPOINT_URL"] == NOWHERE
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "local"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    venv_bin = builds.work(1) / "venv" / "bin"
    assert env["VIRTUAL_ENV"] == str(builds.work(1) / "venv")
    assert env["PATH"].split(os.pathsep)[0] == str(venv_bin)
    assert str(Path(sys.prefix) / "bin") not in env["PATH"].split(os.pathsep)


def test_parameter_store_and_secrets_manager_from_the_local_aws(
    builds: Builds, moto_server: str
) -> None:
    builds.endpoint = moto_server
    builds.clients("ssm").put_parameter(Name="/demo/db", Value="db-host", Type="String")
    builds.clients("ssm").put_parameter(
        Name="/demo/password", Value="s3cr3t-value", Type="SecureString"
    )
    builds.clients("secretsmanager").create_secret(
        Name="demo/api", SecretString=json.dumps({"token": "tok-123", "user": "bot"})
    )
    result = builds.run(
        """
version: 0.2
env:
  parameter-store:
    DB_HOST: /demo/db
  secrets-manager:
    API_TOKEN: demo/api:token
  exported-variables: [DB_HOST, PASSWORD, SEEN]
phases:
  build:
    commands:
      - echo "password is $PASSWORD"
      - >-
        export SEEN=$(python -c "import boto3;
        print(boto3.client('ssm').get_parameter(Name='/demo/db')['Parameter']['Value'])")
      - echo "$DB_HOST $API_TOKEN" > "$CODEBUILD_SRC_DIR/values.txt"
""",
        project={
            "environment_variables": (
                EnvironmentVariable("PASSWORD", "/demo/password", "PARAMETER_STORE"),
            )
        },
    )
    src = builds.src
    assert result.succeeded, result.message
    assert (src / "values.txt").read_text() == "db-host tok-123\n"
    # The build's own boto3 reaches the local AWS with the local credentials.
    assert result.exported["SEEN"] == "db-host"
    assert "PASSWORD" not in result.exported  # a project's parameter cannot be exported
    assert result.exported["DB_HOST"] == "db-host"  # the buildspec's can
    assert "password is ***" in builds.lines  # masked as CodeBuild masks it
    assert "s3cr3t-value" not in result.log.read_text()

    missing = builds.run(
        """
version: 0.2
env:
  parameter-store:
    GONE: /demo/not-there
phases:
  build:
    commands: [echo never]
"""
    )
    assert statuses(missing) == {"PROVISIONING": "FAILED"}
    assert "/demo/not-there" in missing.message


# -- artifacts, reports, cache --------------------------------------------------------------


def test_artifacts_files_excludes_base_directory_discard_paths_and_secondary(
    builds: Builds,
) -> None:
    src = builds.source(
        {
            "app/main.py": "print()",
            "app/__pycache__/main.cpython-311.pyc": "",
            "app/data/d.json": "{}",
            "README.md": "readme",
            ".git/config": "",
            "dist/pkg/a.zip": "",
            "dist/pkg/deeper/b.txt": "",
            "bin/run.sh": "#!/bin/sh\n",
        }
    )
    (src / "bin" / "run.sh").chmod(0o755)
    extra = builds.source({"e.txt": "e", "other.txt": "o"}, name="extra")
    result = builds.run(
        """
version: 0.2
phases:
  build:
    commands:
      - mkdir -p build/templates/nested && echo '{}' > build/templates/api.json
      - echo '{}' > build/templates/nested/data.json
artifacts:
  files:
    - '**/*'
  exclude-paths:
    - .git/**/*
    - '**/__pycache__/**/*'
    - dist/**/*
  name: app-$CODEBUILD_BUILD_NUMBER
  secondary-artifacts:
    Templates:
      base-directory: build/templates
      files: ['**/*']
    Flat:
      files: ['dist/**/*']
      discard-paths: yes
    Extra:
      base-directory: $CODEBUILD_SRC_DIR_extra
      files: [e.txt]
""",
        src=src,
        secondary={"extra": extra},
    )
    assert result.succeeded, result.message
    assert set(result.artifacts) == {None, "Templates", "Flat", "Extra"}
    names = {
        key: sorted(zipfile.ZipFile(path).namelist()) for key, path in result.artifacts.items()
    }
    assert names[None] == [
        "README.md",
        "app/data/d.json",
        "app/main.py",
        "bin/run.sh",
        "build/templates/api.json",
        "build/templates/nested/data.json",
    ]
    assert names["Templates"] == ["api.json", "nested/data.json"]
    assert names["Flat"] == ["a.zip", "b.txt"]
    assert names["Extra"] == ["e.txt"]
    mode = zipfile.ZipFile(result.artifacts[None]).getinfo("bin/run.sh").external_attr >> 16
    assert mode & 0o111  # executable bits kept
    assert result.artifact_name == "app-1"


def test_artifacts_matching_nothing_fail_the_upload(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
phases:
  build:
    commands: ["true"]
artifacts:
  files: [build/output/*.zip]
"""
    )
    assert statuses(result)["UPLOAD_ARTIFACTS"] == "FAILED"
    assert result.status == "FAILED"
    assert "no matching artifact paths found" in result.message


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
<testcase classname="t" name="ok"/>
<testcase classname="t" name="ok2"/>
<testcase classname="t" name="bad"><failure message="assert 1 == 2"/></testcase>
<testcase classname="t" name="broken"><error message="fixture"/></testcase>
<testcase classname="t" name="later"><skipped message="todo"/></testcase>
</testsuite></testsuites>
"""
CUCUMBER = [
    {
        "elements": [
            {"type": "scenario", "steps": [{"result": {"status": "passed"}}]},
            {"type": "scenario", "steps": [{"result": {"status": "failed"}}]},
        ]
    }
]


def test_reports_are_summarized_per_report_group(builds: Builds) -> None:
    src = builds.source({"junit.xml": JUNIT, "cucumber.json": json.dumps(CUCUMBER)})
    result = builds.run(
        f"""
version: 0.2
phases:
  build:
    commands:
      - mkdir -p build/reports && mv junit.xml build/reports/
reports:
  tests:
    files: [junit.xml]
    base-directory: build/reports
  arn:aws:codebuild:{REGION}:{ACCOUNT}:report-group/shared:
    files: [cucumber.json]
    file-format: CucumberJson
  empty:
    files: [nothing/*.xml]
""",
        src=src,
    )
    tests = result.reports["demo-tests"]  # `<project>-<name>`, as CodeBuild names it
    assert (tests.total, tests.passed, tests.failed, tests.errors, tests.skipped) == (5, 2, 1, 1, 1)
    assert tests.files == (src / "build" / "reports" / "junit.xml",)
    shared = result.reports["shared"]
    assert (shared.total, shared.passed, shared.failed) == (2, 1, 1)
    assert any("demo-empty: no report files found" in note for note in result.notes)


def test_cache_paths_are_restored_on_the_next_build(builds: Builds) -> None:
    spec = """
version: 0.2
env:
  exported-variables: [CACHE]
phases:
  build:
    commands:
      - >-
        if [ -f .deps/cached.txt ]; then export CACHE=restored;
        else mkdir -p .deps/sub && echo x > .deps/sub/cached.txt && cp .deps/sub/cached.txt .deps/
        && export CACHE=fresh; fi
cache:
  paths:
    - .deps/**/*
    - /root/.cache/pip/**/*
"""
    first = builds.run(spec, project={"cache_type": "S3"})
    second = builds.run(spec, project={"cache_type": "S3"})
    assert first.exported == {"CACHE": "fresh"}
    assert second.exported == {"CACHE": "restored"}
    assert any("/root/.cache/pip/**/* is outside the source folder" in n for n in first.notes)
    without = builds.run(spec, project={"name": "uncached"})
    assert without.exported == {"CACHE": "fresh"}
    assert any("the project has no cache" in note for note in without.notes)


def test_timeout_stops_the_build_and_its_background_processes(builds: Builds) -> None:
    started = time.monotonic()
    result = builds.run(
        """
version: 0.2
phases:
  install:
    commands:
      - sleep 300 & echo $! > "$CODEBUILD_SRC_DIR/background.pid"
  build:
    commands:
      - sleep 300
  post_build:
    commands:
      - echo post_build ran
""",
        timeout=1.0,
    )
    src = builds.src
    assert time.monotonic() - started < 15
    assert result.status == "TIMED_OUT"
    assert statuses(result)["BUILD"] == "TIMED_OUT"
    assert "POST_BUILD" not in statuses(result)
    assert not alive(int((src / "background.pid").read_text()))


def test_background_processes_end_with_the_build(builds: Builds) -> None:
    result = builds.run(
        """
version: 0.2
phases:
  build:
    commands:
      - sleep 300 & echo $! > "$CODEBUILD_SRC_DIR/background.pid"
"""
    )
    src = builds.src
    assert result.succeeded
    assert not alive(int((src / "background.pid").read_text()))


# -- the buildspec itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("buildspec", "problem"),
    [
        ("- just\n- a list\n", "must be a YAML mapping, not a list"),
        ("version: 0.2\nphases: [build]\n", "phases: must be a mapping, not a list"),
        (
            "version: 0.2\nphases:\n  build:\n    commands: echo hi\n",
            "phases.build.commands: must be a list of commands, not the string 'echo hi'",
        ),
        ("version: 0.3\nphases:\n  build:\n    commands: [ls]\n", "version: must be 0.2"),
        ("version: 0.2\nphases:\n  build:\n    commands: [ls\n", "not valid YAML"),
        ("version: 0.2\nphases:\n  deploy:\n    commands: [ls]\n", "unknown key 'deploy'"),
        ("version: 0.2\n", "phases: is required"),
        (
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n",
            "phases.build.commands[0]: is a mapping, not a command: quote the command",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n    commands: [ls]\n",
            "on-failure: must be ABORT or CONTINUE",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    commands: [ls]\nartifacts:\n  name: x\n",
            "artifacts.files: is required",
        ),
    ],
)
def test_a_bad_buildspec_is_one_line_naming_the_project(
    builds: Builds, buildspec: str, problem: str
) -> None:
    with pytest.raises(InfraError) as raised:
        builds.run(buildspec, project={"name": "app-check"})
    message = str(raised.value)
    assert message.startswith("CodeBuild project app-check (inline buildspec): ")
    assert problem in message
    assert "\n" not in message


def test_a_buildspec_file_of_the_source(builds: Builds) -> None:
    src = builds.source({"ci/spec.yml": "version: 0.2\nphases:\n  build:\n    commands: [pwd]\n"})
    assert builds.run("ci/spec.yml", src=src).succeeded
    with pytest.raises(InfraError, match=r"CodeBuild project demo \(buildspec.yml\): no such file"):
        builds.run("buildspec.yml")


def test_the_repository_buildspec_parses_and_its_artifact_leaves_out_the_machines_files(
    tmp_path: Path,
) -> None:
    spec = load_buildspec(ProjectDef(name="app-build", buildspec="buildspec.yml"), REPO)
    assert [len(phase.commands) > 0 for phase in spec.phases] == [True, True, True, False]
    assert spec.artifacts is not None and spec.artifacts.files == ("**/*",)
    assert [report.group for report in spec.reports] == ["tests"]
    kept = ["build/templates/dev/data.json", "infra/.gitkeep", "infra/cli.py", "web/app.js"]
    left_out = [
        ".git/HEAD", ".venv-checkov/bin/checkov", ".venv/bin/python", ".pip-cache/x.whl",
        "infra/__pycache__/cli.cpython-311.pyc", "build/lambdas/a.zip", "build/cache/x",
    ]  # fmt: skip
    for relative in kept + left_out:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    chosen = select_files(tmp_path, spec.artifacts.files, spec.artifacts.exclude_paths)
    assert chosen == sorted(kept)


@pytest.mark.parametrize(
    ("asked", "noted"), [("3.11", False), ("3.x", False), ("3.12", True), ("latest", True)]
)
def test_runtime_versions_are_reported_not_installed(
    builds: Builds, asked: str, noted: bool
) -> None:
    if sys.version_info[:2] != (3, 11):
        pytest.skip("the cases are written for a Python 3.11 machine")
    result = builds.run(
        f"""
version: 0.2
phases:
  install:
    runtime-versions:
      python: "{asked}"
      nodejs: 20
  build:
    commands: [python --version]
"""
    )
    assert result.succeeded
    assert any(f"python {asked}; this machine has python 3.11" in n for n in result.notes) is noted
    assert any("nodejs 20" in note for note in result.notes)


# -- the image: this machine, the caller's environment untouched ------------------------------


def tiny_wheel(folder: Path) -> Path:
    """A real wheel, made by hand: pip installs it with no index and no build backend."""
    files = {
        "tiny/__init__.py": b"VALUE = 42\n",
        "tiny-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tiny\nVersion: 0.1\n",
        "tiny-0.1.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("tiny-0.1.dist-info/RECORD,,")
    path = folder / "tiny-0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("tiny-0.1.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def listing(folder: Path) -> dict[str, float]:
    return {str(path): path.stat().st_mtime for path in folder.iterdir()}


def test_what_a_build_installs_stays_in_its_own_environment(builds: Builds) -> None:
    callers = [Path(path) for path in site.getsitepackages()]
    before = [listing(path) for path in callers]
    src = builds.source()
    tiny_wheel(src)
    result = builds.run(
        """
version: 0.2
phases:
  install:
    commands:
      - pip install --quiet --no-index --no-deps ./tiny-0.1-py3-none-any.whl
  build:
    commands:
      - python -c "import tiny, yaml; print(tiny.__file__); print(yaml.__file__)" > where.txt
      - command -v pip >> where.txt
      - pytest --version
""",
        src=src,
    )
    assert result.succeeded, result.log.read_text()
    tiny, machine_yaml, pip = (src / "where.txt").read_text().splitlines()
    venv = builds.work(1) / "venv"
    assert Path(tiny).is_relative_to(venv)  # installed into the build's environment
    assert any(Path(machine_yaml).is_relative_to(path) for path in callers)  # seen, not copied
    assert Path(pip) == venv / "bin" / "pip"
    # The machine's commands (console scripts) run from the build's environment.
    assert any(line.startswith("pytest ") for line in builds.lines)
    assert [listing(path) for path in callers] == before
    assert importlib.util.find_spec("tiny") is None


# -- the repository's own check buildspec ---------------------------------------------------


def stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """`pip` and `python` that install nothing: `python -m infra diff` writes a plan."""
    folder = tmp_path / "stubs"
    folder.mkdir()
    stub(folder, "pip", 'echo "stub pip $*"')
    plan = "printf 'IAM_BROADENED=false\\nSUMMARY=\"2 changes\"\\n' > plan.env"
    stub(folder, "python", f'echo "stub python $*"\ncase "$*" in *"infra diff"*) {plan} ;; esac')
    return folder


@pytest.mark.parametrize(
    ("check", "status", "exported"),
    [
        ("bogus", "FAILED", {"IAM_BROADENED": "true", "SUMMARY": "no plan summary"}),
        ("plan", "SUCCEEDED", {"IAM_BROADENED": "false", "SUMMARY": "2 changes"}),
    ],
)
def test_the_check_buildspec_dispatches_on_check(
    builds: Builds, stubs: Path, check: str, status: str, exported: dict[str, str]
) -> None:
    path = os.pathsep.join([str(stubs), str(builds.work(1) / "venv" / "bin"), os.environ["PATH"]])
    result = builds.run(
        check_buildspec(),
        project={"name": "app-check", "cache_type": "S3"},
        overrides=[
            EnvironmentVariable("CHECK", check),
            EnvironmentVariable("ENV", "dev"),
            EnvironmentVariable("PATH", path),
        ],
    )
    assert result.status == status, result.message
    assert result.exported == exported
    log = result.log.read_text()
    assert "stub pip install --quiet --disable-pip-version-check ." in log
    if check == "bogus":
        assert statuses(result)["BUILD"] == "FAILED" and "exit status 2" in result.message
        assert "CHECK must be plan or gate, not 'bogus'" in log
    else:
        assert "stub python -m infra diff --env dev --prebuilt --variables plan.env" in log
    assert any("python 3.12; this machine has python" in note for note in result.notes)
    assert any("/root/.cache/pip/**/* is outside the source folder" in n for n in result.notes)


def test_check_buildspec_module_text_is_what_the_project_runs() -> None:
    spec = parse_buildspec(check_buildspec(), "check")
    assert spec.shell == "bash"
    assert spec.exported_variables == ("IAM_BROADENED", "SUMMARY")
