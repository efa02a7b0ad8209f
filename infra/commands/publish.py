"""`python -m infra publish`: put the web app into an environment's site bucket.

Runs after the frontend stack is deployed; everything it needs (bucket, distribution, API
URL, user pool) comes from the SSM parameters the stacks publish, so it needs no account id.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.aws import AwsTarget
from infra.commands.options import (
    EXISTING_FOLDER,
    aws_options,
    config_options,
    one_env_option,
    read_config,
)
from infra.errors import UsageError
from infra.publish import PublishResult, publish_site
from infra.targets import choose_environment


def summary(result: PublishResult) -> str:
    plan = result.plan
    if result.invalidation_id is None:
        return f"publish: nothing changed ({plan.unchanged} files in s3://{result.bucket})"
    return (
        f"publish: {len(plan.puts)} uploaded, {len(plan.deletes)} deleted, "
        f"{plan.unchanged} unchanged; invalidation {result.invalidation_id} of /*"
    )


@click.command("publish")
@config_options
@one_env_option
@click.option(
    "--web",
    type=EXISTING_FOLDER,
    default=None,
    envvar="INFRA_WEB",
    help="Folder of the site's files (default: the folder the app's Site declares).",
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
    web: Path | None,
    invalidate: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Sync the web files and a generated config.json to the site bucket; invalidate CloudFront.

    Works on one environment: the one given with --env, or the only one configured.
    """
    config = read_config(config_path, overrides)
    site = config.declaration.site
    if site is None:
        raise UsageError(f"{config.source}: the app declares no site; there is nothing to publish")
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
        site=site,
        settings=dict(environment.settings),
        web=web or config.root / site.folder,
        echo=click.echo,
        force_invalidation=invalidate,
    )
    click.echo(summary(result))
