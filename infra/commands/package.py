"""`python -m infra package`: build the Lambda zips, their manifest and configuration files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from infra.artifacts import artifact_bucket_name, upload_zips
from infra.aws import AwsTarget
from infra.commands.options import (
    FOLDER,
    aws_options,
    config_options,
    env_option,
    read_config,
)
from infra.constants import DEFAULT_CACHE_DIR as CACHE_DIR
from infra.constants import DEFAULT_LAMBDAS_OUT as LAMBDAS_OUT
from infra.constants import DEFAULT_TEMPLATES_OUT as TEMPLATES_OUT
from infra.package import BuiltZip, package_environment, packager_for, write_manifest


def progress_printer() -> object:
    """A line per step on stderr when a person is watching; silence in logs and pipes."""
    if sys.stderr.isatty():
        return lambda line: click.echo(f"  {line}", err=True)
    return lambda _line: None


@click.command("package")
@config_options
@env_option
@click.option(
    "--out",
    type=FOLDER,
    default=LAMBDAS_OUT,
    show_default=True,
    help="Folder for the zips and manifest.json.",
)
@click.option(
    "--templates",
    type=FOLDER,
    default=TEMPLATES_OUT,
    show_default=True,
    help="Folder for the <env>/<stack>.config.json files.",
)
@click.option(
    "--cache-dir",
    type=FOLDER,
    default=CACHE_DIR,
    show_default=True,
    envvar="INFRA_CACHE_DIR",
    help="Installed dependencies, kept per requirements and platform.",
)
@click.option("--upload", is_flag=True, help="Put the zips into the artifact bucket.")
@click.option(
    "--bucket",
    envvar="INFRA_ARTIFACT_BUCKET",
    help="Artifact bucket (default: read from the base stack's SSM parameter).",
)
@aws_options
def package_command(
    config_path: Path,
    overrides: tuple[str, ...],
    environments: tuple[str, ...],
    out: Path,
    templates: Path,
    cache_dir: Path,
    upload: bool,
    bucket: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Build one reproducible zip per function (no Docker) and optionally upload them."""
    config = read_config(config_path, overrides)
    selected = [config.environment(name) for name in environments or config.environments]
    packager = packager_for(config, out, cache_dir, progress_printer())
    built: dict[str, list[BuiltZip]] = {}
    for environment in selected:
        built[environment.name] = package_environment(packager, config, environment, templates)
    write_manifest(out / "manifest.json", built)

    for env_name, items in built.items():
        for item in items:
            state = "built" if item.rebuilt else "unchanged"
            click.echo(
                f"{env_name:6} {item.function:10} {item.size:>12,}  {state:9}  {out / item.file}"
            )

    if upload:
        target = AwsTarget(profile, region, endpoint_url)
        for environment in selected:
            region_name = region or environment.region
            name = bucket or artifact_bucket_name(
                target.client("ssm", region_name), config, environment
            )
            zips = sorted({(i.key, out / i.file) for i in built[environment.name]})
            for key, uploaded in upload_zips(target.client("s3", region_name), name, zips):
                click.echo(f"{'uploaded' if uploaded else 'present '} s3://{name}/{key}")
