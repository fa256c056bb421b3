"""Opportunities: create, read, list, change, upsert by external id, delete, history.

Rules chosen where the specs are silent:
- The default sales process is the owner's default (DOMAIN.md §4); for a user creating
  their own opportunity that is the caller's. A stage named without a process brings its
  process along.
- An upsert by external id creates with the body as a create would; on an existing record
  it changes only the fields the body carries, as a PATCH would.
- Changing the owner of an opportunity with one seller moves that seller along (§3 rule 2),
  which is a seller change like any other: an `opportunity.seller_changed` event beside the
  opportunity's own.
- Every way into a lost stage takes `loss_reason_id` and `loss_note` (see `give_loss`); a
  lost opportunity's reason may be corrected by PATCH or upsert, under the same checks.
- An upsert honours `If-Match` on the record there is; naming a version when there is none
  is 412.
- With `amount_source` lines the amount and margin follow the lines (domain/sales/lines.py):
  switching to it, or a new offer discount while on it, prices the opportunity from its
  lines in the same write.
- `expand=` embeds parts read in the same unit of work, one query per part for a whole
  page (EXPANSIONS); `sellers` are always there.
"""

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from salescore.domain.access.organization import Organization, check_currency
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    check_version,
)
from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.lines import (
    check_currency_kept,
    needs_repricing,
    priced,
    refuse_derived_writes,
)
from salescore.domain.sales.opportunities import (
    AmountSource,
    Opportunity,
    ProbabilitySource,
    Status,
    change_event,
    check_can_edit,
    move,
    place,
    seller_event,
    set_probability,
)
from salescore.domain.sales.processes import SalesProcess, StageKind, default_process_id
from salescore.domain.sales.shares import first_seller, follow_owner
from salescore.repositories.feed.events import StoredEvent
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.activities.follow_ups import schedule_follow_ups
from salescore.services.references import (
    RESOURCE_OF_FIELD,
    check_references,
    organization_checking,
)
from salescore.services.sales.losses import settle_loss

# Fields a client sets directly; stage, process, probability and owner go through rules.
PLAIN_FIELDS = ("name", "description", "customer_id", "contact_id", "type_id", "source_id",
                "campaign_id", "amount", "currency", "margin_amount", "expected_close_date",
                "project_ref", "external_id", "amount_source", "discount_percent")
# Those a create defaults otherwise than to null.
_DEFAULTED = {"amount", "currency", "amount_source", "discount_percent"}
# Parts `expand=` embeds: each loads its items for a page of opportunities in one query.
Parts = dict[int, list[Any]]
Loader = Callable[[UnitOfWork, int, Sequence[int]], Awaitable[Parts]]
EXPANSIONS: Mapping[str, Loader] = {
    "lines": lambda uow, org, ids: uow.opportunity_lines.for_opportunities(org, ids),
    "orders": lambda uow, org, ids: uow.orders.for_opportunities(org, ids),
}
# What reading each part needs beside `opportunities:read`.
EXPANSION_SCOPES: Mapping[str, Scope] = {"lines": Scope.OPPORTUNITIES_READ,
                                         "orders": Scope.ORDERS_READ}


def now_utc() -> datetime:
    return datetime.now(UTC)


async def load_process(uow: UnitOfWork, organization_id: int, process_id: int,
                       field: str = "sales_process_id") -> SalesProcess:
    """The process an opportunity is placed in, locked until the transaction ends (see
    OpportunityRepository.pipeline)."""
    process = await uow.opportunities.pipeline(organization_id, process_id, locked=True)
    if process is None:
        raise NotFound("sales process", field=field)
    return process


async def process_of_stage(uow: UnitOfWork, organization_id: int, stage_id: int,
                           field: str = "stage_id") -> SalesProcess:
    """The process a stage belongs to, locked as `load_process` locks it; a stage the
    organization lacks is not found."""
    process = await uow.opportunities.pipeline_of_stage(organization_id, stage_id,
                                                        locked=True)
    if process is None:
        raise NotFound("stage", field=field)
    return process


