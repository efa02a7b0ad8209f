"""The template writer gives exactly the bytes `json.dumps(indent=1, sort_keys=True)` gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.render import RenderedStack
from infra.template_text import template_text


def stdlib(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False)


def test_every_rendered_template_is_what_json_dumps_writes(
    every_rendered: list[RenderedStack],
) -> None:
    assert len(every_rendered) == 14
    for item in every_rendered:
        text = item.path.read_text(encoding="utf-8")
        assert text == stdlib(json.loads(text)) + "\n", item.path


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": {}, "b": [], "c": [{}], "d": [[]]},
        {"z": 1, "a": -2, "m": 0, "big": 2**70},
        {"f": 1.5, "g": -0.0, "h": 1e300, "i": 3.0},
        {"t": True, "f": False, "n": None},
        {"text": 'quote " backslash \\ newline \n tab \t nul \x00 bell \x07'},
        {"unicode": "é ü 漢字 🙂", "surrogate-free": "\u2028\u2029"},
        {"nested": {"deeper": {"deepest": [1, [2, [3, {"k": "v"}]]]}}},
        {"tuple": (1, 2, {"x": 1}), "list": [True, None, 1.25, "s"]},
        {2: "int keys", 10: "sorted as numbers", 1: "by json.dumps itself"},
        {"list": [{"b": 1, "a": 2}, {"d": [], "c": {}}]},
        "just a string",
        12,
        None,
        [1, "two", 3.0, False, None, {"k": [{}]}],
    ],
    ids=lambda value: type(value).__name__,
)
def test_edge_cases_match_json_dumps(value: Any) -> None:
    assert template_text(value) == stdlib(value)


def test_keys_of_mixed_types_fail_as_json_dumps_fails() -> None:
    with pytest.raises(TypeError):
        stdlib({(1,): "tuple key"})
    with pytest.raises(TypeError):
        template_text({(1,): "tuple key"})
