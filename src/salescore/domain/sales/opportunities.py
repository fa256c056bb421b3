"""The opportunity and its lifecycle (DOMAIN.md §2): stages, statuses, probability, closing,
reopening, and the event each change leaves in the log. What it takes from its product
lines (amount source, offer discount, lines total) is ruled in lines.py."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from salescore.domain.access.permissions import Caller, Role
from salescore.domain.errors import Conflict, Forbidden, InvalidInput
from salescore.domain.events import DomainEvent, changes
from salescore.domain.sales.lists import ListItem
from salescore.domain.sales.processes import SalesProcess, Stage, StageKind
from salescore.domain.sales.shares import Seller, as_percent

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class Status(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"
    EXPIRED = "expired"


class ProbabilitySource(StrEnum):
    STAGE = "stage"
    MANUAL = "manual"


class AmountSource(StrEnum):
    """Where the amount and margin come from: typed in, or derived from the lines."""

    MANUAL = "manual"
    LINES = "lines"


STATUS_OF_KIND = {StageKind.OPEN: Status.OPEN, StageKind.WON: Status.WON,
                  StageKind.LOST: Status.LOST}


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: int
    organization_id: int
    name: str
    description: str | None
    customer_id: int
    contact_id: int | None
    owner_id: int
    sales_process_id: int
    stage_id: int
    last_open_stage_id: int | None
    status: Status
    type_id: int | None
    source_id: int | None
    campaign_id: int | None
    amount: Decimal
    currency: str
    probability: Decimal
    probability_source: ProbabilitySource
    margin_amount: Decimal | None
    expected_close_date: date | None
    follow_up_date: date | None
    previous_follow_up_date: date | None
    loss_reason_id: int | None
    loss_note: str | None
    closed_at: datetime | None
    project_ref: str | None
    external_id: str | None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int
    amount_source: AmountSource = AmountSource.MANUAL
    discount_percent: Decimal = Decimal("0.00")
    lines_total: Decimal = Decimal("0.00")
    ordered_amount: Decimal | None = None  # kept by the orders, never by an opportunity write
    sellers: tuple[Seller, ...] = ()

    @property
    def is_final(self) -> bool:
        return self.status is not Status.OPEN

    @property
    def weighted_amount(self) -> Decimal:
        return weighted_amount(self.amount, self.probability)

    @property
    def margin_percent(self) -> Decimal | None:
        return margin_percent(self.amount, self.margin_amount)


def weighted_amount(amount: Decimal, probability: Decimal) -> Decimal:
    """What an opportunity adds to the forecast: amount times probability / 100, rounded
    half-even to the cent (the database computes the stored column the same way)."""
    return (amount * probability / HUNDRED).quantize(CENT, rounding=ROUND_HALF_EVEN)


def margin_percent(amount: Decimal, margin: Decimal | None) -> Decimal | None:
    """The margin as a percentage of the amount, two decimals half-even; none without a
    margin or with a zero amount."""
    if margin is None or amount == 0:
        return None
    return (margin * HUNDRED / amount).quantize(CENT, rounding=ROUND_HALF_EVEN)


def check_can_edit(caller: Caller, opportunity: Opportunity) -> None:
    """Managers, admins and integration keys (holding the write scope) edit every
    opportunity; a seller edits those they own or hold a share in (DOMAIN.md, issue 3)."""
    if caller.role is not Role.SELLER:
        return
    if caller.user_id == opportunity.owner_id or any(
            s.user_id == caller.user_id for s in opportunity.sellers):
        return
    raise Forbidden("sellers may change only the opportunities they own or share in")


def place(opportunity: Opportunity, stage: Stage, *, now: datetime,
          probability: Decimal | None = None) -> Opportunity:
    """Put an opportunity in `stage`. The stage's kind sets the status: a won stage means
    won at 100 %, a lost stage lost at 0 %, both closing it now. In an open stage the
    probability follows the stage unless the same request names one, which is then manual."""
    if stage.sales_process_id != opportunity.sales_process_id:
        raise InvalidInput.of("stage_id", "is not a stage of the opportunity's sales process")
    status = STATUS_OF_KIND[stage.kind]
    if status is Status.WON:
        chance, source = HUNDRED, ProbabilitySource.STAGE
    elif status is Status.LOST:
        chance, source = Decimal(0), ProbabilitySource.STAGE
    elif probability is not None:
        chance, source = probability, ProbabilitySource.MANUAL
    else:
        chance, source = stage.probability, ProbabilitySource.STAGE
    last_open = opportunity.stage_id if opportunity.status is Status.OPEN else (
        opportunity.last_open_stage_id)
    if status is Status.OPEN:
        last_open = stage.id
    return replace(
        opportunity, stage_id=stage.id, status=status, probability=chance,
        probability_source=source, last_open_stage_id=last_open,
        closed_at=None if status is Status.OPEN else (opportunity.closed_at or now))


def set_probability(opportunity: Opportunity, probability: Decimal) -> Opportunity:
    """A seller may set the probability by hand at any time while the opportunity is open;
    it is then recorded as manual until the next stage change."""
    if opportunity.is_final:
        raise Conflict("a closed opportunity keeps its probability; reopen it first")
    return replace(opportunity, probability=probability,
                   probability_source=ProbabilitySource.MANUAL)


def move(opportunity: Opportunity, process: SalesProcess, stage_id: int, *, now: datetime,
         probability: Decimal | None = None) -> Opportunity:
    """Move to another stage, of this process or of another (which then becomes the
    opportunity's process). A closed opportunity must be reopened first."""
    if opportunity.is_final:
        raise Conflict(f"the opportunity is {opportunity.status.value}; reopen it before "
                       "moving it")
    stage = _stage_of(process, stage_id, "stage_id")
    if process.id != opportunity.sales_process_id:
        opportunity = replace(opportunity, sales_process_id=process.id)
    return place(opportunity, stage, now=now, probability=probability)


def win(opportunity: Opportunity, process: SalesProcess, *, now: datetime,
        stage_id: int | None = None) -> Opportunity:
    """Close as won: in the named won stage, or the process's first won stage."""
    return _close(opportunity, process, StageKind.WON, stage_id, now)


def lose(opportunity: Opportunity, process: SalesProcess, *, now: datetime,
         stage_id: int | None = None) -> Opportunity:
    """Close as lost, in the named lost stage or the process's first one; the reason
    comes with `give_loss`, as on every way into a lost stage."""
    return _close(opportunity, process, StageKind.LOST, stage_id, now)


def gives_loss_reason(before: Opportunity | None, after: Opportunity,
                      loss_reason_id: int | None) -> bool:
    """Whether a write gives the opportunity its loss reason: it goes into a lost stage
    (by losing, moving, PATCH, create or upsert), or a lost one's reason changes."""
    return after.status is Status.LOST and (
        before is None or before.status is not Status.LOST
        or before.loss_reason_id != loss_reason_id)


def give_loss(before: Opportunity | None, after: Opportunity, *, loss_reason_id: int | None,
              loss_note: str | None, reason: ListItem | None,
              reason_required: bool) -> Opportunity:
    """The loss reason and note of a write (DOMAIN.md §2): only a lost opportunity has
    them. A reason it is given (`reason`, the list item `loss_reason_id` names) must be
    active, and one must be given when the organization requires it. A lost opportunity
    keeps the reason it has while a write leaves it as it is, even once that reason is
    deactivated or reasons become required: its loss stays as it was recorded."""
    if after.status is not Status.LOST:
        for field, value in (("loss_reason_id", loss_reason_id), ("loss_note", loss_note)):
            if value is not None:
                raise InvalidInput.of(field, "is only for an opportunity in a lost stage")
        return after
    if gives_loss_reason(before, after, loss_reason_id):
        if loss_reason_id is None and reason_required:
            raise InvalidInput.of("loss_reason_id",
                                  "is required by the organization's settings")
        if loss_reason_id is not None and (reason is None or not reason.active):
            raise InvalidInput.of("loss_reason_id", "is a loss reason that is not active")
    return replace(after, loss_reason_id=loss_reason_id, loss_note=loss_note)


def expire(opportunity: Opportunity, *, now: datetime) -> Opportunity:
    """The chance simply ran out: a final status that keeps the stage; closed now."""
    _refuse_final(opportunity, "expire")
    return replace(opportunity, status=Status.EXPIRED, closed_at=now)


def reopen(opportunity: Opportunity, process: SalesProcess,
           stage_id: int | None = None) -> Opportunity:
    """Back to open, in the named open stage or else the last open stage it was in (or the
    process's first open stage when that one is gone), with that stage's probability;
    closed at, loss reason and loss note are cleared."""
    if not opportunity.is_final:
        raise Conflict("the opportunity is open already")
    if stage_id is None:
        remembered = (process.stage(opportunity.last_open_stage_id)
                      if opportunity.last_open_stage_id else None)
        stage = remembered if remembered and remembered.kind is StageKind.OPEN else (
            process.first_stage(StageKind.OPEN))
        if stage is None:
            raise Conflict("the sales process has no open stage")
    else:
        stage = _stage_of(process, stage_id, "stage_id")
        if stage.kind is not StageKind.OPEN:
            raise InvalidInput.of("stage_id", "must be an open stage to reopen in")
    return replace(opportunity, status=Status.OPEN, stage_id=stage.id,
                   probability=stage.probability, probability_source=ProbabilitySource.STAGE,
                   last_open_stage_id=stage.id, closed_at=None, loss_reason_id=None,
                   loss_note=None)


def _close(opportunity: Opportunity, process: SalesProcess, kind: StageKind,
           stage_id: int | None, now: datetime) -> Opportunity:
    _refuse_final(opportunity, "win" if kind is StageKind.WON else "lose")
    if stage_id is None:
        stage = process.first_stage(kind)
        if stage is None:
            raise Conflict(f"the sales process has no {kind.value} stage")
    else:
        stage = _stage_of(process, stage_id, "stage_id")
        if stage.kind is not kind:
            raise InvalidInput.of("stage_id", f"must be a {kind.value} stage")
    return place(opportunity, stage, now=now)


def _refuse_final(opportunity: Opportunity, action: str) -> None:
    if opportunity.is_final:
        raise Conflict(f"the opportunity is {opportunity.status.value}; reopen it before "
                       f"you {action} it")


def _stage_of(process: SalesProcess, stage_id: int, field: str) -> Stage:
    stage = process.stage(stage_id)
    if stage is None:
        raise InvalidInput.of(field, "is not a stage of the sales process")
    return stage


EVENT_OF_STATUS = {Status.WON: "opportunity.won", Status.LOST: "opportunity.lost",
                   Status.EXPIRED: "opportunity.expired"}


RECORDED = ("name", "description", "customer_id", "contact_id", "owner_id",
            "sales_process_id", "stage_id", "status", "type_id", "source_id", "campaign_id",
            "amount", "currency", "probability", "probability_source", "margin_amount",
            "expected_close_date", "follow_up_date", "previous_follow_up_date",
            "loss_reason_id", "loss_note", "closed_at", "project_ref", "external_id",
            "amount_source", "discount_percent", "lines_total", "weighted_amount")


def _recorded(value: Any) -> Any:
    """A field's value as the event records it (money as "25.00")."""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def snapshot(opportunity: Opportunity) -> dict[str, Any]:
    """The recorded fields of an opportunity as JSON values (money as "25.00")."""
    return {name: _recorded(getattr(opportunity, name)) for name in RECORDED}


def recorded_changes(before: Opportunity, after: Opportunity) -> dict[str, dict[str, Any]]:
    """`changes(snapshot(before), snapshot(after))`, worked out only for the fields whose
    values differ: equal values of one type record the same (a datetime only with the
    same offset), so a change of one field costs one conversion, not fifty-six."""
    diff = {}
    for name in RECORDED:
        old, new = getattr(before, name), getattr(after, name)
        if old == new and type(old) is type(new) and (
                not isinstance(old, datetime) or old.utcoffset() == new.utcoffset()):
            continue
        was, now = _recorded(old), _recorded(new)
        if was != now:
            diff[name] = {"from": was, "to": now}
    return diff


def change_event(before: Opportunity | None, after: Opportunity,
                 also: Mapping[str, Any] | None = None) -> DomainEvent | None:
    """The one event a change leaves: created; won, lost, expired or reopened when the
    status changed; stage_changed when the stage did; else updated. Its data holds every
    changed field as {"from", "to"}, and the opportunity's name; `also` adds changes of
    its parts (a product line: see lines.line_changes). No event when nothing changed."""
    diff = (recorded_changes(before, after) if before else changes({}, snapshot(after))
            ) | dict(also or {})
    if before is None:
        kind = "opportunity.created"
    elif not diff:
        return None
    elif after.status is not before.status:
        kind = EVENT_OF_STATUS.get(after.status, "opportunity.reopened")
    elif after.stage_id != before.stage_id:
        kind = "opportunity.stage_changed"
    else:
        kind = "opportunity.updated"
    return DomainEvent(kind, "opportunity", after.id, {"changes": diff, "name": after.name})


def seller_event(before: Opportunity, after: Opportunity) -> DomainEvent | None:
    """`opportunity.seller_changed` with the sellers from and to, whatever changed them
    (a seller added, removed or given another share; a sole seller following a new
    owner); none when the sellers are as they were."""
    if after.sellers == before.sellers:
        return None

    def listed(sellers: tuple[Seller, ...]) -> list[dict[str, Any]]:
        return [{"user_id": s.user_id, "share": str(as_percent(s.share))} for s in sellers]

    return DomainEvent("opportunity.seller_changed", "opportunity", after.id, {
        "changes": {"sellers": {"from": listed(before.sellers), "to": listed(after.sellers)}},
        "name": after.name})
