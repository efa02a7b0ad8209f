"""Fixes to moto's KMS: keys as CloudFormation declares them."""

from __future__ import annotations

from typing import Any


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
