"""Each function's code reads exactly the environment variables its declaration gives it.

A name the code reads but app.py does not set breaks (or silently defaults) on AWS; a
name app.py sets but no code reads is dead configuration. The scanner reads the files
that go into the function's zip (its code folder, as the packager selects it, and the
shared modules it declares) with `ast` and finds:

- `os.environ["X"]`, `os.environ.get("X")`, `"X" in os.environ`, `os.getenv("X")`
  (also through `from os import environ, getenv`);
- the same reads on a parameter called `env`: the mapping `Settings.from_env(os.environ)`
  receives in lambdas/*/, and the helpers it hands `env` to (`_required(env, "X")`).

A key that is not a literal is followed to its values: a loop over a literal tuple, a
local or module-level string constant, or a parameter filled by the function's callers.
Anything it cannot follow (a computed key, the environment handed to code it cannot
see) is a `ScanError`, never a silently missed name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pytest

from infra.app import Function
from infra.app.functions import RESERVED_ENVIRONMENT
from infra.package import tree_files
from tests.support.apps import REPO, reference_app

ENV_PARAMETER = "env"  # what lambdas/*/ call the mapping Settings.from_env reads
FUNCTIONS = reference_app().functions
SHARED_CODE = REPO / reference_app().shared_code


class ScanError(Exception):
    """The scanner cannot tell which variable some code reads: fix the code or the scanner."""


@dataclass(frozen=True)
class _Def:
    """A function the scanned code defines, and whether calls skip its first parameter."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    file: str
    bound: bool  # a method (or classmethod): `obj.f(a)` passes `a` to the second parameter

    @property
    def parameters(self) -> list[ast.arg]:
        arguments = self.node.args
        return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]

    def default(self, parameter: ast.arg) -> ast.expr | None:
        arguments = self.node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        if parameter in positional:
            offset = len(positional) - len(arguments.defaults)
            index = positional.index(parameter)
            return arguments.defaults[index - offset] if index >= offset else None
        return arguments.kw_defaults[arguments.kwonlyargs.index(parameter)]


