"""Typed grants: a function may use these actions on this declared resource.

A grant is made by the resource it is on (`table.grant(dynamodb.GetItem)`,
`bucket.objects("incoming/").grant(s3.PutObject)`), so the library never reads a name
it must know. The backend stack turns each target into the narrowest ARNs its
service accepts; `Unscoped` is for services that accept no resource at all, and
says why.
"""

from __future__ import annotations

from collections.abc import Iterable

from awacs.aws import Action

from infra.app.immutable import Immutable, declaration
from infra.errors import DeclarationError
from infra.naming import full_match, pascal

SERVICE = r"[a-z0-9-]{2,40}"
# Services whose resources an app declares: their grants are on those resources.
SCOPED_SERVICES = frozenset({"dynamodb", "s3", "sns", "sqs", "cognito-idp"})


class GrantTarget:
    """What a grant may be on; each subclass names its service and its statement's Sid."""

    service: str

    @property
    def sid_stem(self) -> str:
        raise NotImplementedError

    def grant(self, *actions: Action) -> Grant:
        return Grant(self, tuple(actions))


@declaration
class Grant(Immutable):
    """`actions` on `target`: one Allow statement in the function's role."""

    target: GrantTarget
    actions: tuple[Action, ...]

    def __post_init__(self) -> None:
        check_actions(self.target, self.actions)

    @property
    def sid(self) -> str:
        return f"{self.target.sid_stem}Access"


def check_actions(target: GrantTarget, actions: Iterable[object]) -> None:
    """Actions of the target's own service, named one by one (no wildcards)."""
    actions = list(actions)
    if not actions:
        raise DeclarationError(f"a grant on {target.sid_stem} names no action")
    for action in actions:
        if not isinstance(action, Action):
            raise DeclarationError(
                f"grant on {target.sid_stem}: {action!r} is not an awacs action "
                "(use e.g. awacs.dynamodb.GetItem)"
            )
        if action.prefix != target.service:
            raise DeclarationError(
                f"grant on {target.sid_stem}: {action.JSONrepr()} is not one of "
                f"{target.service}'s actions"
            )
        if "*" in action.action:
            raise DeclarationError(
                f"grant on {target.sid_stem}: {action.JSONrepr()}: name each action, no wildcards"
            )


@declaration
class Unscoped(GrantTarget, Immutable):
    """A service whose actions accept no narrower resource than `*`; `reason` says so."""

    service: str
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.service, str) or not full_match(SERVICE, self.service):
            raise DeclarationError(f"Unscoped({self.service!r}): a service prefix like 'xray'")
        if self.service in SCOPED_SERVICES:
            raise DeclarationError(
                f"Unscoped({self.service!r}): grant on the declared resource instead "
                "(table.grant, bucket.objects(...).grant, topic.grant, queue.grant, ...)"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise DeclarationError(f"Unscoped({self.service!r}) needs the reason '*' is required")

    @property
    def sid_stem(self) -> str:
        return pascal(self.service)
