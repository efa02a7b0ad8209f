"""How long packaging takes, how big the zips are and how fast the handlers import.

Prints five tables, for the dev environment of the shipped app:

1. a cold `python -m infra package` (empty dependency cache and, unless
   `--reuse-pip-cache`, an empty pip cache: pip downloads the arm64 wheels from
   PyPI), run once, with each function's build time from the packager's stamps;
2. the median of warm runs with nothing changed, against the 0.3 s goal, and
   whether every function was reported "unchanged";
3. the median rebuild after a one-line edit (a new comment) to one function's
   logic module, and whether only that function's zip hash changed;
4. each zip's size, zipped and unzipped, from manifest.json;
5. the wall time of `import handler` in a fresh interpreter, as a cold-start
   proxy, against the 50 ms goal (see `import_method`).

Everything runs from a temporary copy of `infra.toml`, the app's declaration
(`app.py`) and `lambdas/` (code folders are relative to the app's root, infra.toml's
folder) with temporary --out, --templates and --cache-dir, so the repository and its
build/ are never touched.

Run from anywhere: `python benchmarks/package.py [--runs 7] [--edits 3] [--imports 5]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from infra.app import Function, SharedValue
from infra.app.settings import SettingValue
from infra.config import AppConfig, load_config
from infra.package import MACHINES

REPO = Path(__file__).resolve().parents[1]
ENVIRONMENT = "dev"
WARM_GOAL_SECONDS = 0.3
IMPORT_GOAL_MS = 50.0
MB = 1_000_000
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # code + layers, unzipped (AWS quota)
AWS_DUMMIES = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Runs in a fresh interpreter with the function's folder as its working directory.
IMPORT_PROBE = """
import sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
powertools = sys.modules.get("aws_lambda_powertools")
print(elapsed, "PIL" in sys.modules, getattr(powertools, "__file__", None) or "-")
"""

T = TypeVar("T")


@dataclass(frozen=True)
class Workspace:
    """The temporary working copy and the packager's output folders."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "infra",
            "package",
            "--env",
            ENVIRONMENT,
            "--out",
            str(self.out),
            "--templates",
            str(self.root / "templates"),
            "--cache-dir",
            str(self.root / "cache"),
        ]

    def manifest(self) -> dict[str, dict[str, object]]:
        return json.loads((self.out / "manifest.json").read_text())[ENVIRONMENT]


def make_workspace(root: Path) -> Workspace:
    """Copy what the packager reads (`infra.toml`, `app.py`, `lambdas/`) without caches."""
    workspace = Workspace(root)
    workspace.work.mkdir()
    shutil.copy2(REPO / "infra.toml", workspace.work / "infra.toml")
    shutil.copy2(REPO / "app.py", workspace.work / "app.py")
    shutil.copytree(
        REPO / "lambdas",
        workspace.work / "lambdas",
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc"),
    )
    return workspace


