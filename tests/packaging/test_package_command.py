"""`python -m infra package` end to end: real wheels for arm64, manifest, config, upload to moto.

The one place the suite fetches real wheels (Pillow and Powertools for the
Lambda platform); the dependency cache is shared by the tests in this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from infra.config import load_config
from infra.layout import environment_stacks
from tests.conftest import REPO

CONFIG = load_config(REPO / "infra.toml")
FUNCTIONS = CONFIG.declaration.functions

ELF_MACHINE_AARCH64 = 0xB7


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deps-cache")


def run_package(out: Path, cache_dir: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra",
            "package",
            "--env",
            "dev",
            "--out",
            str(out / "lambdas"),
            "--templates",
            str(out / "templates"),
            "--cache-dir",
            str(cache_dir),
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.zip")}


def test_packages_every_function_twice_with_identical_bytes(
    tmp_path: Path, cache_dir: Path
) -> None:
    run_package(tmp_path / "one", cache_dir)
    run_package(tmp_path / "two", cache_dir)
    first, second = digests(tmp_path / "one" / "lambdas"), digests(tmp_path / "two" / "lambdas")
    assert len(first) == len(FUNCTIONS)
    assert first == second


def test_manifest_and_configuration_name_the_same_zips(tmp_path: Path, cache_dir: Path) -> None:
    run_package(tmp_path, cache_dir)
    manifest = json.loads((tmp_path / "lambdas" / "manifest.json").read_text())["dev"]
    assert set(manifest) == {spec.name for spec in FUNCTIONS}
    config = json.loads((tmp_path / "templates" / "dev" / "backend.config.json").read_text())
    assert set(config["Parameters"]) == {spec.code_key_parameter for spec in FUNCTIONS}
    for spec in FUNCTIONS:
        entry = manifest[spec.name]
        path = tmp_path / "lambdas" / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert path.stat().st_size == entry["size"]
        assert entry["file"] == f"{spec.name}-{entry['sha256'][:16]}.zip"
        assert config["Parameters"][spec.code_key_parameter] == f"lambdas/{entry['file']}"


def test_every_stack_of_the_app_gets_a_configuration_file_and_only_backend_the_keys(
    tmp_path: Path, cache_dir: Path
) -> None:
    run_package(tmp_path, cache_dir)
    written = sorted(p.name for p in (tmp_path / "templates" / "dev").iterdir())
    kinds = environment_stacks(CONFIG)
    assert [kind.name for kind in kinds] == ["data", "backend", "frontend"]
    assert written == sorted(f"{kind.name}.config.json" for kind in kinds)
    for kind in kinds:
        body = json.loads((tmp_path / "templates" / "dev" / f"{kind.name}.config.json").read_text())
        assert body["Tags"] == {"app": "photos", "env": "dev", "stack": kind.name}
        assert bool(body["Parameters"]) is (kind.name == "backend"), kind.name


def test_thumbnail_zip_holds_pillow_for_arm64_and_no_boto3(tmp_path: Path, cache_dir: Path) -> None:
    run_package(tmp_path, cache_dir)
    manifest = json.loads((tmp_path / "lambdas" / "manifest.json").read_text())["dev"]
    with zipfile.ZipFile(tmp_path / "lambdas" / manifest["thumbnail"]["file"]) as archive:
        names = archive.namelist()
        assert "handler.py" in names
        assert "PIL/__init__.py" in names
        assert "aws_lambda_powertools/__init__.py" in names
        assert not [n for n in names if n.split("/")[0] in ("boto3", "botocore")]
        assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
        imaging = next(n for n in names if n.startswith("PIL/_imaging.") and n.endswith(".so"))
        header = archive.read(imaging)[:20]
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == ELF_MACHINE_AARCH64
    assert "cpython-312" in imaging


def test_upload_puts_zips_once_into_the_artifact_bucket(
    tmp_path: Path, cache_dir: Path, moto_server: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="eu-west-1")
    ssm = boto3.client("ssm", endpoint_url=moto_server, region_name="eu-west-1")
    bucket = "photos-artifacts-test"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    ssm.put_parameter(Name="/photos/main/base/ArtifactBucketName", Value=bucket, Type="String")

    endpoint = {"AWS_ENDPOINT_URL": moto_server}
    first = run_package(tmp_path, cache_dir, "--upload", env=endpoint)
    manifest = json.loads((tmp_path / "lambdas" / "manifest.json").read_text())["dev"]
    keys = {obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {entry["key"] for entry in manifest.values()}
    assert first.count("uploaded s3://") == len(FUNCTIONS)
    body = s3.get_object(Bucket=bucket, Key=manifest["uploads"]["key"])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == manifest["uploads"]["sha256"]

    second = run_package(tmp_path, cache_dir, "--upload", "--endpoint-url", moto_server)
    assert second.count("present  s3://") == len(FUNCTIONS)
    assert "uploaded" not in second


def test_upload_without_a_base_stack_says_so(
    tmp_path: Path, cache_dir: Path, moto_server: str
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra",
            "package",
            "--env",
            "dev",
            "--out",
            str(tmp_path),
            "--templates",
            str(tmp_path / "t"),
            "--cache-dir",
            str(cache_dir),
            "--upload",
            "--endpoint-url",
            moto_server,
            "--region",
            "us-east-2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "reading /photos/main/base/ArtifactBucketName (is the base stack deployed?)"
    )
    assert "ParameterNotFound" in line
