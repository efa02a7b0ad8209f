"""Stack models -> JSON files: deterministic bytes, atomic writes, CloudFormation limits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.config import AppConfig
from infra.constants import DEFAULT_TEMPLATES_OUT as DEFAULT_OUT
from infra.errors import TemplateLimitError
from infra.files import write_atomic
from infra.stack import Stack, StackContext
from infra.stacks import ACCOUNT_STACKS, ENVIRONMENT_STACKS

MAX_RESOURCES = 500
MAX_TEMPLATE_BYTES = 1_048_576  # from S3
MAX_INLINE_TEMPLATE_BYTES = 51_200  # passed as TemplateBody


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
    """The stacks to render, in deploy order: each account's base (and pipeline), then each env's.

    An account stack may depend on the config (the pipeline only where `[pipeline]`
    puts it): `wanted()` decides.
    """
    names = list(dict.fromkeys(environments)) or list(config.environments)
    selected = [config.environment(name) for name in names]
    accounts = (
        list(config.accounts.values())
        if not environments
        else list({env.account.name: env.account for env in selected}.values())
    )
    account_contexts = [StackContext(config, account) for account in accounts]
    stacks: list[Stack] = [
        stack_class(context)
        for context in account_contexts
        for stack_class in ACCOUNT_STACKS
        if stack_class.wanted(context)
    ]
    stacks += [
        stack_class(StackContext(config, env.account, env))
        for env in selected
        for stack_class in ENVIRONMENT_STACKS
    ]
    return stacks


def template_json(stack: Stack) -> str:
    """The template as text: sorted keys, fixed indent, one trailing newline."""
    body = stack.build().to_dict()
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


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
