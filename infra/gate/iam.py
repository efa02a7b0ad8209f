"""IAM broadening: what a change allows that the deployed templates did not.

Every source of permissions in a template becomes `Grant`s over resolved values (parameters,
mappings and conditions applied, as for the stateful checks): inline and standalone identity
policies (`AWS::IAM::Role`/`User`/`Group` policies, `RolePolicy`, `Policy`, `ManagedPolicy`
...), trust policies, and resource policies (buckets, topics, queues, keys, tables, Lambda
permissions ...). A grant is new only when no grant the same holder had before covers it
(`covers`), so narrowing never reads as broadening. A Deny that is removed or narrowed, a
permissions boundary that goes, a managed policy or attachment that is added: each is
reported. Nothing here blocks a deploy unless the gate is asked to (`--fail-on-iam`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.gate.coverage import covers, is_exact
from infra.gate.resolve import Opaque, Resolved, Resource, as_resolved, first_unresolved
from infra.gate.values import brief, canonical, describe, flatten


@dataclass(frozen=True)
class Term:
    """An Action or Resource item, or a whole NotAction / NotResource list."""

    values: tuple[Any, ...]
    negated: bool = False

    def text(self, name: str) -> str:
        if self.negated:
            return f"Not{name} {brief(list(self.values))}"
        return brief(self.values[0]) if self.values else "(unset)"


@dataclass(frozen=True)
class Principal:
    kind: str  # "*", "AWS", "Service", "Federated", "CanonicalUser", "Not"
    value: Any
    text: str

    @property
    def key(self) -> str:
        value = self.value
        if self.kind == "AWS" and isinstance(value, str) and value.isascii() and value.isdigit():
            value = f"account:{value}"
        elif self.kind == "AWS" and isinstance(value, str) and value.endswith(":root"):
            value = f"account:{value.split(':')[4]}" if value.count(":") >= 5 else value
        if self.kind == "Service" and isinstance(value, str):
            value = value.lower()
        return canonical([self.kind, value])


@dataclass(frozen=True)
class Grant:
    """One thing a holder is allowed (or denied), and the line that says it."""

    holder: str  # whom or what it applies to: a role, or the resource with the policy
    source: str  # the logical ID it is written in
    kind: str  # "identity", "resource", "trust"
    effect: str
    action: Term
    resource: Term | None
    principal: Principal | None
    condition: Any
    text: str = field(compare=False)

    def unresolved(self) -> str | None:
        fields = [self.action.values, self.condition]
        fields += [self.resource.values] if self.resource else []
        fields += [self.principal.value] if self.principal else []
        unknown = first_unresolved(fields)
        return unknown.reason if unknown else None


@dataclass(frozen=True)
class Listed:
    """An item of a list property: a managed policy, an attachment, a boundary, a target."""

    holder: str
    source: str
    kind: str  # "managed", "attach", "target", "boundary"
    value: Any
    text: str = field(compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.holder, self.kind, canonical(self.value))


@dataclass
class Permissions:
    grants: list[Grant] = field(default_factory=list)
    listed: list[Listed] = field(default_factory=list)


# --- policy documents ---------------------------------------------------------------------------


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


def terms(statement: Mapping[str, Any], name: str) -> list[Term]:
    """One Term per `Action` item, or the whole `NotAction` list as one; None when neither."""
    if name in statement:
        return [Term((item,)) for item in flatten(statement[name])] or [Term((None,))]
    if f"Not{name}" in statement:
        return [Term(tuple(flatten(statement[f"Not{name}"])), negated=True)]
    return [Term((None,))]


def principals(raw: Any, *, negated: bool = False) -> list[Principal]:
    if negated:
        return [Principal("Not", raw, f"NotPrincipal {describe(raw)}")]
    if raw == "*":
        return [Principal("*", "*", "*")]
    if isinstance(raw, str):  # a Lambda permission's principal
        kind = "Service" if "." in raw else "AWS"
        return [Principal(kind, raw, raw)]
    if not isinstance(raw, Mapping):
        return [Principal("?", raw, describe(raw))]
    return [
        Principal(kind, item, f"{kind}:{describe(item)}")
        for kind, value in raw.items()
        for item in flatten(value)
    ]


def statement_principals(statement: Mapping[str, Any]) -> list[Principal]:
    if "NotPrincipal" in statement:
        return principals(statement["NotPrincipal"], negated=True)
    return principals(statement.get("Principal"))


def when(condition: Any) -> str:
    return f" when {describe(condition)}" if condition else ""


def document_grants(
    document: Any, holder: str, source: str, *, resource_policy: bool
) -> list[Grant]:
    """Each (principal, action, resource) of each Allow or Deny statement."""
    grants = []
    for statement in statements(document):
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        condition = statement.get("Condition")
        whom: list[Principal | None] = (
            list(statement_principals(statement)) if resource_policy else [None]
        )
        for principal in whom:
            who = f"{principal.text} " if principal else ""
            for action in terms(statement, "Action"):
                for resource in terms(statement, "Resource"):
                    what = f"{who}{action.text('Action')} on {resource.text('Resource')}"
                    verb = "allows" if effect == "Allow" else "no longer denies"
                    grants.append(
                        Grant(
                            holder,
                            source,
                            "resource" if resource_policy else "identity",
                            effect,
                            action,
                            resource,
                            principal,
                            condition,
                            f"{verb} {what}{when(condition)}",
                        )
                    )
    return grants


def trust_grants(document: Any, holder: str, source: str) -> list[Grant]:
    """Who may assume a role, with which action and condition."""
    grants = []
    for statement in statements(document):
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        condition = statement.get("Condition")
        for principal in statement_principals(statement):
            for action in terms(statement, "Action"):
                verb = "trusts" if effect == "Allow" else "no longer refuses"
                text = f"{verb} {principal.text} ({action.text('Action')}){when(condition)}"
                grants.append(
                    Grant(holder, source, "trust", effect, action, None, principal, condition, text)
                )
    return grants


# --- coverage -----------------------------------------------------------------------------------


def term_covers(wide: Term | None, narrow: Term | None, *, fold_case: bool) -> bool:
    if wide is None or narrow is None:
        return wide is None and narrow is None
    if first_unresolved(list(wide.values)) is not None:
        return False
    if not wide.negated:
        pattern = wide.values[0]
        if narrow.negated:
            return pattern == "*"
        return covers(pattern, narrow.values[0], fold_case=fold_case)
    if narrow.negated:  # NotAction A covers NotAction B when B excludes at least what A does
        excluded = {canonical(value) for value in narrow.values}
        return all(canonical(value) in excluded for value in wide.values)
    value = narrow.values[0]
    if not is_exact(value):
        return False
    return not any(covers(pattern, value, fold_case=fold_case) for pattern in wide.values)


def principal_covers(wide: Principal | None, narrow: Principal | None) -> bool:
    if wide is None or narrow is None:
        return wide is None and narrow is None
    if first_unresolved(wide.value) is not None:
        return False
    if wide.kind == "*" and narrow.kind != "Not":
        return True
    if wide.kind == "AWS" and wide.value == "*" and narrow.kind == "AWS":
        return True
    return wide.key == narrow.key


def grant_covers(wide: Grant, narrow: Grant) -> bool:
    """`wide` allows (or denies) everything `narrow` does: effect and principal match, its
    action and resource patterns cover narrow's, and its condition is absent or the same."""
    return (
        wide.kind == narrow.kind
        and wide.effect == narrow.effect
        and principal_covers(wide.principal, narrow.principal)
        and term_covers(wide.action, narrow.action, fold_case=True)
        and term_covers(wide.resource, narrow.resource, fold_case=False)
        and (wide.condition is None or canonical(wide.condition) == canonical(narrow.condition))
    )


