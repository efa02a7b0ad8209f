"""The deployment gate: refuse a change set that would replace or remove stateful data.

Two sources, because neither is enough alone. CloudFormation's own verdict
(`describe_change_set`) knows every replacement rule but cannot see a renamed
logical ID as anything but "remove one, add one", and emulators such as moto
report `Modify` without a `Replacement` field. Our comparison of the deployed
template with the change set's template knows what a rename means and reads the
create-only properties from the resource schemas cfn-lint ships, plus the few
replacement rules those schemas miss (`EXTRA_REPLACEMENT_RULES`).

IAM changes that broaden permissions are listed too, for a person to read; they
block nothing by themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from infra.aws import aws_errors
from infra.errors import InfraError

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::Cognito::UserPool",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::EFS::FileSystem",
        "AWS::CodeCommit::Repository",  # the pipeline's source, when it is CodeCommit
    }
)
"""Types whose replacement or removal loses data. Log groups and queues are left out on purpose:
ours are deleted with their stacks."""

RETAINING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})
REPLACED = "CloudFormation would replace it"
SCHEMA_REASON = f"create-only in the resource schema, {REPLACED}"
FALLBACK_REGION = "us-east-1"
NOT_READY = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")

Properties = Mapping[str, Any]


@dataclass(frozen=True)
class GateReport:
    """What the gate found in one stack's change set."""

    stack: str
    blocking: tuple[str, ...]
    iam: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.blocking


@dataclass(frozen=True)
class Finding:
    """A blocking line with what it is about, so the two sources can be merged."""

    logical_id: str
    kind: str  # "delete", "replace" or "retain"
    line: str


# --- values: canonical comparison and compact rendering -----------------------------------------


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (name,) = value
    return name == "Ref" or name.startswith("Fn::")


