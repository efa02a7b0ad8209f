"""Blocking findings: data a change would remove, replace or stop protecting.

Found twice, from comparing the resolved templates (which knows a renamed logical ID for what
it is, and a Condition that turns false) and from CloudFormation's change list (which knows
every replacement rule), then merged so each problem is said once.

- stateful resources (`STATEFUL_TYPES`): removed, replaced, or a value that decides it cannot
  be resolved;
- protections switched off, on any resource: DeletionPolicy / UpdateReplacePolicy leaving
  Retain, deletion protection going from on to off;
- queues (`QUEUE_TYPE`) replaced or removed while they hold messages or serve as a
  dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.changesets import retains
from infra.gate.replacement import REPLACED, Detail, replacement_rules
from infra.gate.resolve import (
    Resolved,
    Resource,
    Unresolved,
    as_resolved,
    first_unresolved,
    references,
)
from infra.gate.values import brief, canonical, flatten, pointer_value

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
"""Types whose replacement or removal always loses data. Log groups are left out on purpose
(ours go with their stacks); queues have their own rule (`QUEUE_TYPE`)."""

QUEUE_TYPE = "AWS::SQS::Queue"

# Where a resource names the queue its failures go to. Lambda: DeadLetterConfig.TargetArn, and
# DestinationConfig.OnFailure of an event invoke config or event source mapping; SQS and SNS
# subscriptions: RedrivePolicy.deadLetterTargetArn; EventBridge/Scheduler targets:
# DeadLetterConfig.Arn.
DEAD_LETTER_KEYS = frozenset({"DeadLetterConfig", "OnFailure", "RedrivePolicy"})

# Deletion protection, per type: the property and the value that means "on" (the resource
# schemas: DynamoDB DeletionProtectionEnabled "When enabled, the table cannot be deleted";
# Cognito DeletionProtection ACTIVE/INACTIVE; RDS DeletionProtection). A global table sets
# it per replica (`replica_protection`).
PROTECTIONS: Mapping[str, tuple[str, str]] = {
    "AWS::DynamoDB::Table": ("/properties/DeletionProtectionEnabled", "true"),
    "AWS::Cognito::UserPool": ("/properties/DeletionProtection", "ACTIVE"),
    "AWS::RDS::DBInstance": ("/properties/DeletionProtection", "true"),
    "AWS::RDS::DBCluster": ("/properties/DeletionProtection", "true"),
}


@dataclass(frozen=True)
class Finding:
    """A blocking line with what it is about, so sources can be merged and allowances match.

    `kind` is "delete", "replace", "unresolved", or one a person may allow: "retain",
    "protection", "queue".
    """

    logical_id: str
    kind: str
    line: str


@dataclass(frozen=True)
class QueueState:
    """What SQS said about a queue at gate time."""

    messages: int | None = None  # visible + in flight + delayed
    unknown: str | None = None  # why SQS could not say
    dead_letter_sources: tuple[str, ...] = ()  # queues whose RedrivePolicy targets it


NOT_ASKED = QueueState(unknown="SQS was not asked")


# --- blocking findings from the templates -------------------------------------------------------


def stateful_findings(
    stack: str,
    deployed: Mapping[str, Any] | Resolved | None,
    proposed: Mapping[str, Any] | Resolved,
    region: str,
    *,
    changes: Iterable[Mapping[str, Any]] = (),
    queues: Mapping[str, QueueState] | None = None,
) -> list[Finding]:
    """Everything deployed that the proposed template loses or stops protecting.

    Raw templates are resolved with their defaults; `evaluate_change_set` passes them resolved
    with what AWS reports. `queues` is what SQS said about the queues at risk.
    """
    old, new = as_resolved(deployed, stack, region), as_resolved(proposed, stack, region)
    old_present, new_all = old.present(), new.resources
    findings: list[Finding] = []
    for logical_id, before in sorted(old_present.items()):
        prefix = f"{stack}: {logical_id} ({before.type}): "
        after = new_all.get(logical_id)
        if after is not None and isinstance(after.exists, Unresolved):
            if before.type in STATEFUL_TYPES or before.type == QUEUE_TYPE:
                text = (
                    f"Condition {after.condition} cannot be resolved ({after.exists.reason}): "
                    "the gate cannot tell whether it is kept"
                )
                findings.append(Finding(logical_id, "unresolved", prefix + text))
            continue
        if after is None or after.exists is False or after.type != before.type:
            if before.type in STATEFUL_TYPES:
                kind, text = lost(before, after, old_present, new)
                findings.append(Finding(logical_id, kind, prefix + text))
            continue
        findings += [Finding(logical_id, "retain", prefix + t) for t in retention(before, after)]
        findings += [Finding(logical_id, kind, prefix + t) for kind, t in protection(before, after)]
        if before.type in STATEFUL_TYPES:
            for detail, reason in replacements(region, before, after):
                kind = "unresolved" if detail.unresolved else "replace"
                text = cannot_tell(detail) if detail.unresolved else f"{detail.text}: {reason}"
                findings.append(Finding(logical_id, kind, prefix + text))
    findings += queue_findings(stack, old, new, region, changes, queues or {})
    return findings


def lost(
    before: Resource, after: Resource | None, old: Mapping[str, Resource], new: Resolved
) -> tuple[str, str]:
    """("delete" or "replace", text) for a stateful resource the proposed template drops."""
    if after is not None and after.exists is not False and after.type != before.type:
        return "replace", f"type changes to {brief(after.type)}: {REPLACED}"
    return "delete", removal_text(before, after, old, new)


def removal_text(
    before: Resource, after: Resource | None, old: Mapping[str, Resource], new: Resolved
) -> str:
    if after is not None and after.exists is False:
        what = f"removed: its Condition {after.condition} is now false"
    else:
        what = "removed (or renamed)"
    if retains(before.deletion_policy):
        kept = "kept by its DeletionPolicy, no longer managed"
        text = f"{what}: CloudFormation would orphan it ({kept})"
    else:
        text = f"{what}: CloudFormation would delete it"
    added = sorted(
        name for name, body in new.present().items() if name not in old and body.type == before.type
    )
    if added:
        label = "logical ID" if len(added) == 1 else "logical IDs"
        text += f" (new {label} of the same type: {', '.join(added)})"
    return text


def cannot_tell(detail: Detail) -> str:
    return f"{detail.text}: the gate cannot rule out a replacement"


def retention(old: Resource, new: Resource) -> list[str]:
    """DeletionPolicy / UpdateReplacePolicy that stop keeping the resource."""
    texts = []
    for attribute, before, after, consequence in (
        ("DeletionPolicy", old.deletion_policy, new.deletion_policy, "would no longer be retained"),
        (
            "UpdateReplacePolicy",
            old.update_replace_policy,
            new.update_replace_policy,
            "would no longer be retained when replaced",
        ),
    ):
        if not retains(before) or retains(after):
            continue
        unknown = first_unresolved(after)
        if unknown is not None:
            may = consequence.replace("would", "may")
            texts.append(f"{attribute} cannot be resolved ({unknown.reason}): it {may}")
        else:
            shown = brief(after) if after is not None else "(unset: Delete)"
            texts.append(f"{attribute} {before} -> {shown}: {consequence}")
    return texts


def protection(old: Resource, new: Resource) -> list[tuple[str, str]]:
    """(kind, text) for deletion protection that goes from on to off."""
    if old.type == "AWS::DynamoDB::GlobalTable":
        return replica_protection(old, new)
    if old.type not in PROTECTIONS:
        return []
    pointer, on = PROTECTIONS[old.type]
    before = pointer_value({"properties": old.properties}, pointer)
    after = pointer_value({"properties": new.properties}, pointer)
    return switched_off(pointer.removeprefix("/properties/"), on, before, after)


def switched_off(label: str, on: str, before: Any, after: Any) -> list[tuple[str, str]]:
    if canonical(before) != canonical(on) or canonical(after) == canonical(on):
        return []
    unknown = first_unresolved(after)
    if unknown is not None:
        text = f"{label} cannot be resolved ({unknown.reason}): protection may be off"
        return [("unresolved", text)]
    shown = brief(after) if after is not None else "(unset: off)"
    return [("protection", f"{label} {on} -> {shown}: deletion protection switched off")]


def replica_protection(old: Resource, new: Resource) -> list[tuple[str, str]]:
    """A global table's deletion protection is set per replica (Region)."""

    def by_region(resource: Resource) -> dict[str, Any]:
        return {
            replica["Region"]: replica.get("DeletionProtectionEnabled")
            for replica in flatten(resource.properties.get("Replicas"))
            if isinstance(replica, Mapping) and isinstance(replica.get("Region"), str)
        }

    before, after = by_region(old), by_region(new)
    found = []
    for region, value in sorted(before.items()):
        if region in after:
            label = f"replica {region} DeletionProtectionEnabled"
            found += switched_off(label, "true", value, after[region])
    return found


