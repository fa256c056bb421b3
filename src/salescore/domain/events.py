"""Domain events: what happened, in past tense, recorded in the event log."""

from dataclasses import dataclass, field, replace
from typing import Any

BOOKKEEPING = ("version", "updated_at", "updated_by")


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str
    aggregate_type: str
    aggregate_id: int
    data: dict[str, Any] = field(default_factory=dict)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose value differs, as `{field: {"from": old, "to": new}}`."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


def unchanged(before: Any, after: Any) -> bool:
    """True when a write left a record (a dataclass) as it was but for the bookkeeping
    every write updates: the write changed nothing, and is not kept (no new version, no
    event), so that repeating a call changes nothing either."""
    kept = {name: getattr(before, name) for name in BOOKKEEPING if hasattr(before, name)}
    same: bool = replace(after, **kept) == before
    return same