def package(workspace: Workspace, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """Run the command once; function -> "built" or "unchanged", from its stdout."""
    result = subprocess.run(
        workspace.command(),
        cwd=workspace.work,
        env={**os.environ, **(extra_env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"python -m infra package failed ({result.returncode}):\n{result.stderr}")
    # "<env> <function> <size> <state> <path>" per zip.
    return {parts[1]: parts[3] for parts in (line.split() for line in result.stdout.splitlines())}


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of one call, and what it returned."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def hashes(workspace: Workspace) -> dict[str, str]:
    return {name: str(entry["sha256"]) for name, entry in workspace.manifest().items()}


def verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


def print_table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Left-aligned text columns, numbers right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [
            cell.rjust(width) if cell[:1].isdigit() else cell.ljust(width)
            for cell, width in zip(row, widths, strict=True)
        ]
        print("  ".join(cells).rstrip())


def cold(workspace: Workspace, reuse_pip_cache: bool) -> None:
    """Section 1: one run with empty caches, whole process."""
    pip_env = {} if reuse_pip_cache else {"PIP_CACHE_DIR": str(workspace.root / "pip-cache")}
    seconds, states = timed(lambda: package(workspace, pip_env))
    pip_cache = "your pip cache" if reuse_pip_cache else "empty pip cache: wheels from PyPI"
    print(f"1. cold package, --env {ENVIRONMENT}, empty --cache-dir, {pip_cache}, 1 run:")
    rows = [("whole process", f"{seconds:.2f}", ", ".join(f"{n} {s}" for n, s in states.items()))]
    for name in states:
        # The packager's own per-function time; the first function of each
        # requirements set includes pip and compressing the dependency layer.
        stamp = next((workspace.out / ".fingerprints").glob(f"{name}-*.json"))
        rows.append((f"  {name}", f"{json.loads(stamp.read_text())['seconds']:.2f}", ""))
    print_table(("what", "seconds", "reported"), rows)


def warm(workspace: Workspace, runs: int) -> None:
    """Section 2: nothing changed; median of whole-process runs."""
    package(workspace)  # untimed warm-up, as in benchmarks/render.py
    results = [timed(lambda: package(workspace)) for _ in range(runs)]
    seconds = statistics.median(s for s, _ in results)
    changed = sorted({n for _, states in results for n, s in states.items() if s != "unchanged"})
    check = "all unchanged" if not changed else "rebuilt: " + ", ".join(changed)
    print(f"2. warm package, nothing changed, median of {runs}:")
    print_table(
        ("what", "seconds", "goal", "reported"),
        [
            (
                "whole process",
                f"{seconds:.3f}",
                f"<= {WARM_GOAL_SECONDS} s: {verdict(seconds, WARM_GOAL_SECONDS)}",
                f"{check} in every run",
            )
        ],
    )


def logic_module(workspace: Workspace, spec: Function) -> Path:
    """The function's `*_logic.py`, else its handler module."""
    code = workspace.work / spec.code
    found = sorted(code.glob("*_logic.py"))
    return found[0] if found else code / f"{spec.handler_module}.py"


def code_edit(workspace: Workspace, spec: Function, edits: int) -> None:
    """Section 3: append a different comment each time; time the rebuild."""
    module = logic_module(workspace, spec)
    times: list[float] = []
    faults: list[str] = []
    for index in range(edits):
        before = hashes(workspace)
        with module.open("a", encoding="utf-8") as handle:
            handle.write(f"# benchmarks/package.py edit {index} at {time.time_ns()}\n")
        seconds, states = timed(lambda: package(workspace))
        after = hashes(workspace)
        times.append(seconds)
        changed = {name for name in after if after[name] != before.get(name)}
        built = {name for name, state in states.items() if state == "built"}
        if changed != {spec.name} or built != {spec.name}:
            faults.append(f"edit {index}: hash changed {sorted(changed)}, built {sorted(built)}")
    check = f"only {spec.name} changed and was built: " + (
        f"yes ({edits}/{edits})" if not faults else "NO, " + "; ".join(faults)
    )
    print(f"3. package after a comment appended to {module.relative_to(workspace.work)}:")
    print_table(
        ("what", "median s", "min s", "max s", "check"),
        [
            (
                f"whole process, {edits} edits",
                f"{statistics.median(times):.3f}",
                f"{min(times):.3f}",
                f"{max(times):.3f}",
                check,
            )
        ],
    )


def sizes(workspace: Workspace, manifest: dict[str, dict[str, object]]) -> None:
    """Section 4: zipped (manifest.json) and unzipped sizes."""
    rows = []
    for name, entry in manifest.items():
        with zipfile.ZipFile(workspace.out / str(entry["file"])) as archive:
            infos = archive.infolist()
        unzipped = sum(info.file_size for info in infos)
        size = int(str(entry["size"]))
        rows.append(
            (
                name,
                f"{size:,}",
                f"{size / MB:.2f}",
                f"{unzipped / MB:.2f}",
                str(len(infos)),
                f"<= 250 MiB: {verdict(unzipped, LAMBDA_UNZIPPED_LIMIT)}",
            )
        )
    print("4. zip sizes (manifest.json; MB = 10^6 bytes):")
    print_table(("function", "bytes", "MB", "unzipped MB", "files", "Lambda unzipped limit"), rows)


def dummy_environment(spec: Function, settings: dict[str, object]) -> dict[str, str]:
    """The function's environment, as its declaration gives it, plus dummy AWS values.

    Settings take the environment's values; what other stacks share (names, ARNs) is a
    placeholder, as nothing is called.
    """
    values = dict(AWS_DUMMIES)
    for key, value in spec.environment.items():
        if isinstance(value, SettingValue):
            values[key] = value.resolve(settings)
        elif isinstance(value, SharedValue):
            values[key] = f"bench-{value.name}"
        else:
            values[key] = value
    return values


def native_tops(folder: Path) -> list[str]:
    """Top-level folders holding compiled extensions or shared libraries."""
    return sorted({p.relative_to(folder).parts[0] for p in folder.rglob("*.so*") if p.is_file()})


def import_method(folder: Path, loadable: bool) -> str:
    """Make the extracted zip importable here; describe what is imported from where.

    The zip is the real thing (pure-Python dependencies as shipped, and no .pyc,
    as on Lambda). Its compiled extensions are for the Lambda platform; when this
    machine or Python cannot load them, those packages are removed from the copy
    so the venv's own build of them (e.g. Pillow) is imported instead. boto3 is
    provided by the runtime on Lambda and comes from the venv here.
    """
    native = native_tops(folder)
    if loadable or not native:
        return "zip as built"
    for top in native:
        shutil.rmtree(folder / top)
    return f"zip, but {', '.join(native)} from venv"


def import_seconds(
    folder: Path, module: str, env: dict[str, str], bytecode: bool
) -> tuple[float, bool, str]:
    """(seconds, PIL imported, powertools' file) for `import module` in a fresh interpreter."""
    flags = [] if bytecode else ["-B"]  # -B: compile in memory, write no .pyc (as on Lambda)
    result = subprocess.run(
        [sys.executable, *flags, "-c", IMPORT_PROBE.format(module=module), str(folder)],
        cwd=folder,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no output"]
        raise RuntimeError(f"{folder.name}: import {module} failed: {lines[-1]}")
    seconds, pil, origin = result.stdout.split()
    return float(seconds), pil == "True", origin


def import_row(
    name: str, folder: Path, module: str, env: dict[str, str], runs: int, method: str
) -> tuple[str, ...]:
    """A table row: median ms without .pyc (first), then with .pyc written by a warm-up."""
    no_pyc_runs = [import_seconds(folder, module, env, bytecode=False) for _ in range(runs)]
    import_seconds(folder, module, env, bytecode=True)  # writes the .pyc files
    pyc_runs = [import_seconds(folder, module, env, bytecode=True) for _ in range(runs)]
    origins = {origin for _, _, origin in no_pyc_runs + pyc_runs} - {"-"}
    if not all(Path(origin).is_relative_to(folder) for origin in origins):
        raise RuntimeError(f"{name}: powertools did not come from the zip: {origins}")
    no_pyc = statistics.median(s for s, _, _ in no_pyc_runs) * 1000
    with_pyc = statistics.median(s for s, _, _ in pyc_runs) * 1000
    return (
        name,
        f"{no_pyc:.1f}",
        verdict(no_pyc, IMPORT_GOAL_MS),
        f"{with_pyc:.1f}",
        verdict(with_pyc, IMPORT_GOAL_MS),
        "yes" if no_pyc_runs[0][1] else "no",
        method,
    )


def imports(
    workspace: Workspace, manifest: dict[str, dict[str, object]], runs: int, root: Path
) -> None:
    """Section 5: median import time per handler, without and with cached bytecode."""
    config = load_config(workspace.work / "infra.toml")
    environment = config.environment(ENVIRONMENT)
    defaults = environment.lambda_defaults
    machine = platform.machine()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    loadable = MACHINES[defaults.architecture] == machine and defaults.python_version == here
    rows = []
    for spec in config.declaration.functions:
        folder = root / spec.name
        with zipfile.ZipFile(workspace.out / str(manifest[spec.name]["file"])) as archive:
            archive.extractall(folder)
        method = import_method(folder, loadable)
        env = dummy_environment(spec, dict(environment.settings))
        rows.append(import_row(spec.name, folder, spec.handler_module, env, runs, method))
    # What every handler pays before its own code: boto3, which the runtime provides.
    empty = root / "boto3-only"
    empty.mkdir()
    name, no_pyc, _, with_pyc, _, *rest = import_row(
        "(boto3 alone)", empty, "boto3", AWS_DUMMIES, runs, "venv's boto3, for reference"
    )
    rows.append((name, no_pyc, "-", with_pyc, "-", *rest))
    print(
        f"5. `import handler` in a fresh {sys.executable} (Python {here}, {machine}), "
        f"median of {runs}, goal <= {IMPORT_GOAL_MS:.0f} ms;"
    )
    print(
        f"   zips are {defaults.architecture}/{defaults.runtime}: "
        + ("loaded as built" if loadable else "native packages swapped for the venv's")
        + "; boto3 from the venv (the runtime provides it on Lambda)."
    )
    print("   no .pyc = as on Lambda (the zip ships none); with .pyc = bytecode cached.")
    print_table(
        ("function", "no .pyc ms", "goal", "with .pyc ms", "goal", "PIL imported", "method"),
        rows,
    )


def shipped_app() -> AppConfig:
    """The repository's infra.toml and the app it declares."""
    return load_config(REPO / "infra.toml")


def main() -> None:
    parser = argparse.ArgumentParser(description="Time `python -m infra package` and imports.")
    parser.add_argument("--runs", type=int, default=7, help="warm runs (median)")
    parser.add_argument("--edits", type=int, default=3, help="code edits to time (median)")
    parser.add_argument("--imports", type=int, default=5, help="import runs per handler")
    parser.add_argument("--function", default="thumbnail", help="function to edit")
    parser.add_argument(
        "--reuse-pip-cache", action="store_true", help="cold run may use your pip cache"
    )
    args = parser.parse_args()
    functions = shipped_app().declaration.functions
    spec = next((s for s in functions if s.name == args.function), None)
    if spec is None:
        parser.error(f"--function: one of {', '.join(s.name for s in functions)}")

    with tempfile.TemporaryDirectory(prefix="bench-package-") as temp:
        workspace = make_workspace(Path(temp))
        cold(workspace, args.reuse_pip_cache)
        print()
        warm(workspace, args.runs)
        manifest = workspace.manifest()  # before any edit: the zips as shipped
        print()
        code_edit(workspace, spec, args.edits)
        print()
        sizes(workspace, manifest)
        print()
        extracted = Path(temp) / "extracted"
        imports(workspace, manifest, args.imports, extracted)


if __name__ == "__main__":
    main()
