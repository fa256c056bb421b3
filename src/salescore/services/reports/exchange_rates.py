"""Exchange rates: what a unit of a foreign currency is worth in the organization's base
currency, from a date on. Reports convert each amount at the latest rate of its currency
valid on the report's `fx_date`.

Everyone who reads reports reads the rates (`reports:read`); admins and managers, who keep
the sales setup, write them (`sales_setup:write`). One rate per currency and date: a second
is a conflict (409), so a correction is a PATCH of the first."""

from datetime import date
from decimal import Decimal
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.reports.exchange_rates import (
    ExchangeRate,
    check_rate,
    check_rate_currency,
    rate_text,
)
from salescore.repositories.unit_of_work import UnitOfWork


def _public(rate: ExchangeRate) -> dict[str, Any]:
    return {"currency": rate.currency, "rate": rate_text(rate.rate),
            "valid_from": rate.valid_from.isoformat()}


async def _base_currency(uow: UnitOfWork, organization_id: int) -> str:
    organization = await uow.organizations.get(organization_id)
    assert organization is not None
    return organization.base_currency


async def create_rate(uow: UnitOfWork, *, caller: Caller, currency: str, rate: Decimal,
                      valid_from: date) -> ExchangeRate:
    """A rate for a currency other than the base currency, valid from a date on."""
    require(caller, Scope.SALES_SETUP_WRITE)
    check_rate(rate)
    org = caller.organization_id
    async with uow:
        check_rate_currency(currency, await _base_currency(uow, org))
        made = await uow.exchange_rates.add(org, {"currency": currency, "rate": rate,
                                                  "valid_from": valid_from})
        uow.emit(org, caller.actor, DomainEvent("exchange_rate.created", "exchange_rate",
                                                made.id, _public(made)))
        await uow.commit()
    return made


async def get_rate(uow: UnitOfWork, *, caller: Caller, rate_id: int) -> ExchangeRate:
    require(caller, Scope.REPORTS_READ)
    async with uow.reading():
        found = await uow.exchange_rates.get(caller.organization_id, rate_id)
    if found is None:
        raise NotFound("exchange rate")
    return found


async def list_rates(uow: UnitOfWork, *, caller: Caller,
                     query: ListQuery) -> Page[ExchangeRate]:
    require(caller, Scope.REPORTS_READ)
    async with uow:
        return await uow.exchange_rates.list(caller.organization_id, query)


async def update_rate(uow: UnitOfWork, *, caller: Caller, rate_id: int,
                      values: dict[str, Any], if_match: int | None = None) -> ExchangeRate:
    """Change the fields given; the currency and date it leaves must still be free."""
    require(caller, Scope.SALES_SETUP_WRITE)
    if "rate" in values:
        check_rate(values["rate"])
    org = caller.organization_id
    async with uow:
        before = await uow.exchange_rates.get(org, rate_id, for_update=True)
        if before is None:
            raise NotFound("exchange rate")
        check_version(before.version, if_match)
        if "currency" in values:
            check_rate_currency(values["currency"], await _base_currency(uow, org))
        after = await uow.exchange_rates.update(org, rate_id, values, before)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, DomainEvent(
            "exchange_rate.updated", "exchange_rate", rate_id,
            {"changes": changes(_public(before), _public(after))}))
        await uow.commit()
    return after


async def delete_rate(uow: UnitOfWork, *, caller: Caller, rate_id: int,
                      if_match: int | None = None) -> None:
    """Remove a rate: reports from then on use the one before it, if any."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    async with uow:
        rate = await uow.exchange_rates.get(org, rate_id, for_update=True)
        if rate is None:
            raise NotFound("exchange rate")
        check_version(rate.version, if_match)
        await uow.exchange_rates.delete(org, rate_id)
        uow.emit(org, caller.actor, DomainEvent("exchange_rate.deleted", "exchange_rate",
                                                rate_id, _public(rate)))
        await uow.commit()
