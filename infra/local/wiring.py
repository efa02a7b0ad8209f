"""What the deployed templates wire together, read back from the local AWS and resolved.

The local run never restates the app: it reads each deployed stack's template, its
resolved parameters and its resources' physical ids from CloudFormation, and resolves
every value (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`) the way CloudFormation did.
A broken template therefore breaks the local run first, and a value this module cannot
resolve is an error naming the stack and the resource.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from infra.aws import aws_errors
from infra.changesets import parse_template
from infra.deploy import stack_resources
from infra.errors import InfraError

# `${Name}` is a variable; `${!Literal}` is the text `${Literal}`.
# Types whose ARN is `arn:aws:<service>:<region>:<account>:<prefix><Name>`.
NAMED_ARNS = {
    "AWS::CodeBuild::Project": ("codebuild", "project/"),
    "AWS::CodeBuild::ReportGroup": ("codebuild", "report-group/"),
    "AWS::CodePipeline::Pipeline": ("codepipeline", ""),
}
SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


@dataclass(frozen=True)
class DeployedStack:
    """One stack as CloudFormation holds it: template, parameter values, physical ids."""

    name: str
    template: Mapping[str, Any]
    parameters: Mapping[str, str]
    physical_ids: Mapping[str, str]

    def resources(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        return {
            logical_id: body
            for logical_id, body in (self.template.get("Resources") or {}).items()
            if body.get("Type") == resource_type
        }


def read_stack(cfn: Any, name: str) -> DeployedStack:
    """The deployed template, its resolved parameters and every resource's physical id."""
    with aws_errors(f"{name}: reading the deployed stack"):
        body = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
        described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    physical = {
        item["LogicalResourceId"]: item.get("PhysicalResourceId", "")
        for item in stack_resources(cfn, name)
    }
    template = parse_template(body)
    parameters = {
        item["ParameterKey"]: item.get("ResolvedValue") or item.get("ParameterValue", "")
        for item in described.get("Parameters", [])
    }
    for key, spec in (template.get("Parameters") or {}).items():
        parameters.setdefault(key, str(spec.get("Default", "")))
    return DeployedStack(name, template, parameters, physical)


@dataclass
class Resolver:
    """Resolves a deployed template's values as CloudFormation did, from the local AWS."""

    stack: DeployedStack
    region: str
    account: str
    clients: Any  # callable(service) -> boto3 client
    cache: dict[tuple[str, str], str] = field(default_factory=dict)

    @cached_property
    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack.name,
            "AWS::NoValue": "",
        }

    def value(self, expression: Any) -> Any:
        if isinstance(expression, list):
            return [self.value(item) for item in expression]
        if not isinstance(expression, Mapping):
            return expression
        if len(expression) == 1:
            ((name, argument),) = expression.items()
            if name == "Ref":
                return self.ref(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = (
                    argument.split(".", 1) if isinstance(argument, str) else argument
                )
                return self.attribute(logical_id, attribute)
            if name == "Fn::Sub":
                return self.sub(argument)
            if name == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.value(part)) for part in self.value(parts))
            if name == "Fn::Select":
                index, items = argument
                chosen, resolved = int(self.value(index)), self.value(items)
                if not 0 <= chosen < len(resolved):
                    raise InfraError(f"{self.stack.name}: Fn::Select {chosen} of {resolved}")
                return resolved[chosen]
            if name.startswith("Fn::"):
                raise InfraError(f"{self.stack.name}: cannot resolve {name} locally")
        return {key: self.value(item) for key, item in expression.items()}

    def ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.stack.parameters:
            return self.stack.parameters[name]
        if name in self.stack.physical_ids:
            return self.stack.physical_ids[name]
        raise InfraError(f"{self.stack.name}: Ref {name} names nothing deployed")

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.value(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            literal, name = match.groups()
            if literal:
                return "${" + name + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] not in self.pseudo:
                logical_id, attribute = name.split(".", 1)
                return str(self.attribute(logical_id, attribute))
            return str(self.ref(name))

        return SUB_VARIABLE.sub(replace, text)

    def resource_type(self, logical_id: str) -> str:
        resource = (self.stack.template.get("Resources") or {}).get(logical_id)
        if resource is None:
            raise InfraError(f"{self.stack.name}: GetAtt of {logical_id}, which does not exist")
        return str(resource.get("Type"))

    def attribute(self, logical_id: str, attribute: str) -> str:
        key = (logical_id, attribute)
        if key not in self.cache:
            self.cache[key] = self._attribute(logical_id, attribute)
        return self.cache[key]

    def _attribute(self, logical_id: str, attribute: str) -> str:
        kind = self.resource_type(logical_id)
        physical = self.stack.physical_ids.get(logical_id, "")
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return arn.format("lambda", f"function:{physical}")
        if kind == "AWS::SQS::Queue":
            name = physical.rstrip("/").rsplit("/", 1)[-1]
            if attribute == "Arn":
                return arn.format("sqs", name)
            if attribute == "QueueName":
                return name
            if attribute == "QueueUrl":
                return physical
        if kind == "AWS::SNS::Topic" and attribute == "TopicArn":
            return physical
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::DynamoDB::Table" and attribute in ("Arn", "StreamArn"):
            with aws_errors(f"describing table {physical}"):
                table = self.clients("dynamodb").describe_table(TableName=physical)["Table"]
            return table["TableArn"] if attribute == "Arn" else table["LatestStreamArn"]
        if kind == "AWS::Events::Rule" and attribute == "Arn":
            return arn.format("events", f"rule/{physical}")
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return arn.format("logs", f"log-group:{physical}:*")
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{self.account}:role/{physical}"
        if kind in NAMED_ARNS and attribute == "Arn":
            return arn.format(NAMED_ARNS[kind][0], NAMED_ARNS[kind][1] + self.name_of(logical_id))
        raise InfraError(f"{self.stack.name}: cannot resolve {logical_id}.{attribute} ({kind})")

    def name_of(self, logical_id: str) -> str:
        """A resource's `Name` property, as its ARN holds it (the physical id otherwise)."""
        props = (self.stack.template.get("Resources") or {})[logical_id].get("Properties") or {}
        name = self.value(props["Name"]) if "Name" in props else None
        return str(name) if name else self.stack.physical_ids.get(logical_id, logical_id)
