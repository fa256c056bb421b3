"""Orders an ERP made from opportunities and linked back to them (see
domain/sales/orders.py for the rules).

ERPs link them with API keys holding `orders:write` (admins and managers hold it too;
sellers only read them, `orders:read`). An opportunity of any status takes orders. A link
is an upsert by the ERP's key (`system`, `order_number`): it creates the order (201) or
replaces its terms (200); the same terms again write nothing (no new version, no event).
`If-Match` applies to the order there is; naming a version when there is none is 412. Every
write that changes an order stores the opportunity's `ordered_amount` in its transaction,
without giving the opportunity a new version."""

from datetime import datetime
from decimal import Decimal

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, PreconditionFailed, check_version
from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.orders import (
    Order,
    check_converted,
    check_same_opportunity,
    check_summable,
    linked_event,
    order_terms,
    updated_event,
)
from salescore.repositories.unit_of_work import UnitOfWork

# How often a link looks again when the order it did not find was linked meanwhile.
LINK_ATTEMPTS = 3


def _check_precondition(before: Order | None, if_match: int | None) -> None:
    if before is not None:
        check_version(before.version, if_match)
    elif if_match is not None:
        raise PreconditionFailed("no order has this number yet")


async def link_order(uow: UnitOfWork, *, caller: Caller, opportunity_id: int, system: str,
                     order_number: str, amount: Decimal, currency: str | None = None,
                     status: str | None = None, url: str | None = None,
                     ordered_at: datetime | None = None,
                     if_match: int | None = None) -> tuple[Order, bool]:
    """Link the order `system` knows as `order_number` to the opportunity, or replace the
    terms of the one linked; True when it was linked now. The same number on another
    opportunity is 409. An order no rate converts into the opportunity's currency is 422
    (`currency`), before `If-Match` is weighed."""
    require(caller, Scope.ORDERS_WRITE)
    org = caller.organization_id
    async with uow:
        pricing = await uow.orders.lock_opportunity(org, opportunity_id)
        if pricing is None:
            raise NotFound("opportunity")
        terms = order_terms(amount=amount, currency=currency, status=status, url=url,
                            ordered_at=ordered_at, opportunity_currency=pricing.currency)
        for _ in range(LINK_ATTEMPTS):
            before = await uow.orders.by_number(org, system, order_number)
            if before is None:
                after = await uow.orders.add_if_absent(org, opportunity_id, system,
                                                       order_number, terms, caller.user_id)
                if after is None:
                    continue  # linked meanwhile by a concurrent request: look again
            else:
                check_same_opportunity(before, opportunity_id)
                if before.terms == terms:
                    _check_precondition(before, if_match)
                    return before, False  # nothing to keep: leaving uncommitted keeps all
                after = await uow.orders.update(org, before.id, terms, caller.user_id)
            summed = await uow.orders.refresh_ordered_amount(org, opportunity_id, pricing)
            check_converted(after, summed, pricing)
            check_summable(summed)
            _check_precondition(before, if_match)
            uow.emit(org, caller.actor, linked_event(after, summed.total) if before is None
                     else updated_event(before, after, summed.total))
            await uow.commit()
            return after, before is None
    raise Conflict("the order kept changing while it was being linked; try again")


async def get_order(uow: UnitOfWork, *, caller: Caller, order_id: int) -> Order:
    require(caller, Scope.ORDERS_READ)
    async with uow.reading():
        order = await uow.orders.get(caller.organization_id, order_id)
    if order is None:
        raise NotFound("order")
    return order


async def list_orders(uow: UnitOfWork, *, caller: Caller, query: ListQuery,
                      opportunity_id: int | None = None) -> Page[Order]:
    """The organization's orders, or one opportunity's (404 if it has no such one)."""
    require(caller, Scope.ORDERS_READ)
    org = caller.organization_id
    async with uow.reading():
        page = await uow.orders.list(org, query, opportunity_id)
        if opportunity_id is not None and not await uow.orders.opportunity_exists(
                org, opportunity_id):
            raise NotFound("opportunity")
        return page