def replacements(region: str, old: Resource, new: Resource) -> list[tuple[Detail, str]]:
    return [
        (detail, rule.reason)
        for rule in replacement_rules(region, old.type)
        for detail in rule.check(old.properties, new.properties)
    ]


# --- queues -------------------------------------------------------------------------------------


def queues_at_risk(
    stack: str,
    deployed: Mapping[str, Any] | Resolved | None,
    proposed: Mapping[str, Any] | Resolved,
    region: str,
    changes: Iterable[Mapping[str, Any]] = (),
) -> dict[str, str]:
    """Deployed queues the change would remove or replace: logical ID -> what happens."""
    old, new = as_resolved(deployed, stack, region), as_resolved(proposed, stack, region)
    at_risk: dict[str, str] = {}
    for logical_id, before in sorted(old.present().items()):
        if before.type != QUEUE_TYPE:
            continue
        after = new.resources.get(logical_id)
        if after is None:
            at_risk[logical_id] = "removed (or renamed)"
        elif after.exists is False:
            at_risk[logical_id] = f"removed: its Condition {after.condition} is now false"
        elif isinstance(after.exists, Unresolved):
            continue  # said as an unresolved finding
        elif after.type != before.type:
            at_risk[logical_id] = f"type changes to {brief(after.type)}"
        else:
            details = [d for d, _ in replacements(region, before, after) if not d.unresolved]
            if details:
                at_risk[logical_id] = f"replaced ({details[0].text})"
    for logical_id, verdict in cloudformation_verdicts(changes, QUEUE_TYPE).items():
        if logical_id in old.present():
            at_risk.setdefault(logical_id, verdict)
    return at_risk