class _Scanner:
    def __init__(self, sources: Mapping[str, str]) -> None:
        self.trees = {name: ast.parse(text, filename=name) for name, text in sources.items()}
        self.parents: dict[ast.AST, ast.AST] = {}
        self.files: dict[ast.AST, str] = {}
        self.defs: dict[str, list[_Def]] = {}
        # file -> {local name: "environ" or "getenv"} for `from os import environ, getenv`
        self.os_names: dict[str, dict[str, str]] = {}
        for file, tree in self.trees.items():
            self.os_names[file] = {}
            for node in ast.walk(tree):
                self.files[node] = file
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
                if isinstance(node, ast.ImportFrom) and node.module == "os":
                    self.os_names[file] |= {
                        alias.asname or alias.name: alias.name
                        for alias in node.names
                        if alias.name in ("environ", "getenv")
                    }
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    static = any(
                        isinstance(d, ast.Name) and d.id == "staticmethod"
                        for d in node.decorator_list
                    )
                    bound = isinstance(self.parents[node], ast.ClassDef) and not static
                    self.defs.setdefault(node.name, []).append(_Def(node, file, bound))

    # -- where ---------------------------------------------------------------------------

    def where(self, node: ast.AST) -> str:
        return f"{self.files[node]}:{getattr(node, 'lineno', '?')}"

    def enclosing(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> _Def:
        return next(d for d in self.defs[node.name] if d.node is node)

    # -- what is the environment --------------------------------------------------------------

    def is_os(self, node: ast.AST, attribute: str) -> bool:
        """`os.<attribute>`, or a bare name imported as it from os."""
        if isinstance(node, ast.Attribute):
            return (
                node.attr == attribute
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            )
        return (
            isinstance(node, ast.Name) and self.os_names[self.files[node]].get(node.id) == attribute
        )

    def is_environment(self, node: ast.AST) -> bool:
        if self.is_os(node, "environ"):
            return True
        if not (isinstance(node, ast.Name) and node.id == ENV_PARAMETER):
            return False
        scope = self.enclosing(node)
        return scope is not None and any(
            p.arg == ENV_PARAMETER for p in self.definition(scope).parameters
        )

    # -- reads -----------------------------------------------------------------------------

    def reads(self) -> Iterator[tuple[str, str]]:
        """(variable name, file:line) for every read in the sources."""
        for tree in self.trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and self.is_os(node.func, "getenv"):
                    yield from self.read_key(self.argument(node, 0, "key"), node)
                elif self.is_environment(node):
                    yield from self.use(node)

    def use(self, node: ast.expr) -> Iterator[tuple[str, str]]:
        """What one use of the environment mapping reads."""
        parent = self.parents[node]
        if isinstance(parent, ast.Subscript) and parent.value is node:
            if not isinstance(parent.ctx, ast.Load):
                raise ScanError(f"{self.where(node)}: the code changes the environment")
            yield from self.read_key(parent.slice, node)
        elif isinstance(parent, ast.Attribute) and parent.value is node:
            call = self.parents[parent]
            if parent.attr != "get" or not (isinstance(call, ast.Call) and call.func is parent):
                raise ScanError(f"{self.where(node)}: cannot follow .{parent.attr} on it")
            yield from self.read_key(self.argument(call, 0, "key"), node)
        elif isinstance(parent, ast.Compare) and node in parent.comparators:
            if not all(isinstance(op, ast.In | ast.NotIn) for op in parent.ops):
                raise ScanError(f"{self.where(node)}: cannot follow this comparison")
            yield from self.read_key(parent.left, node)
        elif isinstance(parent, ast.Call) and node is not parent.func:
            self.check_handed_on(parent, node)  # the callee's own reads are found where they are
        else:
            raise ScanError(f"{self.where(node)}: cannot tell what this use of it reads")

    def check_handed_on(self, call: ast.Call, node: ast.expr) -> None:
        """The environment passed to a function: only to an `env` parameter of scanned code."""
        name = self.callee_name(call)
        targets = self.defs.get(name or "", [])
        if not targets:
            raise ScanError(f"{self.where(node)}: the environment goes to {name}(), not scanned")
        for target in targets:
            parameter = self.parameter_for(target, call, node)
            if parameter is None or parameter.arg != ENV_PARAMETER:
                raise ScanError(
                    f"{self.where(node)}: the environment goes to {name}() as a parameter "
                    f"not called {ENV_PARAMETER!r}"
                )

    def read_key(self, key: ast.expr | None, at: ast.AST) -> Iterator[tuple[str, str]]:
        if key is None:
            raise ScanError(f"{self.where(at)}: a read without a name")
        for value in self.values(key, set()):
            yield value, self.where(at)

    # -- following a key to its values ----------------------------------------------------------

    def values(self, node: ast.expr, seen: set[tuple[int, str]]) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if not isinstance(node, ast.Name):
            raise ScanError(f"{self.where(node)}: the name read is computed; cannot follow it")
        scope = self.enclosing(node)
        marker = (id(scope), node.id)
        if marker in seen:
            raise ScanError(f"{self.where(node)}: {node.id} depends on itself")
        seen = seen | {marker}
        if scope is not None:
            definition = self.definition(scope)
            parameter = next((p for p in definition.parameters if p.arg == node.id), None)
            if parameter is not None:
                return self.parameter_values(definition, parameter, seen)
            found = self.loop_values(scope, node.id) | self.assigned(scope.body, node.id, seen)
            if found:
                return found
        module = self.trees[self.files[node]]
        found = self.loop_values(module, node.id) | self.assigned(module.body, node.id, seen)
        if not found:
            raise ScanError(f"{self.where(node)}: cannot tell what {node.id} holds")
        return found

    def parameter_values(self, definition: _Def, parameter: ast.arg, seen: set) -> set[str]:
        """A parameter holds what every call of its function passes (or its default)."""
        calls = [
            node
            for tree in self.trees.values()
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and self.callee_name(node) == definition.node.name
        ]
        if not calls:
            raise ScanError(
                f"{definition.file}:{definition.node.lineno}: {definition.node.name}() reads "
                f"the name in {parameter.arg}, but nothing calls it"
            )
        found: set[str] = set()
        for call in calls:
            argument = self.argument_for(definition, call, parameter)
            if argument is None:
                argument = definition.default(parameter)
            if argument is None:
                raise ScanError(f"{self.where(call)}: no {parameter.arg} in this call")
            found |= self.values(argument, seen)
        return found

    def loop_values(self, scope: ast.AST, name: str) -> set[str]:
        """`for name in ("A", "B")` and `for _, name in (("a", "A"), ...)`."""
        found: set[str] = set()
        for node in ast.walk(scope):
            if not isinstance(node, ast.For | ast.comprehension):
                continue
            path = target_path(node.target, name)
            if path is None:
                continue
            if not isinstance(node.iter, ast.Tuple | ast.List):
                raise ScanError(f"{self.where(node.iter)}: {name} loops over a computed value")
            for item in node.iter.elts:
                for index in path:
                    if not isinstance(item, ast.Tuple | ast.List):
                        raise ScanError(f"{self.where(item)}: cannot unpack this for {name}")
                    item = item.elts[index]
                found |= self.values(item, set())
        return found

    def assigned(self, body: Iterable[ast.stmt], name: str, seen: set) -> set[str]:
        """`name = "X"` among these statements (and the blocks inside them)."""
        found: set[str] = set()
        for statement in body:
            for node in ast.walk(statement):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    targets, value = [node.target], node.value
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    found |= self.values(value, seen)  # type: ignore[arg-type]
        return found

    # -- calls -----------------------------------------------------------------------------

    @staticmethod
    def callee_name(call: ast.Call) -> str | None:
        if isinstance(call.func, ast.Name):
            return call.func.id
        if isinstance(call.func, ast.Attribute):
            return call.func.attr
        return None

    @staticmethod
    def argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
        if len(call.args) > index:
            return call.args[index]
        return next((k.value for k in call.keywords if k.arg == keyword), None)

    def argument_for(self, definition: _Def, call: ast.Call, parameter: ast.arg) -> ast.expr | None:
        arguments = definition.node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        if parameter in positional:
            index = positional.index(parameter) - (1 if definition.bound else 0)
            if 0 <= index < len(call.args):
                return call.args[index]
        return next((k.value for k in call.keywords if k.arg == parameter.arg), None)

    def parameter_for(self, definition: _Def, call: ast.Call, node: ast.expr) -> ast.arg | None:
        arguments = definition.node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        if node in call.args:
            index = call.args.index(node) + (1 if definition.bound else 0)
            return positional[index] if index < len(positional) else None
        keyword = next(k.arg for k in call.keywords if k.value is node)
        return next((p for p in definition.parameters if p.arg == keyword), None)


def target_path(target: ast.expr, name: str) -> tuple[int, ...] | None:
    """Where `name` sits in a for-loop target: () for `name`, (1,) for `_, name`."""
    if isinstance(target, ast.Name):
        return () if target.id == name else None
    if isinstance(target, ast.Tuple | ast.List):
        for index, element in enumerate(target.elts):
            inner = target_path(element, name)
            if inner is not None:
                return (index, *inner)
    return None


def environment_reads(sources: Mapping[str, str]) -> dict[str, list[str]]:
    """Variable name -> the places (`file:line`) that read it, over all `sources` together.

    `sources` maps a file's name to its text; a read may be spread over several files
    (`handler.py` hands `os.environ` to `logic.Settings.from_env`).
    """
    found: dict[str, list[str]] = {}
    for name, where in _Scanner(sources).reads():
        found.setdefault(name, [])
        if where not in found[name]:
            found[name].append(where)
    return found


@dataclass(frozen=True)
class Contract:
    """How a function's code and its declared environment disagree."""

    undeclared: dict[str, list[str]]  # read by the code, set by nobody: name -> where
    unused: set[str]  # declared, read by no code


def contract(reads: Mapping[str, list[str]], declared: Iterable[str]) -> Contract:
    """Compare what the code reads with what the declaration gives (and Lambda sets)."""
    declared = set(declared)
    return Contract(
        undeclared={
            name: places
            for name, places in sorted(reads.items())
            if name not in declared and name not in RESERVED_ENVIRONMENT
        },
        unused=declared - set(reads),
    )


def function_sources(function: Function) -> dict[str, str]:
    """The Python files of the function's zip: its own (as packaged) and its shared modules."""
    code = REPO / function.code
    files = {
        f"{function.code}/{name}": path
        for name, path in tree_files(code, own_code=True)
        if name.endswith(".py")
    }
    for name in function.shared:
        files[f"{SHARED_CODE.relative_to(REPO)}/{name}"] = SHARED_CODE / name
    return {name: path.read_text(encoding="utf-8") for name, path in files.items()}


def function_contract(function: Function) -> Contract:
    return contract(environment_reads(function_sources(function)), function.environment)


# -- the reference app ------------------------------------------------------------------------


def test_the_reference_app_declares_functions_with_environments() -> None:
    assert [f.name for f in FUNCTIONS] == ["uploads", "images", "thumbnail", "analyze"]
    assert all(f.environment for f in FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_every_name_the_code_reads_is_declared(function: Function) -> None:
    undeclared = function_contract(function).undeclared
    assert undeclared == {}, f"{function.name} reads what app.py does not set"


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_every_declared_name_is_read(function: Function) -> None:
    assert function_contract(function).unused == set(), f"{function.name}: dead configuration"


# -- the scanner ------------------------------------------------------------------------------

HANDLER = """
import os
import logic

def _settings():
    return logic.Settings.from_env(os.environ)
"""
LOGIC = """
from dataclasses import dataclass

MEDIA = "MEDIA_BUCKET"

def _required(env, name):
    value = env.get(name, "").strip()
    if not value:
        raise RuntimeError(name)
    return value

def _number(env, name, default=1, *, maximum=None):
    return int(env.get(name) or default)

@dataclass
class Settings:
    table: str

    @classmethod
    def from_env(cls, env):
        for field, name in (("a", "QUEUE_URL"), ("b", "TOPIC_ARN")):
            env.get(name, "")
        _number(env, "BATCH_SIZE", maximum=10)
        return cls(_required(env, "TABLE_NAME") + env[MEDIA] + _required(env, name="SECRET"))
"""


def test_the_scanner_follows_a_settings_object_across_files() -> None:
    reads = environment_reads({"handler.py": HANDLER, "logic.py": LOGIC})
    assert set(reads) == {
        "QUEUE_URL",
        "TOPIC_ARN",
        "BATCH_SIZE",
        "TABLE_NAME",
        "MEDIA_BUCKET",
        "SECRET",
    }
    assert reads["TABLE_NAME"] == ["logic.py:7"], "where the helper reads it"


def test_the_scanner_reports_a_missing_and_an_unused_name() -> None:
    """The function would fail on AWS without SECRET; nothing reads LEGACY_FLAG."""
    reads = environment_reads({"handler.py": HANDLER, "logic.py": LOGIC})
    declared = {"QUEUE_URL", "TOPIC_ARN", "BATCH_SIZE", "TABLE_NAME", "MEDIA_BUCKET"}
    found = contract(reads, declared | {"LEGACY_FLAG"})
    assert found.undeclared == {"SECRET": ["logic.py:7"]}
    assert found.unused == {"LEGACY_FLAG"}
    assert contract(reads, declared | {"SECRET"}) == Contract(undeclared={}, unused=set())


def test_names_lambda_sets_need_no_declaration() -> None:
    reads = environment_reads({"h.py": "import os\nREGION = os.environ['AWS_REGION']\n"})
    assert reads == {"AWS_REGION": ["h.py:2"]}
    assert contract(reads, ()) == Contract(undeclared={}, unused=set())


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.environ['X']\n",
        "import os\nos.environ.get('X')\n",
        "import os\nos.environ.get('X', 'default')\n",
        "import os\nos.getenv('X')\n",
        "import os\nos.getenv(key='X')\n",
        "import os\n'X' in os.environ\n",
        "from os import environ\nenviron['X']\n",
        "from os import getenv as read\nread('X')\n",
        "import os\nNAME = 'X'\nos.environ[NAME]\n",
        "import os\ndef f():\n    name: str = 'X'\n    return os.environ[name]\n",
        "import os\ndef f():\n    return [os.getenv(n) for n in ('X',)]\n",
        "def from_env(env):\n    return env['X']\n",
    ],
)
def test_each_way_of_reading_is_found(source: str) -> None:
    assert set(environment_reads({"m.py": source})) == {"X"}


