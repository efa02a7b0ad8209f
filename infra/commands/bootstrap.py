"""`python -m infra bootstrap`: the one deploy from a workstation; the pipeline does the rest.

Deploys the account's base stack and the pipeline stack (idempotent: a second run changes
nothing), then says what to do next: push the code, or confirm the CodeStar connection.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.commands.options import aws_options, config_options, one_env_option, out_option
from infra.commands.stack_options import (
    echo,
    environment_session,
    print_outputs,
    warn,
)
from infra.config import AppConfig
from infra.deploy import Deployed, deploy_stack
from infra.environment_session import build
from infra.errors import InfraError
from infra.gate.evaluation import change_set_judge
from infra.targets import environment_targets

CONNECTIONS_URL = "https://console.aws.amazon.com/codesuite/settings/connections"


def next_steps(config: AppConfig, pipeline: Deployed) -> list[str]:
    settings = config.pipeline
    assert settings is not None
    outputs = pipeline.outputs
    lines = ["next:"]
    if settings.connection_arn:
        lines.append(
            f"  1. confirm the connection (status PENDING until you do): {CONNECTIONS_URL}"
        )
        lines.append(f"  2. push to {settings.branch} of {settings.repository}")
    else:
        clone = outputs.get("RepositoryCloneUrlHttp", "<RepositoryCloneUrlHttp>")
        lines.append(f"  1. git remote add aws {clone}")
        lines.append(f"  2. git push aws HEAD:{settings.branch}")
    lines.append(f"  then watch the pipeline: {outputs.get('PipelineUrl', '(see the console)')}")
    return lines


@click.command("bootstrap")
@config_options
@one_env_option
@out_option
@aws_options
def bootstrap_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    out: Path,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Deploy the base and pipeline stacks of the environment's account."""
    session = environment_session(
        config_path, overrides, environments, profile, region, endpoint_url
    )
    config = session.config
    if config.pipeline is None:
        raise InfraError(f"{config.source}: pipeline: missing; bootstrap sets up the pipeline")
    account = session.environment.account.name
    if config.pipeline.account != account:
        raise InfraError(
            f"{config.source}: pipeline.account is {config.pipeline.account!r}, but "
            f"{session.environment.name} lives in {account!r}"
        )
    session.check_account()
    build(session, out, package=False)
    targets = environment_targets(config, session.environment, ("base", "pipeline"), out)
    upload = session.template_upload()  # the pipeline's template goes through S3
    cfn = session.cloudformation
    judge = change_set_judge(cfn)
    deployed = [
        deploy_stack(cfn, target, echo, judge=judge, warn=warn, upload=upload) for target in targets
    ]
    for item in deployed:
        echo(f"{item.stack}: {item.result}")
        print_outputs(item.stack, item.outputs)
    for line in next_steps(config, deployed[-1]):
        echo(line)
