"""Which property changes replace (or lose) a resource, and why we believe so.

The resource schemas cfn-lint ships list each type's create-only properties;
`EXTRA_REPLACEMENT_RULES` adds the rules those schemas miss, each with its source. All
comparisons are of resolved values (`infra.gate.resolve`): a literal that becomes a `Ref` to
a parameter with the same value is no change, and a value the gate cannot resolve fails
closed with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from infra.gate.resolve import first_unresolved
from infra.gate.templates import Properties
from infra.gate.values import brief, canonical, flatten, pointer_value

REPLACED = "CloudFormation would replace it"
SCHEMA_REASON = f"create-only in the resource schema, {REPLACED}"
SCHEMA_SOURCE = "createOnlyProperties of the resource schema in cfn-lint"
TEMPLATE_REFERENCE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
FALLBACK_REGION = "us-east-1"


@dataclass(frozen=True)
class Detail:
    """One property change a rule found; `unresolved` when the gate could not tell."""

    text: str
    unresolved: bool = False


Check = Callable[[Properties, Properties], list[Detail]]


@dataclass(frozen=True)
class ReplacementRule:
    """A property change that loses the resource, why we believe so, and where that is written."""

    name: str  # the JSON pointer for plain property rules
    reason: str
    check: Check
    source: str = SCHEMA_SOURCE


def compare(label: str, before: Any, after: Any) -> list[Detail]:
    """No detail when equal; one when different; one that fails closed when unknowable."""
    unknown = first_unresolved(before) or first_unresolved(after)
    if unknown is not None:
        return [Detail(f"{label} cannot be resolved ({unknown.reason})", unresolved=True)]
    if canonical(before) == canonical(after):
        return []
    return [Detail(f"{label} changes from {brief(before)} to {brief(after)}")]


def property_check(pointer: str, default: Any = None, *, as_set: bool = False) -> Check:
    """The value at `pointer` differs; unset counts as `default` (what AWS uses then)."""
    label = pointer.removeprefix("/properties/")

    def check(old: Properties, new: Properties) -> list[Detail]:
        before = pointer_value({"properties": old}, pointer)
        after = pointer_value({"properties": new}, pointer)
        before = default if before is None else before
        after = default if after is None else after
        if as_set and isinstance(before, list) and isinstance(after, list):
            before, after = sorted(before, key=canonical), sorted(after, key=canonical)
        return compare(label, before, after)

    return check


def property_rule(
    pointer: str,
    reason: str,
    source: str = SCHEMA_SOURCE,
    *,
    default: Any = None,
    as_set: bool = False,
) -> ReplacementRule:
    return ReplacementRule(pointer, reason, property_check(pointer, default, as_set=as_set), source)


# --- DynamoDB -----------------------------------------------------------------------------------


def attribute_types(properties: Properties) -> dict[str, Any]:
    return {
        definition["AttributeName"]: definition.get("AttributeType")
        for definition in flatten(properties.get("AttributeDefinitions"))
        if isinstance(definition, Mapping) and isinstance(definition.get("AttributeName"), str)
    }


def key_names(properties: Properties) -> list[str]:
    return [
        element["AttributeName"]
        for element in flatten(properties.get("KeySchema"))
        if isinstance(element, Mapping) and isinstance(element.get("AttributeName"), str)
    ]


def defined_attribute_types(old: Properties, new: Properties) -> list[Detail]:
    """Any attribute defined on both sides whose type changes, whatever key or index uses it.

    An attribute that is dropped (say, with the index that used it) and one that is added
    are not edits of an existing definition.
    """
    before, after = attribute_types(old), attribute_types(new)
    details = []
    for name in sorted(set(before) & set(after)):
        details += compare(f"attribute {name} type", before[name], after[name])
    return details


def key_attribute_types(old: Properties, new: Properties) -> list[Detail]:
    """The type of an attribute in both key schemas (a key that leaves is KeySchema's to say)."""
    keys = [name for name in key_names(old) if name in key_names(new)]
    before, after = attribute_types(old), attribute_types(new)
    details = []
    for name in keys:
        details += compare(f"key attribute {name} type", before.get(name), after.get(name))
    return details


def local_indexes(properties: Properties) -> dict[str, Any] | None:
    """Local secondary indexes by name; None when the list itself is unknown."""
    found = properties.get("LocalSecondaryIndexes")
    if found is None:
        return {}
    if not isinstance(found, list):
        return None
    indexes = {}
    for index in found:
        if not (isinstance(index, Mapping) and isinstance(index.get("IndexName"), str)):
            return None
        indexes[index["IndexName"]] = index
    return indexes


def local_secondary_indexes(old: Properties, new: Properties) -> list[Detail]:
    """Any local secondary index added, removed or changed (key schema or projection)."""
    before, after = local_indexes(old), local_indexes(new)
    if before is None or after is None:
        return compare(
            "LocalSecondaryIndexes",
            old.get("LocalSecondaryIndexes"),
            new.get("LocalSecondaryIndexes"),
        ) or [Detail("LocalSecondaryIndexes cannot be compared index by index", True)]
    details = []
    for name in sorted(set(before) | set(after)):
        label = f"local secondary index {name}"
        if name not in before:
            details.append(Detail(f"{label} is added"))
        elif name not in after:
            details.append(Detail(f"{label} is removed"))
        else:
            for part in ("KeySchema", "Projection"):
                details += compare(f"{label} {part}", before[name].get(part), after[name].get(part))
    return details


# --- Cognito user pools -------------------------------------------------------------------------

# What Cognito assumes for a schema attribute's unset fields (CreateUserPool's SchemaAttributeType).
SCHEMA_ATTRIBUTE_DEFAULTS = {
    "AttributeDataType": "String",
    "DeveloperOnlyAttribute": "false",
    "Mutable": "true",
    "Required": "false",
}


def schema_attributes(schema: Any) -> dict[str, Any] | None:
    """Attributes by name with Cognito's defaults filled in; None when the list is unknown."""
    if schema is None:
        return {}
    items = flatten(schema)
    if not all(isinstance(item, Mapping) and isinstance(item.get("Name"), str) for item in items):
        return None
    return {item["Name"]: {**SCHEMA_ATTRIBUTE_DEFAULTS, **item} for item in items}


def user_pool_schema(old: Properties, new: Properties) -> list[Detail]:
    """An existing attribute changed or removed, or a new one that is required."""
    before, after = schema_attributes(old.get("Schema")), schema_attributes(new.get("Schema"))
    if before is None or after is None:
        return compare("Schema", old.get("Schema"), new.get("Schema"))
    details = []
    for name, definition in before.items():
        if name not in after:
            details.append(Detail(f"Schema attribute {name} is removed"))
        else:
            changed = compare(f"Schema attribute {name}", definition, after[name])
            details += [Detail(f"Schema attribute {name} changes", d.unresolved) for d in changed]
    for name, definition in after.items():
        if name not in before and canonical(definition.get("Required")) == canonical("true"):
            details.append(Detail(f"Schema attribute {name} is added as required"))
    return details


SIGN_IN_REASON = f"how users sign in is fixed when the pool is created, {REPLACED}"
# "Settings you can't change": sign-in options (AliasAttributes, UsernameAttributes), case
# sensitivity (UsernameConfiguration), required attributes and custom attribute removal (Schema).
COGNITO_LOCKED = (
    "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-updating.html"
)
USER_POOL_DOC = TEMPLATE_REFERENCE + "aws-resource-cognito-userpool.html"


# --- the extra rules ----------------------------------------------------------------------------

TABLE_DOC = TEMPLATE_REFERENCE + "aws-resource-dynamodb-table.html"
GLOBAL_TABLE_DOC = TEMPLATE_REFERENCE + "aws-resource-dynamodb-globaltable.html"
KEY_SCHEMA_REASON = f"a table's key schema is fixed at creation, {REPLACED}"
KEY_TYPE_REASON = f"a key attribute's type is fixed at creation, {REPLACED}"
ATTRIBUTE_TYPE_REASON = f"an attribute's type is fixed once defined, {REPLACED}"
LSI_REASON = f"local secondary indexes are fixed at creation, {REPLACED}"
KMS_FIXED = "fixed when the key is created: CloudFormation fails the update or replaces the key"


def kms_rule(pointer: str, default: str) -> ReplacementRule:
    name = pointer.removeprefix("/properties/")
    return property_rule(
        pointer,
        f"{name} is {KMS_FIXED}",
        # The schema's description of the property: "You can't change the ... value after the
        # KMS key is created" (and, for KeySpec/KeyUsage/MultiRegion, "the update request fails,
        # regardless of the value of the UpdateReplacePolicy attribute"; older docs: Replacement).
        f"{TEMPLATE_REFERENCE}aws-resource-kms-key.html ({name}); its schema description",
        default=default,
    )


EXTRA_REPLACEMENT_RULES: Mapping[str, tuple[ReplacementRule, ...]] = {
    "AWS::DynamoDB::Table": (
        # Docs: KeySchema "Update requires: Replacement"; the schema lists it only under
        # conditionalCreateOnlyProperties.
        property_rule("/properties/KeySchema", KEY_SCHEMA_REASON, f"{TABLE_DOC} (KeySchema)"),
        # Schema, AttributeDefinitions: "Changing the type of an existing AttributeDefinition
        # requires replacement of the table"; docs: "Replacement if you edit an existing
        # AttributeDefinition". This holds for attributes only an index uses, too.
        ReplacementRule(
            "attribute types",
            ATTRIBUTE_TYPE_REASON,
            defined_attribute_types,
            f"{TABLE_DOC} (AttributeDefinitions); its schema description",
        ),
        # Docs: LocalSecondaryIndexes "Update requires: Replacement"; schema definition
        # LocalSecondaryIndex: "can only be created when its parent table is created".
        ReplacementRule(
            "local secondary indexes",
            LSI_REASON,
            local_secondary_indexes,
            f"{TABLE_DOC} (LocalSecondaryIndexes); schema definition LocalSecondaryIndex",
        ),
    ),
    "AWS::DynamoDB::GlobalTable": (
        property_rule(
            "/properties/KeySchema", KEY_SCHEMA_REASON, f"{GLOBAL_TABLE_DOC} (KeySchema)"
        ),
        # Its AttributeDefinitions are "No interruption" in the docs, but a key's type cannot
        # change without a new key schema.
        ReplacementRule(
            "key attribute types",
            KEY_TYPE_REASON,
            key_attribute_types,
            f"{GLOBAL_TABLE_DOC} (KeySchema)",
        ),
        # Docs: LocalSecondaryIndexes "Update requires: Replacement" (the schema: conditional).
        ReplacementRule(
            "local secondary indexes",
            LSI_REASON,
            local_secondary_indexes,
            f"{GLOBAL_TABLE_DOC} (LocalSecondaryIndexes)",
        ),
    ),
    "AWS::Cognito::UserPool": (
        # Docs, Schema: "you can add new schema attributes but you cannot modify or delete an
        # existing schema attribute"; Cognito: required attributes and custom attribute removal
        # are settings you can't change.
        ReplacementRule(
            "/properties/Schema",
            "Cognito cannot change or remove a user pool attribute, "
            "the pool would be replaced or the update fail",
            user_pool_schema,
            f"{USER_POOL_DOC} (Schema); {COGNITO_LOCKED}",
        ),
        # Docs: "This user pool property cannot be updated" (older docs: Replacement).
        property_rule(
            "/properties/UsernameAttributes",
            SIGN_IN_REASON,
            f"{USER_POOL_DOC} (UsernameAttributes); {COGNITO_LOCKED}",
            default=[],
            as_set=True,
        ),
        property_rule(
            "/properties/AliasAttributes",
            SIGN_IN_REASON,
            f"{USER_POOL_DOC} (AliasAttributes); {COGNITO_LOCKED}",
            default=[],
            as_set=True,
        ),
        # Docs: "This configuration is immutable once it has been set"; unset is case sensitive.
        property_rule(
            "/properties/UsernameConfiguration/CaseSensitive",
            f"username case sensitivity is fixed when the pool is created, {REPLACED}",
            f"{USER_POOL_DOC} (UsernameConfiguration); {COGNITO_LOCKED}",
            default="true",
        ),
    ),
    "AWS::S3::Bucket": (
        property_rule("/properties/BucketName", f"a bucket's name is its identity, {REPLACED}"),
    ),
    "AWS::KMS::Key": (
        kms_rule("/properties/KeySpec", "SYMMETRIC_DEFAULT"),
        kms_rule("/properties/KeyUsage", "ENCRYPT_DECRYPT"),
        kms_rule("/properties/MultiRegion", "false"),
        kms_rule("/properties/Origin", "AWS_KMS"),
    ),
}
"""Replacements the resource schemas miss (checked against cfn-lint 1.58's schemas)."""

# Defaults for create-only properties the schemas list, so that spelling out the default
# is no change (the SQS schema's FifoQueue: "If you don't specify ..., the queue is standard").
SCHEMA_DEFAULTS: Mapping[tuple[str, str], Any] = {
    ("AWS::SQS::Queue", "/properties/FifoQueue"): "false",
    ("AWS::EFS::FileSystem", "/properties/Encrypted"): "false",
    ("AWS::EFS::FileSystem", "/properties/PerformanceMode"): "generalPurpose",
}


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
    rules = [
        property_rule(pointer, SCHEMA_REASON, default=SCHEMA_DEFAULTS.get((resource_type, pointer)))
        for pointer in pointers
    ]
    extra = EXTRA_REPLACEMENT_RULES.get(resource_type, ())
    return rules + [rule for rule in extra if rule.name not in pointers]
