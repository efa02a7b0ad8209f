#!/usr/bin/env bash
# Run the app on this machine: the local AWS, its functions, HTTP API, events and site.
# Extra arguments go to `python -m infra local up`, e.g. --env dev --port 8000 --fresh.
source "$(dirname "$0")/_env.sh"
ensure_venv
exec .venv/bin/python -m infra local up "$@"
