"""Which stacks an app has, in deploy order, and what each one is: all from the declaration.

Account stacks: base in every account, the pipeline where `[pipeline]` puts it.
Environment stacks: data always (it holds the environment's key), backend when the
app declares functions, frontend when it declares a site. This is the one list of
stacks; rendering, packaging, deploying, destroying and the pipeline all read it.
Kept free of troposphere so the commands that only need names start fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config import Account, AppConfig
from infra.errors import UsageError


@dataclass(frozen=True)
class StackKind:
    """One kind of stack: where it lives and how the commands must treat it.

    `holds_data`: destroying it loses data or the means to deploy (destroy wants --force).
    `carries_code`: its template takes the functions' code keys (deploy puts the zips first).
    """

    name: str
    per_account: bool
    holds_data: bool = False
    carries_code: bool = False


BASE = StackKind("base", per_account=True, holds_data=True)
PIPELINE = StackKind("pipeline", per_account=True, holds_data=True)
DATA = StackKind("data", per_account=False, holds_data=True)
BACKEND = StackKind("backend", per_account=False, carries_code=True)
FRONTEND = StackKind("frontend", per_account=False)


def account_stacks(config: AppConfig, account: Account) -> tuple[StackKind, ...]:
    """base, and the pipeline in the account `[pipeline]` names."""
    pipeline = config.pipeline
    has_pipeline = pipeline is not None and pipeline.account == account.name
    return (BASE, PIPELINE) if has_pipeline else (BASE,)


def environment_stacks(config: AppConfig) -> tuple[StackKind, ...]:
    """The stacks every environment of this app has, in deploy order."""
    app = config.declaration
    kinds = [DATA]
    if app.functions:
        kinds.append(BACKEND)
    if app.site is not None:
        kinds.append(FRONTEND)
    return tuple(kinds)


def stack_kind(config: AppConfig, account: Account, name: str) -> StackKind:
    """The kind called `name` that this app has in `account`; a clear error otherwise."""
    kinds = {
        kind.name: kind for kind in (*account_stacks(config, account), *environment_stacks(config))
    }
    if name in kinds:
        return kinds[name]
    if name == PIPELINE.name:
        raise UsageError(
            f"no pipeline stack for account {account.name}: add a [pipeline] section to "
            f"{config.source}"
        )
    known = ", ".join(kinds)
    raise UsageError(f"unknown stack {name!r}: this app has {known}")
