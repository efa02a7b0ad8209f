#!/usr/bin/env bash
# First-time set-up of an AWS account: the base and pipeline stacks, from this machine.
# After it, every push to the configured branch deploys. Run it again any time: it is
# idempotent. Uses your AWS credentials (AWS_PROFILE, AWS_REGION, or --profile/--region).
#   ./scripts/bootstrap.sh --env dev
source "$(dirname "$0")/_env.sh"
ensure_venv
exec .venv/bin/python -m infra bootstrap "$@"
