"""What the deploying commands share: the account check, building, and reaching AWS.

`deploy`, `diff`, `destroy` and `bootstrap` work on one environment in one account and
region; this module gives them the clients for it and builds what they deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from infra.artifacts import artifact_bucket_name, upload_zips
from infra.aws import AwsTarget, aws_errors
from infra.changesets import UPDATABLE, Uploader, stack_status
from infra.config import AppConfig, Environment
from infra.constants import DEFAULT_CACHE_DIR, DEFAULT_LAMBDAS_OUT
from infra.deploy import Deployed, template_uploader
from infra.errors import InfraError
from infra.targets import StackTarget


@dataclass
class EnvironmentSession:
    """One environment's account and region, reached through boto3."""

    config: AppConfig
    environment: Environment
    aws: AwsTarget

    @property
    def region(self) -> str:
        return self.aws.region or self.environment.region

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    @cached_property
    def cloudformation(self) -> Any:
        return self.client("cloudformation")

    def check_account(self) -> str:
        """The caller's account; refuses to touch an account other than the configured one."""
        account = self.environment.account
        with aws_errors("sts: who am I"):
            actual = self.client("sts").get_caller_identity()["Account"]
        if account.account_id is None:
            raise InfraError(
                f"{self.config.source}: accounts.{account.name}.account_id: required to deploy "
                f"(your credentials are for account {actual})"
            )
        if actual != account.account_id:
            raise InfraError(
                f"credentials are for account {actual}, but {self.environment.name} lives in "
                f"accounts.{account.name} ({account.account_id}); switch profile"
            )
        return actual

    @cached_property
    def artifact_bucket(self) -> str:
        return artifact_bucket_name(self.client("ssm"), self.config, self.environment)

    def template_upload(self) -> Uploader:
        """Large templates go through the artifact bucket (looked up only when needed)."""

        def upload(target: StackTarget) -> str:
            uploader = template_uploader(self.client("s3"), self.artifact_bucket, self.region)
            return uploader(target)

        return upload

    def require_deployed(self, targets: list[StackTarget]) -> None:
        """Every stack a target reads from is deployed already or earlier in this run."""
        running = {target.stack_name for target in targets}
        for target in targets:
            for needed in target.requires:
                if needed in running:
                    continue
                status = stack_status(self.cloudformation, needed)
                if status not in UPDATABLE:
                    kind = needed.rsplit("-", 1)[-1]
                    raise InfraError(
                        f"{target.stack_name} reads values from {needed}, which is "
                        f"{status or 'not deployed'}: deploy {kind} first"
                    )


def build(
    session: EnvironmentSession,
    templates: Path,
    *,
    package: bool,
    lambdas: Path = DEFAULT_LAMBDAS_OUT,
    cache_dir: Path = DEFAULT_CACHE_DIR,
) -> list[tuple[str, Path]]:
    """Render the environment's stacks; package the functions when asked.

    Returns (key, zip) for each function, for `upload_functions` once the bucket exists.
    """
    from infra.package import package_environment, packager_for, write_manifest
    from infra.render import render

    config, environment = session.config, session.environment
    render(config, templates, [environment.name])
    if not package:
        return []
    built = package_environment(
        packager_for(config, lambdas, cache_dir), config, environment, templates
    )
    write_manifest(lambdas / "manifest.json", {environment.name: built})
    return sorted({(item.key, lambdas / item.file) for item in built})


def upload_functions(
    session: EnvironmentSession, zips: list[tuple[str, Path]], echo: Callable[[str], None]
) -> None:
    """Put the zips into the artifact bucket; keys already there are skipped."""
    bucket = session.artifact_bucket
    for key, uploaded in upload_zips(session.client("s3"), bucket, zips):
        if uploaded:
            echo(f"uploaded s3://{bucket}/{key}")


def prepare(
    session: EnvironmentSession, stacks: tuple[str, ...], templates: Path, *, rebuild: bool = True
) -> tuple[list[StackTarget], list[tuple[str, Path]]]:
    """Check the names and the account, then build: the stacks in order and the zips.

    The default stacks are the environment's own. Without `rebuild` the templates and
    configuration files already in `templates` are used as they are (the pipeline's
    build made them).
    """
    from infra.layout import environment_stacks
    from infra.targets import check_stack_names, environment_targets

    config, environment = session.config, session.environment
    names = stacks or tuple(kind.name for kind in environment_stacks(config))
    kinds = check_stack_names(config, environment, names)
    session.check_account()
    package = any(kind.carries_code for kind in kinds)
    zips = build(session, templates, package=package) if rebuild else []
    return environment_targets(config, environment, names, templates), zips


def deploy_environment(
    session: EnvironmentSession,
    stacks: tuple[str, ...],
    templates: Path,
    *,
    echo: Callable[[str], None],
    warn: Callable[[str], None],
    allowances: Any = None,
    role_arn: str | None = None,
) -> Iterator[Deployed]:
    """Build, then each stack in dependency order through change set, gate and execute.

    What `deploy` does, and `infra local up` against the local AWS. The zips go up just
    before the first stack that carries code.
    """
    from infra.deploy import deploy_stack
    from infra.gate.allowances import Allowances
    from infra.gate.evaluation import change_set_judge

    allowances = allowances or Allowances()
    targets, zips = prepare(session, stacks, templates)
    allowances.require_stacks(target.stack_name for target in targets)
    session.require_deployed(targets)
    upload = session.template_upload()
    cfn = session.cloudformation
    judge = change_set_judge(cfn, sqs=lambda: session.client("sqs"), allowances=allowances)
    for target in targets:
        if target.carries_code:
            upload_functions(session, zips, echo)
        yield deploy_stack(
            cfn, target, echo, judge=judge, warn=warn, role_arn=role_arn, upload=upload
        )
    allowances.require_all_checked()
