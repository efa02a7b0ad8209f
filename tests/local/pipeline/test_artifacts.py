"""The local pipeline's artifact store: keys and encryption as CodePipeline's, extraction that
keeps every entry inside its folder, and `Artifact::path` references that name what is missing.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.errors import InfraError
from infra.local.pipeline.artifacts import (
    ArtifactLocation,
    ArtifactStore,
    artifact_file,
    artifact_key,
    zip_files,
)

REGION = "eu-west-1"
BUCKET = "pipeline-artifacts"
PIPELINE = "photos-account-pipeline"  # longer than the 20 characters a key keeps


@pytest.fixture(scope="module")
def aws(moto_server: str) -> Iterator[dict[str, Any]]:
    """S3 and KMS of the local AWS, with an artifact bucket and a customer managed key."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    s3 = session.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    key = session.client("kms", endpoint_url=moto_server).create_key()["KeyMetadata"]["Arn"]
    yield {"s3": s3, "key": key}


def zip_of(entries: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (modes or {}).get(name, stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_put_get_extract_round_trip_with_the_stores_key(aws: dict, tmp_path: Path) -> None:
    store = ArtifactStore(aws["s3"], BUCKET, aws["key"], PIPELINE)
    data = zip_of(
        {"build/templates/dev/data.json": b"{}", "scripts/run.sh": b"#!/bin/sh\n"},
        {"scripts/run.sh": stat.S_IFREG | 0o755},
    )

    location = store.put("BuildOutput", data)

    head = aws["s3"].head_object(Bucket=location.bucket, Key=location.key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", aws["key"])
    assert store.get(location) == data
    folder = store.extract(location, tmp_path / "BuildOutput", name="BuildOutput")
    assert (folder / "build/templates/dev/data.json").read_bytes() == b"{}"
    assert (folder / "scripts/run.sh").stat().st_mode & 0o111


def test_without_a_key_artifacts_use_the_s3_managed_kms_key(aws: dict, tmp_path: Path) -> None:
    zipped = tmp_path / "source.zip"
    zipped.write_bytes(zip_of({"README.md": b"hi"}))

    location = ArtifactStore(aws["s3"], BUCKET, None, PIPELINE).put("SourceOutput", zipped)

    head = aws["s3"].head_object(Bucket=location.bucket, Key=location.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert "SSEKMSKeyId" not in head


def test_keys_are_truncated_pipeline_and_artifact_names_and_a_fresh_id(aws: dict) -> None:
    store = ArtifactStore(aws["s3"], BUCKET, aws["key"], PIPELINE)

    first = store.put("SourceOutput", zip_of({"a": b"1"}))
    second = store.put("SourceOutput", zip_of({"a": b"1"}))

    assert re.fullmatch(r"photos-account-pipel/SourceOutp/[A-Za-z0-9]{7}", first.key)
    assert first.key != second.key
    assert artifact_key("short", "Out", "abc1234") == "short/Out/abc1234"


@pytest.mark.parametrize("name", ["", "Build Output", "x" * 101, "../up"])
def test_an_artifact_name_codepipeline_refuses_is_refused(aws: dict, name: str) -> None:
    with pytest.raises(InfraError, match="not an artifact name"):
        ArtifactStore(aws["s3"], BUCKET, None, PIPELINE).put(name, zip_of({"a": b"1"}))


@pytest.mark.parametrize(
    ("entry", "mode", "reason"),
    [
        ("../outside.txt", stat.S_IFREG | 0o644, "outside the folder"),
        ("deep/../../outside.txt", stat.S_IFREG | 0o644, "outside the folder"),
        ("/tmp/absolute.txt", stat.S_IFREG | 0o644, "absolute path"),
        ("C:/windows.txt", stat.S_IFREG | 0o644, "absolute path"),
        ("link", stat.S_IFLNK | 0o777, "symbolic link"),
    ],
)
def test_extract_refuses_entries_that_escape_the_folder(
    aws: dict, tmp_path: Path, entry: str, mode: int, reason: str
) -> None:
    store = ArtifactStore(aws["s3"], BUCKET, None, PIPELINE)
    location = store.put("BuildOutput", zip_of({"fine.txt": b"ok", entry: b"/etc"}, {entry: mode}))
    folder = tmp_path / "work" / "BuildOutput"

    with pytest.raises(InfraError) as raised:
        store.extract(location, folder, name="BuildOutput")

    message = str(raised.value)
    assert reason in message and "BuildOutput" in message and entry in message
    assert "\n" not in message
    assert not (tmp_path / "work" / "outside.txt").exists()
    assert not (folder / "fine.txt").exists()  # checked before anything is written


def test_extract_of_something_that_is_not_a_zip_names_the_artifact(
    aws: dict, tmp_path: Path
) -> None:
    store = ArtifactStore(aws["s3"], BUCKET, None, PIPELINE)
    location = store.put("SourceOutput", b"not a zip")

    with pytest.raises(InfraError, match=r"artifact SourceOutput \(s3://.*\): not a zip file"):
        store.extract(location, tmp_path / "x", name="SourceOutput")


def test_a_missing_object_is_one_line_naming_it(aws: dict) -> None:
    store = ArtifactStore(aws["s3"], BUCKET, None, PIPELINE)

    with pytest.raises(InfraError, match=r"s3://pipeline-artifacts/nope/x/y.*NoSuchKey"):
        store.get(ArtifactLocation(BUCKET, "nope/x/y"))


@pytest.fixture
def extracted(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "BuildOutput"
    (folder / "build/templates/dev").mkdir(parents=True)
    (folder / "build/templates/dev/data.json").write_text("{}")
    return {"BuildOutput": folder}


def test_artifact_file_finds_a_file_of_an_input_artifact(extracted: dict[str, Path]) -> None:
    path = artifact_file(extracted, "BuildOutput::build/templates/dev/data.json")

    assert path == (extracted["BuildOutput"] / "build/templates/dev/data.json").resolve()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "BuildOutput::build/templates/dev/data.config.json",
            "BuildOutput::build/templates/dev/data.config.json: no file "
            "build/templates/dev/data.config.json in artifact BuildOutput",
        ),
        (
            "SourceOutput::template.json",
            "SourceOutput::template.json: SourceOutput is not an input artifact of the action "
            "(inputs: BuildOutput)",
        ),
        ("BuildOutput::../../etc/passwd", "BuildOutput::../../etc/passwd: the path leaves"),
        ("BuildOutput::build/templates", "no file build/templates in artifact BuildOutput"),
        ("template.json", "'template.json': not a file reference (ArtifactName::path/in/it)"),
    ],
)
def test_artifact_file_names_the_reference_it_cannot_follow(
    extracted: dict[str, Path], reference: str, message: str
) -> None:
    with pytest.raises(InfraError) as raised:
        artifact_file(extracted, reference)

    assert message in str(raised.value)


def test_zip_files_writes_named_contents_sorted() -> None:
    data = zip_files({"b.json": b"{}", "a.json": b"[]"})

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["a.json", "b.json"]
        assert archive.read("a.json") == b"[]"
