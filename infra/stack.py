"""What every stack class shares: a template, tags, published values and inputs.

A stack reads like a list of resources: each is a `@resource` method under a
literal logical ID that builds and returns a troposphere object. The first
access adds it to the template; `build()` touches every one of them, so a
resource is declared in exactly one place and referenced as a Python attribute.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from troposphere import AWSObject, Output, Parameter, Tags, Template
from troposphere.ssm import Parameter as SsmParameter

from infra.config import Account, AppConfig, Environment
from infra.errors import InfraError, TemplateLimitError
from infra.naming import physical_name, ssm_path

T = TypeVar("T")

RETAIN = "Retain"


class resource(cached_property):
    """A cached property whose value (one object or a tuple) joins the template on first use."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        name = self.attrname
        if name is not None and name in instance.__dict__:
            return instance.__dict__[name]
        value = super().__get__(instance, owner)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, AWSObject):
                instance.template.add_resource(item)
        return value


@dataclass(frozen=True)
class StackContext:
    """Everything a stack may depend on: the app, the account and (per-env stacks) the env."""

    app: AppConfig
    account: Account
    environment: Environment | None = None

    @property
    def scope(self) -> str:
        """The second segment of names and parameter paths: the env, or the account for base."""
        return self.environment.name if self.environment else self.account.name


def retain(item: T) -> T:
    """Keep the resource (and its data) when it is removed or replaced."""
    item.DeletionPolicy = RETAIN  # type: ignore[attr-defined]
    item.UpdateReplacePolicy = RETAIN  # type: ignore[attr-defined]
    return item


def delete_with_stack(item: T) -> T:
    """Say explicitly that this resource holds nothing worth keeping (lint I3011 asks)."""
    item.DeletionPolicy = "Delete"  # type: ignore[attr-defined]
    item.UpdateReplacePolicy = "Delete"  # type: ignore[attr-defined]
    return item


def skip_checks(item: T, reasons: dict[str, str]) -> T:
    """Skip named cfn-lint (E/W/I/ES/WS) or checkov (CKV_) rules on one resource, with why."""
    metadata = dict(getattr(item, "Metadata", {}) or {})
    lint = sorted(rule for rule in reasons if not rule.startswith("CKV"))
    checkov = sorted(rule for rule in reasons if rule.startswith("CKV"))
    if lint:
        metadata["cfn-lint"] = {"config": {"ignore_checks": lint}}
    if checkov:
        metadata["checkov"] = {"skip": [{"id": rule, "comment": reasons[rule]} for rule in checkov]}
    metadata["SkipReasons"] = dict(sorted(reasons.items()))
    item.Metadata = metadata  # type: ignore[attr-defined]
    return item


class Stack:
    """Base class of every stack; subclasses add `@resource` methods and set `name`."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, context: StackContext) -> None:
        self.context = context
        self.app = context.app.name
        self.scope = context.scope

    @classmethod
    def wanted(cls, context: StackContext) -> bool:
        """Whether the config asks for this stack in `context`; most stacks always are."""
        return True

    @cached_property
    def template(self) -> Template:
        template = Template(Description=f"{self.app} {self.scope} {self.name}: {self.description}")
        template.set_version("2010-09-09")
        return template

    @property
    def environment(self) -> Environment:
        """The environment of a per-env stack (data, backend, frontend)."""
        if self.context.environment is None:
            raise InfraError(f"the {self.name} stack is rendered per environment")
        return self.context.environment

    @property
    def stack_name(self) -> str:
        """The CloudFormation stack name: `<app>-<env>-<stack>`."""
        return physical_name(self.app, self.scope, self.name, limit=128)

    def physical_name(self, *parts: str, limit: int = 64) -> str:
        """A resource name under this app and env: `<app>-<env>-<parts>`."""
        return physical_name(self.app, self.scope, *parts, limit=limit)

    @property
    def tags(self) -> dict[str, str]:
        return {"app": self.app, "env": self.scope, "stack": self.name}

    def build(self) -> Template:
        """Add every declared resource, then tag them all.

        troposphere refuses a duplicate logical ID or a template over CloudFormation's
        counts (500 resources, 200 parameters or outputs) with a ValueError; say which
        stack, in one line.
        """
        try:
            for name, member in inspect.getmembers(type(self)):
                if isinstance(member, resource):
                    getattr(self, name)
        except ValueError as err:
            if str(err).startswith("Maximum number"):
                raise TemplateLimitError(
                    f"{self.stack_name}: {err} (CloudFormation's limit). Split the stack."
                ) from None
            raise InfraError(f"{self.stack_name}: {err}") from None
        tag_resources(self.template, self.tags)
        return self.template

    def publish(self, name: str, value: Any, description: str) -> None:
        """Publish an outward value: an SSM parameter for stacks, an Output for people."""
        self.template.add_resource(
            SsmParameter(
                f"{name}Parameter",
                Name=ssm_path(self.app, self.scope, self.name, name),
                Type="String",
                Value=value,
                Description=description,
            )
        )
        self.template.add_output(Output(name, Value=value, Description=description))

    def consume(self, stack: str, name: str, description: str) -> Parameter:
        """Read another stack's published value through an SSM-typed template parameter.

        The base stack publishes under its account's name; the others under the env's.
        """
        scope = self.context.account.name if stack == "base" else self.scope
        logical_id = f"{stack[:1].upper()}{stack[1:]}{name}"
        if logical_id in self.template.parameters:
            return self.template.parameters[logical_id]
        return self.template.add_parameter(
            Parameter(
                logical_id,
                Type="AWS::SSM::Parameter::Value<String>",
                Default=ssm_path(self.app, scope, stack, name),
                Description=description,
            )
        )


def tag_resources(template: Template, tags: dict[str, str]) -> None:
    """Tag every resource that takes tags, in whichever shape its type expects."""
    for item in template.resources.values():
        for prop in ("Tags", "UserPoolTags"):
            if prop not in item.props or prop in item.properties:
                continue
            expected = item.props[prop][0]
            if expected is dict:
                item.properties[prop] = dict(tags)
            elif expected is Tags or getattr(expected, "__name__", "") == "validate_tags_or_list":
                item.properties[prop] = Tags(**tags)