def uncovered(grants: Iterable[Grant], by: list[Grant]) -> list[Grant]:
    """The grants none of `by` (the same holder's) covers; an unresolved one is never covered."""
    pool: dict[str, list[Grant]] = {}
    for grant in by:
        pool.setdefault(grant.holder, []).append(grant)
    return [
        grant
        for grant in grants
        if grant.unresolved() is not None
        or not any(grant_covers(wide, grant) for wide in pool.get(grant.holder, []))
    ]


# --- sources: what each resource type grants ----------------------------------------------------

Extract = Callable[[Resource, "Context"], Permissions]


@dataclass(frozen=True)
class Context:
    """The template's resources, to follow `ManagedPolicyArns: [Ref: Policy]` to the policy."""

    resources: Mapping[str, Resource]


def holder_of(logical_id: str) -> str:
    return canonical(Opaque(f"Ref:{logical_id}", logical_id))


def holder_key(value: Any) -> str:
    """A role, user or group as a policy names it: `Ref: Role` is the same holder as the role's
    own inline policies (a literal name is a holder of its own)."""
    return canonical(value)


def listed(holder: str, source: str, kind: str, value: Any, verb: str) -> list[Listed]:
    return [Listed(holder, source, kind, item, f"{verb} {brief(item)}") for item in flatten(value)]


