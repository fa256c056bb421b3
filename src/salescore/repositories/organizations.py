"""Organizations: the tenants."""

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.organization import Organization
from salescore.repositories.models import organizations


def _to_domain(row: Any) -> Organization:
    return Organization(id=row.id, name=row.name, base_currency=row.base_currency,
                        time_zone=row.time_zone, created_at=row.created_at,
                        loss_reason_required=row.loss_reason_required)


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, *, name: str, base_currency: str, time_zone: str) -> Organization:
        stmt = insert(organizations).values(
            name=name, base_currency=base_currency, time_zone=time_zone
        ).returning(*organizations.c)
        return _to_domain((await self._session.execute(stmt)).one())

    async def get(self, organization_id: int) -> Organization | None:
        stmt = select(organizations).where(organizations.c.id == organization_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)
