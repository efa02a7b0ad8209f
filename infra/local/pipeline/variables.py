"""Pipeline variables: `#{namespace.name}` resolved as CodePipeline resolves them.

A run's values live in namespaces: `codepipeline` (PipelineExecutionId), `variables`
(the pipeline's own variables: defaults, or a value given for the run) and each action's
`Namespace` once that action has run. A reference to a namespace or a name that has no
value fails the action that holds it, as on AWS, naming the reference; a misspelt
namespace is one of the mistakes this exists to catch before AWS does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from infra.errors import InfraError
from infra.local.pipeline.model import ConditionDef, RuleDef

REFERENCE = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}")


class UnresolvedVariable(InfraError):
    pass


def resolve(text: str, namespaces: Mapping[str, Mapping[str, str]], where: str) -> str:
    """`text` with every `#{ns.name}` replaced; an unknown one is an UnresolvedVariable."""

    def replace(match: re.Match[str]) -> str:
        namespace, name = match.groups()
        values = namespaces.get(namespace)
        if values is None:
            known = ", ".join(sorted(namespaces)) or "none"
            raise UnresolvedVariable(
                f"{where}: #{{{namespace}.{name}}}: no namespace {namespace!r} has values "
                f"in this run (known: {known})"
            )
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise UnresolvedVariable(
                f"{where}: #{{{namespace}.{name}}}: {namespace} has no variable {name!r} "
                f"(it has: {known})"
            )
        return values[name]

    return REFERENCE.sub(replace, text)


def resolve_all(
    configuration: Mapping[str, str], namespaces: Mapping[str, Mapping[str, str]], where: str
) -> dict[str, str]:
    return {
        key: resolve(value, namespaces, f"{where}: {key}") for key, value in configuration.items()
    }


def rule_passes(rule: RuleDef, namespaces: Mapping[str, Mapping[str, str]], where: str) -> bool:
    """A VariableCheck rule: the variable compared with the value (EQ, NE, CONTAINS, MATCHES)."""
    here = f"{where}: rule {rule.name}"
    if rule.provider != "VariableCheck":
        raise InfraError(f"{here}: rule provider {rule.provider} cannot run locally")
    config = rule.configuration
    missing = [key for key in ("Variable", "Operator", "Value") if key not in config]
    if missing:
        raise InfraError(f"{here}: VariableCheck needs {', '.join(missing)}")
    actual = resolve(config["Variable"], namespaces, here)
    wanted = config["Value"]
    operator = config["Operator"]
    checks: dict[str, Any] = {
        "EQ": lambda: actual == wanted,
        "NE": lambda: actual != wanted,
        "CONTAINS": lambda: wanted in actual,
        "MATCHES": lambda: re.search(wanted, actual) is not None,
    }
    if operator not in checks:
        raise InfraError(f"{here}: operator {operator!r} is not EQ, NE, CONTAINS or MATCHES")
    return bool(checks[operator]())


def entry_result(
    conditions: tuple[ConditionDef, ...], namespaces: Mapping[str, Mapping[str, str]], where: str
) -> str | None:
    """None to enter the stage, else the result (SKIP, FAIL) of the first condition whose
    rules do not all pass."""
    for condition in conditions:
        if not all(rule_passes(rule, namespaces, where) for rule in condition.rules):
            return condition.result
    return None
