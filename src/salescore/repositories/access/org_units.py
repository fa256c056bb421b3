"""Departments, sales regions and sales groups: three tables of one shape."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.access.organization import GroupType, OrgUnit, UnitKind
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.access.models import departments, sales_groups, sales_regions
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.listing import fetch_page

TABLES: dict[UnitKind, Table] = {
    UnitKind.DEPARTMENT: departments,
    UnitKind.SALES_REGION: sales_regions,
    UnitKind.SALES_GROUP: sales_groups,
}


class OrgUnitRepository:
    def __init__(self, session: AsyncSession, kind: UnitKind) -> None:
        self._session = session
        self._kind = kind
        self._table = TABLES[kind]

    def _to_domain(self, row: Any) -> OrgUnit:
        group_type = getattr(row, "group_type", None)
        return OrgUnit(
            id=row.id, organization_id=row.organization_id, kind=self._kind, name=row.name,
            group_type=None if group_type is None else GroupType(group_type),
            created_at=row.created_at, updated_at=row.updated_at, version=row.version,
        )

    def _columns(self) -> dict[str, ColumnElement[Any]]:
        c = self._table.c
        return {"id": c.id, "name": c.name, "created_at": c.created_at,
                "updated_at": c.updated_at, **({"group_type": c.group_type}
                                               if "group_type" in c else {})}

    async def get(self, organization_id: int, unit_id: int) -> OrgUnit | None:
        t = self._table
        stmt = select(t).where(t.c.organization_id == organization_id, t.c.id == unit_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else self._to_domain(row)

    async def lock(self, organization_id: int, unit_id: int) -> None:
        """Hold the row until the transaction ends (see UserRepository.lock)."""
        t = self._table
        await self._session.execute(select(t.c.id).where(
            t.c.organization_id == organization_id, t.c.id == unit_id).with_for_update())

    def _taken(self, values: dict[str, Any]) -> str:
        return f"a {self._kind.value.replace('_', ' ')} named {values.get('name')!r} exists already"

    async def missing(self, organization_id: int, ids: Collection[int]) -> set[int]:
        """Which of `ids` the organization does not have."""
        t = self._table
        stmt = select(t.c.id).where(t.c.organization_id == organization_id, t.c.id.in_(ids))
        return set(ids) - set((await self._session.execute(stmt)).scalars())

    async def name_taken(self, organization_id: int, name: str,
                         except_id: int | None = None) -> bool:
        t = self._table
        stmt = select(t.c.id).where(t.c.organization_id == organization_id, t.c.name == name,
                                    t.c.id.is_distinct_from(except_id))
        return (await self._session.execute(stmt)).first() is not None

    async def list(self, organization_id: int, query: ListQuery) -> Page[OrgUnit]:
        t = self._table
        stmt = select(t).where(t.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, self._columns(), t.c.id,
                                self._to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> OrgUnit:
        t = self._table
        stmt = insert(t).values(organization_id=organization_id, **values).returning(*t.c)
        async with unique_or_conflict(self._taken(values)):
            return self._to_domain((await self._session.execute(stmt)).one())

    async def update(self, organization_id: int, unit_id: int,
                     values: dict[str, Any]) -> OrgUnit:
        t = self._table
        stmt = (update(t).where(t.c.organization_id == organization_id, t.c.id == unit_id)
                .values(**values, version=t.c.version + 1, updated_at=func.now())
                .returning(*t.c))
        async with unique_or_conflict(self._taken(values)):
            return self._to_domain((await self._session.execute(stmt)).one())

    async def delete(self, organization_id: int, unit_id: int) -> None:
        t = self._table
        await self._session.execute(
            delete(t).where(t.c.organization_id == organization_id, t.c.id == unit_id))
