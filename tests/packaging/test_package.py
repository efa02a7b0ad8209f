"""Packaging: reproducible bytes, content-addressed names, cached dependencies, clean zips.

These run offline with a stand-in installer that writes a small package the
way pip --target would; test_package_command.py fetches real wheels. Apps of other
shapes are declared here and configured through `tests.support.apps.config_for`.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from infra.app import App, Function, HttpRoutes, Site
from infra.config import AppConfig, LambdaDefaults, load_config
from infra.errors import DeclarationError, InfraError
from infra.layout import environment_stacks
from infra.package import DependencyCache, Packager, package_environment, packager_for
from tests.conftest import REPO
from tests.support.apps import config_for

ARM = LambdaDefaults(runtime="python3.12", architecture="arm64", memory=128, timeout=3)
X86 = LambdaDefaults(runtime="python3.12", architecture="x86_64", memory=128, timeout=3)


class FakePip:
    """Installs `requirements` as tiny packages, plus the clutter pip leaves behind."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, requirements: Path, target: Path, defaults: LambdaDefaults) -> None:
        self.calls.append((requirements.read_text(), defaults.architecture))
        for line in requirements.read_text().split():
            name = line.split("==")[0].replace("-", "_")
            (target / name).mkdir()
            (target / name / "__init__.py").write_text(f"ARCH = {defaults.architecture!r}\n")
            (target / name / "__pycache__").mkdir()
            (target / name / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"\0")
            (target / f"{name}-1.0.dist-info").mkdir()
            (target / f"{name}-1.0.dist-info" / "METADATA").write_text(f"Name: {name}\n")
        for runtime_package in ("boto3", "botocore"):
            (target / runtime_package).mkdir()
            (target / runtime_package / "__init__.py").write_text("")
            (target / f"{runtime_package}-1.0.dist-info").mkdir()
        (target / "bin").mkdir()
        (target / "bin" / "script").write_text("#!/bin/sh\n")


