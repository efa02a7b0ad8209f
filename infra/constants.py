"""Names several modules share, kept import-light so every command starts fast."""

from __future__ import annotations

from pathlib import Path

DEFAULT_TEMPLATES_OUT = Path("build/templates")
DEFAULT_LAMBDAS_OUT = Path("build/lambdas")
DEFAULT_CACHE_DIR = Path("build/cache/deps")

# The largest template CloudFormation takes inline (TemplateBody); a larger one goes through S3.
MAX_INLINE_TEMPLATE_BYTES = 51_200
MAX_TEMPLATE_BYTES = 1_048_576  # from S3

# DeletionPolicy / UpdateReplacePolicy: stateful resources get RETAIN; these values all keep
# the resource when CloudFormation drops it.
RETAIN = "Retain"
RETAINING_POLICIES = frozenset({RETAIN, "RetainExceptOnCreate"})

# `--allow` / INFRA_GATE_ALLOW meaning no allowance: CodePipeline variables cannot be empty,
# so the pipeline's GateAllow variable defaults to this word.
NO_GATE_ALLOWANCE = "none"