def normalized(value: Any) -> Any:
    """Scalars as CloudFormation sees them (`true` and "true" are the same value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): normalized(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalized(item) for item in value]
    return value


def canonical(value: Any) -> str:
    """One string per value, whatever the key order: intrinsics compare structurally."""
    return json.dumps(normalized(value), sort_keys=True, separators=(",", ":"), default=str)


def render(value: Any) -> str:
    """A value for a person: `Ref:X`, `X.Arn`, a Sub's string, lists and maps in brief."""
    if isinstance(value, str):
        return value
    if is_intrinsic(value):
        return render_intrinsic(*next(iter(value.items())))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {render(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(item) for item in value) + "]"
    return json.dumps(value)


def render_intrinsic(name: str, argument: Any) -> str:
    if name == "Ref":
        return f"Ref:{argument}"
    if name == "Fn::GetAtt":
        return ".".join(map(str, argument)) if isinstance(argument, list) else str(argument)
    if name == "Fn::Sub":
        return render(argument[0] if isinstance(argument, list) else argument)
    if name == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        separator, parts = argument
        if isinstance(parts, list):
            return str(separator).join(render(part) for part in parts)
    return f"{name.removeprefix('Fn::')}({render(argument)})"


def brief(value: Any, limit: int = 100) -> str:
    """`render` for a detail inside a longer line; unset values say so."""
    if value is None:
        return "(unset)"
    text = render(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def flatten(value: Any) -> list[Any]:
    """A list of items from one item, a list, or an `Fn::If` choosing between them (both sides)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [item for element in value for item in flatten(element)]
    if is_intrinsic(value):
        (name, argument), *_ = value.items()
        if name == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            return flatten(argument[1]) + flatten(argument[2])
        if name == "Ref" and argument == "AWS::NoValue":
            return []
    return [value]


def pointer_value(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer; `*` maps over a list; missing is None.

    An intrinsic function met on the way is returned whole: we cannot see inside it, so
    the whole expression is what gets compared.
    """
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    return _walk(document, parts)


def _walk(value: Any, parts: list[str]) -> Any:
    if not parts or value is None or is_intrinsic(value):
        return value
    head, rest = parts[0], parts[1:]
    if head == "*":
        return [_walk(item, rest) for item in value] if isinstance(value, list) else value
    if isinstance(value, Mapping):
        return _walk(value.get(head), rest)
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        return _walk(value[int(head)], rest)
    return None


# --- replacement rules --------------------------------------------------------------------------


Check = Callable[[Properties, Properties], list[str]]


@dataclass(frozen=True)
class ReplacementRule:
    """A property change that loses the resource, and why we believe so."""

    name: str  # the JSON pointer for plain property rules
    reason: str
    check: Check


def property_check(pointer: str) -> Check:
    """The value at `pointer` differs (structurally, intrinsics included)."""
    label = pointer.removeprefix("/properties/")

    def check(old: Properties, new: Properties) -> list[str]:
        before = pointer_value({"properties": old}, pointer)
        after = pointer_value({"properties": new}, pointer)
        if canonical(before) == canonical(after):
            return []
        return [f"{label} changes from {brief(before)} to {brief(after)}"]

    return check


def property_rule(pointer: str, reason: str) -> ReplacementRule:
    return ReplacementRule(pointer, reason, property_check(pointer))


def key_attribute_types(old: Properties, new: Properties) -> list[str]:
    """The type of an attribute in both key schemas; GSI-only attributes may change.

    A key attribute that leaves the key schema is the KeySchema rule's to report.
    """
    keys = [name for name in key_names(old) if name in key_names(new)]
    before, after = attribute_types(old), attribute_types(new)
    return [
        f"key attribute {name} type changes from {brief(before.get(name))} "
        f"to {brief(after.get(name))}"
        for name in keys
        if canonical(before.get(name)) != canonical(after.get(name))
    ]


def key_names(properties: Properties) -> list[str]:
    return [
        element["AttributeName"]
        for element in flatten(properties.get("KeySchema"))
        if isinstance(element, Mapping) and isinstance(element.get("AttributeName"), str)
    ]


def attribute_types(properties: Properties) -> dict[str, Any]:
    return {
        definition["AttributeName"]: definition.get("AttributeType")
        for definition in flatten(properties.get("AttributeDefinitions"))
        if isinstance(definition, Mapping) and isinstance(definition.get("AttributeName"), str)
    }


def user_pool_schema(old: Properties, new: Properties) -> list[str]:
    """A user pool attribute changed or removed; an added attribute is allowed."""
    before, after = old.get("Schema"), new.get("Schema")
    old_attributes, new_attributes = schema_attributes(before), schema_attributes(after)
    if old_attributes is None or new_attributes is None:
        return property_check("/properties/Schema")(old, new)
    details = []
    for name, definition in old_attributes.items():
        if name not in new_attributes:
            details.append(f"Schema attribute {name} is removed")
        elif canonical(definition) != canonical(new_attributes[name]):
            details.append(f"Schema attribute {name} changes")
    return details


def schema_attributes(schema: Any) -> dict[str, Any] | None:
    """Attributes by name, or None when the list is hidden behind an intrinsic function."""
    if schema is None:
        return {}
    items = flatten(schema)
    if not all(isinstance(item, Mapping) and isinstance(item.get("Name"), str) for item in items):
        return None
    return {item["Name"]: item for item in items}


# The DynamoDB schema lists KeySchema only under conditionalCreateOnlyProperties.
KEY_SCHEMA_REASON = f"a table's key schema is fixed at creation, {REPLACED}"
KEY_TYPE_REASON = f"a key attribute's type is fixed at creation, {REPLACED}"

EXTRA_REPLACEMENT_RULES: Mapping[str, tuple[ReplacementRule, ...]] = {
    "AWS::DynamoDB::Table": (
        property_rule("/properties/KeySchema", KEY_SCHEMA_REASON),
        ReplacementRule(
            "key attribute types",
            KEY_TYPE_REASON,
            key_attribute_types,
        ),
    ),
    "AWS::DynamoDB::GlobalTable": (
        property_rule("/properties/KeySchema", KEY_SCHEMA_REASON),
        ReplacementRule(
            "key attribute types",
            KEY_TYPE_REASON,
            key_attribute_types,
        ),
    ),
    "AWS::Cognito::UserPool": (
        ReplacementRule(
            "/properties/Schema",
            "Cognito cannot change or remove a user pool attribute, "
            "the pool would be replaced or the update fail",
            user_pool_schema,
        ),
        property_rule(
            "/properties/UsernameAttributes",
            f"how users sign in is fixed when the pool is created, {REPLACED}",
        ),
        property_rule(
            "/properties/AliasAttributes",
            f"how users sign in is fixed when the pool is created, {REPLACED}",
        ),
    ),
    "AWS::S3::Bucket": (
        property_rule("/properties/BucketName", f"a bucket's name is its identity, {REPLACED}"),
    ),
    "AWS::KMS::Key": (
        property_rule("/properties/KeySpec", f"a key's spec is fixed at creation, {REPLACED}"),
        property_rule("/properties/KeyUsage", f"a key's usage is fixed at creation, {REPLACED}"),
        property_rule(
            "/properties/MultiRegion",
            f"a key is multi-Region or not from creation, {REPLACED}",
        ),
    ),
}
"""Replacements the resource schemas miss (checked against cfn-lint 1.58's schemas), with why."""


@cache
def create_only_pointers(region: str, resource_type: str) -> tuple[str, ...]:
    """`createOnlyProperties` of the type's schema in cfn-lint; none for an unknown type."""
    from cfnlint.helpers import REGIONS
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(
            region if region in REGIONS else FALLBACK_REGION, resource_type
        )
    except ResourceNotFoundError:
        return ()
    return tuple(schema.schema.get("createOnlyProperties", ()))


def replacement_rules(region: str, resource_type: str) -> list[ReplacementRule]:
    """The schema's create-only properties, then our extra rules the schema does not cover."""
    pointers = create_only_pointers(region, resource_type)
    rules = [property_rule(pointer, SCHEMA_REASON) for pointer in pointers]
    extra = EXTRA_REPLACEMENT_RULES.get(resource_type, ())
    return rules + [rule for rule in extra if rule.name not in pointers]


# --- blocking findings from the templates -------------------------------------------------------


def resources(template: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:
    found = (template or {}).get("Resources") or {}
    return {name: body for name, body in found.items() if isinstance(body, Mapping)}


def type_of(resource: Mapping[str, Any] | None) -> str:
    found = (resource or {}).get("Type")
    return found if isinstance(found, str) else ""


def retains(policy: Any) -> bool:
    """A literal Retain; a policy chosen by an intrinsic function may not retain."""
    return isinstance(policy, str) and policy in RETAINING_POLICIES


def properties_of(resource: Mapping[str, Any]) -> Properties:
    found = resource.get("Properties")
    return found if isinstance(found, Mapping) else {}


def stateful_findings(
    stack: str, deployed: Mapping[str, Any] | None, proposed: Mapping[str, Any], region: str
) -> list[Finding]:
    """Every deployed stateful resource that the proposed template removes, replaces or unguards."""
    old_resources, new_resources = resources(deployed), resources(proposed)
    findings: list[Finding] = []
    for logical_id, old in sorted(old_resources.items()):
        resource_type = type_of(old)
        if resource_type not in STATEFUL_TYPES:
            continue
        prefix = f"{stack}: {logical_id} ({resource_type}): "
        new = new_resources.get(logical_id)
        if new is None:
            added = sorted(
                name
                for name, body in new_resources.items()
                if name not in old_resources and type_of(body) == resource_type
            )
            findings.append(Finding(logical_id, "delete", prefix + removal_text(old, added)))
        elif type_of(new) != resource_type:
            text = f"type changes to {brief(new.get('Type'))}: {REPLACED}"
            findings.append(Finding(logical_id, "replace", prefix + text))
        else:
            findings += [Finding(logical_id, "retain", prefix + t) for t in retention(old, new)]
            findings += [
                Finding(logical_id, "replace", prefix + t)
                for t in replacements(region, resource_type, old, new)
            ]
    return findings


def removal_text(old: Mapping[str, Any], added: list[str]) -> str:
    if retains(old.get("DeletionPolicy")):
        text = (
            "removed (or renamed): CloudFormation would orphan it "
            "(kept by its DeletionPolicy, no longer managed)"
        )
    else:
        text = "removed (or renamed): CloudFormation would delete it"
    if added:
        label = "logical ID" if len(added) == 1 else "logical IDs"
        text += f" (new {label} of the same type: {', '.join(added)})"
    return text


def retention(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """DeletionPolicy / UpdateReplacePolicy that stop keeping the data."""
    texts = []
    for attribute, consequence in (
        ("DeletionPolicy", "would no longer be retained"),
        ("UpdateReplacePolicy", "would no longer be retained when replaced"),
    ):
        before, after = old.get(attribute), new.get(attribute)
        if retains(before) and not retains(after):
            shown = brief(after) if after is not None else "(unset: Delete)"
            texts.append(f"{attribute} {before} -> {shown}: {consequence}")
    return texts


def replacements(
    region: str, resource_type: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[str]:
    before, after = properties_of(old), properties_of(new)
    return [
        f"{detail}: {rule.reason}"
        for rule in replacement_rules(region, resource_type)
        for detail in rule.check(before, after)
    ]


# --- blocking findings from CloudFormation's change list -----------------------------------------


def change_findings(stack: str, changes: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Removals and (possible) replacements of stateful resources in CloudFormation's verdict."""
    findings = []
    for change in changes:
        resource_change = change.get("ResourceChange") or {}
        resource_type = resource_change.get("ResourceType")
        if change.get("Type", "Resource") != "Resource" or resource_type not in STATEFUL_TYPES:
            continue
        logical_id = resource_change.get("LogicalResourceId", "?")
        prefix = f"{stack}: {logical_id} ({resource_type}): "
        action = resource_change.get("Action")
        replacement = resource_change.get("Replacement")
        if action == "Remove":
            policy = resource_change.get("PolicyAction")
            detail = f"Remove, PolicyAction {policy}" if policy else "Remove"
            text = f"CloudFormation would delete it (change set: {detail})"
            findings.append(Finding(logical_id, "delete", prefix + text))
        elif action == "Modify" and replacement in ("True", "Conditional"):
            verb = "would" if replacement == "True" else "may"
            causes = recreation_causes(resource_change.get("Details") or [])
            because = f"; {', '.join(causes)}" if causes else ""
            text = (
                f"CloudFormation {verb} replace it (change set: Replacement {replacement}{because})"
            )
            findings.append(Finding(logical_id, "replace", prefix + text))
    return findings


def recreation_causes(details: Iterable[Mapping[str, Any]]) -> list[str]:
    """The properties CloudFormation names as (possibly) requiring recreation."""
    causes: list[str] = []
    for detail in details:
        target = detail.get("Target") or {}
        if target.get("RequiresRecreation") in ("Always", "Conditionally"):
            name = target.get("Name") or target.get("Attribute")
            if name and name not in causes:
                causes.append(name)
    return causes


def merge(ours: list[Finding], theirs: list[Finding]) -> list[str]:
    """Our lines, then CloudFormation's for what ours do not already say (same ID and kind)."""
    said = {(finding.logical_id, finding.kind) for finding in ours}
    lines = [finding.line for finding in ours]
    lines += [f.line for f in theirs if (f.logical_id, f.kind) not in said]
    return list(dict.fromkeys(lines))


# --- IAM broadening -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One thing a resource allows; compared by `key`, shown by `text`."""

    key: tuple[str, ...]
    text: str = field(compare=False)
    broadens_when_removed: bool = False


GrantsOf = Callable[[Properties], set[Grant]]


def policy_document(document: Any) -> Mapping[str, Any]:
    """A policy document given as an object or as a JSON string."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return {}
    return document if isinstance(document, Mapping) else {}


def statements(document: Any) -> list[Mapping[str, Any]]:
    found = flatten(policy_document(document).get("Statement"))
    return [statement for statement in found if isinstance(statement, Mapping)]


def either(statement: Mapping[str, Any], name: str) -> list[tuple[str, Any]]:
    """(label prefix, item) for `Action` items, or the whole `NotAction` value as one item."""
    if name in statement:
        return [("", item) for item in flatten(statement[name])] or [("", None)]
    if f"Not{name}" in statement:
        return [(f"Not{name} ", statement[f"Not{name}"])]
    return [("", None)]


def principals(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, text) per principal: `*`, `AWS:...`, `Service:...`; NotPrincipal as one item."""
    if "NotPrincipal" in statement:
        raw = statement["NotPrincipal"]
        return [(canonical(["NotPrincipal", raw]), f"NotPrincipal {render(raw)}")]
    raw = statement.get("Principal")
    if not isinstance(raw, Mapping) or is_intrinsic(raw):
        return [(canonical(raw), render(raw))]
    return [
        (canonical([kind, item]), f"{kind}:{render(item)}")
        for kind, value in raw.items()
        for item in flatten(value)
    ]


def document_grants(document: Any, *, resource_policy: bool) -> set[Grant]:
    """Allow pairs (with principal on a resource policy) and Deny pairs of a policy document."""
    grants = set()
    for statement in statements(document):
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        condition = statement.get("Condition")
        when = f" when {render(condition)}" if condition else ""
        whom = principals(statement) if resource_policy else [("", "")]
        for principal_key, principal_text in whom:
            who = f"{principal_text} " if principal_text else ""
            for action_label, action in either(statement, "Action"):
                for resource_label, resource in either(statement, "Resource"):
                    key = (
                        effect,
                        principal_key,
                        canonical([action_label, action]),
                        canonical([resource_label, resource]),
                        canonical(condition),
                    )
                    what = (
                        f"{who}{action_label}{brief(action)} on {resource_label}{brief(resource)}"
                    )
                    if effect == "Allow":
                        grants.add(Grant(key, f"allows {what}{when}"))
                    else:
                        grants.add(Grant(key, f"no longer denies {what}{when}", True))
        if resource_policy and effect == "Allow":
            grants |= {Grant(("principal", key), f"new principal {text}") for key, text in whom}
    return grants


def trust_grants(document: Any) -> set[Grant]:
    """Who may assume a role, with which action and condition."""
    grants = set()
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        condition = statement.get("Condition")
        when = f" when {render(condition)}" if condition else ""
        for principal_key, principal_text in principals(statement):
            for _label, action in either(statement, "Action"):
                key = ("trust", principal_key, canonical(action), canonical(condition))
                grants.add(Grant(key, f"trusts {principal_text} ({brief(action)}){when}"))
    return grants


def listed(kind: str, value: Any, verb: str, *, removed: bool = False) -> set[Grant]:
    """One grant per item of a list property (managed policies, attachments, targets)."""
    return {
        Grant((kind, canonical(item)), f"{verb} {brief(item)}", removed) for item in flatten(value)
    }


def role_grants(properties: Properties) -> set[Grant]:
    grants = trust_grants(properties.get("AssumeRolePolicyDocument"))
    for policy in flatten(properties.get("Policies")):
        if isinstance(policy, Mapping):
            document = policy.get("PolicyDocument")
            grants |= document_grants(document, resource_policy=False)
    grants |= listed("managed", properties.get("ManagedPolicyArns"), "attaches managed policy")
    boundary = properties.get("PermissionsBoundary")
    grants |= listed("boundary", boundary, "no longer has permissions boundary", removed=True)
    return grants


def identity_policy_grants(properties: Properties) -> set[Grant]:
    grants = document_grants(properties.get("PolicyDocument"), resource_policy=False)
    for attribute in ("Roles", "Users", "Groups"):
        grants |= listed("attach", properties.get(attribute), "attached to")
    return grants


def resource_policy_grants(document_property: str, target_property: str | None) -> GrantsOf:
    def grants_of(properties: Properties) -> set[Grant]:
        grants = document_grants(properties.get(document_property), resource_policy=True)
        if target_property:
            grants |= listed("target", properties.get(target_property), "applies to")
        return grants

    return grants_of


def lambda_permission_grants(properties: Properties) -> set[Grant]:
    """A Lambda permission as the one-statement resource policy it is."""
    condition = {
        name: properties[name]
        for name in ("SourceArn", "SourceAccount", "PrincipalOrgID", "FunctionUrlAuthType")
        if name in properties
    }
    statement = {
        "Effect": "Allow",
        "Principal": properties.get("Principal"),
        "Action": properties.get("Action"),
        "Resource": properties.get("FunctionName"),
        **({"Condition": condition} if condition else {}),
    }
    return document_grants({"Statement": [statement]}, resource_policy=True)


@dataclass(frozen=True)
class IamSource:
    grants: GrantsOf
    announce_new: bool = True  # "new <type>": it is a role or policy, not a resource with one


IAM_SOURCES: Mapping[str, IamSource] = {
    "AWS::IAM::Role": IamSource(role_grants),
    "AWS::IAM::Policy": IamSource(identity_policy_grants),
    "AWS::IAM::ManagedPolicy": IamSource(identity_policy_grants),
    "AWS::S3::BucketPolicy": IamSource(resource_policy_grants("PolicyDocument", "Bucket")),
    "AWS::SNS::TopicPolicy": IamSource(resource_policy_grants("PolicyDocument", "Topics")),
    "AWS::SQS::QueuePolicy": IamSource(resource_policy_grants("PolicyDocument", "Queues")),
    "AWS::KMS::Key": IamSource(resource_policy_grants("KeyPolicy", None), announce_new=False),
    "AWS::Lambda::Permission": IamSource(lambda_permission_grants),
}


def iam_findings(
    stack: str, deployed: Mapping[str, Any] | None, proposed: Mapping[str, Any]
) -> list[str]:
    """One line per broadening, per logical ID in order: a new role or policy first."""
    old_resources = resources(deployed)
    lines: list[str] = []
    for logical_id, new in sorted(resources(proposed).items()):
        source = IAM_SOURCES.get(type_of(new))
        if source is None:
            continue
        old = old_resources.get(logical_id)
        if old is not None and type_of(old) != type_of(new):
            old = None
        before = source.grants(properties_of(old)) if old is not None else set()
        after = source.grants(properties_of(new))
        texts = [grant.text for grant in broadening(before, after)]
        if old is None and source.announce_new:
            texts.insert(0, f"new {type_of(new)}")
        lines += [f"{stack}: {logical_id}: {text}" for text in texts]
    return list(dict.fromkeys(lines))


def broadening(before: set[Grant], after: set[Grant]) -> list[Grant]:
    added = [grant for grant in after - before if not grant.broadens_when_removed]
    removed = [grant for grant in before - after if grant.broadens_when_removed]
    return sorted(added + removed, key=lambda grant: grant.text)


# --- the API the deploy code calls --------------------------------------------------------------


def template_findings(
    stack: str, deployed: dict | None, proposed: dict, region: str
) -> tuple[list[str], list[str]]:
    """(blocking, iam) from comparing two parsed templates; deployed None = new stack."""
    blocking = [finding.line for finding in stateful_findings(stack, deployed, proposed, region)]
    return list(dict.fromkeys(blocking)), iam_findings(stack, deployed, proposed)


def change_set_findings(stack: str, changes: list[dict]) -> list[str]:
    """Blocking lines from CloudFormation's own Changes list (describe_change_set()['Changes'])."""
    return list(dict.fromkeys(finding.line for finding in change_findings(stack, changes)))


def is_no_changes(reason: str) -> bool:
    """CloudFormation's way of saying a change set would change nothing (it is FAILED then)."""
    return any(text in reason for text in NO_CHANGES)


def evaluate_change_set(cfn: Any, stack: str, change_set: str) -> GateReport:
    """Read the change list and both templates through `cfn`, and combine both sources.

    A change set that changes nothing passes (the pipeline makes one for an unchanged
    stack); any other failed change set is an error. AWS errors become an InfraError of
    one line. Nothing is executed.
    """
    pages = list(_pages(cfn, stack, change_set))
    if pages[0].get("Status") == "FAILED":
        reason = pages[0].get("StatusReason", "")
        if is_no_changes(reason):
            return GateReport(stack, (), ())
        raise InfraError(f"{stack}: change set {change_set} FAILED: {reason}")
    changes = [change for page in pages for change in page.get("Changes", [])]
    deployed = deployed_template(cfn, stack)
    with aws_errors(f"{stack}: reading the template of change set {change_set}"):
        body = cfn.get_template(StackName=stack, ChangeSetName=change_set)["TemplateBody"]
    proposed = parse_template(body)
    region = cfn.meta.region_name or FALLBACK_REGION
    ours = stateful_findings(stack, deployed, proposed, region)
    blocking = merge(ours, change_findings(stack, changes))
    return GateReport(stack, tuple(blocking), tuple(iam_findings(stack, deployed, proposed)))


def change_set_changes(cfn: Any, stack: str, change_set: str) -> list[dict]:
    """Every page of the change list; a change set still being computed is an error."""
    return [change for page in _pages(cfn, stack, change_set) for change in page.get("Changes", [])]


def _pages(cfn: Any, stack: str, change_set: str) -> Iterator[dict]:
    token: str | None = None
    while True:
        extra = {"NextToken": token} if token else {}
        with aws_errors(f"{stack}: describing change set {change_set}"):
            page = cfn.describe_change_set(StackName=stack, ChangeSetName=change_set, **extra)
        status = page.get("Status")
        if status in NOT_READY:
            raise InfraError(f"{stack}: change set {change_set} is {status}: wait for it first")
        yield page
        token = page.get("NextToken")
        if not token:
            return


def deployed_template(cfn: Any, stack: str) -> dict | None:
    """The template in service, or None when the stack only exists as a change set so far."""
    with aws_errors(f"{stack}: reading the deployed template"):
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if status == "REVIEW_IN_PROGRESS":
            return None
        body = cfn.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    return parse_template(body)


def parse_template(body: Any) -> dict:
    """boto3 gives a JSON template as a dict; a string is JSON or YAML (short forms too)."""
    if isinstance(body, Mapping):
        return dict(body)
    try:
        parsed = json.loads(body)
    except ValueError:
        from cfnlint.decode.cfn_yaml import loads

        parsed = loads(body)
    return parsed if isinstance(parsed, dict) else {}