def make_function(repo: Path, name: str, requirements: str = "pkg-a==1.0\n") -> Function:
    """`lambdas/<name>` under `repo` with its own clutter, and its declaration."""
    source = repo / "lambdas" / name
    (source / "tests").mkdir(parents=True)
    (source / "handler.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (source / f"{name}_logic.py").write_text("VALUE = 1\n")
    (source / "requirements.txt").write_text(requirements)
    (source / "tests" / "test_logic.py").write_text("def test(): pass\n")
    (source / "test_handler.py").write_text("def test(): pass\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    return Function(
        name=name,
        code=f"lambdas/{name}",
        trigger=HttpRoutes((f"GET /{name}",), public=True),
        description=name,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return tmp_path / "repo"


@pytest.fixture
def pip() -> FakePip:
    return FakePip()


def packager(repo: Path, out: Path, cache: Path, pip: FakePip) -> Packager:
    return Packager(repo, out, DependencyCache(cache, pip))


def config_at(repo: Path, app: App) -> AppConfig:
    """`app` with the smallest settings file, its code folders relative to `repo`."""
    return replace(config_for(app), root=repo)


def test_two_builds_give_identical_bytes(repo: Path, tmp_path: Path, pip: FakePip) -> None:
    spec = make_function(repo, "alpha")
    first = packager(repo, tmp_path / "out1", tmp_path / "cache1", pip).build(spec, ARM)
    second = packager(repo, tmp_path / "out2", tmp_path / "cache2", pip).build(spec, ARM)
    assert first.sha256 == second.sha256
    assert first.file == second.file == f"alpha-{first.sha256[:16]}.zip"
    assert (tmp_path / "out1" / first.file).read_bytes() == (
        tmp_path / "out2" / second.file
    ).read_bytes()


def test_zip_holds_handler_at_root_and_dependencies_but_no_clutter(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    spec = make_function(repo, "alpha")
    built = packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(spec, ARM)
    with zipfile.ZipFile(tmp_path / "out" / built.file) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert "handler.py" in names
    assert "alpha_logic.py" in names
    assert "pkg_a/__init__.py" in names
    assert "pkg_a-1.0.dist-info/METADATA" in names
    for unwanted in (
        "__pycache__",
        ".pyc",
        "tests/",
        "test_handler.py",
        "boto3",
        "botocore",
        "bin/",
        "requirements.txt",
    ):
        assert not [n for n in names if unwanted in n], unwanted
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos)
    assert {info.external_attr >> 16 for info in infos} == {0o644}
    dependency_names = names[:2]
    own_names = names[2:]
    assert dependency_names == sorted(dependency_names)
    assert own_names == sorted(own_names)


def test_a_code_change_changes_only_that_functions_hash(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    alpha, beta = make_function(repo, "alpha"), make_function(repo, "beta")
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    before = {spec.name: build.build(spec, ARM) for spec in (alpha, beta)}
    (repo / "lambdas" / "alpha" / "alpha_logic.py").write_text("VALUE = 2\n")
    after = {spec.name: build.build(spec, ARM) for spec in (alpha, beta)}
    assert after["alpha"].sha256 != before["alpha"].sha256
    assert after["alpha"].rebuilt is True
    assert after["beta"].sha256 == before["beta"].sha256
    assert after["beta"].rebuilt is False
    assert len(pip.calls) == 1, "same requirements and platform: installed once"


def test_nothing_changed_means_nothing_rebuilt(repo: Path, tmp_path: Path, pip: FakePip) -> None:
    spec = make_function(repo, "alpha")
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    first = build.build(spec, ARM)
    mtime = (tmp_path / "out" / first.file).stat().st_mtime_ns
    second = build.build(spec, ARM)
    assert (second.rebuilt, second.sha256) == (False, first.sha256)
    assert (tmp_path / "out" / first.file).stat().st_mtime_ns == mtime


def test_a_deleted_zip_is_rebuilt_identically(repo: Path, tmp_path: Path, pip: FakePip) -> None:
    spec = make_function(repo, "alpha")
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    first = build.build(spec, ARM)
    (tmp_path / "out" / first.file).unlink()
    again = build.build(spec, ARM)
    assert again.rebuilt is True
    assert again.sha256 == first.sha256


def test_requirements_or_platform_change_reinstalls(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    spec = make_function(repo, "alpha")
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    arm = build.build(spec, ARM)
    x86 = build.build(spec, X86)
    (repo / "lambdas" / "alpha" / "requirements.txt").write_text("pkg-a==1.0\npkg-b==2.0\n")
    more = build.build(spec, ARM)
    assert len({arm.sha256, x86.sha256, more.sha256}) == 3
    assert [arch for _, arch in pip.calls] == ["arm64", "x86_64", "arm64"]


def test_no_requirements_means_no_install(repo: Path, tmp_path: Path, pip: FakePip) -> None:
    spec = make_function(repo, "alpha")
    (repo / "lambdas" / "alpha" / "requirements.txt").unlink()
    built = packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(spec, ARM)
    with zipfile.ZipFile(tmp_path / "out" / built.file) as archive:
        assert archive.namelist() == ["alpha_logic.py", "handler.py"]
    assert pip.calls == []


def write_shared(repo: Path, name: str, text: str) -> Path:
    path = repo / "lambdas" / "shared" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_declared_shared_module_is_at_the_root_of_that_functions_zip_only(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    alpha = replace(make_function(repo, "alpha"), shared=("common.py",))
    beta = make_function(repo, "beta")
    write_shared(repo, "common.py", "PREFIX = 'uploads/'\n")
    write_shared(repo, "unused.py", "VALUE = 0\n")
    (repo / "lambdas" / "shared" / "__pycache__").mkdir()
    (repo / "lambdas" / "shared" / "__pycache__" / "common.cpython-312.pyc").write_bytes(b"\0")
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    alpha_zip = tmp_path / "out" / build.build(alpha, ARM).file
    beta_zip = tmp_path / "out" / build.build(beta, ARM).file
    with zipfile.ZipFile(alpha_zip) as archive:
        names = archive.namelist()
        infos = archive.infolist()
        assert archive.read("common.py") == b"PREFIX = 'uploads/'\n"
    with zipfile.ZipFile(beta_zip) as archive:
        beta_names = archive.namelist()
    assert names[2:] == ["alpha_logic.py", "common.py", "handler.py"], "own + shared, sorted"
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos)
    assert {info.external_attr >> 16 for info in infos} == {0o644}
    assert [n for n in beta_names if "common" in n or "unused" in n] == []
    again = packager(repo, tmp_path / "out2", tmp_path / "cache2", pip).build(alpha, ARM)
    assert (tmp_path / "out2" / again.file).read_bytes() == alpha_zip.read_bytes()


def test_a_shared_module_change_changes_exactly_the_hashes_of_its_users(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    specs = (
        replace(make_function(repo, "alpha"), shared=("photo_keys.py",)),
        replace(make_function(repo, "beta"), shared=("other.py", "photo_keys.py")),
        replace(make_function(repo, "gamma"), shared=("other.py",)),
        make_function(repo, "delta"),
    )
    shared = write_shared(repo, "photo_keys.py", "PREFIX = 'uploads/'\n")
    write_shared(repo, "other.py", "VALUE = 0\n")
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    before = {spec.name: build.build(spec, ARM) for spec in specs}
    shared.write_text("PREFIX = 'incoming/'\n")
    after = {spec.name: build.build(spec, ARM) for spec in specs}
    changed = {name for name in after if after[name].sha256 != before[name].sha256}
    rebuilt = {name for name in after if after[name].rebuilt}
    assert changed == rebuilt == {"alpha", "beta"}
    shared.write_text("PREFIX = 'uploads/'\n")
    restored = {spec.name: build.build(spec, ARM) for spec in specs}
    assert {name: item.sha256 for name, item in restored.items()} == {
        name: item.sha256 for name, item in before.items()
    }


@pytest.mark.parametrize("own", ["photo_keys.py", "photo_keys/__init__.py"])
def test_a_shared_module_that_clashes_with_the_functions_own_code_is_refused(
    repo: Path, tmp_path: Path, pip: FakePip, own: str
) -> None:
    spec = replace(make_function(repo, "alpha"), shared=("photo_keys.py",))
    write_shared(repo, "photo_keys.py", "PREFIX = 'uploads/'\n")
    (repo / "lambdas" / "alpha" / own).parent.mkdir(exist_ok=True)
    (repo / "lambdas" / "alpha" / own).write_text("PREFIX = 'mine/'\n")
    with pytest.raises(InfraError) as raised:
        packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(spec, ARM)
    assert str(raised.value) == (
        f"lambdas/alpha/{own} and lambdas/shared/photo_keys.py "
        "would both be imported as photo_keys in the alpha zip"
    )
    assert not list((tmp_path / "out").glob("*.zip")), "nothing written"


@pytest.mark.parametrize(
    ("shared", "message"),
    [
        (("missing.py",), r"^alpha: shared module 'missing.py' is not a file in lambdas/shared$"),
        (("pkg",), r"^alpha: shared module 'pkg' is not a file in lambdas/shared$"),
    ],
)
def test_a_shared_module_that_is_not_a_file_there_is_a_clear_error(
    repo: Path, tmp_path: Path, pip: FakePip, shared: tuple[str, ...], message: str
) -> None:
    spec = replace(make_function(repo, "alpha"), shared=shared)
    write_shared(repo, "photo_keys.py", "PREFIX = 'uploads/'\n")
    write_shared(repo, "pkg/__init__.py", "")
    with pytest.raises(InfraError, match=message):
        packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(spec, ARM)
    assert not (tmp_path / "out").exists(), "nothing written"


@pytest.mark.parametrize(
    ("shared", "message"),
    [
        (
            ("../alpha/handler.py",),
            r"^function alpha: shared module '../alpha/handler.py' must be a file name$",
        ),
        (("sub\\photo_keys.py",), r"^function alpha: shared module .* must be a file name$"),
        (("",), r"^function alpha: shared module '' must be a file name$"),
        (
            ("photo_keys.py", "photo_keys.py"),
            r"^function alpha: shared module 'photo_keys.py' is named twice$",
        ),
    ],
)
def test_a_shared_name_outside_the_shared_folder_or_named_twice_is_refused_when_declared(
    repo: Path, shared: tuple[str, ...], message: str
) -> None:
    """The declaration refuses these before anything is packaged (they were packager errors)."""
    with pytest.raises(DeclarationError, match=message):
        replace(make_function(repo, "alpha"), shared=shared)


def test_the_shared_code_folder_is_the_apps_own(repo: Path, tmp_path: Path, pip: FakePip) -> None:
    """`App.shared_code` names the folder; `packager_for` takes it and the root from the config."""
    alpha = replace(make_function(repo, "alpha"), shared=("common.py",))
    (repo / "lambdas" / "alpha" / "requirements.txt").unlink()  # no pip: the real one is used
    (repo / "common").mkdir()
    (repo / "common" / "common.py").write_text("FROM = 'common'\n")
    write_shared(repo, "common.py", "FROM = 'lambdas/shared'\n")
    config = config_at(repo, App(functions=(alpha,), shared_code="common"))
    build = packager_for(config, tmp_path / "out", tmp_path / "cache")
    built = build.build(alpha, ARM)
    with zipfile.ZipFile(tmp_path / "out" / built.file) as archive:
        assert archive.namelist() == ["alpha_logic.py", "common.py", "handler.py"]
        assert archive.read("common.py") == b"FROM = 'common'\n"
    (repo / "common" / "common.py").unlink()
    with pytest.raises(
        InfraError, match=r"^alpha: shared module 'common.py' is not a file in common$"
    ):
        build.build(alpha, ARM)


def test_a_file_that_shadows_a_dependency_is_refused(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    spec = make_function(repo, "alpha")
    (repo / "lambdas" / "alpha" / "pkg_a").mkdir()
    (repo / "lambdas" / "alpha" / "pkg_a" / "__init__.py").write_text("")
    with pytest.raises(
        InfraError, match=r"lambdas/alpha: pkg_a/__init__.py also comes from a dependency"
    ):
        packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(spec, ARM)
    assert not list((tmp_path / "out").glob("*.zip")), "nothing half-written"


def test_a_missing_handler_is_a_clear_error(repo: Path, tmp_path: Path, pip: FakePip) -> None:
    spec = make_function(repo, "alpha")
    (repo / "lambdas" / "alpha" / "handler.py").unlink()
    with pytest.raises(InfraError, match=r"lambdas/alpha: no handler\.py for alpha"):
        packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(spec, ARM)


def test_a_handler_in_a_package_is_found_where_lambda_imports_it(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    spec = make_function(repo, "alpha")
    (repo / "lambdas" / "alpha" / "handler.py").unlink()
    (repo / "lambdas" / "alpha" / "api").mkdir()
    (repo / "lambdas" / "alpha" / "api" / "__init__.py").write_text("")
    (repo / "lambdas" / "alpha" / "api" / "entry.py").write_text("def main(e, c): return 1\n")
    dotted = dataclasses.replace(spec, handler="api.entry.main")
    built = packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(dotted, ARM)
    with zipfile.ZipFile(tmp_path / "out" / built.file) as archive:
        assert "api/entry.py" in archive.namelist()
    missing = dataclasses.replace(spec, handler="api.absent.main")
    with pytest.raises(InfraError, match=r"lambdas/alpha: no api/absent\.py for alpha"):
        packager(repo, tmp_path / "out", tmp_path / "cache", pip).build(missing, ARM)


def test_failed_install_leaves_no_cache_entry(repo: Path, tmp_path: Path) -> None:
    spec = make_function(repo, "alpha")

    def broken(requirements: Path, target: Path, defaults: LambdaDefaults) -> None:
        (target / "partial").mkdir()
        raise InfraError("pip could not install for Lambda")

    with pytest.raises(InfraError):
        Packager(repo, tmp_path / "out", DependencyCache(tmp_path / "cache", broken)).build(
            spec, ARM
        )
    assert list((tmp_path / "cache").iterdir()) == []


def config_files(templates: Path, environment: str) -> dict[str, dict[str, object]]:
    """Every `<stack>.config.json` written for the environment, by stack."""
    return {
        path.name.removesuffix(".config.json"): json.loads(path.read_text())
        for path in sorted((templates / environment).glob("*.config.json"))
    }


def test_environment_packaging_writes_config_files_with_code_keys(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    alpha, beta = make_function(repo, "alpha"), make_function(repo, "beta")
    config = config_at(repo, App(functions=(alpha, beta)))
    environment = config.environments["dev"]
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    built = package_environment(build, config, environment, tmp_path / "templates")
    assert [item.function for item in built] == ["alpha", "beta"]
    files = config_files(tmp_path / "templates", "dev")
    assert set(files) == {"data", "backend"}, "no site: no frontend stack, no frontend file"
    assert files["backend"]["Parameters"] == {
        "AlphaCodeKey": f"lambdas/{built[0].file}",
        "BetaCodeKey": f"lambdas/{built[1].file}",
    }
    assert files["backend"]["Tags"] == {"app": "demo", "env": "dev", "stack": "backend"}
    assert files["data"] == {
        "Parameters": {},
        "Tags": {"app": "demo", "env": "dev", "stack": "data"},
    }


def test_only_the_stacks_that_carry_code_get_code_keys(
    repo: Path, tmp_path: Path, pip: FakePip
) -> None:
    """An app with a site has a frontend stack too: a file for it, with tags but no keys."""
    config = config_at(repo, App(functions=(make_function(repo, "alpha"),), site=Site("web")))
    environment = config.environments["dev"]
    build = packager(repo, tmp_path / "out", tmp_path / "cache", pip)
    [built] = package_environment(build, config, environment, tmp_path / "templates")
    files = config_files(tmp_path / "templates", "dev")
    kinds = [kind.name for kind in environment_stacks(config)]
    assert list(files) == sorted(kinds) == ["backend", "data", "frontend"]
    expected = {"data": {}, "backend": {"AlphaCodeKey": built.key}, "frontend": {}}
    assert {name: files[name]["Parameters"] for name in kinds} == expected
    for name in kinds:
        assert files[name]["Tags"] == {"app": "demo", "env": "dev", "stack": name}


def test_an_app_without_functions_packages_nothing_and_has_no_backend_file(
    tmp_path: Path, pip: FakePip
) -> None:
    config = config_at(tmp_path / "repo", App())
    build = packager(tmp_path / "repo", tmp_path / "out", tmp_path / "cache", pip)
    built = package_environment(build, config, config.environments["dev"], tmp_path / "templates")
    assert built == []
    assert pip.calls == []
    assert config_files(tmp_path / "templates", "dev") == {
        "data": {"Parameters": {}, "Tags": {"app": "demo", "env": "dev", "stack": "data"}}
    }


def test_every_declared_function_has_its_code() -> None:
    """The declarations and lambdas/ agree: each code folder has a handler and requirements."""
    config = load_config(REPO / "infra.toml")
    assert config.declaration.functions, "the reference app declares functions"
    for spec in config.declaration.functions:
        code = config.root / spec.code
        assert (code / f"{spec.handler_module}.py").is_file(), spec.name
        assert (code / "requirements.txt").is_file(), spec.name
        assert "boto3" not in (code / "requirements.txt").read_text(), spec.name


def imported_modules(path: Path) -> set[str]:
    """The top-level names a module imports (`import a.b` and `from a.b import c` give `a`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_each_function_declares_exactly_the_shared_modules_its_code_imports() -> None:
    """The tests put lambdas/shared on sys.path; on Lambda only the declared files are there."""
    config = load_config(REPO / "infra.toml")
    shared_code = config.root / config.declaration.shared_code
    available = {path.stem: path for path in shared_code.glob("*.py")}
    assert available, f"{shared_code} holds shared modules"
    used: set[str] = set()
    for spec in config.declaration.functions:
        code = config.root / spec.code
        files = [p for p in code.rglob("*.py") if "__pycache__" not in p.parts]
        files += [shared_code / name for name in spec.shared]
        imported = set().union(*(imported_modules(path) for path in files)) & set(available)
        assert sorted(f"{name}.py" for name in imported) == sorted(spec.shared), spec.name
        used |= imported
    assert used == set(available), "a module in the shared-code folder that no function uses"
