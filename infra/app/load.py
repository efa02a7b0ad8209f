"""Find and import an app's declaration: the `app = App(...)` of its app.py.

infra.toml names the file (`[app] declaration`, default `app.py` beside it); it is a
file or a package folder. It is imported under a name of its own, so two apps can be
loaded in one process (the tests do), with the app's root on `sys.path` while it
loads, so it may import its own modules. Only a missing file or a missing `app` is
turned into a one-line error: an exception raised by the app's own code is a bug
in it, and keeps its traceback.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

from infra.app.app import App
from infra.errors import ConfigError, DeclarationError

DEFAULT_DECLARATION = "app.py"
ATTRIBUTE = "app"
_LOADS = itertools.count()


def load_declaration(path: Path, source: str) -> App:
    """The `App` that `path` (a .py file, or a folder with __init__.py) assigns to `app`.

    Imported afresh on every call, as a module of its own. A `DeclarationError` the
    app's declarations raise is prefixed with the file's name.
    """
    package = path.is_dir()
    init = path / "__init__.py" if package else path
    if not init.is_file():
        raise ConfigError(source, "app.declaration", f"{path} not found (a .py file or a package)")
    if init.suffix != ".py":
        raise ConfigError(source, "app.declaration", f"{path} must be a .py file or a package")
    resolved = init.resolve()
    name = f"_infra_app_{next(_LOADS)}"
    locations = [str(resolved.parent)] if package else None
    spec = importlib.util.spec_from_file_location(
        name, resolved, submodule_search_locations=locations
    )
    if spec is None or spec.loader is None:
        raise ConfigError(source, "app.declaration", f"{path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    root = str(resolved.parent.parent if package else resolved.parent)
    sys.path.insert(0, root)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except DeclarationError as err:
        raise DeclarationError(f"{path}: {err}") from None
    finally:
        sys.modules.pop(name, None)
        if root in sys.path:
            sys.path.remove(root)
    return _app_of(module, path, source)


def _app_of(module: object, path: Path, source: str) -> App:
    app = getattr(module, ATTRIBUTE, None)
    if not isinstance(app, App):
        raise ConfigError(
            source, "app.declaration", f"{path} must assign an infra.app.App to `{ATTRIBUTE}`"
        )
    return app
