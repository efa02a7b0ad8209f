"""Template values as CloudFormation will see them: parameters, mappings, conditions resolved.

The gate compares what a change deploys, not how the template spells it. So `Ref`, `Fn::Sub`,
`Fn::FindInMap`, `Fn::If` and the rest are evaluated with the values AWS reports (the change
set's parameters for the proposed template, the stack's for the deployed one) and the stack's
pseudo parameters, and each resource's `Condition` decides whether it exists at all.

Three kinds of value cannot be plain JSON:

- `Opaque`: known only by where it comes from, such as a resource's `Ref` or `Fn::GetAtt`
  before deploy, or an imported export. Two opaque values are equal when they come from the
  same place (the same attribute of the same logical ID).
- `Text`: a string with opaque parts (`arn:...:${Bucket}/*`).
- `Unresolved`: the gate cannot know the value; it carries the reason, and whatever compares
  it must fail closed and say why.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.gate.templates import resources, type_of

NO_VALUE = "AWS::NoValue"
SSM_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"
HIDDEN = "****"  # how AWS shows a NoEcho parameter's value
URL_SUFFIXES = {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}


@dataclass(frozen=True)
class Opaque:
    """A value known only by its source: `key` names it (`Table.Arn`, `Ref:Queue`)."""

    key: str
    logical_id: str | None = None  # the resource it comes from, when it comes from one


@dataclass(frozen=True)
class Text:
    """A string made of literal parts and opaque parts, in order."""

    parts: tuple[str | Opaque, ...]


@dataclass(frozen=True)
class Unresolved:
    """A value the gate cannot know before deploy, and why."""

    reason: str


class _NoValue:
    """`Ref: AWS::NoValue`: the property, item or key is left out."""

    def __repr__(self) -> str:
        return "NoValue"


NOTHING = _NoValue()


@dataclass(frozen=True)
class StackFacts:
    """What AWS says about the stack a template is resolved for."""

    stack_name: str
    region: str
    stack_id: str | None = None
    parameters: tuple[Mapping[str, Any], ...] = ()  # Parameter structures, as AWS returns them
    previous: tuple[Mapping[str, Any], ...] = ()  # the stack's own, for UsePreviousValue
    notification_arns: tuple[str, ...] = ()


def partition_of(facts: StackFacts) -> str:
    if facts.stack_id and facts.stack_id.startswith("arn:"):
        return facts.stack_id.split(":")[1]
    if facts.region.startswith("cn-"):
        return "aws-cn"
    if facts.region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def pseudo_values(facts: StackFacts) -> dict[str, Any]:
    partition = partition_of(facts)
    values: dict[str, Any] = {
        "AWS::Region": facts.region,
        "AWS::Partition": partition,
        "AWS::URLSuffix": URL_SUFFIXES.get(partition, "amazonaws.com"),
        "AWS::StackName": facts.stack_name,
        "AWS::NotificationARNs": list(facts.notification_arns),
    }
    if facts.stack_id and facts.stack_id.startswith("arn:"):
        values["AWS::StackId"] = facts.stack_id
        values["AWS::AccountId"] = facts.stack_id.split(":")[4]
    else:
        unknown = Unresolved("the stack has no ID yet, so its account is unknown")
        values["AWS::StackId"] = unknown
        values["AWS::AccountId"] = unknown
    return values


def is_list_type(parameter_type: str) -> bool:
    return (
        parameter_type.startswith("List<")
        or "CommaDelimitedList" in parameter_type
        or (parameter_type.startswith(SSM_TYPE_PREFIX + "List<"))
    )


def parameter_values(template: Mapping[str, Any], facts: StackFacts) -> dict[str, Any]:
    """Each declared parameter's value, or `Unresolved` saying why it has none."""
    given = {p.get("ParameterKey"): p for p in facts.parameters}
    previous = {p.get("ParameterKey"): p for p in facts.previous}
    values: dict[str, Any] = {}
    declared = template.get("Parameters") or {}
    for name, slot in declared.items() if isinstance(declared, Mapping) else ():
        slot = slot if isinstance(slot, Mapping) else {}
        kind = str(slot.get("Type", "String"))
        entry = given.get(name)
        if entry is not None and entry.get("UsePreviousValue") and "ParameterValue" not in entry:
            entry = previous.get(name)
            if entry is None:
                values[name] = Unresolved(
                    f"parameter {name} keeps a previous value AWS did not report"
                )
                continue
        values[name] = parameter_value(name, kind, slot, entry)
    return values


