"""CodePipeline's CloudFormation deploy action, run against the local AWS.

The action modes are the ones the action reference lists: CHANGE_SET_REPLACE (delete the
named change set if there is one, then create it: CREATE for a stack that does not exist
or is REVIEW_IN_PROGRESS, UPDATE otherwise), CHANGE_SET_EXECUTE, CREATE_UPDATE,
DELETE_ONLY (a stack that does not exist is a success) and REPLACE_ON_FAILURE. What a
stack is made from comes from the input artifacts as CodePipeline reads them:
TemplatePath and TemplateConfiguration are `Artifact::path` references, the
configuration file gives Parameters, Tags and a StackPolicy, and ParameterOverrides (a
JSON object whose values may be Fn::GetArtifactAtt or Fn::GetParam) win over the file.

A change set that "didn't contain changes" is a success, and executing it is a success
that changes nothing. A stack operation that fails is an unsuccessful ActionOutcome whose
failures are the stack events that explain it, one line each; a mistake in the action or
its artifacts (a missing file, bad JSON, an unknown parameter) is an InfraError naming it.
Output variables (and the OutputFileName file) are the stack's Outputs, from the modes
that create or update a stack.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.aws import aws_errors
from infra.changesets import (
    MISSING_CHANGE_SET,
    NOT_READY,
    UPDATABLE,
    PlannedChange,
    change_set_changes,
    change_set_kind,
    change_table,
    delete_change_set,
    is_no_changes,
    parse_template,
    stack_status,
    wait_for_change_set,
)
from infra.constants import MAX_INLINE_TEMPLATE_BYTES, MAX_TEMPLATE_BYTES
from infra.deploy import object_url, stack_outputs
from infra.errors import InfraError
from infra.local.pipeline.artifacts import ArtifactLocation, artifact_file
from infra.stack_events import Echo, follow, seen_so_far

Inputs = Mapping[str, tuple[Path, ArtifactLocation]]
Sleep = Callable[[float], None]

CONFIGURATION_KEYS = frozenset(
    {
        "ActionMode",
        "StackName",
        "Capabilities",
        "ChangeSetName",
        "RoleArn",
        "TemplatePath",
        "TemplateConfiguration",
        "ParameterOverrides",
        "OutputFileName",
    }
)
CAPABILITY_NAMES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
TEMPLATE_CONFIGURATION_KEYS = ("Parameters", "Tags", "StackPolicy")
ARTIFACT_ATTRIBUTES = ("BucketName", "ObjectKey", "URL")
# REPLACE_ON_FAILURE deletes and recreates a stack in one of these (both user guides' lists).
FAILED_STATES = frozenset(
    {
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "CREATE_FAILED",
        "DELETE_FAILED",
        "UPDATE_ROLLBACK_FAILED",
    }
)
ROLE_REQUIRED = frozenset(
    {"CREATE_UPDATE", "REPLACE_ON_FAILURE", "DELETE_ONLY", "CHANGE_SET_REPLACE"}
)
# The modes whose stack Outputs become the action's output variables.
VARIABLE_MODES = frozenset({"CREATE_UPDATE", "REPLACE_ON_FAILURE", "CHANGE_SET_EXECUTE"})
CREATE_RETRIES = 10  # a change set being deleted can hold its name for a moment
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class ActionOutcome:
    """How the action ended: a one-line summary, and on failure the lines explaining it."""

    succeeded: bool
    summary: str
    output_variables: dict[str, str] = field(default_factory=dict)
    output_files: dict[str, bytes] = field(default_factory=dict)  # OutputFileName -> JSON
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackInput:
    """What CreateStack, UpdateStack and CreateChangeSet are given."""

    template_body: str
    parameters: dict[str, str]
    tags: dict[str, str]
    stack_policy: str | None
    capabilities: tuple[str, ...]
    role_arn: str | None
    template_url: str | None = None  # a template over the inline limit, put in S3

    def arguments(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"RoleARN": self.role_arn} if self.role_arn else {}
        if self.tags:  # none given leaves the stack's tags as they are
            extra["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        source = (
            {"TemplateURL": self.template_url}
            if self.template_url
            else {"TemplateBody": self.template_body}
        )
        return {
            **source,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()
            ],
            "Capabilities": list(self.capabilities),
            **extra,
        }


@dataclass(frozen=True)
class TemplateConfiguration:
    parameters: dict[str, str]
    tags: dict[str, str]
    stack_policy: str | None


def run_cloudformation_action(
    configuration: Mapping[str, str],
    inputs: Inputs,
    cfn: Any,
    echo: Echo,
    *,
    sleep: Sleep = time.sleep,
    s3: Any = None,
) -> ActionOutcome:
    """Run one CloudFormation action; `configuration` has its #{ns.var} already resolved.

    `s3` puts a template over the API's inline limit where CloudFormation reads it.
    """
    unknown = sorted(set(configuration) - CONFIGURATION_KEYS)
    if unknown:
        raise InfraError(f"CloudFormation action: unknown configuration {', '.join(unknown)}")
    action = CloudFormationAction(configuration, inputs, cfn, echo, sleep, s3)
    modes: dict[str, Callable[[], ActionOutcome]] = {
        "CHANGE_SET_REPLACE": action.replace_change_set,
        "CHANGE_SET_EXECUTE": action.execute_change_set,
        "CREATE_UPDATE": action.create_or_update,
        "DELETE_ONLY": action.delete_only,
        "REPLACE_ON_FAILURE": action.replace_on_failure,
    }
    mode = action.required("ActionMode")
    if mode not in modes:
        raise InfraError(f"ActionMode {mode}: not one of {', '.join(modes)}")
    if mode in ROLE_REQUIRED:
        action.required("RoleArn")
    outcome = modes[mode]()
    echo(outcome.summary)
    file_name = configuration.get("OutputFileName")
    if not (outcome.succeeded and file_name):
        return outcome
    outputs = outcome.output_variables if mode in VARIABLE_MODES else action.current_outputs()
    body = (json.dumps(outputs, indent=2, sort_keys=True) + "\n").encode()
    return ActionOutcome(True, outcome.summary, outcome.output_variables, {file_name: body})


@dataclass
class CloudFormationAction:
    configuration: Mapping[str, str]
    inputs: Inputs
    cfn: Any
    echo: Echo
    sleep: Sleep
    s3: Any = None

    @property
    def stack(self) -> str:
        return self.required("StackName")

    @property
    def folders(self) -> dict[str, Path]:
        return {name: folder for name, (folder, _) in self.inputs.items()}

    def required(self, key: str) -> str:
        value = self.configuration.get(key, "")
        if not value:
            mode = self.configuration.get("ActionMode", "CloudFormation action")
            raise InfraError(f"{mode}: configuration {key} is required")
        return value

    # -- the modes --------------------------------------------------------------------------

    def replace_change_set(self) -> ActionOutcome:
        stack, name = self.stack, self.required("ChangeSetName")
        given = self.stack_input()
        kind = change_set_kind(stack, stack_status(self.cfn, stack))
        delete_change_set(self.cfn, stack, name)
        if given.stack_policy:
            self.echo(f"{stack}: StackPolicy not applied: CreateChangeSet takes no stack policy")
        arguments = {**given.arguments(), "ChangeSetType": kind}
        refused = self.create_change_set(name, arguments)
        if refused is not None:
            return refused
        status, reason = wait_for_change_set(self.cfn, stack, name, sleep=self.sleep)
        if status == "FAILED":
            return self.unchanged(name) if is_no_changes(reason) else self.refused(name, reason)
        changes = tuple(
            PlannedChange.from_change(c) for c in change_set_changes(self.cfn, stack, name)
        )
        for line in change_table(changes):
            self.echo(f"  {line}")
        return ActionOutcome(True, f"{stack}: change set {name}: {len(changes)} changes ({kind})")

    def execute_change_set(self) -> ActionOutcome:
        stack, name = self.stack, self.required("ChangeSetName")
        status = stack_status(self.cfn, stack)
        if status is None:
            raise InfraError(f"{stack}: no such stack, so no change set {name} to execute")
        described = self.described_change_set(name)
        if described.get("Status") in NOT_READY:
            wait_for_change_set(self.cfn, stack, name, sleep=self.sleep)
            described = self.described_change_set(name)
        reason = described.get("StatusReason") or ""
        if described.get("Status") == "FAILED":
            if not is_no_changes(reason):
                return self.refused(name, reason)
            outputs = self.current_outputs()
            return ActionOutcome(
                True, f"{stack}: change set {name} has no changes: not executed", outputs
            )
        if described.get("ExecutionStatus") != "AVAILABLE":
            state = described.get("ExecutionStatus", "?")
            return self.failed(f"{stack}: change set {name} cannot be executed ({state})")
        changes = tuple(
            PlannedChange.from_change(c) for c in change_set_changes(self.cfn, stack, name)
        )
        for line in change_table(changes):
            self.echo(f"  {line}")
        kind = "CREATE" if status == "REVIEW_IN_PROGRESS" else "UPDATE"
        seen = seen_so_far(self.cfn, stack)
        try:
            with aws_errors(f"{stack}: executing change set {name}"):
                self.cfn.execute_change_set(StackName=stack, ChangeSetName=name)
        except InfraError as err:  # refused outright (moto: also a resource that failed)
            return self.failed(str(err))
        return self.followed(seen, f"{kind}_COMPLETE")

    def create_or_update(self) -> ActionOutcome:
        stack = self.stack
        given = self.stack_input()
        status = stack_status(self.cfn, stack)
        if status is None:
            return self.create_stack(given)
        if status in UPDATABLE:
            return self.update_stack(given)
        if status.endswith("IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
            raise InfraError(f"{stack}: busy ({status}); wait for it to finish, then run again")
        raise InfraError(f"{stack}: is {status}; CREATE_UPDATE can neither create nor update it")

    def replace_on_failure(self) -> ActionOutcome:
        status = stack_status(self.cfn, self.stack)
        if status not in FAILED_STATES:
            return self.create_or_update()
        given = self.stack_input()
        self.echo(f"{self.stack}: is {status}; deleting it to create it again")
        deleted = self.delete_stack()
        return deleted if not deleted.succeeded else self.create_stack(given)

    def delete_only(self) -> ActionOutcome:
        if stack_status(self.cfn, self.stack) is None:
            return ActionOutcome(True, f"{self.stack}: does not exist; nothing to delete")
        return self.delete_stack()

    # -- stack operations -------------------------------------------------------------------

    def create_change_set(self, name: str, arguments: dict[str, Any]) -> ActionOutcome | None:
        """None once CloudFormation has taken the change set; else the action's outcome."""
        from botocore.exceptions import ClientError

        for _ in range(CREATE_RETRIES):
            with aws_errors(f"{self.stack}: creating change set {name}"):
                try:
                    self.cfn.create_change_set(
                        StackName=self.stack, ChangeSetName=name, **arguments
                    )
                    return None
                except ClientError as err:
                    error = err.response.get("Error", {})
                    message = error.get("Message", str(err))
                    if is_no_changes(message):
                        return self.unchanged(name)
                    if "AlreadyExists" not in error.get("Code", ""):
                        return self.refused(name, f"{error.get('Code', 'Error')}: {message}")
            self.sleep(POLL_SECONDS)
        return self.refused(name, "a change set of that name still exists after deleting it")

    def create_stack(self, given: StackInput) -> ActionOutcome:
        policy = {"StackPolicyBody": given.stack_policy} if given.stack_policy else {}
        try:
            with aws_errors(f"{self.stack}: creating the stack"):
                self.cfn.create_stack(StackName=self.stack, **given.arguments(), **policy)
        except InfraError as err:  # refused outright (moto: also a resource that failed)
            return self.failed(str(err))
        return self.followed(set(), "CREATE_COMPLETE")

    def update_stack(self, given: StackInput) -> ActionOutcome:
        from botocore.exceptions import ClientError

        policy = {"StackPolicyBody": given.stack_policy} if given.stack_policy else {}
        seen = seen_so_far(self.cfn, self.stack)
        try:
            with aws_errors(f"{self.stack}: updating the stack"):
                try:
                    self.cfn.update_stack(StackName=self.stack, **given.arguments(), **policy)
                except ClientError as err:
                    if not is_no_changes(err.response.get("Error", {}).get("Message", "")):
                        raise
                    return ActionOutcome(True, f"{self.stack}: no changes", self.current_outputs())
        except InfraError as err:
            return self.failed(str(err))
        return self.followed(seen, "UPDATE_COMPLETE")

    def delete_stack(self) -> ActionOutcome:
        stack = self.stack
        with aws_errors(f"{stack}: describing the stack"):
            stack_id = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
        role = self.configuration.get("RoleArn")
        seen = seen_so_far(self.cfn, stack)
        with aws_errors(f"{stack}: deleting the stack"):
            self.cfn.delete_stack(StackName=stack, **({"RoleARN": role} if role else {}))
        return self.followed(seen, "DELETE_COMPLETE", stack_id=stack_id)

    def followed(self, seen: set[str], expected: str, stack_id: str | None = None) -> ActionOutcome:
        """Follow the operation to its end: a success with the stack's outputs, or the
        failed resource events."""
        outcome = follow(self.cfn, self.stack, seen, self.echo, stack_id=stack_id, sleep=self.sleep)
        if outcome.status != expected:
            first = outcome.failures[0] if outcome.failures else "see the stack events"
            return self.failed(f"{self.stack}: {outcome.status}: {first}", outcome.failures)
        outputs = {} if expected == "DELETE_COMPLETE" else stack_outputs(self.cfn, self.stack)
        return ActionOutcome(True, f"{self.stack}: {outcome.status}", outputs)

    def described_change_set(self, name: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        with aws_errors(f"{self.stack}: describing change set {name}"):
            try:
                return self.cfn.describe_change_set(StackName=self.stack, ChangeSetName=name)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code", "") not in MISSING_CHANGE_SET:
                    raise
        raise InfraError(
            f"{self.stack}: no change set {name} to execute (did CHANGE_SET_REPLACE make it?)"
        )

    def current_outputs(self) -> dict[str, str]:
        """The stack's outputs; none for a stack that is gone or was never created."""
        status = stack_status(self.cfn, self.stack)
        return {} if status in (None, "REVIEW_IN_PROGRESS") else stack_outputs(self.cfn, self.stack)

    def unchanged(self, name: str) -> ActionOutcome:
        return ActionOutcome(True, f"{self.stack}: change set {name}: no changes")

    def refused(self, name: str, reason: str) -> ActionOutcome:
        return self.failed(f"{self.stack}: change set {name} failed: {reason}")

    def failed(self, summary: str, failures: tuple[str, ...] = ()) -> ActionOutcome:
        for line in failures:
            self.echo(f"failed: {line}")
        return ActionOutcome(False, summary, failures=failures or (summary,))

    # -- what the stack is made from --------------------------------------------------------

    def stack_input(self) -> StackInput:
        """The action's own settings first, then what its artifacts hold."""
        named_capabilities = capabilities(self.configuration.get("Capabilities", ""))
        reference = self.required("TemplatePath")
        body = template_text(artifact_file(self.folders, reference), reference)
        template = parsed_template(body, reference)
        config = TemplateConfiguration({}, {}, None)
        config_reference = self.configuration.get("TemplateConfiguration")
        if config_reference:
            config = template_configuration(self.folders, config_reference)
        overrides = parameter_overrides(
            self.configuration.get("ParameterOverrides"), self.inputs, self.cfn.meta.region_name
        )
        given = {config_reference or "": config.parameters, "ParameterOverrides": overrides}
        check_parameters(template, given, reference)
        parameters = {**config.parameters, **overrides}
        return StackInput(
            template_body=body,
            parameters=parameters,
            tags=config.tags,
            stack_policy=config.stack_policy,
            capabilities=named_capabilities,
            role_arn=self.configuration.get("RoleArn") or None,
            template_url=self.large_template_url(reference, body),
        )

    def large_template_url(self, reference: str, body: str) -> str | None:
        """None for a template the API takes inline; else where it was put for CloudFormation.

        CloudFormation takes at most 51,200 bytes in the request; CodePipeline hands it a
        larger template from the artifact store, and so does this: beside the artifact.
        """
        data = body.encode("utf-8")
        if len(data) <= MAX_INLINE_TEMPLATE_BYTES:
            return None
        artifact = reference.split("::", 1)[0]
        if self.s3 is None or artifact not in self.inputs:
            raise InfraError(f"{reference}: over {MAX_INLINE_TEMPLATE_BYTES:,} bytes, and no S3")
        location = self.inputs[artifact][1]
        key = f"{location.key}-templates/{hashlib.sha256(data).hexdigest()[:16]}.json"
        with aws_errors(f"{reference}: putting the template in s3://{location.bucket}/{key}"):
            self.s3.put_object(Bucket=location.bucket, Key=key, Body=data)
        return object_url(self.s3, location.bucket, self.cfn.meta.region_name, key)


def template_text(path: Path, reference: str) -> str:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InfraError(f"{reference}: cannot read the template: {err}") from None
    if not data.strip():
        raise InfraError(f"{reference}: the template is empty")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise InfraError(
            f"{reference}: {len(data):,} bytes; CloudFormation takes a template "
            f"of at most {MAX_TEMPLATE_BYTES:,} bytes"
        )
    return text


def parsed_template(body: str, reference: str) -> dict[str, Any]:
    import yaml

    try:
        template = parse_template(body)
    except (ValueError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InfraError(f"{reference}: not a JSON or YAML template: {first}") from None
    if not isinstance(template.get("Resources"), Mapping):
        raise InfraError(f"{reference}: not a CloudFormation template (no Resources)")
    return template


def read_json(path: Path, reference: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InfraError(f"{reference}: cannot read it: {err}") from None
    except ValueError as err:
        raise InfraError(f"{reference}: not JSON: {err}") from None


def template_configuration(folders: Mapping[str, Path], reference: str) -> TemplateConfiguration:
    """The TemplateConfiguration file: {"Parameters": {}, "Tags": {}, "StackPolicy": {}}."""
    raw = read_json(artifact_file(folders, reference), reference)
    if not isinstance(raw, dict):
        raise InfraError(
            f"{reference}: must be a JSON object ({', '.join(TEMPLATE_CONFIGURATION_KEYS)})"
        )
    unknown = sorted(set(raw) - set(TEMPLATE_CONFIGURATION_KEYS))
    if unknown:
        raise InfraError(
            f"{reference}: unknown key {', '.join(unknown)} "
            f"(a template configuration has {', '.join(TEMPLATE_CONFIGURATION_KEYS)})"
        )
    policy = raw.get("StackPolicy")
    if policy is not None and not isinstance(policy, dict):
        raise InfraError(f"{reference}: StackPolicy must be a JSON object (a stack policy)")
    return TemplateConfiguration(
        parameters=string_map(raw.get("Parameters", {}), f"{reference}: Parameters"),
        tags=string_map(raw.get("Tags", {}), f"{reference}: Tags"),
        stack_policy=json.dumps(policy) if policy is not None else None,
    )


def string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InfraError(f"{where}: must be a JSON object of names to values")
    return {str(name): scalar(item, f"{where}: {name}") for name, item in value.items()}


def scalar(value: Any, where: str) -> str:
    """A parameter value as CloudFormation takes it: text (a number or boolean as JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise InfraError(f"{where}: must be a string, not {type(value).__name__}")


def parameter_overrides(text: str | None, inputs: Inputs, region: str) -> dict[str, str]:
    """ParameterOverrides: a JSON object; a value may be Fn::GetArtifactAtt or Fn::GetParam."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise InfraError(f"ParameterOverrides: not JSON: {err}") from None
    if not isinstance(raw, dict):
        raise InfraError("ParameterOverrides: must be a JSON object of parameter names to values")
    return {
        name: override_value(value, inputs, region, f"ParameterOverrides: {name}")
        for name, value in raw.items()
    }


def override_value(value: Any, inputs: Inputs, region: str, where: str) -> str:
    if not isinstance(value, dict):
        return scalar(value, where)
    if set(value) == {"Fn::GetArtifactAtt"}:
        return artifact_attribute(
            function_arguments(value, "Fn::GetArtifactAtt", 2, where), inputs, region, where
        )
    if set(value) == {"Fn::GetParam"}:
        return artifact_param(function_arguments(value, "Fn::GetParam", 3, where), inputs, where)
    raise InfraError(f"{where}: a value is a string, Fn::GetArtifactAtt or Fn::GetParam")


def function_arguments(
    value: Mapping[str, Any], function: str, count: int, where: str
) -> list[str]:
    arguments = value[function]
    if not (
        isinstance(arguments, list)
        and len(arguments) == count
        and all(isinstance(a, str) for a in arguments)
    ):
        raise InfraError(f"{where}: {function} takes a list of {count} strings")
    return arguments


def artifact_attribute(arguments: list[str], inputs: Inputs, region: str, where: str) -> str:
    """BucketName, ObjectKey or URL of an input artifact in the artifact store."""
    artifact, attribute = arguments
    if artifact not in inputs:
        known = ", ".join(sorted(inputs)) or "none"
        raise InfraError(
            f"{where}: Fn::GetArtifactAtt: {artifact} is not an input artifact (inputs: {known})"
        )
    location = inputs[artifact][1]
    values = {
        "BucketName": location.bucket,
        "ObjectKey": location.key,
        "URL": f"https://s3.{region}.amazonaws.com/{location.bucket}/{location.key}",
    }
    if attribute not in values:
        raise InfraError(
            f"{where}: Fn::GetArtifactAtt: no attribute {attribute} "
            f"(one of {', '.join(ARTIFACT_ATTRIBUTES)})"
        )
    return values[attribute]


def artifact_param(arguments: list[str], inputs: Inputs, where: str) -> str:
    """The value of a key in a JSON file of an input artifact (a stack's OutputFileName, say)."""
    artifact, file_name, key = arguments
    reference = f"{artifact}::{file_name}"
    folders = {name: folder for name, (folder, _) in inputs.items()}
    try:
        values = read_json(artifact_file(folders, reference), reference)
    except InfraError as err:
        raise InfraError(f"{where}: Fn::GetParam: {err}") from None
    if not isinstance(values, dict) or key not in values:
        raise InfraError(f"{where}: Fn::GetParam: {reference} has no key {key}")
    return scalar(values[key], f"{where}: Fn::GetParam: {reference}: {key}")


def check_parameters(
    template: Mapping[str, Any], given: Mapping[str, Mapping[str, str]], reference: str
) -> None:
    """Each parameter given (by the configuration file or the overrides, named by the
    keys of `given`) is declared, and each declared one without a Default is given."""
    declared = template.get("Parameters") or {}
    for source, parameters in given.items():
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise InfraError(
                f"{source}: Parameters: [{', '.join(unknown)}] do not exist in the template "
                f"{reference}"
            )
    supplied = {name for parameters in given.values() for name in parameters}
    missing = sorted(
        name
        for name, slot in declared.items()
        if name not in supplied and not (isinstance(slot, Mapping) and "Default" in slot)
    )
    if missing:
        raise InfraError(f"{reference}: Parameters: [{', '.join(missing)}] must have values")


def capabilities(text: str) -> tuple[str, ...]:
    """Capabilities: comma-separated, as the action takes them."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in CAPABILITY_NAMES]
    if unknown:
        raise InfraError(
            f"Capabilities: {', '.join(unknown)} is not one of {', '.join(CAPABILITY_NAMES)}"
        )
    return names
