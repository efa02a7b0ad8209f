"""Values one stack shares with the stacks after it, and the names they travel under.

A stack shares a value as an SSM parameter `/<app>/<env>/<stack>/<name>` (and an Output
of the same name); a consumer reads it through an SSM-typed template parameter. The name
of a value a declared resource shares is `<its logical ID><Attribute>`: `OrdersTableArn`,
`InvoiceBucketName`, `UserPoolClientId`.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.errors import DeclarationError
from infra.naming import full_match

DECLARED_NAME = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"


@dataclass(frozen=True)
class SharedValue:
    """A value a stack shares: `/<app>/<env>/<stack>/<name>`."""

    stack: str
    name: str


# The HTTP API's base URL, shared by the backend stack when any function has routes.
HTTP_API_URL = SharedValue("backend", "ApiUrl")


def check_declared_name(what: str, name: object) -> str:
    """Declared names become logical IDs and AWS names: lowercase words joined by hyphens."""
    if not isinstance(name, str) or not full_match(DECLARED_NAME, name):
        raise DeclarationError(
            f"{what} name {name!r}: use lowercase letters and digits, words joined by '-'"
        )
    return name


def check_relative_folder(what: str, folder: object) -> str:
    """A folder inside the app's root (relative, no `..`, not the root itself)."""
    if not isinstance(folder, str) or not folder.strip() or folder.startswith(("/", "\\")):
        raise DeclarationError(f"{what} {folder!r} must be a folder relative to the app's root")
    parts = [part for part in folder.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts:
        raise DeclarationError(f"{what} {folder!r} is the app's root itself: name its folder")
    if ".." in parts:
        raise DeclarationError(f"{what} {folder!r} must stay inside the app's root")
    return folder


def check_whole(what: str, value: object, low: int, high: int, note: str = "") -> int:
    """A whole number (not a bool, not text) from `low` to `high`; `note` follows the range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DeclarationError(f"{what} must be a whole number")
    if not low <= value <= high:
        raise DeclarationError(f"{what} is {low} to {high}{note}")
    return value


def as_items(value: object, what: str, kind: type | tuple[type, ...], hint: str = "") -> tuple:
    """A tuple of `kind` from a tuple or list; one item alone is a mistake worth naming."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = " or ".join(k.__name__ for k in kinds)
    if isinstance(value, (*kinds, str)):
        raise DeclarationError(f"{what} takes a tuple of {names}: write ({value!r},)")
    if not isinstance(value, list | tuple):
        raise DeclarationError(f"{what} takes a tuple of {names}, not {value!r}")
    for item in value:
        if not isinstance(item, kinds):
            article = "an" if names[:1] in "AEIOU" else "a"
            raise DeclarationError(f"{what}: {item!r} is not {article} {names}{hint}")
    return tuple(value)
