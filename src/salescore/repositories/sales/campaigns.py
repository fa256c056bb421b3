"""Campaigns."""

from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.campaigns import Campaign
from salescore.repositories.listing import fetch_page
from salescore.repositories.sales.models import campaigns, opportunities

LIST_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": campaigns.c.id, "name": campaigns.c.name, "active": campaigns.c.active,
    "starts_on": campaigns.c.starts_on, "ends_on": campaigns.c.ends_on,
    "created_at": campaigns.c.created_at, "updated_at": campaigns.c.updated_at,
}


def _to_domain(row: Any) -> Campaign:
    return Campaign(id=row.id, organization_id=row.organization_id, name=row.name,
                    starts_on=row.starts_on, ends_on=row.ends_on, active=row.active,
                    created_at=row.created_at, updated_at=row.updated_at, version=row.version)


def _mine(organization_id: int, campaign_id: int) -> list[ColumnElement[bool]]:
    return [campaigns.c.organization_id == organization_id, campaigns.c.id == campaign_id]


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organization_id: int, campaign_id: int) -> Campaign | None:
        stmt = select(campaigns).where(*_mine(organization_id, campaign_id))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def lock(self, organization_id: int, campaign_id: int) -> None:
        """Hold the campaign's row until the transaction ends (see UserRepository.lock)."""
        await self._session.execute(select(campaigns.c.id).where(
            *_mine(organization_id, campaign_id)).with_for_update())

    async def in_use(self, organization_id: int, campaign_id: int) -> bool:
        """Whether an opportunity came from the campaign."""
        stmt = select(exists().where(opportunities.c.organization_id == organization_id,
                                     opportunities.c.campaign_id == campaign_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def list(self, organization_id: int, query: ListQuery) -> Page[Campaign]:
        stmt = select(campaigns).where(campaigns.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, LIST_COLUMNS, campaigns.c.id,
                                _to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> Campaign:
        stmt = insert(campaigns).values(organization_id=organization_id, **values).returning(
            *campaigns.c)
        return _to_domain((await self._session.execute(stmt)).one())

    async def update(self, organization_id: int, campaign_id: int,
                     values: dict[str, Any]) -> Campaign:
        stmt = (update(campaigns).where(*_mine(organization_id, campaign_id))
                .values(**values, version=campaigns.c.version + 1, updated_at=func.now())
                .returning(*campaigns.c))
        return _to_domain((await self._session.execute(stmt)).one())

    async def delete(self, organization_id: int, campaign_id: int) -> None:
        await self._session.execute(delete(campaigns).where(*_mine(organization_id,
                                                                   campaign_id)))