def check_receives(process: SalesProcess, field: str) -> None:
    """A process that is not active cannot receive opportunities (DOMAIN.md §4)."""
    if not process.active:
        raise InvalidInput.of(field, "is a sales process that is not active")


async def _process_for_new(uow: UnitOfWork, organization_id: int, owner_id: int,
                           values: dict[str, Any]) -> SalesProcess:
    if values.get("sales_process_id") is not None:
        process = await load_process(uow, organization_id, values["sales_process_id"])
    elif values.get("stage_id") is not None:
        process = await process_of_stage(uow, organization_id, values["stage_id"])
    else:
        chosen = default_process_id(
            await uow.sales_processes.default_candidates(organization_id, owner_id))
        if chosen is None:
            raise InvalidInput.of("sales_process_id", "the organization has no active sales "
                                                      "process with an open stage")
        process = await load_process(uow, organization_id, chosen)
    check_receives(process, "sales_process_id")
    return process


async def new_opportunity(uow: UnitOfWork, caller: Caller, values: dict[str, Any],
                          now: datetime) -> tuple[Opportunity, Organization]:
    """A new opportunity from a create request, not yet stored: defaults applied, every
    reference checked, placed in its stage, its owner its one seller; with the
    organization (read with the references, in one round trip)."""
    org = caller.organization_id
    owner_id = values.get("owner_id") or caller.user_id
    if owner_id is None:
        raise InvalidInput.of("owner_id", "is required when an API key creates an opportunity")
    organization = await organization_checking(uow, org, {**values, "owner_id": owner_id})
    process = await _process_for_new(uow, org, owner_id, values)
    stage = (process.first_stage(StageKind.OPEN) if values.get("stage_id") is None
             else process.stage(values["stage_id"]))
    if stage is None:
        raise InvalidInput.of("stage_id", "is not a stage of the sales process")
    currency = values.get("currency") or organization.base_currency
    plain: dict[str, Any] = {field: values.get(field) for field in PLAIN_FIELDS
                             if field not in _DEFAULTED}
    draft = Opportunity(
        id=0, organization_id=org, owner_id=owner_id, sales_process_id=process.id,
        stage_id=stage.id, last_open_stage_id=None, status=Status.OPEN,
        probability=stage.probability, probability_source=ProbabilitySource.STAGE,
        follow_up_date=values.get("follow_up_date"), previous_follow_up_date=None,
        loss_reason_id=None, loss_note=None, closed_at=None, created_at=now,
        created_by=caller.user_id, updated_at=now, updated_by=caller.user_id, version=1,
        sellers=first_seller(owner_id),
        **plain,
        amount=values.get("amount") or Decimal(0), currency=check_currency(currency),
        amount_source=values.get("amount_source") or AmountSource.MANUAL,
        discount_percent=values.get("discount_percent") or Decimal("0.00"))
    refuse_derived_writes(draft, values)
    if draft.amount_source is AmountSource.LINES:
        draft = priced(draft, ())
    placed = place(draft, stage, now=now, probability=values.get("probability"))
    return await settle_loss(uow, org, None, placed, values, organization), organization


async def create_opportunity(uow: UnitOfWork, *, caller: Caller,
                             values: dict[str, Any]) -> Opportunity:
    require(caller, Scope.OPPORTUNITIES_WRITE)
    async with uow:
        await uow.opportunities.hold_stages(caller.organization_id)
        if values.get("external_id") is not None and await uow.opportunities.id_by_external_id(
                caller.organization_id, values["external_id"]):
            raise Conflict(f"an opportunity with the external id {values['external_id']} "
                           "exists already")
        opportunity = await store_new_opportunity(uow, caller, values)
        await uow.commit()
    return opportunity


async def store_new_opportunity(uow: UnitOfWork, caller: Caller,
                                values: dict[str, Any]) -> Opportunity:
    """A new opportunity of a create's fields (see `new_opportunity`), stored in the unit
    of work the caller opened and commits, with its event and the follow-up and reminder
    tasks it calls for; the placing lock is taken first (see `hold_stages`)."""
    await uow.opportunities.hold_stages(caller.organization_id)
    now = now_utc()
    draft, organization = await new_opportunity(uow, caller, values, now)
    opportunity = replace(draft, id=await uow.opportunities.add(draft))
    event = change_event(None, opportunity)
    assert event is not None
    uow.emit(caller.organization_id, caller.actor, event)
    await schedule_follow_ups(uow, caller, None, opportunity, now, organization)
    return opportunity