def cloudformation_verdicts(
    changes: Iterable[Mapping[str, Any]], resource_type: str
) -> dict[str, str]:
    """Removals and (possible) replacements CloudFormation reports for one type."""
    found = {}
    for change in changes:
        resource_change = change.get("ResourceChange") or {}
        if resource_change.get("ResourceType") != resource_type:
            continue
        logical_id = resource_change.get("LogicalResourceId", "?")
        action, replacement = resource_change.get("Action"), resource_change.get("Replacement")
        if action == "Remove":
            found[logical_id] = "CloudFormation would delete it (change set: Remove)"
        elif action == "Modify" and replacement in ("True", "Conditional"):
            verb = "would" if replacement == "True" else "may"
            found[logical_id] = f"CloudFormation {verb} replace it (change set)"
    return found


def dead_letter_users(old: Resolved) -> dict[str, list[str]]:
    """Queue logical ID -> what sends it failures, read from the deployed template."""
    queues = {name for name, r in old.present().items() if r.type == QUEUE_TYPE}
    users: dict[str, list[str]] = {}
    for logical_id, resource in sorted(old.present().items()):
        for key, value in dead_letter_settings(resource.properties):
            for target in sorted(references(value) & queues - {logical_id}):
                users.setdefault(target, []).append(f"{logical_id} {key}")
        allow = resource.properties.get("RedriveAllowPolicy")
        if resource.type == QUEUE_TYPE and allow is not None and "denyAll" not in canonical(allow):
            users.setdefault(logical_id, []).append("its RedriveAllowPolicy")
    return users


def dead_letter_settings(value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in DEAD_LETTER_KEYS:
                yield key, item
            else:
                yield from dead_letter_settings(item)
    elif isinstance(value, list):
        for item in value:
            yield from dead_letter_settings(item)


def queue_findings(
    stack: str,
    old: Resolved,
    new: Resolved,
    region: str,
    changes: Iterable[Mapping[str, Any]],
    queues: Mapping[str, QueueState],
) -> list[Finding]:
    """A queue at risk blocks when it serves as a dead-letter queue or holds messages."""
    users = dead_letter_users(old)
    findings = []
    for logical_id, what in queues_at_risk(stack, old, new, region, changes).items():
        state = queues.get(logical_id, NOT_ASKED)
        reasons = []
        sources = users.get(logical_id, []) + [
            f"queue {url.rsplit('/', 1)[-1]} (SQS)" for url in state.dead_letter_sources
        ]
        if sources:
            reasons.append(f"it is a dead-letter queue (for {', '.join(dict.fromkeys(sources))})")
        if state.unknown is not None:
            reasons.append(f"cannot tell whether it holds messages ({state.unknown})")
        elif state.messages:
            noun = "message" if state.messages == 1 else "messages"
            reasons.append(f"it holds {state.messages} {noun}")
        if reasons:
            text = f"{stack}: {logical_id} ({QUEUE_TYPE}): {what}: {'; '.join(reasons)}"
            findings.append(Finding(logical_id, "queue", f"{text}; they would be lost"))
    return findings


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


def merged_findings(ours: list[Finding], theirs: list[Finding]) -> list[Finding]:
    """Our findings, then CloudFormation's for what ours do not already say (same ID and kind)."""
    said = {(finding.logical_id, finding.kind) for finding in ours}
    merged: dict[str, Finding] = {}
    for finding in ours + [f for f in theirs if (f.logical_id, f.kind) not in said]:
        merged.setdefault(finding.line, finding)
    return list(merged.values())
