"""`infra.testing.Handlers`: each function's handler.py under its own name, caches forgotten."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.testing import Handlers


def write_handler(lambdas: Path, folder: str, body: str) -> None:
    (lambdas / folder).mkdir(parents=True)
    (lambdas / folder / "handler.py").write_text(body, encoding="utf-8")


def test_two_handlers_load_side_by_side_once_each_and_forget_their_caches(tmp_path: Path) -> None:
    cached = "import functools\n@functools.cache\ndef settings():\n    return object()\n"
    write_handler(tmp_path, "one", f"NAME = 'one'\n{cached}")
    write_handler(tmp_path, "two", f"NAME = 'two'\n{cached}")
    handlers = Handlers(tmp_path, prefix="t1_")
    one, two = handlers.load("one"), handlers.load("two")
    assert (one.NAME, two.NAME) == ("one", "two")
    assert one.__name__ == "t1_one_handler"
    assert handlers.load("one") is one
    first = one.settings()
    assert one.settings() is first
    handlers.clear_caches()
    assert one.settings() is not first


def test_a_folder_without_a_handler_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError, match=re.escape("no handler.py for function folder 'missing'")
    ):
        Handlers(tmp_path).load("missing")
