"""Domain events: what happened, in past tense, recorded in the event log."""

from dataclasses import dataclass, field
from typing import Any


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
