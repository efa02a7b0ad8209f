"""The deployment gate: refuse a change set that would lose data or switch a protection off.

Two sources, because neither is enough alone. CloudFormation's own verdict
(`describe_change_set`) knows every replacement rule but cannot see a renamed
logical ID as anything but "remove one, add one", and emulators such as moto
report `Modify` without a `Replacement` field. Our comparison of the deployed
template with the change set's template knows what a rename means and reads the
create-only properties from the resource schemas cfn-lint ships, plus the
replacement rules those schemas miss (each with its source). Both templates are
compared resolved: parameters (the change set's and the stack's), mappings,
conditions and pseudo parameters applied; what cannot be resolved fails closed.

Queues block when they would be replaced or removed while they hold messages (SQS
is asked at gate time) or serve as a dead-letter queue. Protections switched off
(deletion protection, DeletionPolicy/UpdateReplacePolicy leaving Retain) block
unless a person allows them by name (`--allow`). IAM changes that broaden
permissions are listed, for a person to read; they block only with `--fail-on-iam`.

- `resolve`: template values as CloudFormation will deploy them
- `values`: comparing values and describing them to a person
- `templates`: the resources of a parsed template
- `replacement`: which property changes replace a resource, and the sources
- `stateful`: blocking findings, from the templates and from CloudFormation's change list
- `coverage`: whether one IAM pattern covers another
- `iam`: what a change allows that was not allowed before
- `allowances`: `--allow STACK:LOGICAL_ID:KIND`, strict and never silent
- `evaluation`: `evaluate_change_set`, the one place that reads AWS

The rules and their sources: docs/gate.md.
"""
