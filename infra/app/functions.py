"""A Lambda function as declared data: its code, trigger, environment and grants.

The backend stack turns each into a role (exactly its grants), a log group, the
function and its trigger's resources, all named `<Function name><Role>`; the
packager zips its code folder with the shared modules it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field

from infra.app.grants import Grant
from infra.app.immutable import Immutable, declaration
from infra.app.references import (
    SharedValue,
    as_items,
    check_declared_name,
    check_relative_folder,
    check_whole,
)
from infra.app.settings import SettingValue
from infra.app.triggers import TRIGGERS, Trigger
from infra.errors import DeclarationError
from infra.naming import full_match, pascal

ENVIRONMENT_NAME = r"[A-Za-z][A-Za-z0-9_]+"  # as Lambda takes them
# Lambda sets these itself (and refuses them), and the library sets the last two.
RESERVED_ENVIRONMENT = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "AWS_SECURITY_TOKEN",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "POWERTOOLS_SERVICE_NAME",
        "LOG_LEVEL",
    }
)
HANDLER = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+"

EnvironmentValue = str | SharedValue | SettingValue


@declaration
class Function(Immutable):
    """One function.

    `code` is its folder, relative to the app's root (infra.toml's folder); `handler`
    is `module.function` inside it. `shared` names modules of the app's shared-code
    folder that are zipped beside its own files. `memory` and `timeout` default to the
    environment's `[lambda]` settings.
    """

    name: str
    code: str
    trigger: Trigger
    description: str
    handler: str = "handler.lambda_handler"
    memory: int | None = None
    timeout: int | None = None
    environment: Mapping[str, EnvironmentValue] = field(default_factory=dict)
    grants: tuple[Grant, ...] = ()
    shared: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_declared_name("function", self.name)
        what = f"function {self.name}"
        if not isinstance(self.trigger, TRIGGERS):
            raise DeclarationError(f"{what}: trigger {self.trigger!r} is not a trigger")
        check_relative_folder(f"{what}: code", self.code)
        if not full_match(HANDLER, self.handler):
            raise DeclarationError(f"{what}: handler {self.handler!r} must be module.function")
        if self.memory is not None:
            check_whole(f"{what}: memory", self.memory, 128, 10240, " MB")
        if self.timeout is not None:
            check_whole(f"{what}: timeout", self.timeout, 1, 900, " s")
        object.__setattr__(
            self,
            "grants",
            as_items(self.grants, f"{what}: grants", Grant, " (make one with table.grant(...))"),
        )
        object.__setattr__(self, "shared", as_items(self.shared, f"{what}: shared", str))
        if not isinstance(self.environment, Mapping):
            raise DeclarationError(f"{what}: environment must be a dict of name -> value")
        object.__setattr__(self, "environment", dict(self.environment))
        for key, value in self.environment.items():
            if not isinstance(key, str) or not full_match(ENVIRONMENT_NAME, key):
                raise DeclarationError(
                    f"{what}: environment name {key!r}: 2 or more characters, a letter "
                    "first, then letters, digits or _"
                )
            if key in RESERVED_ENVIRONMENT:
                raise DeclarationError(
                    f"{what}: environment name {key} is reserved (Lambda or the library sets it)"
                )
            if not isinstance(value, str | SharedValue | SettingValue):
                raise DeclarationError(
                    f"{what}: environment {key}: {value!r} must be text, a resource's "
                    "shared value (table.table_name) or a setting"
                )
        for module in self.shared:
            if not isinstance(module, str) or "/" in module or "\\" in module or not module:
                raise DeclarationError(f"{what}: shared module {module!r} must be a file name")
        for module in self.shared:
            if self.shared.count(module) > 1:
                raise DeclarationError(f"{what}: shared module {module!r} is named twice")

    @property
    def logical_name(self) -> str:
        """`resize-image` -> `ResizeImage`: the stem of every logical ID this function owns."""
        return pascal(self.name)

    @property
    def code_key_parameter(self) -> str:
        """The template parameter that carries the S3 key of this function's zip."""
        return f"{self.logical_name}CodeKey"

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]
