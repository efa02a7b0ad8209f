"""Lambda zips without Docker: reproducible, content-addressed and cached.

A zip is two layers in a fixed order: the function's dependencies (installed by
pip for the Lambda platform, cached per requirements + platform, compressed
once into `layer.zip`), then the function's own files with the shared modules
it declares (`Function.shared`, from the app's shared-code folder) beside them. Both layers
have sorted entries, fixed timestamps and permissions, and no caches or tests, so
the same inputs give the same bytes on any machine. The zip is named by its content
hash: an unchanged function keeps its S3 key and CloudFormation leaves it alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from infra.app import Function
from infra.config import AppConfig, Environment, LambdaDefaults
from infra.errors import InfraError
from infra.files import write_atomic
from infra.layout import environment_stacks

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store
FILE_MODE = 0o644 << 16
# The runtime provides these; a packaged copy would only shadow it and add size.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
SKIPPED_DIRS = {"__pycache__", "tests", ".pytest_cache"}
SKIPPED_TOP_DIRS = {"bin"}  # console scripts pip writes for the installed packages
SKIPPED_SUFFIXES = (".pyc", ".pyo")
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
# Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34); older ones on AL2 (glibc 2.26).
GLIBC_BY_RUNTIME = {"python3.11": ("2014",), "python3.12": ("_2_28", "2014")}
PACKAGER_VERSION = "1"  # bump to invalidate every cache when the zip layout changes


@dataclass(frozen=True)
class BuiltZip:
    """One packaged function: where its zip is and what identifies it."""

    function: str
    file: str
    key: str
    sha256: str
    size: int
    rebuilt: bool
    seconds: float


def platform_tags(defaults: LambdaDefaults) -> list[str]:
    """The wheel platforms the runtime can load, newest first."""
    glibc = GLIBC_BY_RUNTIME.get(defaults.runtime, GLIBC_BY_RUNTIME["python3.12"])
    return [f"manylinux{tag}_{MACHINES[defaults.architecture]}" for tag in glibc]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def skipped(relative: Path, *, own_code: bool) -> bool:
    """Caches, compiled files, tests and console scripts never go into a zip."""
    parts = relative.parts
    if any(part in SKIPPED_DIRS for part in parts[:-1]) or parts[0] in SKIPPED_TOP_DIRS:
        return True
    name = parts[-1]
    if own_code and (name.startswith("test_") or name == "conftest.py"):
        return True
    return name.endswith(SKIPPED_SUFFIXES) or name == ".DS_Store"


def tree_files(
    root: Path, *, own_code: bool, exclude_top: Iterable[str] = ()
) -> list[tuple[str, Path]]:
    """(archive name, path) for every file under `root` that belongs in a zip, sorted.

    `exclude_top` drops top-level packages by name, with their dist-info folders.
    """
    excluded = set(exclude_top)
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(root)
        top = relative.parts[0].split("-")[0].split(".")[0]
        if top in excluded or skipped(relative, own_code=own_code):
            continue
        found.append((relative.as_posix(), path))
    return sorted(found)


def import_name(archive_name: str) -> str:
    """`x.py` and `x/...` are both imported as `x`; any other top-level file keeps its name."""
    return archive_name.split("/")[0].removesuffix(".py")


def write_entries(archive: zipfile.ZipFile, entries: Iterable[tuple[str, Path]]) -> None:
    """Add files with fixed time and mode, so only their names and bytes matter."""
    for name, path in entries:
        info = zipfile.ZipInfo(name, ZIP_EPOCH)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = FILE_MODE
        archive.writestr(info, path.read_bytes(), compresslevel=6)


class DependencyCache:
    """Installed dependencies per hash of (requirements, platform, Python version)."""

    def __init__(self, root: Path, installer: Callable[[Path, Path, LambdaDefaults], None]):
        self.root = root
        self.installer = installer

    def key(self, requirements: Path, defaults: LambdaDefaults) -> str:
        text = requirements.read_text(encoding="utf-8") if requirements.exists() else ""
        lines = sorted(line.strip() for line in text.splitlines() if line.strip())
        identity = {
            "requirements": [line for line in lines if not line.startswith("#")],
            "platforms": platform_tags(defaults),
            "python": defaults.python_version,
            "packager": PACKAGER_VERSION,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]

    def layer(self, requirements: Path, defaults: LambdaDefaults) -> Path:
        """The compressed dependency layer for these requirements, built once."""
        folder = self.root / self.key(requirements, defaults)
        layer = folder / "layer.zip"
        if layer.exists():
            return layer
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".building-"))
        try:
            site = staging / "site"
            site.mkdir()
            if requirements.exists():
                self.installer(requirements, site, defaults)
            with zipfile.ZipFile(staging / "layer.zip", "w") as archive:
                entries = tree_files(site, own_code=False, exclude_top=RUNTIME_PROVIDED)
                write_entries(archive, entries)
            shutil.rmtree(site)
            if folder.exists():  # another build finished first; theirs is identical
                shutil.rmtree(staging)
            else:
                os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return layer


def pip_install(requirements: Path, target: Path, defaults: LambdaDefaults) -> None:
    """Wheels for the Lambda platform only: no sdists, no compiling, no Docker."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        *(arg for tag in platform_tags(defaults) for arg in ("--platform", tag)),
        "--python-version",
        defaults.python_version,
        "--implementation",
        "cp",
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        reason = (lines or result.stderr.strip().splitlines() or ["no output"])[0]
        raise InfraError(f"{requirements}: pip could not install for Lambda: {reason}")


