"""Fixes to moto's CloudFormation: change sets, the parameters and outputs it reports, and
the resource types it accepts without modelling."""

from __future__ import annotations

from typing import Any, ClassVar


def serve_change_set_templates() -> None:
    """GetTemplate with ChangeSetName returns the change set's template (moto: the stack's)."""
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    deployed_template = CloudFormationResponse.get_template

    def get_template(self: CloudFormationResponse) -> ActionResult:
        name = self._get_param("ChangeSetName")
        if not name:
            return deployed_template(self)
        change_set = self.cloudformation_backend.describe_change_set(change_set_name=name)
        return ActionResult({"TemplateBody": change_set.template})

    CloudFormationResponse.get_template = get_template


def refresh_outputs_after_change_sets() -> None:
    """Executing a change set leaves moto's Outputs as they were before (none for a new stack)."""
    from moto.cloudformation.models import CloudFormationBackend

    execute = CloudFormationBackend.execute_change_set

    def execute_change_set(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        execute(self, change_set_name, stack_name)
        for change_set in self.change_sets.values():
            if change_set_name in (change_set.change_set_id, change_set.change_set_name):
                stack = self.stacks[change_set.stack_id]
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    CloudFormationBackend.execute_change_set = execute_change_set


def resolve_ssm_parameters_when_planning() -> None:
    """CreateChangeSet fails when an SSM-typed parameter names no parameter, as in AWS.

    moto creates the change set anyway, so a plan could never see that a stack reads
    values another stack has not published yet.
    """
    import json

    import yaml
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend
    from moto.ssm.models import ssm_backends

    create = CloudFormationBackend.create_change_set

    def create_change_set(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        template = kwargs.get("template", args[2] if len(args) > 2 else "{}")
        given = kwargs.get("parameters") or {}
        try:
            body = json.loads(template)
        except ValueError:
            body = yaml.safe_load(template)
        ssm = ssm_backends[self.account_id][self.region_name]
        missing = [
            slot["Default"]
            for name, slot in (body or {}).get("Parameters", {}).items()
            if str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::")
            and name not in given
            and "Default" in slot
            and ssm.get_parameter(slot["Default"]) is None
        ]
        if missing:
            raise ValidationError(
                message=f"Unable to fetch parameters [{','.join(missing)}] "
                "from parameter store for this account."
            )
        return create(self, *args, **kwargs)

    CloudFormationBackend.create_change_set = create_change_set


def give_accepted_resources_an_id() -> None:
    """Types moto accepts but does not model (Cognito, API Gateway v2, CloudFront, CodePipeline
    ...) get a physical id and attributes, as in AWS, instead of None.

    Without this a `Ref` to such a resource resolves to nothing, and an SSM parameter holding
    it fails to create. Nothing is created behind the id, so tests assert those resources
    through the template.
    """
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel

    class AcceptedResource(CloudFormationModel):
        __module__ = "moto.cloudformation"  # moto files each model under its service

        def __init__(self, physical_id: str) -> None:
            self.physical_resource_id = physical_id

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Accepted::Resource"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return f"{self.physical_resource_id}-{attribute_name.lower()}"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
        ) -> AcceptedResource:
            return cls(resource_name)

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[override]
            cls, original_resource: AcceptedResource, *args: Any, **kwargs: Any
        ) -> AcceptedResource:
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
            return None

        def is_created(self) -> bool:
            return True

    known = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        return known(resource_type) or AcceptedResource

    parsing.resource_class_from_type = resource_class_from_type


