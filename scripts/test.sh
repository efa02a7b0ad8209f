#!/usr/bin/env bash
# The whole test suite: ruff, then pytest (templates, cfn-lint, checkov, lambdas, deploys and
# the local run on the local AWS, the web page in a real browser).
# Extra arguments go to pytest, e.g. -k backend.
source "$(dirname "$0")/_env.sh"
ensure_venv
ensure_checkov
ensure_chromium
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
exec .venv/bin/python -m pytest "$@"
