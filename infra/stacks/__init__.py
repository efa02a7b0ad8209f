"""The stack classes by kind; which of them an app has, and in what order, is `infra.layout`.

The pipeline stack lives in `pipelines/` and is registered in `infra.render`.
"""

from __future__ import annotations

from infra.stack import Stack
from infra.stacks.backend import BackendStack
from infra.stacks.data import DataStack
from infra.stacks.frontend import FrontendStack

ENVIRONMENT_STACK_CLASSES: dict[str, type[Stack]] = {
    DataStack.name: DataStack,
    BackendStack.name: BackendStack,
    FrontendStack.name: FrontendStack,
}