def report_parameters_as_aws_does() -> None:
    """DescribeStacks and DescribeChangeSet list every template parameter as AWS does: an
    SSM-typed one with its path as ParameterValue and the value as ResolvedValue, a NoEcho one
    as "****".

    moto gives an SSM parameter's value as its ParameterValue (DescribeStacks) and lists only
    the parameters passed in (DescribeChangeSet), so the gate could not resolve a template
    that reads a published value.
    """
    from moto.cloudformation import responses
    from moto.cloudformation.models import ChangeSet, Stack
    from moto.ssm.models import ssm_backends

    def reported(
        template: Any,
        given: dict[str, Any],
        resolved: dict[str, Any],
        account: str,
        region: str,
        previous: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        slots = template.get("Parameters") if isinstance(template, dict) else None
        entries = []
        for key, slot in (slots or {}).items():
            value = given.get(key, slot.get("Default"))
            if isinstance(value, list):
                value = ",".join(map(str, value))
            entry = {"ParameterKey": key, "ParameterValue": str(value)}
            if slot.get("NoEcho"):
                entry["ParameterValue"] = "****"
            elif str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::"):
                if key in resolved:
                    entry["ResolvedValue"] = resolved[key]
                else:
                    found = ssm_backends[account][region].get_parameter(str(value))
                    if found is not None:
                        entry["ResolvedValue"] = found.value
                    elif previous is not None:  # UsePreviousValue: moto kept the value itself
                        path = previous.get(key, slot.get("Default"))
                        entry.update(ParameterValue=str(path), ResolvedValue=str(value))
            entries.append(entry)
        return entries

    def stack_parameters(self: Stack) -> list[dict[str, Any]]:
        template = self.parse_template(self.template) if self.template else {}
        resolved = {
            key: ",".join(map(str, value)) if isinstance(value, list) else str(value)
            for key, value in self.resource_map.resolved_parameters.items()
        }
        given = self.resource_map.input_parameters or {}
        return reported(template, given, resolved, self.account_id, self.region_name)

    def change_set_parameters(self: ChangeSet) -> list[dict[str, Any]]:
        stack = self.stack
        previous = stack.resource_map.input_parameters or {}
        given = self.parameters or {}
        return reported(
            self.template_dict, given, {}, stack.account_id, stack.region_name, previous
        )

    class ChangeSetMeta:
        serialization_aliases: ClassVar = {"Parameters": "reported_parameters"}

    Stack.parameter_list = property(stack_parameters)  # type: ignore[assignment]
    ChangeSet.reported_parameters = property(change_set_parameters)  # type: ignore[attr-defined]
    ChangeSet.Meta = ChangeSetMeta  # type: ignore[attr-defined]
    transformers = responses.CloudFormationResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER
    transformers.pop("DescribeChangeSetOutput.Parameters", None)


def leave_unchanged_change_sets_to_fail() -> None:
    """CreateChangeSet for an unchanged stack makes a change set, as AWS does.

    AWS answers with a change set that FAILED with "The submitted information didn't
    contain changes"; CodePipeline's and `infra deploy`'s execute then see no changes.
    moto refuses the call itself ("No updates are to be performed.") when every parameter
    is given, so there is no change set to find. Its backend already marks such a change
    set FAILED; only the early refusal goes.
    """
    from moto.cloudformation.responses import CloudFormationResponse

    create = CloudFormationResponse.create_change_set

    def create_change_set(self: Any) -> Any:
        self._validate_different_update = lambda *args, **kwargs: None
        try:
            return create(self)
        finally:
            del self._validate_different_update

    CloudFormationResponse.create_change_set = create_change_set  # type: ignore[method-assign]


def keep_one_stack_under_review() -> None:
    """A CREATE change set for a stack still in REVIEW_IN_PROGRESS goes to that stack.

    A stack made by a CREATE change set that was never executed stays under review; a new
    CREATE change set of the same stack name is added to it in AWS. moto makes a second
    stack of that name, and DescribeStacks goes on answering with the first.
    """
    from moto.cloudformation.models import CloudFormationBackend

    create = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
        name = kwargs.get("stack_name", args[0] if args else None)
        kind = kwargs.get("change_set_type", args[5] if len(args) > 5 else None)
        waiting = [
            stack
            for stack in self.stacks.values()
            if stack.name == name and stack.status == "REVIEW_IN_PROGRESS"
        ]
        change_set_id, stack_id = create(self, *args, **kwargs)
        if kind != "CREATE" or not waiting:
            return change_set_id, stack_id
        self.stacks.pop(stack_id, None)
        change_set = self.change_sets[change_set_id]
        change_set.stack, change_set.stack_id = waiting[0], waiting[0].stack_id
        return change_set_id, waiting[0].stack_id

    CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]
