"""Run moto's server with fixes for the gaps in it that our deploys reach.

Started by the `moto_server` fixture as `python tests/support/local_aws.py -H 127.0.0.1 -p N`.
Each fix is pinned by a test in tests/deploy/test_moto_gaps.py that runs plain moto: when that
test fails, moto has closed the gap and the fix can go.
"""

from __future__ import annotations

import sys
from typing import Any


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


def accept_ssm_parameter_tag_maps() -> None:
    """AWS::SSM::Parameter's Tags is a JSON map in CloudFormation; moto expects Key/Value pairs."""
    from moto.ssm.models import Parameter

    def as_pairs(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        properties = dict(cloudformation_json.get("Properties", {}))
        tags = properties.get("Tags")
        if isinstance(tags, dict):
            properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        return {**cloudformation_json, "Properties": properties}

    create = Parameter.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Any:
        return create(cls, resource_name, as_pairs(cloudformation_json), *args, **kwargs)

    Parameter.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def accept_kms_key_tags() -> None:
    """AWS::KMS::Key's Tags are Key/Value pairs in CloudFormation; moto reads TagKey/TagValue."""
    from moto.kms.models import Key

    create = Key.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(
        cls: type, resource_name: str, cloudformation_json: Any, *args: Any, **kwargs: Any
    ) -> Any:
        properties = dict(cloudformation_json.get("Properties", {}))
        properties["Tags"] = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])
        ]
        json = {**cloudformation_json, "Properties": properties}
        return create(cls, resource_name, json, *args, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


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


FIXES = (
    serve_change_set_templates,
    accept_ssm_parameter_tag_maps,
    accept_kms_key_tags,
    give_accepted_resources_an_id,
    refresh_outputs_after_change_sets,
    resolve_ssm_parameters_when_planning,
)


def main(argv: list[str]) -> None:
    from moto.server import main as serve

    for fix in FIXES:
        fix()
    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
