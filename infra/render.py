"""Stack models -> JSON files: deterministic bytes, atomic writes, CloudFormation limits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.config import AppConfig
from infra.constants import DEFAULT_TEMPLATES_OUT as DEFAULT_OUT
from infra.constants import MAX_INLINE_TEMPLATE_BYTES, MAX_TEMPLATE_BYTES
from infra.errors import TemplateLimitError
from infra.files import write_atomic
from infra.layout import account_stacks, environment_stacks
from infra.stack import Stack, StackContext
from infra.stacks import ENVIRONMENT_STACK_CLASSES
from infra.stacks.base import BaseStack
from infra.template_text import template_text
from pipelines.stack import PipelineStack

MAX_RESOURCES = 500
STACK_CLASSES: dict[str, type[Stack]] = {
    BaseStack.name: BaseStack,
    PipelineStack.name: PipelineStack,
    **ENVIRONMENT_STACK_CLASSES,
}


@dataclass(frozen=True)
class RenderedStack:
    """One written template and the figures the render table shows."""

    scope: str
    stack: str
    stack_name: str
    path: Path
    resources: int
    size: int

    @property
    def needs_s3(self) -> bool:
        """Over the inline limit: deploy it by uploading the template to S3 first."""
        return self.size > MAX_INLINE_TEMPLATE_BYTES


def planned_stacks(config: AppConfig, environments: Iterable[str] = ()) -> list[Stack]:
    """The stacks to render, in deploy order: each account's (base, pipeline), then each env's.

    Which stacks there are comes from `infra.layout`. Every stack of one render sees the
    others as `peers`, so the pipeline reads the environments' templates without building
    them twice.
    """
    names = list(dict.fromkeys(environments)) or list(config.environments)
    selected = [config.environment(name) for name in names]
    accounts = (
        list(config.accounts.values())
        if not environments
        else list({env.account.name: env.account for env in selected}.values())
    )
    peers: dict[tuple[str, str], Stack] = {}
    stacks: list[Stack] = []
    for account in accounts:
        context = StackContext(config, account, peers=peers)
        stacks += [STACK_CLASSES[kind.name](context) for kind in account_stacks(config, account)]
    for env in selected:
        context = StackContext(config, env.account, env, peers=peers)
        stacks += [STACK_CLASSES[kind.name](context) for kind in environment_stacks(config)]
    peers.update({(stack.scope, stack.name): stack for stack in stacks})
    return stacks


def template_json(stack: Stack) -> str:
    """The template as text: sorted keys, fixed indent, one trailing newline."""
    return template_text(stack.build().to_dict()) + "\n"


def check_limits(stack: Stack, text: str) -> tuple[int, int]:
    """(resources, bytes); raise when CloudFormation would refuse the template."""
    resources = len(stack.template.resources)
    size = len(text.encode("utf-8"))
    if resources > MAX_RESOURCES:
        raise TemplateLimitError(
            f"{stack.stack_name}: {resources} resources; CloudFormation allows {MAX_RESOURCES}. "
            "Split the stack."
        )
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateLimitError(
            f"{stack.stack_name}: template is {size} bytes; CloudFormation allows "
            f"{MAX_TEMPLATE_BYTES}. Split the stack."
        )
    return resources, size


def render_texts(stacks: Iterable[Stack]) -> Iterator[tuple[Stack, str, int, int]]:
    """Build every stack and check its limits before anything is written."""
    for stack in stacks:
        text = template_json(stack)
        resources, size = check_limits(stack, text)
        yield stack, text, resources, size


def render(
    config: AppConfig, out: Path = DEFAULT_OUT, environments: Iterable[str] = ()
) -> list[RenderedStack]:
    """Render the selected environments (all by default) into `out/<scope>/<stack>.json`.

    All templates are built and checked first, so a failure writes nothing.
    """
    built = list(render_texts(planned_stacks(config, environments)))
    rendered = []
    for stack, text, resources, size in built:
        path = out / stack.scope / f"{stack.name}.json"
        write_atomic(path, text)
        rendered.append(
            RenderedStack(stack.scope, stack.name, stack.stack_name, path, resources, size)
        )
    return rendered
