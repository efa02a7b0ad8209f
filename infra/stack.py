"""What every stack class shares: a template, tags, published values and inputs.

A stack reads like a list of resources: each is a `@resource` method under a
literal logical ID that builds and returns a troposphere object. The first
access adds it to the template; `build()` touches every one of them, so a
resource is declared in exactly one place and referenced as a Python attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, TypeVar

from troposphere import AWSObject, Output, Parameter, Tags, Template
from troposphere.ssm import Parameter as SsmParameter

from infra.app import App
from infra.app.references import SharedValue
from infra.config import Account, AppConfig, Environment
from infra.constants import RETAIN
from infra.errors import DeclarationError, InfraError, TemplateLimitError
from infra.naming import physical_name, ssm_path

T = TypeVar("T")

# troposphere's ValueErrors that are the template's limits or a clash of logical IDs:
# the user's to fix. Any other ValueError is a bug and keeps its traceback.
LIMIT_ERRORS = ("Maximum number", "Maximum outputs", "Maximum parameters", "Maximum mappings")
DUPLICATE_ID = "duplicate key"


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
    """Everything a stack may depend on: the app, the account and (per-env stacks) the env.

    `peers` are the other stacks of the same render, by (scope, kind), so a stack that
    reads another's template (the pipeline's deploy roles) need not build it again.
    """

    app: AppConfig
    account: Account
    environment: Environment | None = None
    peers: dict[tuple[str, str], Stack] = field(default_factory=dict, compare=False, repr=False)

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
        self._built = False

    @property
    def declaration(self) -> App:
        """The app's declaration (its app.py)."""
        return self.context.app.declaration

    @cached_property
    def template(self) -> Template:
        template = Template(Description=f"{self.app} {self.scope} {self.name}: {self.summary()}")
        template.set_version("2010-09-09")
        return template

    def summary(self) -> str:
        """What the stack holds, for its template's Description."""
        return self.description

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
        """Add every declared resource and the app's own extras, then tag them all (once).

        troposphere refuses a duplicate logical ID or a template over CloudFormation's
        counts (500 resources, 200 parameters or outputs) with a ValueError; say which
        stack, in one line. Any other ValueError is a bug, and keeps its traceback.
        """
        if self._built:
            return self.template
        try:
            for name in resource_names(type(self)):
                getattr(self, name)
            self.add_extra_resources()
        except ValueError as err:
            text = str(err)
            if text.startswith(LIMIT_ERRORS):
                raise TemplateLimitError(
                    f"{self.stack_name}: {err} (CloudFormation's limit). Split the stack."
                ) from None
            if text.startswith(DUPLICATE_ID):
                raise DeclarationError(
                    f"{self.stack_name}: two resources want the logical ID {text.split(chr(34))[1]}"
                ) from None
            raise
        tag_resources(self.template, self.tags)
        self._built = True
        return self.template

    def add_extra_resources(self) -> None:
        """The escape hatch: resources the app writes itself for this stack (literal IDs)."""
        extra = self.declaration.extra_resources.get(self.name)
        if extra is None:
            return
        for item in extra(self):
            if not isinstance(item, AWSObject):
                raise DeclarationError(
                    f"extra_resources[{self.name!r}] returned {item!r}, not a troposphere resource"
                )
            self.template.add_resource(item)

    def share(self, name: str, value: Any, description: str) -> None:
        """Share a value with later stacks (an SSM parameter) and with people (an Output)."""
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

    def read(self, value: SharedValue) -> Parameter:
        """A value an earlier stack of this environment shares (see `consume`)."""
        return self.consume(value.stack, value.name, f"{value.name} of the {value.stack} stack")

    def consume(self, stack: str, name: str, description: str) -> Parameter:
        """Read another stack's shared value through an SSM-typed template parameter.

        The base stack shares under its account's name; the others under the env's.
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


def resource_names(cls: type) -> list[str]:
    """Every `@resource` of the class and its bases, by name, sorted (as `dir` sorts them).

    A plain walk of the class dictionaries: `inspect.getmembers` would cost more to
    import than building a stack.
    """
    names = {
        name
        for klass in cls.__mro__
        for name, member in vars(klass).items()
        if isinstance(member, resource)
    }
    return sorted(names)


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
