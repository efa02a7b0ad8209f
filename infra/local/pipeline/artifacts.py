"""The pipeline's artifact store: zips in the artifact bucket, keyed and encrypted as
CodePipeline keys and encrypts them, and the `Artifact::path` references actions use.

CodePipeline writes each artifact under `<pipeline name, first 20 characters>/<artifact
name, first 10 characters>/<random id>` (e.g. `MyGitHubPipeline/SourceArti/gZkH2iH`) with
SSE-KMS: the artifact store's key when it names one, else the account's `aws/s3` key.
An input artifact is unzipped into a folder of its own; an entry that would land outside
that folder (an absolute path, `..`, a symbolic link) is refused, as a zip from a build
is not to be trusted with the rest of the machine.
"""

from __future__ import annotations

import io
import secrets
import stat
import string
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.aws import aws_errors
from infra.errors import InfraError
from infra.naming import PIPELINE_ARTIFACT_NAME_CHARS, full_match
from infra.package import ZIP_EPOCH

ARTIFACT_PREFIX_CHARS = 10
OBJECT_ID_CHARS = 7
OBJECT_ID_ALPHABET = string.ascii_letters + string.digits
# CodePipeline's rule for an artifact's name (API reference: ArtifactName).
ARTIFACT_NAME = r"[A-Za-z0-9_\-]{1,100}"
REFERENCE_SEPARATOR = "::"
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755


@dataclass(frozen=True)
class ArtifactLocation:
    """Where one artifact is in the artifact bucket (Fn::GetArtifactAtt's BucketName and
    ObjectKey)."""

    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def object_id() -> str:
    return "".join(secrets.choice(OBJECT_ID_ALPHABET) for _ in range(OBJECT_ID_CHARS))


def artifact_key(pipeline_name: str, artifact_name: str, identifier: str) -> str:
    """`<pipeline[:20]>/<artifact[:10]>/<id>`, the layout CodePipeline uses."""
    pipeline = pipeline_name[:PIPELINE_ARTIFACT_NAME_CHARS]
    return f"{pipeline}/{artifact_name[:ARTIFACT_PREFIX_CHARS]}/{identifier}"


@dataclass(frozen=True)
class ArtifactStore:
    """One pipeline's artifacts in its bucket, encrypted with its key (None: `aws/s3`)."""

    s3: Any
    bucket: str
    kms_key: str | None
    pipeline_name: str

    def put(self, artifact_name: str, zip_file: Path | bytes) -> ArtifactLocation:
        """Store a zip (a file, or its bytes) as a new object for `artifact_name`."""
        if not full_match(ARTIFACT_NAME, artifact_name):
            raise InfraError(
                f"artifact {artifact_name!r}: not an artifact name (letters, digits, _ and -, "
                "at most 100)"
            )
        body = zip_file if isinstance(zip_file, bytes) else read_bytes(zip_file, artifact_name)
        key = artifact_key(self.pipeline_name, artifact_name, object_id())
        encryption: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self.kms_key:
            encryption["SSEKMSKeyId"] = self.kms_key
        with aws_errors(f"artifact {artifact_name}: storing s3://{self.bucket}/{key}"):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **encryption)
        return ArtifactLocation(self.bucket, key)

    def get(self, location: ArtifactLocation) -> bytes:
        with aws_errors(f"artifact {location.url}: reading it"):
            response = self.s3.get_object(Bucket=location.bucket, Key=location.key)
            return response["Body"].read()

    def extract(self, location: ArtifactLocation, folder: Path, name: str | None = None) -> Path:
        """Unzip the artifact into `folder` (made if missing); `name` is for messages."""
        label = f"artifact {name} ({location.url})" if name else f"artifact {location.url}"
        extract_zip(self.get(location), folder, label)
        return folder


def read_bytes(path: Path, artifact_name: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise InfraError(
            f"artifact {artifact_name}: cannot read {path}: {err.strerror or err}"
        ) from None


def extract_zip(data: bytes, folder: Path, label: str) -> None:
    """Unzip `data` into `folder`, refusing any entry that would be written outside it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InfraError(f"{label}: not a zip file") from None
    root = folder.resolve()
    with archive:
        entries = [(info, safe_target(root, info, label)) for info in archive.infolist()]
        root.mkdir(parents=True, exist_ok=True)
        for info, target in entries:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(archive.read(info))
            except (zipfile.BadZipFile, OSError) as err:
                raise InfraError(f"{label}: cannot extract {info.filename}: {err}") from None
            target.chmod(EXECUTABLE_MODE if unix_mode(info) & 0o111 else FILE_MODE)


def unix_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF


def safe_target(root: Path, info: zipfile.ZipInfo, label: str) -> Path:
    """Where an entry goes under `root`; an absolute path, `..` or a link is refused."""
    name = info.filename
    if stat.S_ISLNK(unix_mode(info)):
        raise InfraError(f"{label}: entry {name!r} is a symbolic link; refused")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise InfraError(f"{label}: entry {name!r} has an absolute path; refused")
    target = (root / posix).resolve()
    if target != root and root not in target.parents:
        raise InfraError(f"{label}: entry {name!r} would be written outside the folder; refused")
    return target


def artifact_file(artifacts: Mapping[str, Path], reference: str) -> Path:
    """The file an `Artifact::path/in/it` reference names among an action's input artifacts.

    `artifacts` maps each input artifact's name to the folder it was extracted into. A
    reference to an artifact that is not an input, or to a file the artifact does not
    hold (a TemplateConfiguration the build did not write, say), is one line naming it.
    """
    artifact, separator, path = reference.partition(REFERENCE_SEPARATOR)
    if not separator or not artifact or not path:
        raise InfraError(f"{reference!r}: not a file reference (ArtifactName::path/in/it)")
    if artifact not in artifacts:
        inputs = ", ".join(sorted(artifacts)) or "none"
        raise InfraError(
            f"{reference}: {artifact} is not an input artifact of the action (inputs: {inputs})"
        )
    root = artifacts[artifact].resolve()
    target = (root / path).resolve()
    if root not in target.parents:
        raise InfraError(f"{reference}: the path leaves the artifact")
    if not target.is_file():
        raise InfraError(f"{reference}: no file {path} in artifact {artifact}")
    return target


def zip_entry(name: str, mode: int) -> zipfile.ZipInfo:
    """A zip entry with a fixed time and mode, so only names and bytes make the zip."""
    info = zipfile.ZipInfo(name, ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info


def zip_files(files: Mapping[str, bytes]) -> bytes:
    """A zip of named contents (an action's output file, say), entries sorted."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            archive.writestr(zip_entry(name, FILE_MODE), files[name], compresslevel=6)
    return buffer.getvalue()