def test_a_mapping_called_env_outside_a_parameter_is_not_the_environment() -> None:
    source = "env = {'X': 1}\nenv['X']\ndef f(settings):\n    return settings['Y']\n"
    assert environment_reads({"m.py": source}) == {}


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import os\nos.environ['X' + 'Y']\n", "computed"),
        ("import os\ndef f(name):\n    return os.getenv(name)\n", "nothing calls it"),
        ("import os\nos.environ.get(name())\n", "computed"),
        ("import os\ncopy = dict(os.environ)\n", "not scanned"),
        ("import os\ndef g(mapping):\n    pass\ng(os.environ)\n", "not called 'env'"),
        ("import os\nos.environ['X'] = '1'\n", "changes the environment"),
        ("import os\nfor name in NAMES:\n    os.environ[name]\n", "computed value"),
        ("import os\nos.environ.items()\n", "cannot follow .items"),
        ("import os\nvalues = os.environ\n", "cannot tell what this use"),
    ],
)
def test_what_the_scanner_cannot_follow_is_an_error(source: str, reason: str) -> None:
    with pytest.raises(ScanError, match=reason):
        environment_reads({"m.py": source})


def test_the_scanner_reads_the_files_the_zip_holds() -> None:
    """Tests in a code folder are not shipped, so their reads do not count."""
    uploads = next(f for f in FUNCTIONS if f.name == "uploads")
    names = set(function_sources(uploads))
    assert "lambdas/uploads/handler.py" in names
    assert "lambdas/shared/http_api.py" in names
    assert not [name for name in names if "/tests/" in name or "/test_" in name]
