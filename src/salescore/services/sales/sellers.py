"""The sellers credited with an opportunity (DOMAIN.md §3). The arithmetic is in
domain/sales/shares.py; here each change is stored with an `opportunity.seller_changed` event.
A change that leaves the sellers as they were (a share set to the share it has) keeps the
version and writes no event."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.sales.opportunities import Opportunity
from salescore.domain.sales.shares import (
    ShareChange,
    ShareWarning,
    add_seller,
    as_percent,
    change_share,
    remove_seller,
    to_hundredths,
    total,
)
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.references import check_references
from salescore.services.sales.opportunities import (
    get_opportunity,
    locked_for_change,
    now_utc,
    store_change,
)

Rule = Callable[[Opportunity], ShareChange]


@dataclass(frozen=True, slots=True)
class SellersAnswer:
    opportunity: Opportunity
    warnings: tuple[ShareWarning, ...] = ()

    @property
    def total_share(self) -> Decimal:
        return as_percent(total(self.opportunity.sellers))


async def _apply(uow: UnitOfWork, caller: Caller, opportunity_id: int, if_match: int | None,
                 rule: Rule, new_user_id: int | None = None) -> SellersAnswer:
    require(caller, Scope.OPPORTUNITIES_WRITE)
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, if_match)
        if new_user_id is not None:
            await check_references(uow, caller.organization_id, {"user_id": new_user_id})
        change = rule(before)
        after = await store_change(uow, caller, before,
                                   replace(before, sellers=change.sellers), now_utc())
        await uow.commit()
    return SellersAnswer(after, change.warnings)


async def list_sellers(uow: UnitOfWork, *, caller: Caller,
                       opportunity_id: int) -> SellersAnswer:
    opportunity = await get_opportunity(uow, caller=caller, opportunity_id=opportunity_id)
    return SellersAnswer(opportunity)


async def add_opportunity_seller(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                                 user_id: int, share: Decimal,
                                 if_match: int | None = None) -> SellersAnswer:
    """A new seller with `share`; the others split the rest (rule 3)."""
    hundredths = to_hundredths(share)
    return await _apply(uow, caller, opportunity_id, if_match,
                        lambda o: add_seller(o.sellers, user_id, hundredths), user_id)


async def change_opportunity_seller(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                                    user_id: int, share: Decimal,
                                    if_match: int | None = None) -> SellersAnswer:
    """One seller's share changes; a total other than 100 % is warned of (rule 6)."""
    hundredths = to_hundredths(share)
    return await _apply(uow, caller, opportunity_id, if_match,
                        lambda o: change_share(o.sellers, user_id, hundredths))


async def remove_opportunity_seller(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                                    user_id: int,
                                    if_match: int | None = None) -> SellersAnswer:
    """A seller leaves; a sole remaining one gets 100 % (rules 4, 5, 7)."""
    return await _apply(uow, caller, opportunity_id, if_match,
                        lambda o: remove_seller(o.sellers, user_id))
