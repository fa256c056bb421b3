"""Sales processes (pipelines) and their stages (DOMAIN.md §4).

Rules chosen where the specs are silent:
- Stage positions run 1..n without gaps; adding, removing and re-ordering renumber them.
- At most one stage of a process marks a signed quote; marking another stage moves the mark.
- A stage's kind cannot change while opportunities stand on it (their status would no
  longer match their stage), and a process always keeps at least one open stage.
- Opportunities of a removed stage go to a stage of the same process and the same kind, so
  that their status stays right; there they take the probability the stage gives.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from salescore.domain.errors import Conflict, FieldError, InvalidInput
from salescore.domain.events import DomainEvent, changes

HUNDRED = Decimal(100)
MAX_STAGES = 100
CENT = Decimal("0.01")


class StageKind(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class ProcessView(StrEnum):
    """Which processes a list shows: the active ones (the default), the caller's (created
    or last saved by them), the others', the deactivated ones, or all."""

    ACTIVE = "active"
    MINE = "mine"
    NOT_MINE = "not_mine"
    INACTIVE = "inactive"
    ALL = "all"


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
    in_use: int = 0


@dataclass(frozen=True, slots=True)
class StageDraft:
    """A stage as a client describes it, before it is stored."""

    name: str
    probability: Decimal
    kind: StageKind = StageKind.OPEN
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


def check_probability(value: Decimal, field: str = "probability") -> Decimal:
    """A probability is a percentage from 0 to 100 with at most two decimals."""
    if not value.is_finite() or not HUNDRED >= value >= 0:
        raise InvalidInput.of(field, "must be between 0 and 100")
    if value != value.quantize(CENT):
        raise InvalidInput.of(field, "must have at most two decimals")
    return value


def check_name(name: str, field: str = "name") -> str:
    """Names are not empty (nor only blanks)."""
    if not name.strip():
        raise InvalidInput.of(field, "must not be empty")
    return name


def probability_at(stage: Stage) -> Decimal:
    """The probability an opportunity takes from its stage: 100 % at a won stage, 0 % at a
    lost one, the stage's default at an open one (DOMAIN.md §2)."""
    if stage.kind is StageKind.WON:
        return HUNDRED
    if stage.kind is StageKind.LOST:
        return Decimal(0)
    return stage.probability


def check_room_for_a_stage(process: SalesProcess) -> None:
    """A process holds at most `MAX_STAGES` stages, as many as one may be created with."""
    if len(process.stages) >= MAX_STAGES:
        raise InvalidInput.of("stages", f"a sales process holds at most {MAX_STAGES} stages")


def check_new_stages(drafts: Sequence[StageDraft], field: str = "stages") -> None:
    """A new process has at least one open stage and at most one stage marking a signed
    quote; each stage has a name and a probability from 0 to 100."""
    for n, draft in enumerate(drafts):
        check_name(draft.name, f"{field}.{n}.name")
        check_probability(draft.probability, f"{field}.{n}.probability")
    if not any(d.kind is StageKind.OPEN for d in drafts):
        raise InvalidInput.of(field, "a sales process needs at least one open stage")
    marked = [n for n, d in enumerate(drafts) if d.marks_quote_signed]
    if len(marked) > 1:
        raise InvalidInput(*(FieldError(f"{field}.{n}.marks_quote_signed",
                                        "only one stage may mark a signed quote")
                             for n in marked[1:]))


def insert_position(process: SalesProcess, position: int | None) -> int:
    """Where a new stage goes: last unless a position 1..n+1 is given; the stages at or
    after it move one down."""
    last = process.stage_count + 1
    if position is None:
        return last
    if not 1 <= position <= last:
        raise InvalidInput.of("position", f"must be between 1 and {last}")
    return position


def quote_mark_holder(process: SalesProcess, stage_id: int | None) -> Stage | None:
    """The stage that loses the signed-quote mark when `stage_id` takes it (or a new stage,
    `None`): only one stage of a process marks a signed quote, so the mark moves."""
    return next((s for s in process.stages if s.marks_quote_signed and s.id != stage_id), None)


def _open_stages(process: SalesProcess) -> list[Stage]:
    return [s for s in process.stages if s.kind is StageKind.OPEN]


def check_kind_change(process: SalesProcess, stage: Stage, kind: StageKind) -> None:
    """A stage opportunities stand on keeps its kind, so their status keeps matching it; the
    last open stage of a process stays open."""
    if kind is stage.kind:
        return
    if stage.in_use:
        raise Conflict(f"the stage is used by {stage.in_use} opportunities; its kind cannot "
                       "change while they stand on it")
    if stage.kind is StageKind.OPEN and len(_open_stages(process)) == 1:
        raise InvalidInput.of("kind", "a sales process needs at least one open stage")


def check_order(process: SalesProcess, stage_ids: Sequence[int]) -> tuple[int, ...]:
    """A new order names every stage of the process exactly once."""
    if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != process.stage_ids:
        raise InvalidInput.of("stage_ids", "must name every stage of the sales process "
                                           "exactly once")
    return tuple(stage_ids)


def check_removal(process: SalesProcess, stage: Stage, move_to: int | None) -> Stage | None:
    """Whether `stage` may go, and where its opportunities go: a stage in use goes only when
    `move_to` names another stage of the same process and kind; the last open stage stays.
    Returns the stage the opportunities move to, if one was named."""
    if stage.kind is StageKind.OPEN and len(_open_stages(process)) == 1:
        raise InvalidInput.of("stage_id", "a sales process needs at least one open stage")
    target = None
    if move_to is not None:
        target = process.stage(move_to)
        if target is None:
            raise InvalidInput.of("move_to", "must be a stage of the same sales process")
        if target.id == stage.id:
            raise InvalidInput.of("move_to", "must be another stage than the one removed")
        if target.kind is not stage.kind:
            raise InvalidInput.of("move_to", f"must be a stage of kind {stage.kind.value}, "
                                             "like the one removed")
    elif stage.in_use:
        raise Conflict(f"the stage is used by {stage.in_use} opportunities; name the stage "
                       "they move to with move_to")
    return target


@dataclass(frozen=True, slots=True)
class MovedOpportunity:
    """An opportunity as it stood on a stage being removed."""

    id: int
    probability: Decimal
    probability_source: str


def stage_removed_event(moved: MovedOpportunity, removed: Stage, target: Stage) -> DomainEvent:
    """The history entry of an opportunity moved off a removed stage: its new stage, and
    the probability that stage gives it (its source becomes the stage)."""
    before = {"stage_id": removed.id, "probability": str(moved.probability.quantize(CENT)),
              "probability_source": moved.probability_source}
    after = {"stage_id": target.id, "probability": str(probability_at(target).quantize(CENT)),
             "probability_source": "stage"}
    return DomainEvent("opportunity.stage_changed", "opportunity", moved.id,
                       {"changes": changes(before, after), "reason": "stage_removed"})


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
