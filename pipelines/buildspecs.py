"""The inline buildspecs of the check and publish projects, written from Python dicts.

Both run the `infra` CLI on the build's output artifact, which holds the whole
source tree plus `build/templates`, so each first installs the project (pip's
download cache is kept in the project's S3 cache). The build project runs the
repository's own `buildspec.yml`; these two are short enough to live here, next
to the pipeline that passes them their variables.
"""

from __future__ import annotations

from typing import Any

import yaml

PYTHON = "3.12"
PIP_CACHE = "/root/.cache/pip"
INSTALL = "pip install --quiet --disable-pip-version-check ."

# What `infra diff --variables` writes and the approval stage reads (`#{Plan<Env>.NAME}`).
PLAN_VARIABLES = ("IAM_BROADENED", "SUMMARY")
# One project serves two kinds of action; CHECK says which.
# --prebuilt: plan the templates the build made (in BuildOutput), never rebuild them.
PLAN_COMMAND = (
    'python -m infra diff --env "$ENV" --prebuilt --variables plan.env'
    " && set -a && . ./plan.env && set +a"
)
GATE_COMMAND = 'python -m infra gate --stack "$STACK" --change-set "$CHANGE_SET"'
PUBLISH_COMMAND = 'python -m infra publish --env "$ENV"'


def yaml_text(spec: dict[str, Any]) -> str:
    """Block-style YAML in the order written: stable bytes, readable in the console."""
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=False, width=1000)


def with_project_installed(commands: list[str], **env: Any) -> str:
    spec: dict[str, Any] = {"version": 0.2, "env": {"shell": "bash", **env}}
    spec["phases"] = {
        "install": {"runtime-versions": {"python": PYTHON}, "commands": [INSTALL]},
        "build": {"commands": commands},
    }
    spec["cache"] = {"paths": [f"{PIP_CACHE}/**/*"]}
    return yaml_text(spec)


def check_buildspec() -> str:
    """CHECK=plan: `infra diff` exports the plan's variables; CHECK=gate: `infra gate`.

    IAM_BROADENED starts as "true": should a plan ever fail to say, the approval
    stage stops for a person rather than letting the change through.
    """
    dispatch = (
        f'case "$CHECK" in plan) {PLAN_COMMAND} ;; gate) {GATE_COMMAND} ;; '
        "*) echo \"CHECK must be plan or gate, not '$CHECK'\" >&2; exit 2 ;; esac"
    )
    return with_project_installed(
        [dispatch],
        variables={"IAM_BROADENED": "true", "SUMMARY": "no plan summary"},
        **{"exported-variables": list(PLAN_VARIABLES)},
    )


def publish_buildspec() -> str:
    """Sync web/ to the env's site bucket and invalidate its CloudFront distribution."""
    return with_project_installed([PUBLISH_COMMAND])
