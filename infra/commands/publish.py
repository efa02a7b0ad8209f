"""`python -m infra publish`: put the web app into an environment's site bucket.

Runs after the frontend stack is deployed; everything it needs (bucket, distribution, API
URL, user pool) comes from the SSM parameters the stacks publish, so it needs no account id.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.aws import AwsTarget
from infra.commands.options import aws_options, config_options, one_env_option, read_config
from infra.publish import PublishResult, publish_site
from infra.targets import choose_environment

DEFAULT_WEB = Path("web")


def summary(result: PublishResult) -> str:
    plan = result.plan
    if result.invalidation_id is None:
        return f"publish: nothing changed ({plan.unchanged} files in s3://{result.bucket})"
    return (
        f"publish: {len(plan.uploads)} uploaded, {len(plan.deletes)} deleted, "
        f"{plan.unchanged} unchanged; invalidation {result.invalidation_id} of /*"
    )


@click.command("publish")
@config_options
@one_env_option
@click.option(
    "--web",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_WEB,
    show_default=True,
    envvar="INFRA_WEB",
    help="Folder of the web app's files.",
)
@click.option(
    "--invalidate",
    is_flag=True,
    help="Invalidate CloudFront even if no file changed (after a failed invalidation).",
)
@aws_options
def publish_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    web: Path,
    invalidate: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Sync the web files and a generated config.json to the site bucket; invalidate CloudFront.

    Works on one environment: the one given with --env, or the only one configured.
    """
    config = read_config(config_path, overrides)
    environment = choose_environment(config, environments)
    region_name = region or environment.region
    target = AwsTarget(profile, region, endpoint_url)
    result = publish_site(
        target.client("ssm", region_name),
        target.client("s3", region_name),
        target.client("cloudfront", region_name),
        app=config.name,
        env=environment.name,
        region=region_name,
        web=web,
        echo=click.echo,
        force_invalidation=invalidate,
    )
    click.echo(summary(result))
