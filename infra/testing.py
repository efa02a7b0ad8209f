"""Helpers for an app's own handler tests: import each function's code as its zip would run it.

Every function's entry module is `handler.py`, so two functions' handlers cannot share the
module name `handler` in one test session. `Handlers` imports each under a name of its own,
once, and forgets what the handlers cached (settings, boto3 clients made against an earlier
test's AWS) between tests.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


class Handlers:
    """The handlers under `lambdas/`, imported on first use as `<prefix><folder>_handler`."""

    def __init__(self, lambdas: Path, prefix: str = "") -> None:
        self.lambdas = lambdas
        self.prefix = prefix
        self.loaded: dict[str, ModuleType] = {}

    def load(self, folder: str) -> ModuleType:
        """`lambdas/<folder>/handler.py`, imported once."""
        if folder not in self.loaded:
            path = self.lambdas / folder / "handler.py"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no handler.py for function folder {folder!r}")
            spec = importlib.util.spec_from_file_location(f"{self.prefix}{folder}_handler", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"{path}: cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            self.loaded[folder] = module
        return self.loaded[folder]

    def clear_caches(self) -> None:
        """Forget every `functools.cache`d value of the loaded handlers (settings, clients)."""
        for module in self.loaded.values():
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
