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
from infra.errors import InfraError, UsageError
from infra.layout import StackKind, account_stacks, environment_stacks, stack_kind
from infra.naming import physical_name
from infra.shown import one_line

SSM_TYPE = "AWS::SSM::Parameter::Value<String>"


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
    carries_code: bool = field(default=False, compare=False)  # deploy puts the zips first

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


def environment_targets(
    config: AppConfig, environment: Environment, kinds: Iterable[str], templates: Path
) -> list[StackTarget]:
    """The environment's stacks (and its account's, for `base`/`pipeline`) in dependency order."""
    targets = []
    for kind in check_stack_names(config, environment, kinds):
        scope = environment.account.name if kind.per_account else environment.name
        configuration = None if kind.per_account else templates / scope / f"{kind.name}.config.json"
        targets.append(
            StackTarget(
                app=config.name,
                scope=scope,
                kind=kind.name,
                region=environment.account.region if kind.per_account else environment.region,
                template_path=templates / scope / f"{kind.name}.json",
                configuration_path=configuration,
                account_id=environment.account.account_id,
                carries_code=kind.carries_code,
            )
        )
    return dependency_order(targets)


def check_stack_names(
    config: AppConfig, environment: Environment, names: Iterable[str]
) -> list[StackKind]:
    """The stacks asked for, once each; refuses one this app or environment does not have."""
    return [stack_kind(config, environment.account, name) for name in dict.fromkeys(names)]


def all_stacks(config: AppConfig, environment: Environment) -> list[StackKind]:
    """Every stack the environment and its account have, in deploy order."""
    return [*account_stacks(config, environment.account), *environment_stacks(config)]


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
        raise UsageError(f"one environment at a time, got: {', '.join(map(one_line, chosen))}")
    if chosen:
        return config.environment(chosen[0])
    if len(config.environments) == 1:
        return next(iter(config.environments.values()))
    raise UsageError(f"choose an environment with --env ({', '.join(config.environments)})")
