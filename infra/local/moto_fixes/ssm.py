"""Fixes to moto's SSM: parameters as CloudFormation declares them."""

from __future__ import annotations

from typing import Any


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