def identity_extract(policies: str | None, managed: bool, boundary: bool) -> Extract:
    """A role, user or group: its inline policies, managed policies and boundary."""

    def extract(resource: Resource, context: Context) -> Permissions:
        holder = holder_of(resource.logical_id)
        found = Permissions()
        properties = resource.properties
        if resource.type == "AWS::IAM::Role":
            document = properties.get("AssumeRolePolicyDocument")
            found.grants += trust_grants(document, holder, resource.logical_id)
        for policy in flatten(properties.get(policies)) if policies else ():
            if isinstance(policy, Mapping):
                document = policy.get("PolicyDocument")
                found.grants += document_grants(
                    document, holder, resource.logical_id, resource_policy=False
                )
        if managed:
            for arn in flatten(properties.get("ManagedPolicyArns")):
                found.listed += listed(
                    holder, resource.logical_id, "managed", arn, "attaches managed policy"
                )
                target = arn.logical_id if isinstance(arn, Opaque) else None
                policy = context.resources.get(target or "")
                if policy is not None and policy.type == "AWS::IAM::ManagedPolicy":
                    document = policy.properties.get("PolicyDocument")
                    found.grants += document_grants(
                        document, holder, policy.logical_id, resource_policy=False
                    )
        if boundary:
            found.listed += listed(
                holder,
                resource.logical_id,
                "boundary",
                properties.get("PermissionsBoundary"),
                "no longer has permissions boundary",
            )
        if resource.type == "AWS::IAM::User":
            found.listed += listed(
                holder, resource.logical_id, "attach", properties.get("Groups"), "joins group"
            )
        return found

    return extract


def policy_extract(*holders: str) -> Extract:
    """A standalone identity policy: its document applies to each role, user or group named."""

    def extract(resource: Resource, context: Context) -> Permissions:
        properties = resource.properties
        named = [item for name in holders for item in flatten(properties.get(name))]
        found = Permissions()
        keys = [holder_key(item) for item in named]
        if not keys and not attached_elsewhere(resource.logical_id, context):
            keys = [holder_of(resource.logical_id)]  # attached to nothing (yet)
        document = properties.get("PolicyDocument")
        for key in keys:
            found.grants += document_grants(
                document, key, resource.logical_id, resource_policy=False
            )
        for item in named:
            found.listed += listed(
                holder_of(resource.logical_id), resource.logical_id, "attach", item, "attached to"
            )
        return found

    return extract


def attached_elsewhere(logical_id: str, context: Context) -> bool:
    """A managed policy a role, user or group attaches (`ManagedPolicyArns: [Ref: it]`): its
    grants are read as that holder's."""
    return any(
        isinstance(arn, Opaque) and arn.logical_id == logical_id
        for other in context.resources.values()
        if other.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
        for arn in flatten(other.properties.get("ManagedPolicyArns"))
    )


