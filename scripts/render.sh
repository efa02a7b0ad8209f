#!/usr/bin/env bash
# Render every stack of every environment into build/templates (no AWS account needed).
# Extra arguments go to `python -m infra render`, e.g. --env dev --out DIR.
source "$(dirname "$0")/_env.sh"
ensure_venv
exec .venv/bin/python -m infra render "$@"
