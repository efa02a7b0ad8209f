"""Allowances: a person lets one blocking finding through, by name, and it is said aloud.

`--allow STACK:LOGICAL_ID:KIND` (repeatable; or `INFRA_GATE_ALLOW`, entries separated by
spaces) on `gate`, `deploy` and `diff`. Only findings of an allowable kind can be allowed:

- `retention`: DeletionPolicy or UpdateReplacePolicy leaving Retain;
- `deletion-protection`: a table's or user pool's (or database's) deletion protection
  going from on to off;
- `queue`: replacing or removing a queue that holds messages or serves as a dead-letter queue.

Replacing or removing a table, user pool, bucket, key or repository is never allowable: change
the template, or migrate the data first. An allowance is strict: a malformed one is a usage
error, and one that matches nothing the gate found for its stack is an error too, so a typo
or a stale allowance cannot linger until it lets something else through. Every finding an
allowance lets through is still printed, as "allowed by --allow ...".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from infra.constants import NO_GATE_ALLOWANCE
from infra.errors import InfraError, UsageError
from infra.gate.stateful import Finding

ENVIRONMENT_VARIABLE = "INFRA_GATE_ALLOW"
NONE = NO_GATE_ALLOWANCE
ALLOWABLE: dict[str, str] = {
    "retention": "retain",
    "deletion-protection": "protection",
    "queue": "queue",
}
"""Allowance kind -> the finding kind it lets through."""


@dataclass(frozen=True)
class Allowance:
    stack: str
    logical_id: str
    kind: str

    @property
    def text(self) -> str:
        return f"{self.stack}:{self.logical_id}:{self.kind}"

    def matches(self, stack: str, finding: Finding) -> bool:
        return (
            stack == self.stack
            and finding.logical_id == self.logical_id
            and finding.kind == ALLOWABLE[self.kind]
        )


def parse_allowance(text: str) -> Allowance:
    parts = text.strip().split(":")
    kinds = ", ".join(ALLOWABLE)
    if len(parts) != 3 or not all(parts):
        raise UsageError(f"--allow {text}: expected STACK:LOGICAL_ID:KIND (KIND one of {kinds})")
    stack, logical_id, kind = parts
    if kind not in ALLOWABLE:
        raise UsageError(f"--allow {text}: unknown kind {kind!r}; one of {kinds}")
    return Allowance(stack, logical_id, kind)


@dataclass
class Allowances:
    """The allowances of one run and which of them matched something."""

    entries: tuple[Allowance, ...] = ()
    used: set[Allowance] = field(default_factory=set)
    checked: set[str] = field(default_factory=set)  # stacks the gate has judged

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Allowances:
        """Entries separated by spaces; `none` (the pipeline variable's default) is no entry."""
        words = [word for text in texts for word in text.split()]
        entries = tuple(
            dict.fromkeys(parse_allowance(word) for word in words if word.lower() != NONE)
        )
        return cls(entries)

    def for_stack(self, stack: str) -> list[Allowance]:
        return [entry for entry in self.entries if entry.stack == stack]

    def apply(self, stack: str, findings: list[Finding]) -> tuple[list[Finding], list[str]]:
        """(findings still blocking, lines for the allowed ones); strict about unused entries.

        Raises InfraError when an allowance for `stack` matched none of its findings.
        """
        self.checked.add(stack)
        mine = self.for_stack(stack)
        blocking, allowed = [], []
        for finding in findings:
            by = next((entry for entry in mine if entry.matches(stack, finding)), None)
            if by is None:
                blocking.append(finding)
            else:
                self.used.add(by)
                allowed.append(f"allowed by --allow {by.text}: {finding.line}")
        unused = [entry.text for entry in mine if entry not in self.used]
        if unused:
            raise InfraError(
                f"{stack}: --allow {', '.join(unused)} matches nothing the gate found; "
                "remove it (an allowance must name a blocked finding)"
            )
        return blocking, allowed

    def require_stacks(self, stacks: Iterable[str]) -> None:
        """Every allowance names one of the stacks this command works on."""
        known = list(stacks)
        for entry in self.entries:
            if entry.stack not in known:
                raise UsageError(
                    f"--allow {entry.text}: {entry.stack} is not a stack this command "
                    f"works on ({', '.join(known)})"
                )

    def unchecked(self) -> list[Allowance]:
        """Allowances for stacks the gate never judged (no changes there): they matched nothing."""
        return [entry for entry in self.entries if entry.stack not in self.checked]

    def require_all_checked(self) -> None:
        left = self.unchecked()
        if left:
            names = ", ".join(entry.text for entry in left)
            raise InfraError(
                f"--allow {names}: matches nothing (the stack had no changes); remove it"
            )