async def get_opportunity(uow: UnitOfWork, *, caller: Caller,
                          opportunity_id: int) -> Opportunity:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow.reading():
        opportunity = await uow.opportunities.get(caller.organization_id, opportunity_id)
    if opportunity is None:
        raise NotFound("opportunity")
    return opportunity


async def list_opportunities(uow: UnitOfWork, *, caller: Caller,
                             query: ListQuery) -> Page[Opportunity]:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow.reading():
        return await uow.opportunities.list(caller.organization_id, query)


def _require_parts(caller: Caller, expand: Collection[str]) -> None:
    require(caller, Scope.OPPORTUNITIES_READ)
    for name in expand:
        require(caller, EXPANSION_SCOPES[name])


async def _parts(uow: UnitOfWork, organization_id: int, expand: Collection[str],
                 ids: Sequence[int]) -> dict[str, Parts]:
    return {name: await EXPANSIONS[name](uow, organization_id, ids) for name in expand}


async def get_expanded(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                       expand: Collection[str]) -> tuple[Opportunity, dict[str, Parts]]:
    """The opportunity with the parts `expand` names (keys of EXPANSIONS), by part and
    opportunity id; each part needs its scope (EXPANSION_SCOPES)."""
    _require_parts(caller, expand)
    async with uow.reading():
        opportunity = await uow.opportunities.get(caller.organization_id, opportunity_id)
        if opportunity is None:
            raise NotFound("opportunity")
        parts = await _parts(uow, caller.organization_id, expand, [opportunity.id])
    return opportunity, parts


async def list_expanded(uow: UnitOfWork, *, caller: Caller, query: ListQuery,
                        expand: Collection[str]) -> tuple[Page[Opportunity], dict[str, Parts]]:
    """A page of opportunities with the parts `expand` names: one query per part for the
    whole page."""
    _require_parts(caller, expand)
    async with uow.reading():
        page = await uow.opportunities.list(caller.organization_id, query)
        parts = await _parts(uow, caller.organization_id, expand,
                             [o.id for o in page.items])
    return page, parts


async def locked_for_change(uow: UnitOfWork, caller: Caller, opportunity_id: int,
                            if_match: int | None, *, placing: bool = False) -> Opportunity:
    """The opportunity, locked until the transaction ends, once the caller may change it
    and `If-Match` (if given) names its current version; `placing` for a change that
    places it in a stage (the placing lock is taken with the row's)."""
    opportunity = await uow.opportunities.get(caller.organization_id, opportunity_id,
                                              for_update=True, placing=placing)
    if opportunity is None:
        raise NotFound("opportunity")
    check_version(opportunity.version, if_match)
    check_can_edit(caller, opportunity)
    return opportunity


async def store_change(uow: UnitOfWork, caller: Caller, before: Opportunity,
                       after: Opportunity, now: datetime,
                       also: Mapping[str, Any] | None = None) -> Opportunity:
    """Save a changed opportunity with its one event, and `opportunity.seller_changed`
    when its sellers changed too; an unchanged one stays as it is (same version, no
    event). `also`: changes of its parts (a product line) that its event carries, and
    that give it a new version as a change of its own would."""
    events = [e for e in (change_event(before, after, also), seller_event(before, after))
              if e is not None]
    if not events:
        return before
    after = replace(after, updated_at=now, updated_by=caller.user_id,
                    version=before.version + 1)
    await uow.opportunities.save(before, after)
    uow.emit(caller.organization_id, caller.actor, *events)
    await schedule_follow_ups(uow, caller, before, after, now)
    return after


