"""Exchange rates to the organization's base currency."""

from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import ListQuery, Page
from salescore.domain.reports.exchange_rates import ExchangeRate
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.listing import fetch_page
from salescore.repositories.reports.models import exchange_rates as rates

LIST_COLUMNS: dict[str, ColumnElement[Any]] = {
    name: rates.c[name] for name in ("id", "currency", "rate", "valid_from", "created_at",
                                     "updated_at")}


def _to_domain(row: Any) -> ExchangeRate:
    return ExchangeRate(id=row.id, organization_id=row.organization_id,
                        currency=row.currency, rate=row.rate, valid_from=row.valid_from,
                        created_at=row.created_at, updated_at=row.updated_at,
                        version=row.version)


def _mine(organization_id: int, rate_id: int) -> list[ColumnElement[bool]]:
    return [rates.c.organization_id == organization_id, rates.c.id == rate_id]


def _taken(values: dict[str, Any]) -> str:
    return (f"a rate for {values.get('currency', 'this currency')} valid from "
            f"{values.get('valid_from', 'this date')} exists already")


class ExchangeRateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organization_id: int, rate_id: int, *,
                  for_update: bool = False) -> ExchangeRate | None:
        stmt = select(rates).where(*_mine(organization_id, rate_id))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def list(self, organization_id: int, query: ListQuery) -> Page[ExchangeRate]:
        stmt = select(rates).where(rates.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, LIST_COLUMNS, rates.c.id,
                                _to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> ExchangeRate:
        stmt = insert(rates).values(organization_id=organization_id, **values).returning(
            *rates.c)
        async with unique_or_conflict(_taken(values)):
            return _to_domain((await self._session.execute(stmt)).one())

    async def update(self, organization_id: int, rate_id: int, values: dict[str, Any],
                     before: ExchangeRate) -> ExchangeRate:
        stmt = (update(rates).where(*_mine(organization_id, rate_id))
                .values(**values, version=rates.c.version + 1, updated_at=func.now())
                .returning(*rates.c))
        shown = {"currency": before.currency, "valid_from": before.valid_from, **values}
        async with unique_or_conflict(_taken(shown)):
            return _to_domain((await self._session.execute(stmt)).one())

    async def delete(self, organization_id: int, rate_id: int) -> None:
        await self._session.execute(delete(rates).where(*_mine(organization_id, rate_id)))