def parameter_value(
    name: str, kind: str, slot: Mapping[str, Any], entry: Mapping[str, Any] | None
) -> Any:
    if slot.get("NoEcho") in (True, "true", "True"):
        return Unresolved(f"parameter {name} is NoEcho, so AWS hides its value")
    if entry is not None and "ResolvedValue" in entry:
        raw = entry["ResolvedValue"]
    elif kind.startswith(SSM_TYPE_PREFIX):
        path = entry.get("ParameterValue") if entry is not None else slot.get("Default")
        return Unresolved(f"parameter {name}: AWS did not report the value of SSM parameter {path}")
    elif entry is not None and "ParameterValue" in entry:
        raw = entry["ParameterValue"]
    elif "Default" in slot:
        raw = slot["Default"]
    else:
        return Unresolved(f"parameter {name} has no value")
    if raw == HIDDEN:
        return Unresolved(f"parameter {name} is hidden by AWS")
    if isinstance(raw, list):
        return [str(item) for item in raw]
    raw = scalar_text(raw)
    return raw.split(",") if is_list_type(kind) else raw


def scalar_text(value: Any) -> Any:
    """Scalars as CloudFormation passes them: strings (`true` and "true" are one value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


@dataclass
class Resolver:
    """Resolves one template's values; conditions are evaluated once each."""

    template: Mapping[str, Any]
    facts: StackFacts
    parameters: dict[str, Any] = field(init=False)
    pseudo: dict[str, Any] = field(init=False)
    resource_ids: frozenset[str] = field(init=False)
    _conditions: dict[str, bool | Unresolved] = field(init=False, default_factory=dict)
    _evaluating: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.parameters = parameter_values(self.template, self.facts)
        self.pseudo = pseudo_values(self.facts)
        found = self.template.get("Resources") or {}
        self.resource_ids = frozenset(found if isinstance(found, Mapping) else ())

    # --- values ---------------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        """The value as CloudFormation would deploy it; `NOTHING` for `AWS::NoValue`."""
        if isinstance(value, Mapping):
            if len(value) == 1:
                (name, argument), *_ = value.items()
                if name == "Ref" or name.startswith("Fn::"):
                    return self.intrinsic(name, argument)
            resolved = {str(key): self.value(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NOTHING}
        if isinstance(value, list):
            return [item for item in map(self.value, value) if item is not NOTHING]
        return scalar_text(value)

    def intrinsic(self, name: str, argument: Any) -> Any:
        handler = INTRINSICS.get(name)
        if handler is None:
            return Unresolved(f"{name} is not a function the gate can evaluate")
        return handler(self, argument)

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unresolved(f"Ref of {describe_raw(name)}")
        if name == NO_VALUE:
            return NOTHING
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        # A resource's Ref is known after deploy. A name that is neither (CloudFormation
        # refuses such a template) compares the same way: by what it names.
        return Opaque(f"Ref:{name}", name)

    def get_att(self, argument: Any) -> Any:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unresolved(f"Fn::GetAtt of {describe_raw(argument)}")
        logical_id, attribute = argument[0], self.value(argument[1])
        if not isinstance(attribute, str) or not isinstance(logical_id, str):
            return Unresolved(f"Fn::GetAtt of {describe_raw(argument)}")
        return Opaque(f"{logical_id}.{attribute}", logical_id)

    def sub(self, argument: Any) -> Any:
        if isinstance(argument, list) and len(argument) == 2:
            text, variables = argument
            variables = self.value(variables) if isinstance(variables, Mapping) else {}
        else:
            text, variables = argument, {}
        if not isinstance(text, str) or not isinstance(variables, Mapping):
            return Unresolved(f"Fn::Sub of {describe_raw(argument)}")
        parts: list[str | Opaque] = []
        position = 0
        for match in SUB_VARIABLE.finditer(text):
            parts.append(text[position : match.start()])
            position = match.end()
            if match.group(1):  # ${!Literal}
                parts.append("${" + match.group(2) + "}")
                continue
            variable = match.group(2).strip()
            if variable in variables:
                found = variables[variable]
            elif "." in variable and not variable.startswith("AWS::"):
                found = self.get_att(variable.split(".", 1))
            else:
                found = self.ref(variable)
            piece = string_part(found, f"${{{variable}}} in Fn::Sub")
            if isinstance(piece, Unresolved):
                return piece
            parts.extend(piece)
        parts.append(text[position:])
        return joined(parts)

    def join(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unresolved(f"Fn::Join of {describe_raw(argument)}")
        separator, items = self.value(argument[0]), self.value(argument[1])
        if not isinstance(separator, str):
            return Unresolved("Fn::Join with a separator the gate cannot resolve")
        if isinstance(items, Opaque):
            return Opaque(f"Join({separator},{items.key})", items.logical_id)
        if not isinstance(items, list):
            return first_unresolved(items) or Unresolved("Fn::Join of something not a list")
        parts: list[str | Opaque] = []
        for index, item in enumerate(items):
            piece = string_part(item, "an item of Fn::Join")
            if isinstance(piece, Unresolved):
                return piece
            if index:
                parts.append(separator)
            parts.extend(piece)
        return joined(parts)

    def select(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unresolved(f"Fn::Select of {describe_raw(argument)}")
        index, items = self.value(argument[0]), self.value(argument[1])
        if not (isinstance(index, str) and index.isascii() and index.isdigit()):
            return first_unresolved(index) or Unresolved("Fn::Select with an unknown index")
        if isinstance(items, Opaque):
            return Opaque(f"Select({index},{items.key})", items.logical_id)
        if not isinstance(items, list):
            return first_unresolved(items) or Unresolved("Fn::Select from something not a list")
        if int(index) >= len(items):
            return Unresolved(f"Fn::Select index {index} is past the end of the list")
        return items[int(index)]

    def split(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unresolved(f"Fn::Split of {describe_raw(argument)}")
        separator, text = self.value(argument[0]), self.value(argument[1])
        if not isinstance(separator, str):
            return Unresolved("Fn::Split with a separator the gate cannot resolve")
        if isinstance(text, str):
            return text.split(separator)
        if isinstance(text, Opaque | Text):
            return Opaque(f"Split({separator},{canonical_key(text)})", source_of(text))
        return first_unresolved(text) or Unresolved("Fn::Split of something not a string")

    def find_in_map(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return Unresolved(f"Fn::FindInMap of {describe_raw(argument)}")
        keys = [self.value(item) for item in argument[:3]]
        for key in keys:
            if not isinstance(key, str):
                return first_unresolved(key) or Unresolved(
                    "Fn::FindInMap with a key the gate cannot resolve"
                )
        mappings = self.template.get("Mappings") or {}
        found: Any = mappings
        for key in keys:
            found = found.get(key) if isinstance(found, Mapping) else None
        if found is None:
            default = argument[3] if len(argument) == 4 else None
            if isinstance(default, Mapping) and "DefaultValue" in default:
                return self.value(default["DefaultValue"])
            return Unresolved(f"Fn::FindInMap: mapping {'/'.join(keys)} does not exist")
        return self.value(found)

    def choose(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            return Unresolved(f"Fn::If of {describe_raw(argument)}")
        verdict = self.condition(argument[0])
        if isinstance(verdict, Unresolved):
            return verdict
        return self.value(argument[1] if verdict else argument[2])

    def base64(self, argument: Any) -> Any:
        text = self.value(argument)
        if isinstance(text, str):
            return base64.b64encode(text.encode()).decode()
        return opaque_of("Base64", text)

    def import_value(self, argument: Any) -> Any:
        # An export cannot change while a stack imports it: the same name is the same value.
        return opaque_of("ImportValue", self.value(argument))

    def get_azs(self, argument: Any) -> Any:
        region = self.value(argument)
        return opaque_of("GetAZs", region if region else self.facts.region)

    def cidr(self, argument: Any) -> Any:
        return opaque_of("Cidr", self.value(argument))

    def length(self, argument: Any) -> Any:
        items = self.value(argument)
        if isinstance(items, list):
            return str(len(items))
        return first_unresolved(items) or opaque_of("Length", items)

    def to_json(self, argument: Any) -> Any:
        value = self.value(argument)
        if first_unresolved(value) or has_opaque(value):
            return first_unresolved(value) or opaque_of("ToJsonString", value)
        return json.dumps(value, separators=(",", ":"))

    # --- conditions -----------------------------------------------------------------------

    def condition(self, name: Any) -> bool | Unresolved:
        """A named condition's value, evaluated once."""
        if not isinstance(name, str):
            return Unresolved(f"Fn::If on {describe_raw(name)}, which is no condition name")
        if name in self._conditions:
            return self._conditions[name]
        declared = self.template.get("Conditions") or {}
        if not isinstance(declared, Mapping) or name not in declared:
            return Unresolved(f"condition {name} is not defined")
        if name in self._evaluating:
            return Unresolved(f"condition {name} refers to itself")
        self._evaluating.add(name)
        verdict = self.truth(declared[name])
        self._evaluating.discard(name)
        self._conditions[name] = verdict
        return verdict

    def truth(self, expression: Any) -> bool | Unresolved:
        if not (isinstance(expression, Mapping) and len(expression) == 1):
            return Unresolved(f"condition {describe_raw(expression)} is not a condition function")
        (name, argument), *_ = expression.items()
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            return equals(self.value(argument[0]), self.value(argument[1]))
        if name == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
            verdict = self.truth(argument[0])
            return verdict if isinstance(verdict, Unresolved) else not verdict
        if name in ("Fn::And", "Fn::Or") and isinstance(argument, list):
            verdicts = [self.truth(item) for item in argument]
            decisive = name == "Fn::Or"  # True decides an Or, False decides an And
            if decisive in verdicts:
                return decisive
            unknown = [verdict for verdict in verdicts if isinstance(verdict, Unresolved)]
            return unknown[0] if unknown else not decisive
        return Unresolved(f"{name} is not a condition function the gate can evaluate")

    def exists(self, resource: Mapping[str, Any]) -> bool | Unresolved:
        """Whether a resource's `Condition` (if any) lets CloudFormation create it."""
        if "Condition" not in resource:
            return True
        return self.condition(resource["Condition"])


def equals(left: Any, right: Any) -> bool | Unresolved:
    unknown = first_unresolved(left) or first_unresolved(right)
    if unknown:
        return unknown
    if canonical_key(left) == canonical_key(right):
        return True
    if has_opaque(left) or has_opaque(right):
        return Unresolved("Fn::Equals compares a value only known after deploy")
    return False


SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


def string_part(value: Any, where: str) -> list[str | Opaque] | Unresolved:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Opaque):
        return [value]
    if isinstance(value, Text):
        return list(value.parts)
    if isinstance(value, Unresolved):
        return value
    if value is NOTHING:
        return Unresolved(f"AWS::NoValue as {where}")
    return Unresolved(f"{where} is not a string")


def joined(parts: list[str | Opaque]) -> str | Text:
    merged: list[str | Opaque] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    if all(isinstance(part, str) for part in merged):
        return "".join(merged)  # type: ignore[arg-type]
    return Text(tuple(merged))


def opaque_of(function: str, argument: Any) -> Opaque | Unresolved:
    """A deterministic function of its arguments that only AWS computes: same args, same value."""
    unknown = first_unresolved(argument)
    if unknown:
        return unknown
    return Opaque(f"{function}({canonical_key(argument)})", source_of(argument))


def source_of(value: Any) -> str | None:
    if isinstance(value, Opaque):
        return value.logical_id
    if isinstance(value, Text):
        for part in value.parts:
            if isinstance(part, Opaque):
                return part.logical_id
    return None


def walk(value: Any) -> Any:
    """Every node of a resolved value, depth first."""
    yield value
    if isinstance(value, Mapping):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item)
    elif isinstance(value, Text):
        yield from value.parts


def first_unresolved(value: Any) -> Unresolved | None:
    return next((node for node in walk(value) if isinstance(node, Unresolved)), None)


def has_opaque(value: Any) -> bool:
    return any(isinstance(node, Opaque) for node in walk(value))


def references(value: Any) -> set[str]:
    """The logical IDs a resolved value comes from (Ref, GetAtt and what is built on them)."""
    return {node.logical_id for node in walk(value) if isinstance(node, Opaque) and node.logical_id}


def canonical_key(value: Any) -> str:
    from infra.gate.values import canonical

    return canonical(value)


def describe_raw(value: Any) -> str:
    from infra.gate.values import brief

    return brief(value, 60)


INTRINSICS = {
    "Ref": Resolver.ref,
    "Fn::GetAtt": Resolver.get_att,
    "Fn::Sub": Resolver.sub,
    "Fn::Join": Resolver.join,
    "Fn::Select": Resolver.select,
    "Fn::Split": Resolver.split,
    "Fn::FindInMap": Resolver.find_in_map,
    "Fn::If": Resolver.choose,
    "Fn::Base64": Resolver.base64,
    "Fn::ImportValue": Resolver.import_value,
    "Fn::GetAZs": Resolver.get_azs,
    "Fn::Cidr": Resolver.cidr,
    "Fn::Length": Resolver.length,
    "Fn::ToJsonString": Resolver.to_json,
}
"""The functions the gate evaluates; any other (Fn::Transform, Fn::ForEach, ...) is unresolved."""


# --- whole templates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One resource with its values resolved."""

    logical_id: str
    type: str
    properties: Mapping[str, Any]
    deletion_policy: Any  # resolved; None when unset
    update_replace_policy: Any
    exists: bool | Unresolved  # its Condition
    condition: str | None  # the condition's name, for messages


@dataclass(frozen=True)
class Resolved:
    """A template's resources as CloudFormation would deploy them."""

    resources: Mapping[str, Resource]

    def present(self) -> dict[str, Resource]:
        """The resources CloudFormation creates or keeps: a false Condition drops one."""
        return {name: r for name, r in self.resources.items() if r.exists is not False}


EMPTY = Resolved({})


def resolve_template(template: Mapping[str, Any] | None, facts: StackFacts) -> Resolved:
    if not template:
        return EMPTY
    resolver = Resolver(template, facts)
    resolved = {}
    for logical_id, body in resources(template).items():
        properties = resolver.value(body.get("Properties") or {})
        if not isinstance(properties, Mapping):
            unknown = first_unresolved(properties) or Unresolved("Properties is not an object")
            properties = {"Properties": unknown}
        condition = body.get("Condition")
        resolved[logical_id] = Resource(
            logical_id=logical_id,
            type=type_of(body),
            properties=properties,
            deletion_policy=policy(resolver, body, "DeletionPolicy"),
            update_replace_policy=policy(resolver, body, "UpdateReplacePolicy"),
            exists=resolver.exists(body),
            condition=condition if isinstance(condition, str) else None,
        )
    return Resolved(resolved)


def policy(resolver: Resolver, body: Mapping[str, Any], attribute: str) -> Any:
    if attribute not in body:
        return None
    value = resolver.value(body[attribute])
    return None if value is NOTHING else value


def as_resolved(template: Mapping[str, Any] | Resolved | None, stack: str, region: str) -> Resolved:
    """A template resolved with its defaults alone (tests, previews), or one already resolved."""
    if isinstance(template, Resolved):
        return template
    return resolve_template(template, StackFacts(stack, region))
