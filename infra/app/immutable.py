"""Declarations are immutable once made: an `App` checks them as a whole when it is made,
so a later change would slip past every check.

`@declaration` is `dataclass(eq=False)` plus a seal set when `__init__` returns, which
costs a third of what `dataclass(frozen=True)` costs to define (that difference is most of
what importing the declaration API costs, and every command pays it).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, TypeVar

T = TypeVar("T", bound=type)
SEALED = "_sealed"


class Immutable:
    """Refuses every change of an attribute once the instance is sealed."""

    def __setattr__(self, name: str, value: Any) -> None:
        if SEALED in self.__dict__:
            raise dataclasses.FrozenInstanceError(
                f"{type(self).__name__} is immutable once declared: declare a new one"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"{type(self).__name__} is immutable")


def declaration(cls: T) -> T:
    """A dataclass of `Immutable` whose instances seal themselves after `__init__`."""
    cls = dataclasses.dataclass(eq=False)(cls)
    init = cls.__init__

    @functools.wraps(init)
    def sealing_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        object.__setattr__(self, SEALED, True)

    cls.__init__ = sealing_init  # type: ignore[misc]
    return cls
