"""Which stacks a command works on, where each lives, and the order they must go in.

A stack reads other stacks' values through SSM-typed parameters whose defaults are the
`/<app>/<scope>/<stack>/<Name>` paths the other stack publishes, so the rendered template
itself says what it depends on; nobody keeps a second list.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from infra.config import AppConfig, Environment
from infra.constants import ENVIRONMENT_STACK_NAMES
from infra.errors import InfraError, UsageError
from infra.naming import physical_name

SSM_TYPE = "AWS::SSM::Parameter::Value<String>"
ACCOUNT_STACK_NAMES = ("base", "pipeline")


@dataclass(frozen=True)
class StackTarget:
    """One rendered stack, ready to deploy: template, configuration file and region."""

    app: str
    scope: str
    kind: str
    region: str
    template_path: Path
    configuration_path: Path | None = None
    account_id: str | None = field(default=None, compare=False)

    @property
    def stack_name(self) -> str:
        return physical_name(self.app, self.scope, self.kind, limit=128)

    @cached_property
    def body(self) -> str:
        try:
            return self.template_path.read_text(encoding="utf-8")
        except OSError as err:
            raise InfraError(
                f"{self.template_path}: {err.strerror or err}; run `python -m infra render`"
            ) from None

    @cached_property
    def template(self) -> dict[str, Any]:
        return json.loads(self.body)

    @cached_property
    def configuration(self) -> dict[str, Any]:
        """The template-configuration file (Parameters, Tags), as the pipeline reads it too."""
        if self.configuration_path is None or not self.configuration_path.exists():
            return {
                "Parameters": {},
                "Tags": {"app": self.app, "env": self.scope, "stack": self.kind},
            }
        try:
            return json.loads(self.configuration_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InfraError(f"{self.configuration_path}: unreadable: {err}") from None

    @property
    def parameters(self) -> list[dict[str, str]]:
        values = self.configuration.get("Parameters", {})
        return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(values.items())]

    @property
    def tags(self) -> list[dict[str, str]]:
        values = self.configuration.get("Tags", {})
        return [{"Key": k, "Value": str(v)} for k, v in sorted(values.items())]

    @property
    def requires(self) -> tuple[str, ...]:
        """Names of the stacks whose published SSM values this template reads."""
        names = []
        for parameter in self.template.get("Parameters", {}).values():
            default = parameter.get("Default", "")
            if parameter.get("Type") != SSM_TYPE or not default.startswith(f"/{self.app}/"):
                continue
            _, _, scope, stack, *_ = default.split("/")
            names.append(physical_name(self.app, scope, stack, limit=128))
        return tuple(dict.fromkeys(names))

    @property
    def retained(self) -> tuple[str, ...]:
        """Logical IDs CloudFormation keeps when the stack goes (Retain or Snapshot)."""
        return tuple(
            logical_id
            for logical_id, resource in sorted(self.template.get("Resources", {}).items())
            if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate", "Snapshot")
        )


def environment_targets(
    config: AppConfig, environment: Environment, kinds: Iterable[str], templates: Path
) -> list[StackTarget]:
    """The environment's stacks (and its account's, for `base`/`pipeline`) in dependency order."""
    chosen = check_stack_names(config, environment, kinds)
    targets = []
    for kind in chosen:
        account_level = kind in ACCOUNT_STACK_NAMES
        scope = environment.account.name if account_level else environment.name
        configuration = None if account_level else templates / scope / f"{kind}.config.json"
        targets.append(
            StackTarget(
                app=config.name,
                scope=scope,
                kind=kind,
                region=environment.account.region if account_level else environment.region,
                template_path=templates / scope / f"{kind}.json",
                configuration_path=configuration,
                account_id=environment.account.account_id,
            )
        )
    return dependency_order(targets)


def check_stack_names(
    config: AppConfig, environment: Environment, kinds: Iterable[str]
) -> list[str]:
    """The stack names asked for, once each; refuses one this environment does not have."""
    known = (*ACCOUNT_STACK_NAMES, *ENVIRONMENT_STACK_NAMES)
    chosen = list(dict.fromkeys(kinds))
    for kind in chosen:
        if kind not in known:
            raise UsageError(f"unknown stack {kind!r}: choose from {', '.join(known)}")
    if "pipeline" in chosen and (
        config.pipeline is None or config.pipeline.account != environment.account.name
    ):
        raise UsageError(
            f"no pipeline stack for account {environment.account.name}: "
            "add a [pipeline] section to infra.toml"
        )
    return chosen


def dependency_order(targets: list[StackTarget]) -> list[StackTarget]:
    """Each stack after the stacks it reads from; otherwise the order given."""
    by_name = {target.stack_name: target for target in targets}
    ordered: list[StackTarget] = []
    visiting: set[str] = set()

    def visit(target: StackTarget) -> None:
        if target in ordered:
            return
        if target.stack_name in visiting:
            raise InfraError(f"{target.stack_name}: stacks read each other's values in a cycle")
        visiting.add(target.stack_name)
        for name in target.requires:
            if name in by_name:
                visit(by_name[name])
        visiting.discard(target.stack_name)
        ordered.append(target)

    for target in targets:
        visit(target)
    return ordered


def choose_environment(config: AppConfig, names: tuple[str, ...]) -> Environment:
    """The one environment a deploying command works on: given, or the only one there is."""
    chosen = list(dict.fromkeys(names))
    if len(chosen) > 1:
        raise UsageError(f"one environment at a time, got: {', '.join(chosen)}")
    if chosen:
        return config.environment(chosen[0])
    if len(config.environments) == 1:
        return next(iter(config.environments.values()))
    raise UsageError(f"choose an environment with --env ({', '.join(config.environments)})")
