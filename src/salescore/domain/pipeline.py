"""Sales processes (pipelines) and their stages (DOMAIN.md §4)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class StageKind(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Stage:
    id: int
    sales_process_id: int
    name: str
    position: int
    probability: Decimal
    kind: StageKind
    color: str | None = None
    marks_quote_signed: bool = False


@dataclass(frozen=True, slots=True)
class DefaultFor:
    """Whom a process is the default for: everybody, or named users, regions, departments."""

    all: bool = False
    user_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()
    sales_region_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SalesProcess:
    id: int
    organization_id: int
    name: str
    active: bool
    note: str | None
    default_for: DefaultFor
    stages: tuple[Stage, ...]
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int
    in_use: int = 0
    stage_ids: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stage_ids", frozenset(s.id for s in self.stages))

    @property
    def stage_count(self) -> int:
        return len(self.stages)

    def stage(self, stage_id: int) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def first_stage(self, kind: StageKind) -> Stage | None:
        """The first stage of `kind` in the process's order."""
        return next((s for s in sorted(self.stages, key=lambda s: s.position)
                     if s.kind is kind), None)


@dataclass(frozen=True, slots=True)
class DefaultCandidate:
    """An active process and what it is marked default for, as seen by one user."""

    process_id: int
    for_user: bool
    for_region: bool
    for_department: bool
    for_all: bool


def default_process_id(candidates: Sequence[DefaultCandidate]) -> int | None:
    """The process a new opportunity gets when none is named: the one marked default for
    the user; else for the user's sales region; else for the user's department; else for
    all; else the active process with the lowest id. Ties at one level go to the lowest id
    (DOMAIN.md §4). `candidates` are the organization's active processes."""
    for level in ("for_user", "for_region", "for_department", "for_all"):
        matching = [c.process_id for c in candidates if getattr(c, level)]
        if matching:
            return min(matching)
    return min((c.process_id for c in candidates), default=None)