async def apply_changes(uow: UnitOfWork, caller: Caller, before: Opportunity,
                        values: dict[str, Any], now: datetime) -> Opportunity:
    """A PATCH's fields applied under the rules of DOMAIN.md §2."""
    org = caller.organization_id
    refs = {k: v for k, v in values.items() if k in RESOURCE_OF_FIELD and v is not None}
    if "contact_id" in refs or ("customer_id" in refs and before.contact_id is not None
                                and "contact_id" not in values):
        refs["contact_id"] = values.get("contact_id", before.contact_id)
        refs["customer_id"] = values.get("customer_id", before.customer_id)
    await check_references(uow, org, refs)
    after = replace(before, **{f: values[f] for f in PLAIN_FIELDS if f in values})
    if "currency" in values:
        check_currency(values["currency"])
    refuse_derived_writes(after, values)
    if after.currency != before.currency:
        check_currency_kept(before, after, await uow.opportunity_lines.count(org, before.id))
    if needs_repricing(before, after):
        after = priced(after, await uow.opportunity_lines.of_opportunity(org, before.id))
    if values.get("owner_id") is not None and values["owner_id"] != before.owner_id:
        after = replace(after, owner_id=values["owner_id"],
                        sellers=follow_owner(before.sellers, values["owner_id"]))
    if "follow_up_date" in values and values["follow_up_date"] != before.follow_up_date:
        after = replace(after, follow_up_date=values["follow_up_date"],
                        previous_follow_up_date=before.follow_up_date)
    process_id = values.get("sales_process_id")
    if process_id is not None and process_id != before.sales_process_id:
        if values.get("stage_id") is None:
            raise InvalidInput.of("stage_id", "is required when the sales process changes")
        process = await load_process(uow, org, process_id)
        check_receives(process, "sales_process_id")
        after = move(after, process, values["stage_id"], now=now,
                     probability=values.get("probability"))
    elif values.get("stage_id") is not None and values["stage_id"] != before.stage_id:
        process = await load_process(uow, org, before.sales_process_id)
        after = move(after, process, values["stage_id"], now=now,
                     probability=values.get("probability"))
    elif values.get("probability") is not None:
        after = set_probability(after, values["probability"])
    return await settle_loss(uow, org, before, after, values)


async def update_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                             values: dict[str, Any], if_match: int | None = None,
                             ) -> Opportunity:
    """Change the fields given (PATCH)."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    now = now_utc()
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, if_match)
        if values.get("external_id") not in (None, before.external_id) and (
                await uow.opportunities.id_by_external_id(caller.organization_id,
                                                          values["external_id"])):
            raise Conflict(f"an opportunity with the external id {values['external_id']} "
                           "exists already")
        after = await store_change(uow, caller, before,
                                   await apply_changes(uow, caller, before, values, now), now)
        await uow.commit()
    return after


async def upsert_opportunity(uow: UnitOfWork, *, caller: Caller, external_id: str,
                             values: dict[str, Any], if_match: int | None = None,
                             ) -> tuple[Opportunity, bool]:
    """Create or change the opportunity an integrator knows as `external_id`; True when it
    was created. Concurrent upserts of one external id are serialised by a lock on it.
    `If-Match` applies to the opportunity there is; naming a version when there is none
    is 412."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    now = now_utc()
    values = {**values, "external_id": external_id}
    async with uow:
        await uow.opportunities.lock_external_id(caller.organization_id, external_id)
        found = await uow.opportunities.id_by_external_id(caller.organization_id, external_id)
        if found is None:
            if if_match is not None:
                raise PreconditionFailed("no opportunity has this external id yet")
            opportunity = await store_new_opportunity(uow, caller, values)
        else:
            before = await locked_for_change(uow, caller, found, if_match)
            opportunity = await store_change(
                uow, caller, before, await apply_changes(uow, caller, before, values, now), now)
        await uow.commit()
    return opportunity, found is None


async def opportunity_history(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                              after_id: int | None, limit: int) -> list[StoredEvent]:
    """Every recorded change of the opportunity, oldest first: who, when, what from what."""
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow:
        if await uow.opportunities.get(caller.organization_id, opportunity_id) is None:
            raise NotFound("opportunity")
        return await uow.events.of_aggregate(caller.organization_id, "opportunity",
                                             opportunity_id, after_id=after_id, limit=limit)
