"""web/srp.js against the pycognito vectors, in Node (BigInt and WebCrypto, like a browser).

Skipped where Node is not installed (the project needs no Node); the browser test runs
the same vectors in a real browser. Node reads web/*.js as ES modules from a copy of
web/ marked `"type": "module"` (the site itself has no package.json to publish).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
WEB = HERE.parents[1] / "web"
VECTORS = HERE / "srp_vectors.json"
RUNNER = HERE / "run_srp_vectors.mjs"
NODE = shutil.which("node")
EXPECTED = json.loads(VECTORS.read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(NODE is None, reason="Node is not installed")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    site = tmp_path_factory.mktemp("web") / "web"
    shutil.copytree(WEB, site)
    (site / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    done = subprocess.run(
        [NODE, str(RUNNER), (site / "srp.js").as_uri(), str(VECTORS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {result["name"]: result for result in json.loads(done.stdout)}


@pytest.mark.parametrize("case", EXPECTED["cases"], ids=lambda case: case["name"])
def test_srp_js_derives_what_pycognito_does(
    case: dict[str, Any], results: dict[str, dict[str, Any]]
) -> None:
    got = results[case["name"]]
    assert got["k_hex"] == EXPECTED["group"]["k_hex"]
    for name, value in case["expected"].items():
        assert got[name] == value, name
