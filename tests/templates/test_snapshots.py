"""Logical-ID snapshots: a refactor must never rename or drop a resource unnoticed.

Each stack x environment has `tests/snapshots/<scope>-<stack>.json` mapping
logical ID -> type. On a difference the new snapshot is written beside it as
`.new.json` for review; `pytest --update-snapshots` (or UPDATE_SNAPSHOTS=1)
rewrites the committed one.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.templates.conftest import REPO, Template
from tests.templates.test_retention_and_tags import RETAINED_TYPES

SNAPSHOTS = REPO / "tests" / "snapshots"
STACKS = ["main/base", "main/pipeline", "dev/data", "dev/backend", "dev/frontend", "prod/data",
          "prod/backend", "prod/frontend"]  # fmt: skip


def logical_ids(template: Template) -> dict[str, str]:
    return {key: value["Type"] for key, value in sorted(template["Resources"].items())}


def snapshot_text(ids: dict[str, str]) -> str:
    return json.dumps(ids, indent=1, sort_keys=True) + "\n"


def lost_state(expected: dict[str, str], current: dict[str, str]) -> list[str]:
    """Stateful resources in the snapshot that the current render renamed or dropped."""
    return sorted(
        f"{logical_id} ({kind})"
        for logical_id, kind in expected.items()
        if kind in RETAINED_TYPES and current.get(logical_id) != kind
    )


def updating(request: pytest.FixtureRequest) -> bool:
    return bool(
        request.config.getoption("--update-snapshots") or os.environ.get("UPDATE_SNAPSHOTS")
    )


@pytest.mark.parametrize("name", STACKS)
def test_logical_ids_match_the_snapshot(
    templates: dict[str, Template], request: pytest.FixtureRequest, name: str
) -> None:
    path = SNAPSHOTS / f"{name.replace('/', '-')}.json"
    current = logical_ids(templates[name])
    if updating(request):
        path.write_text(snapshot_text(current))
    if not path.exists():
        pytest.fail(f"{name}: no snapshot at {path.relative_to(REPO)}; run --update-snapshots")
    expected = json.loads(path.read_text())
    lost = lost_state(expected, current)
    assert not lost, (
        f"{name}: stateful resources renamed or removed: {lost}. A new logical ID "
        "means CloudFormation creates a new resource and orphans (or deletes) the data."
    )
    if current != expected:
        new_path = path.with_suffix(".new.json")
        new_path.write_text(snapshot_text(current))
        added = sorted(set(current) - set(expected))
        removed = sorted(set(expected) - set(current))
        pytest.fail(
            f"{name}: logical IDs changed (added {added}, removed {removed}); review "
            f"{new_path.relative_to(REPO)} and rerun with --update-snapshots to accept"
        )


def test_a_renamed_table_or_dropped_bucket_is_lost_state(templates: dict[str, Template]) -> None:
    """The check above really catches a stateful rename, and ignores stateless churn."""
    expected = logical_ids(templates["dev/data"])
    current = dict(expected)
    current["PhotosTable"] = current.pop("ImagesTable")
    del current["MediaBucket"]
    del current["UploadTopicPolicy"]
    assert lost_state(expected, current) == [
        "ImagesTable (AWS::DynamoDB::Table)",
        "MediaBucket (AWS::S3::Bucket)",
    ]
