"""Opportunity types, sources and loss reasons: three tables of one shape."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table, case, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.lists import ListItem, ListKind
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.listing import fetch_page
from salescore.repositories.sales.models import (
    loss_reasons,
    opportunities,
    opportunity_types,
    sources,
)

TABLES: dict[ListKind, Table] = {
    ListKind.OPPORTUNITY_TYPE: opportunity_types,
    ListKind.SOURCE: sources,
    ListKind.LOSS_REASON: loss_reasons,
}
# The opportunity column that points into each list.
REFERENCES: dict[ListKind, ColumnElement[Any]] = {
    ListKind.OPPORTUNITY_TYPE: opportunities.c.type_id,
    ListKind.SOURCE: opportunities.c.source_id,
    ListKind.LOSS_REASON: opportunities.c.loss_reason_id,
}


class ListRepository:
    def __init__(self, session: AsyncSession, kind: ListKind) -> None:
        self._session = session
        self._kind = kind
        self._table = TABLES[kind]

    def _to_domain(self, row: Any) -> ListItem:
        return ListItem(id=row.id, organization_id=row.organization_id, kind=self._kind,
                        name=row.name, position=row.position, active=row.active,
                        created_at=row.created_at, updated_at=row.updated_at,
                        version=row.version)

    def _columns(self) -> dict[str, ColumnElement[Any]]:
        c = self._table.c
        return {"id": c.id, "name": c.name, "position": c.position, "active": c.active,
                "created_at": c.created_at, "updated_at": c.updated_at}

    def _taken(self, name: Any) -> str:
        return f"a {self._kind.label} named {name!r} exists already"

    async def get(self, organization_id: int, item_id: int) -> ListItem | None:
        t = self._table
        stmt = select(t).where(t.c.organization_id == organization_id, t.c.id == item_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else self._to_domain(row)

    async def lock_list(self, organization_id: int) -> None:
        """Serialize writers of this organization's list until the transaction ends, so
        that positions computed from the list stay true (an empty list has no row to lock)."""
        key = f"{self._table.name}:{organization_id}"
        await self._session.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended(key, 0))))

    async def lock(self, organization_id: int, item_id: int) -> None:
        """Hold the item's row until the transaction ends (see UserRepository.lock)."""
        t = self._table
        await self._session.execute(select(t.c.id).where(
            t.c.organization_id == organization_id, t.c.id == item_id).with_for_update())

    async def in_order(self, organization_id: int) -> list[ListItem]:
        """Every item of the list, by position."""
        t = self._table
        stmt = (select(t).where(t.c.organization_id == organization_id)
                .order_by(t.c.position, t.c.id))
        return [self._to_domain(row) for row in (await self._session.execute(stmt)).all()]

    async def name_taken(self, organization_id: int, name: str,
                         except_id: int | None = None) -> bool:
        """Names compare case-insensitively within one list."""
        t = self._table
        stmt = select(t.c.id).where(t.c.organization_id == organization_id,
                                    func.lower(t.c.name) == name.lower(),
                                    t.c.id.is_distinct_from(except_id))
        return (await self._session.execute(stmt)).first() is not None

    async def in_use(self, organization_id: int, item_id: int) -> bool:
        """Whether an opportunity refers to the item."""
        column = REFERENCES[self._kind]
        stmt = select(exists().where(opportunities.c.organization_id == organization_id,
                                     column == item_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def list(self, organization_id: int, query: ListQuery) -> Page[ListItem]:
        t = self._table
        stmt = select(t).where(t.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, self._columns(), t.c.id,
                                self._to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> ListItem:
        t = self._table
        stmt = insert(t).values(organization_id=organization_id, **values).returning(*t.c)
        async with unique_or_conflict(self._taken(values.get("name"))):
            return self._to_domain((await self._session.execute(stmt)).one())

    async def update(self, organization_id: int, item_id: int,
                     values: dict[str, Any]) -> ListItem:
        t = self._table
        stmt = (update(t).where(t.c.organization_id == organization_id, t.c.id == item_id)
                .values(**values, version=t.c.version + 1, updated_at=func.now())
                .returning(*t.c))
        async with unique_or_conflict(self._taken(values.get("name"))):
            return self._to_domain((await self._session.execute(stmt)).one())

    async def move(self, organization_id: int, positions: Mapping[int, int]) -> None:
        """Put each given item at its new position; a moved item is a changed one."""
        if not positions:
            return
        t = self._table
        await self._session.execute(
            update(t).where(t.c.organization_id == organization_id,
                            t.c.id.in_(list(positions)))
            .values(position=case(dict(positions), value=t.c.id),
                    version=t.c.version + 1, updated_at=func.now()))

    async def delete(self, organization_id: int, item_id: int) -> None:
        t = self._table
        await self._session.execute(
            delete(t).where(t.c.organization_id == organization_id, t.c.id == item_id))
