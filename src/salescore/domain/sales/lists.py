"""Organization-defined lists: opportunity types, sources and loss reasons (DOMAIN.md §1).

Each list is ordered: its items stand at positions 1..n without gaps, so that a position is
also the item's rank. Placing an item at a position moves the items from there on down by
one; removing one closes the gap."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from salescore.domain.errors import InvalidInput


class ListKind(StrEnum):
    OPPORTUNITY_TYPE = "opportunity_type"
    SOURCE = "source"
    LOSS_REASON = "loss_reason"

    @property
    def label(self) -> str:
        """The kind in words, for messages: `loss reason`."""
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class ListItem:
    id: int
    organization_id: int
    kind: ListKind
    name: str
    position: int
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


def placed(order: Sequence[int], item_id: int, position: int | None) -> list[int]:
    """The list's ids in their new order once `item_id` stands at `position` (1 is first).
    No position, or one past the end, puts the item last; the others keep their order."""
    rest = [i for i in order if i != item_id]
    index = len(rest) if position is None else min(max(position, 1), len(rest) + 1) - 1
    return [*rest[:index], item_id, *rest[index:]]


def check_full_order(current: Collection[int], requested: Sequence[int]) -> list[int]:
    """A re-ordering names every item of the list exactly once, and nothing else."""
    if len(set(requested)) != len(requested):
        raise InvalidInput.of("ids", "names an item more than once")
    unknown = sorted(set(requested) - set(current))
    if unknown:
        raise InvalidInput.of("ids", f"{unknown[0]} is not an item of this list")
    missing = sorted(set(current) - set(requested))
    if missing:
        raise InvalidInput.of("ids", f"must name every item of the list; {missing[0]} is "
                                     "missing")
    return list(requested)


def moves(positions: Mapping[int, int], order: Sequence[int]) -> dict[int, tuple[int, int]]:
    """The items whose position changes when the list takes `order`: id -> (from, to).
    An id of `order` that has no position yet (a new item) is not a move."""
    return {item_id: (positions[item_id], index)
            for index, item_id in enumerate(order, start=1)
            if item_id in positions and positions[item_id] != index}
