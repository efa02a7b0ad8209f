"""The stacks, in deploy order: base (and pipeline) per account, then data, backend, frontend.

The pipeline stack lives in `pipelines/`; it is an account stack rendered only in
the account `[pipeline]` names (`PipelineStack.wanted`).
"""

from __future__ import annotations

from infra.constants import ENVIRONMENT_STACK_NAMES
from infra.stack import Stack
from infra.stacks.backend import BackendStack
from infra.stacks.base import BaseStack
from infra.stacks.data import DataStack
from infra.stacks.frontend import FrontendStack
from pipelines.stack import PipelineStack

ACCOUNT_STACKS: tuple[type[Stack], ...] = (BaseStack, PipelineStack)
ENVIRONMENT_STACKS: tuple[type[Stack], ...] = (DataStack, BackendStack, FrontendStack)
if tuple(s.name for s in ENVIRONMENT_STACKS) != ENVIRONMENT_STACK_NAMES:
    raise RuntimeError("infra.constants.ENVIRONMENT_STACK_NAMES disagrees with the stacks")

__all__ = [
    "ACCOUNT_STACKS",
    "ENVIRONMENT_STACKS",
    "BackendStack",
    "BaseStack",
    "DataStack",
    "FrontendStack",
    "PipelineStack",
]
