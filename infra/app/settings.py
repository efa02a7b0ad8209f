"""An app's own settings: declared with a schema, filled per environment from infra.toml.

The library knows none of them by name. An app declares each `Setting` (type, range,
default), infra.toml gives values under `[defaults.settings]` and
`[environments.<env>.settings]`, and a function's environment reads one through
`setting` or `setting.map(...)`. A bad value is one line naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from infra.app.immutable import Immutable, declaration
from infra.errors import DeclarationError
from infra.naming import full_match
from infra.shown import show

SCALAR_KINDS: tuple[type, ...] = (int, float, str, bool)
SETTING_NAME = r"[a-z][a-z0-9_]{0,62}"


def kind_name(kind: type, *, plural: bool = False) -> str:
    names = {
        int: ("a whole number", "whole numbers"),
        float: ("a number", "numbers"),
        str: ("a string", "strings"),
        bool: ("true or false", "true or false values"),
        list: ("a list", "lists"),
    }
    singular, many = names.get(kind, (kind.__name__, kind.__name__))
    return many if plural else singular


def is_kind(value: Any, kind: type) -> bool:
    """TOML booleans are ints in Python: never accept one where a number is meant."""
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def as_environment_text(value: Any) -> str:
    """How a setting reads in a function's environment: lists comma-joined, booleans lower."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(as_environment_text(item) for item in value)
    return str(value)


@declaration
class Setting(Immutable):
    """One setting of the app: its name, type, limits and default.

    `kind` is int, float, str or bool; `item` makes it a list of that kind (with
    `min_items`, `max_items`, `unique`). `minimum`/`maximum` bound numbers (list items
    too), `choices` and `pattern` (whole string, ASCII) bound strings. Without a
    `default` every environment must give a value.
    """

    name: str
    kind: type = int
    default: Any = None
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    item: type | None = None
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not full_match(SETTING_NAME, self.name):
            raise DeclarationError(f"setting name {self.name!r}: lowercase letters, digits and _")
        what = f"setting {self.name}"
        if self.kind is not list and self.kind not in SCALAR_KINDS:
            raise DeclarationError(f"{what}: kind must be int, float, str, bool or list")
        if self.kind is list and self.item not in SCALAR_KINDS:
            raise DeclarationError(f"{what}: a list setting needs item=int/float/str/bool")
        if self.kind is not list and self.item is not None:
            raise DeclarationError(f"{what}: item= is for list settings (kind=list)")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise DeclarationError(
                f"{what}: minimum {self.minimum} is above maximum {self.maximum}"
            )
        if self.max_items is not None and self.min_items > self.max_items:
            raise DeclarationError(
                f"{what}: min_items {self.min_items} is above max_items {self.max_items}"
            )
        if self.pattern is not None:
            try:
                re.compile(self.pattern, re.ASCII)  # as values are checked: (?u) fails here
            except (re.error, TypeError, ValueError) as err:
                raise DeclarationError(f"{what}: pattern {self.pattern!r}: {err}") from None
        object.__setattr__(self, "choices", tuple(self.choices))
        if self.default is not None:
            reason = self.check(self.default)
            if reason is not None:
                raise DeclarationError(f"{what}: default: {reason}")

    @property
    def required(self) -> bool:
        return self.default is None

    def check(self, value: Any) -> str | None:
        """Why `value` is not valid for this setting, or None when it is."""
        if self.kind is list:
            return self._check_list(value)
        return self._check_scalar(value, self.kind)

    def normalized(self, value: Any) -> Any:
        """A valid value as the app reads it: lists as tuples, whole floats as floats."""
        element = self.item if self.kind is list else self.kind
        convert = float if element is float else (lambda item: item)
        if isinstance(value, list | tuple):
            return tuple(convert(item) for item in value)
        return convert(value)

    def _check_list(self, value: Any) -> str | None:
        assert self.item is not None
        if not isinstance(value, list | tuple):
            return f"{show(value)} must be a list of {kind_name(self.item, plural=True)}"
        if len(value) < self.min_items or (
            self.max_items is not None and len(value) > self.max_items
        ):
            return f"{show(value)} must have {self._item_count()}"
        for item in value:
            if not is_kind(item, self.item):
                return f"{show(value)} must hold only {kind_name(self.item, plural=True)}"
            reason = self._check_scalar(item, self.item)
            if reason is not None:
                return f"{show(value)}: item {reason}"
        if self.unique and len(set(self.normalized(value))) != len(value):
            return f"{show(value)} must not repeat an item"
        return None

    def _item_count(self) -> str:
        low, high = self.min_items, self.max_items
        if high is None:
            return f"at least {low} {'item' if low == 1 else 'items'}"
        if low == high:
            return f"exactly {low} {'item' if low == 1 else 'items'}"
        return f"{low} to {high} items"

    def _check_scalar(self, value: Any, kind: type) -> str | None:
        if not is_kind(value, kind):
            hint = " (quote it)" if kind is str and isinstance(value, int | float) else ""
            return f"{show(value)} must be {kind_name(kind)}{hint}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = self.minimum, self.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                return f"{show(value)} is out of range ({_bound(low)} to {_bound(high)})"
        if (
            isinstance(value, str)
            and self.pattern is not None
            and not full_match(self.pattern, value)
        ):
            return f"{show(value)} does not match {self.pattern}"
        if self.choices and value not in self.choices:
            listed = ", ".join(show(choice) for choice in self.choices)
            return f"{show(value)} is not one of: {listed}"
        return None

    def map(self, convert: Callable[[Any], Any]) -> SettingValue:
        """This setting's value, turned into a function's environment text by `convert`."""
        return SettingValue(self, convert)

    @property
    def text(self) -> SettingValue:
        """This setting's value as environment text (lists comma-joined)."""
        return SettingValue(self)


def _bound(value: float | None) -> str:
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)


@declaration
class SettingValue(Immutable):
    """A function's environment value taken from a setting of the environment."""

    setting: Setting
    convert: Callable[[Any], Any] | None = field(default=None, compare=False)

    def value(self, settings: Mapping[str, Any]) -> Any:
        """The environment's value, converted: for JSON (a site's config.json)."""
        value = settings[self.setting.name]
        if self.convert is not None:
            value = self.convert(value)
        return list(value) if isinstance(value, tuple) else value

    def resolve(self, settings: Mapping[str, Any]) -> str:
        """The environment's value as a function's environment text."""
        return as_environment_text(self.value(settings))
