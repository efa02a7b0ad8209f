"""`deploy_stack` takes its gate as `judge`: what the judge says decides, the deploy reports it.

In-process moto (`mock_aws`) is enough here: the judge is scripted, so no template comparison
needs the suite's GetTemplate fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.changesets import ChangeSet
from infra.deploy import GateRefused, deploy_stack
from infra.targets import StackTarget

REGION = "eu-west-1"
TOPIC = {"Type": "AWS::SNS::Topic", "Properties": {}}


@dataclass(frozen=True)
class Said:
    """A judgement with the shape `deploy_stack` reads."""

    blocking: tuple[str, ...] = ()
    iam: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.blocking


class ScriptedJudge:
    """Says the same thing about every change set and remembers which it was shown."""

    def __init__(self, said: Said) -> None:
        self.said = said
        self.shown: list[ChangeSet] = []

    def __call__(self, change_set: ChangeSet) -> Said:
        self.shown.append(change_set)
        return self.said


@pytest.fixture
def cfn() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION)


def target(tmp_path: Path, **resources: dict) -> StackTarget:
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"Resources": resources}))
    return StackTarget("photos", "dev", "data", REGION, path)


def no_sleep(_seconds: float) -> None:
    return None


def test_a_blocking_judgement_discards_the_change_set(cfn: Any, tmp_path: Path) -> None:
    judge = ScriptedJudge(Said(blocking=("photos-dev-data: Table: would be replaced",)))
    lines: list[str] = []
    warnings: list[str] = []

    with pytest.raises(GateRefused) as raised:
        deploy_stack(
            cfn,
            target(tmp_path, Topic=TOPIC),
            lines.append,
            judge=judge,
            warn=warnings.append,
            sleep=no_sleep,
        )

    assert str(raised.value) == "photos-dev-data: gate: blocked (1 reason); nothing was changed"
    assert [(c.stack, c.kind) for c in judge.shown] == [("photos-dev-data", "CREATE")]
    assert warnings == ["photos-dev-data: Table: would be replaced"]
    stacks = cfn.list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == "photos-dev-data"] in (
        [],
        ["DELETE_COMPLETE"],
    )


def test_a_passing_judgement_is_executed_and_its_iam_lines_printed(
    cfn: Any, tmp_path: Path
) -> None:
    judge = ScriptedJudge(Said(iam=("photos-dev-data: Role: new AWS::IAM::Role",)))
    lines: list[str] = []

    deployed = deploy_stack(
        cfn, target(tmp_path, Topic=TOPIC), lines.append, judge=judge, sleep=no_sleep
    )

    assert deployed.result == "created"
    assert len(judge.shown) == 1
    assert "iam: photos-dev-data: Role: new AWS::IAM::Role" in lines
    status = cfn.describe_stacks(StackName="photos-dev-data")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