def resource_policy_extract(
    documents: Callable[[Mapping[str, Any]], list[Any]], target: str | None
) -> Extract:
    """A resource policy: who may do what to the resource it is on (or applies to)."""

    def extract(resource: Resource, context: Context) -> Permissions:
        holder = holder_of(resource.logical_id)
        found = Permissions()
        for document in documents(resource.properties):
            found.grants += document_grants(
                document, holder, resource.logical_id, resource_policy=True
            )
        if target:
            found.listed += listed(
                holder, resource.logical_id, "target", resource.properties.get(target), "applies to"
            )
        return found

    return extract


def at(*path: str) -> Callable[[Mapping[str, Any]], list[Any]]:
    """The documents found along a path of property names; `*` maps over a list."""

    def documents(properties: Mapping[str, Any]) -> list[Any]:
        found: list[Any] = [properties]
        for name in path:
            step: list[Any] = []
            for item in found:
                if name == "*":
                    step += flatten(item)
                elif isinstance(item, Mapping) and name in item:
                    step.append(item[name])
            found = step
        return [document for document in found if document is not None]

    return documents


def lambda_permission_extract(resource: Resource, context: Context) -> Permissions:
    """A Lambda permission as the one-statement resource policy it is."""
    properties = resource.properties
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
    grants = document_grants(
        {"Statement": [statement]},
        holder_of(resource.logical_id),
        resource.logical_id,
        resource_policy=True,
    )
    return Permissions(grants)


@dataclass(frozen=True)
class IamSource:
    extract: Extract
    announce_new: bool = True  # "new <type>": a role or policy, not a resource that has one


def documents_of(*paths: tuple[str, ...]) -> Callable[[Mapping[str, Any]], list[Any]]:
    readers = [at(*path) for path in paths]
    return lambda properties: [document for read in readers for document in read(properties)]


IAM_SOURCES: Mapping[str, IamSource] = {
    "AWS::IAM::Role": IamSource(identity_extract("Policies", managed=True, boundary=True)),
    "AWS::IAM::User": IamSource(identity_extract("Policies", managed=True, boundary=True)),
    "AWS::IAM::Group": IamSource(identity_extract("Policies", managed=True, boundary=False)),
    "AWS::IAM::Policy": IamSource(policy_extract("Roles", "Users", "Groups")),
    "AWS::IAM::ManagedPolicy": IamSource(policy_extract("Roles", "Users", "Groups")),
    "AWS::IAM::RolePolicy": IamSource(policy_extract("RoleName")),
    "AWS::IAM::UserPolicy": IamSource(policy_extract("UserName")),
    "AWS::IAM::GroupPolicy": IamSource(policy_extract("GroupName")),
    "AWS::S3::BucketPolicy": IamSource(resource_policy_extract(at("PolicyDocument"), "Bucket")),
    "AWS::SNS::TopicPolicy": IamSource(resource_policy_extract(at("PolicyDocument"), "Topics")),
    "AWS::SNS::TopicInlinePolicy": IamSource(
        resource_policy_extract(at("PolicyDocument"), "TopicArn")
    ),
    "AWS::SQS::QueuePolicy": IamSource(resource_policy_extract(at("PolicyDocument"), "Queues")),
    "AWS::SQS::QueueInlinePolicy": IamSource(
        resource_policy_extract(at("PolicyDocument"), "Queue")
    ),
    "AWS::KMS::Key": IamSource(resource_policy_extract(at("KeyPolicy"), None), announce_new=False),
    "AWS::KMS::ReplicaKey": IamSource(
        resource_policy_extract(at("KeyPolicy"), None), announce_new=False
    ),
    "AWS::DynamoDB::Table": IamSource(
        resource_policy_extract(
            documents_of(
                ("ResourcePolicy", "PolicyDocument"),
                ("StreamSpecification", "ResourcePolicy", "PolicyDocument"),
            ),
            None,
        ),
        announce_new=False,
    ),
    "AWS::DynamoDB::GlobalTable": IamSource(
        resource_policy_extract(
            documents_of(
                ("Replicas", "*", "ResourcePolicy", "PolicyDocument"),
                ("Replicas", "*", "ReplicaStreamSpecification", "ResourcePolicy", "PolicyDocument"),
            ),
            None,
        ),
        announce_new=False,
    ),
    "AWS::SecretsManager::ResourcePolicy": IamSource(
        resource_policy_extract(at("ResourcePolicy"), "SecretId")
    ),
    "AWS::ECR::Repository": IamSource(
        resource_policy_extract(at("RepositoryPolicyText"), None), announce_new=False
    ),
    "AWS::Logs::ResourcePolicy": IamSource(resource_policy_extract(at("PolicyDocument"), None)),
    "AWS::Lambda::Permission": IamSource(lambda_permission_extract),
}
"""The resource types whose properties grant access, and how to read them."""


