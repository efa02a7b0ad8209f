"""cfn-lint (informational + serverless rules) and checkov find nothing in any template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.commands.lint import lint_templates
from infra.render import RenderedStack
from tests.templates.conftest import REPO


def test_cfn_lint_with_informational_and_serverless_rules_finds_nothing(
    every_rendered: list[RenderedStack],
) -> None:
    assert lint_templates([r.path for r in every_rendered]) == []


def test_cfn_lint_reports_a_real_problem(
    tmp_path: Path, rendered_stacks: list[RenderedStack]
) -> None:
    """The lint run is live: a function without an explicit timeout is reported."""
    backend = next(r for r in rendered_stacks if r.scope == "dev" and r.stack == "backend")
    template = json.loads(backend.path.read_text())
    del template["Resources"]["UploadsFunction"]["Properties"]["Timeout"]
    broken = tmp_path / "backend.json"
    broken.write_text(json.dumps(template))
    findings = lint_templates([broken])
    assert any("ES1006" in finding for finding in findings)


def checkov_bin() -> str:
    """checkov lives in its own venv (its pins clash with ours); scripts/test.sh installs it."""
    found = os.environ.get("CHECKOV_BIN") or shutil.which("checkov")
    local = REPO / ".venv-checkov" / "bin" / "checkov"
    if not found and local.exists():
        found = str(local)
    if not found:
        pytest.fail("checkov not found: run ./scripts/test.sh, or set CHECKOV_BIN")
    return found


def test_checkov_finds_no_failures(every_rendered: list[RenderedStack]) -> None:
    command = [checkov_bin(), "--framework", "cloudformation", "--skip-download", "--quiet",
               "--compact", "--output", "json"]  # fmt: skip
    for item in every_rendered:
        command += ["-f", str(item.path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for item in reports
        for check in item["results"]["failed_checks"]
    ]
    passed = sum(item["summary"]["passed"] for item in reports)
    assert failed == []
    assert passed > 100, result.stderr[-2000:]
    assert result.returncode == 0


def test_every_skipped_check_says_why(every_rendered: list[RenderedStack]) -> None:
    for item in every_rendered:
        for logical_id, resource in json.loads(item.path.read_text())["Resources"].items():
            metadata = resource.get("Metadata", {})
            reasons = metadata.get("SkipReasons", {})
            skipped = set(metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []))
            skipped |= {s["id"] for s in metadata.get("checkov", {}).get("skip", [])}
            assert skipped == set(reasons), f"{item.path.name} {logical_id}"
            assert all(len(reason) > 20 for reason in reasons.values()), logical_id
