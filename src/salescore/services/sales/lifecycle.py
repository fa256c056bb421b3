"""The lifecycle actions of an opportunity (move, win, lose, expire, reopen) and deleting.

Each is one transaction: the opportunity is locked, `If-Match` checked, the caller's right
to change it checked, the domain rule applied, the state and its one event stored. A move
into a lost stage takes a loss reason and note as losing does (`settle_loss`)."""

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from salescore.domain.events import DomainEvent
from salescore.domain.sales.opportunities import (
    Opportunity,
    check_can_edit,
    expire,
    lose,
    move,
    reopen,
    win,
)
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.sales.losses import settle_loss
from salescore.services.sales.opportunities import (
    check_receives,
    load_process,
    locked_for_change,
    now_utc,
    process_of_stage,
    store_change,
)

Action = Callable[[UnitOfWork, Opportunity], Awaitable[Opportunity]]


async def _act(uow: UnitOfWork, caller: Caller, opportunity_id: int, if_match: int | None,
               action: Action, *, placing: bool = True) -> Opportunity:
    """`action` on the locked opportunity; `placing` unless it leaves it in its stage."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, if_match,
                                         placing=placing)
        after = await store_change(uow, caller, before, await action(uow, before), now_utc())
        await uow.commit()
    return after


async def move_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                           stage_id: int, probability: Decimal | None = None,
                           loss_reason_id: int | None = None, loss_note: str | None = None,
                           if_match: int | None = None) -> Opportunity:
    """To another stage; a stage of another of the organization's processes takes the
    opportunity to that process. A lost stage takes the loss reason and note."""
    async def action(uow: UnitOfWork, before: Opportunity) -> Opportunity:
        process = await process_of_stage(uow, caller.organization_id, stage_id)
        if process.id != before.sales_process_id:
            check_receives(process, "stage_id")
        moved = move(before, process, stage_id, now=now_utc(), probability=probability)
        return await settle_loss(uow, caller.organization_id, before, moved, {
            "loss_reason_id": loss_reason_id, "loss_note": loss_note})

    return await _act(uow, caller, opportunity_id, if_match, action)


async def win_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                          stage_id: int | None = None,
                          if_match: int | None = None) -> Opportunity:
    async def action(uow: UnitOfWork, before: Opportunity) -> Opportunity:
        process = await load_process(uow, caller.organization_id, before.sales_process_id)
        return win(before, process, now=now_utc(), stage_id=stage_id)

    return await _act(uow, caller, opportunity_id, if_match, action)


async def lose_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                           loss_reason_id: int | None = None, loss_note: str | None = None,
                           stage_id: int | None = None,
                           if_match: int | None = None) -> Opportunity:
    async def action(uow: UnitOfWork, before: Opportunity) -> Opportunity:
        org = caller.organization_id
        process = await load_process(uow, org, before.sales_process_id)
        lost = lose(before, process, now=now_utc(), stage_id=stage_id)
        return await settle_loss(uow, org, before, lost, {
            "loss_reason_id": loss_reason_id, "loss_note": loss_note})

    return await _act(uow, caller, opportunity_id, if_match, action)


async def expire_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                             if_match: int | None = None) -> Opportunity:
    async def action(uow: UnitOfWork, before: Opportunity) -> Opportunity:
        return expire(before, now=now_utc())

    return await _act(uow, caller, opportunity_id, if_match, action, placing=False)


async def reopen_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                             stage_id: int | None = None,
                             if_match: int | None = None) -> Opportunity:
    async def action(uow: UnitOfWork, before: Opportunity) -> Opportunity:
        process = await load_process(uow, caller.organization_id, before.sales_process_id)
        return reopen(before, process, stage_id)

    return await _act(uow, caller, opportunity_id, if_match, action)


_HAS_ORDERS = "orders from the ERP are linked to this opportunity; it cannot be deleted"


def _tombstone(opportunity: Opportunity) -> DomainEvent:
    """What the change feed keeps of a deleted opportunity."""
    return DomainEvent("opportunity.deleted", "opportunity", opportunity.id, {
        "external_id": opportunity.external_id, "name": opportunity.name,
        "customer_id": opportunity.customer_id})


async def delete_opportunity(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                             if_match: int | None = None) -> None:
    require(caller, Scope.OPPORTUNITIES_WRITE)
    async with uow:
        opportunity = await locked_for_change(uow, caller, opportunity_id, if_match)
        if await uow.orders.opportunities_with_orders(caller.organization_id,
                                                      [opportunity.id]):
            raise Conflict(_HAS_ORDERS)
        await uow.opportunities.delete(caller.organization_id, [opportunity.id])
        uow.emit(caller.organization_id, caller.actor, _tombstone(opportunity))
        await uow.commit()


async def bulk_delete_opportunities(uow: UnitOfWork, *, caller: Caller,
                                    ids: Sequence[int]) -> int:
    """Delete all of `ids` or none: every id must name an opportunity of the organization
    that the caller may change."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    if len(set(ids)) != len(ids):
        raise InvalidInput.of("ids", "names an opportunity more than once")
    async with uow:
        found = {o.id: o for o in await uow.opportunities.lock_many(caller.organization_id,
                                                                    ids)}
        for index, opportunity_id in enumerate(ids):
            opportunity = found.get(opportunity_id)
            if opportunity is None:
                raise NotFound("opportunity", field=f"ids[{index}]")
            try:
                check_can_edit(caller, opportunity)
            except Forbidden:
                raise Forbidden(f"ids[{index}]: you may not delete opportunity "
                                f"{opportunity_id}; nothing was deleted") from None
        with_orders = await uow.orders.opportunities_with_orders(caller.organization_id,
                                                                 list(found))
        if with_orders:
            index = next(i for i, found_id in enumerate(ids) if found_id in with_orders)
            raise Conflict(f"ids[{index}]: {_HAS_ORDERS}; nothing was deleted")
        await uow.opportunities.delete(caller.organization_id, list(found))
        uow.emit(caller.organization_id, caller.actor,
                 *(_tombstone(found[i]) for i in ids))
        await uow.commit()
    return len(ids)