def permissions(template: Resolved) -> tuple[Permissions, set[str]]:
    """Every grant and listed item of a template, and the logical IDs that are IAM sources."""
    present = template.present()
    context = Context(present)
    found = Permissions()
    sources = set()
    for logical_id, resource in sorted(present.items()):
        source = IAM_SOURCES.get(resource.type)
        if source is None:
            continue
        sources.add(logical_id)
        extracted = source.extract(resource, context)
        found.grants += extracted.grants
        found.listed += extracted.listed
    return found, sources


def iam_findings(
    stack: str,
    deployed: Mapping[str, Any] | Resolved | None,
    proposed: Mapping[str, Any] | Resolved,
    region: str = "us-east-1",
) -> list[str]:
    """One line per broadening, per logical ID in order: a new role or policy first."""
    old, new = as_resolved(deployed, stack, region), as_resolved(proposed, stack, region)
    before, _ = permissions(old)
    after, sources = permissions(new)
    allows = [grant for grant in after.grants if grant.effect == "Allow"]
    old_allows = [grant for grant in before.grants if grant.effect == "Allow"]
    denies = [grant for grant in before.grants if grant.effect == "Deny"]
    new_denies = [grant for grant in after.grants if grant.effect == "Deny"]
    texts: dict[str, list[str]] = {}

    def say(source: str, text: str) -> None:
        texts.setdefault(source, []).append(text)

    for grant in uncovered(allows, old_allows) + uncovered(denies, new_denies):
        say(grant.source, grant.text)  # an unresolved value says why in the text
    for principal, source in new_principals(allows, old_allows):
        say(source, f"new principal {principal}")
    old_listed = {item.key for item in before.listed}
    new_listed = {item.key for item in after.listed}
    for item in after.listed:
        if item.kind != "boundary" and item.key not in old_listed:
            say(item.source, item.text)
    for item in before.listed:
        if item.kind == "boundary" and item.key not in new_listed:
            say(item.source, item.text)
    lines = []
    old_present = old.present()
    for logical_id in sorted(set(texts) | sources):
        resource = new.present().get(logical_id)
        found = sorted(set(texts.get(logical_id, [])))
        previous = old_present.get(logical_id)
        is_new = previous is None or previous.type != (resource.type if resource else "")
        if resource is not None and is_new and IAM_SOURCES[resource.type].announce_new:
            found.insert(0, f"new {resource.type}")
        lines += [f"{stack}: {logical_id}: {text}" for text in found]
    return list(dict.fromkeys(lines))


def new_principals(allows: list[Grant], old_allows: list[Grant]) -> list[tuple[str, str]]:
    """Resource-policy principals no old Allow of the same holder names or covers."""
    found = []
    for grant in allows:
        if grant.principal is None or grant.kind != "resource":
            continue
        known = [
            wide.principal
            for wide in old_allows
            if wide.holder == grant.holder and wide.kind == grant.kind
        ]
        if not any(principal_covers(wide, grant.principal) for wide in known):
            found.append((grant.principal.text, grant.source))
    return list(dict.fromkeys(found))