class Packager:
    """Builds every function's zip into `out`, reusing what has not changed.

    `root` is the app's root (code folders are relative to it) and `shared_code` the
    folder, relative to it too, of the modules functions may share.
    """

    def __init__(
        self,
        root: Path,
        out: Path,
        cache: DependencyCache,
        progress: Callable[[str], None] = lambda _: None,
        shared_code: str = "lambdas/shared",
    ) -> None:
        self.root = root
        self.out = out
        self.cache = cache
        self.progress = progress
        self.shared_code = shared_code

    def shared_entries(self, spec: Function) -> list[tuple[str, Path]]:
        """The shared modules the function declares, each at the zip root under its name."""
        entries = []
        for name in spec.shared:
            path = self.root / self.shared_code / name
            if not path.is_file():
                raise InfraError(
                    f"{spec.name}: shared module {name!r} is not a file in {self.shared_code}"
                )
            entries.append((name, path))
        return entries

    def source_entries(self, spec: Function) -> list[tuple[str, Path]]:
        """The function's own files and its shared modules; a shared one may not shadow its own."""
        source = self.root / spec.code
        module = spec.handler_module.replace(".", "/") + ".py"
        if not (source / module).is_file():
            raise InfraError(f"{spec.code}: no {module} for {spec.name}")
        own = [(n, p) for n, p in tree_files(source, own_code=True) if n != "requirements.txt"]
        shared = self.shared_entries(spec)
        own_by_import: dict[str, str] = {}
        for name, _ in own:
            own_by_import.setdefault(import_name(name), name)
        for name, _ in shared:
            clash = own_by_import.get(import_name(name))
            if clash is not None:
                raise InfraError(
                    f"{spec.code}/{clash} and {self.shared_code}/{name} "
                    f"would both be imported as {import_name(name)} in the {spec.name} zip"
                )
        return sorted(own + shared)

    def fingerprint(self, layer: Path, entries: list[tuple[str, Path]]) -> str:
        """What the zip's bytes depend on: the layer and each source file's name and bytes."""
        digest = hashlib.sha256(layer.parent.name.encode())
        for name, path in entries:
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()

    def build(self, spec: Function, defaults: LambdaDefaults) -> BuiltZip:
        started = time.perf_counter()
        entries = self.source_entries(spec)
        layer = self.cache.layer(self.root / spec.code / "requirements.txt", defaults)
        fingerprint = self.fingerprint(layer, entries)
        stamp = self.out / ".fingerprints" / f"{spec.name}-{fingerprint[:32]}.json"
        if stamp.exists():
            built = BuiltZip(**json.loads(stamp.read_text()))
            if (self.out / built.file).exists():
                elapsed = time.perf_counter() - started
                return BuiltZip(**{**asdict(built), "rebuilt": False, "seconds": elapsed})
        self.out.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=self.out, prefix=f".{spec.name}-", suffix=".zip")
        os.close(handle)
        temp = Path(temp_name)
        try:
            shutil.copyfile(layer, temp)
            with zipfile.ZipFile(temp, "a") as archive:
                clash = set(archive.namelist()) & {name for name, _ in entries}
                if clash:
                    raise InfraError(
                        f"{spec.code}: {sorted(clash)[0]} also comes from a dependency"
                    )
                write_entries(archive, entries)
            digest = sha256_file(temp)
            file_name = f"{spec.name}-{digest[:16]}.zip"
            temp.chmod(0o644)  # mkstemp makes it private; a zip to upload is not
            os.replace(temp, self.out / file_name)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        built = BuiltZip(
            function=spec.name,
            file=file_name,
            key=f"lambdas/{file_name}",
            sha256=digest,
            size=(self.out / file_name).stat().st_size,
            rebuilt=True,
            seconds=time.perf_counter() - started,
        )
        write_atomic(stamp, json.dumps(asdict(built), sort_keys=True))
        return built

    def build_all(self, specs: Iterable[Function], defaults: LambdaDefaults) -> Iterator[BuiltZip]:
        for spec in specs:
            self.progress(f"{spec.name}: packaging")
            built = self.build(spec, defaults)
            state = "built" if built.rebuilt else "unchanged"
            self.progress(f"{spec.name}: {state}, {built.size:,} bytes, {built.seconds:.2f} s")
            yield built


def template_configuration(parameters: dict[str, str], tags: dict[str, str]) -> str:
    """The file CodePipeline's CloudFormation action reads as TemplateConfiguration."""
    body = {"Parameters": dict(sorted(parameters.items())), "Tags": dict(sorted(tags.items()))}
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def code_key_parameters(built: Iterable[BuiltZip], specs: Iterable[Function]) -> dict[str, str]:
    by_name = {item.function: item for item in built}
    return {spec.code_key_parameter: by_name[spec.name].key for spec in specs}


def package_environment(
    packager: Packager, config: AppConfig, environment: Environment, templates: Path
) -> list[BuiltZip]:
    """Build an environment's zips and write each of its stacks' configuration files.

    The stacks that carry code get the functions' code keys; every stack gets its tags.
    """
    specs = config.declaration.functions
    built = list(packager.build_all(specs, environment.lambda_defaults))
    keys = code_key_parameters(built, specs)
    for kind in environment_stacks(config):
        parameters = keys if kind.carries_code else {}
        tags = {"app": config.name, "env": environment.name, "stack": kind.name}
        path = templates / environment.name / f"{kind.name}.config.json"
        write_atomic(path, template_configuration(parameters, tags))
    return built


def packager_for(
    config: AppConfig,
    out: Path,
    cache_dir: Path,
    progress: Callable[[str], None] = lambda _: None,
) -> Packager:
    """The packager for this app: its root, its shared-code folder, pip for Lambda."""
    return Packager(
        config.root,
        out,
        DependencyCache(cache_dir, pip_install),
        progress,
        shared_code=config.declaration.shared_code,
    )


def write_manifest(path: Path, built: dict[str, list[BuiltZip]]) -> None:
    """`manifest.json`: per environment, function -> file, key, sha256, size."""
    body = {
        env: {
            item.function: {
                "file": item.file,
                "key": item.key,
                "sha256": item.sha256,
                "size": item.size,
            }
            for item in items
        }
        for env, items in sorted(built.items())
    }
    write_atomic(path, json.dumps(body, indent=1, sort_keys=True) + "\n")
