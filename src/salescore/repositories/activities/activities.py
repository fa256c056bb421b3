"""Activities: tasks, appointments, calls and notes."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.activities.activities import Activity, ActivityKind, Origin
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.activities.models import activities as a
from salescore.repositories.bulk import insert_rows, reserve_ids
from salescore.repositories.listing import fetch_page
from salescore.repositories.prepared import Prepared, driver, fetchrow

_STORED = [c for c in a.c if c.key not in {"id", "organization_id"}]
LIST_COLUMNS: dict[str, ColumnElement[Any]] = {c.key: c for c in a.c}
_BULK_COLUMNS = ("organization_id", "id", *(c.key for c in _STORED))
_INSERT = Prepared.of(insert(a).values(
    {c.key: bindparam(c.key) for c in [a.c.organization_id, *_STORED]}).returning(a.c.id))


def _to_domain(row: Any) -> Activity:
    values = {c.key: getattr(row, c.key) for c in a.c}
    values["kind"] = ActivityKind(values["kind"])
    values["origin"] = Origin(values["origin"])
    return Activity(**values)


def _to_row(activity: Activity) -> dict[str, Any]:
    row = {c.key: getattr(activity, c.key) for c in _STORED}
    row["kind"] = activity.kind.value
    row["origin"] = activity.origin.value
    return row


class ActivityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: Sequence[Activity]) -> list[int]:
        """Store new activities (seldom more than one); their ids, in order."""
        ids = []
        for activity in new:
            row = await fetchrow(self._session, _INSERT,
                                 organization_id=activity.organization_id,
                                 **_to_row(activity))
            assert row is not None
            ids.append(int(row["id"]))
        return ids

    async def reserve_ids(self, count: int) -> list[int]:
        """Ids for `count` activities to be stored by `add_many`."""
        return await reserve_ids(await driver(self._session), "activities", count)

    async def add_many(self, new: Sequence[tuple[int, Activity]]) -> None:
        """Store new activities, each with the id `reserve_ids` gave it, in one statement
        (repositories/bulk.py)."""
        await insert_rows(await driver(self._session), "activities", _BULK_COLUMNS, [
            [n.organization_id, new_id, *_to_row(n).values()] for new_id, n in new])

    async def get(self, organization_id: int, activity_id: int, *,
                  for_update: bool = False) -> Activity | None:
        stmt = select(a).where(a.c.organization_id == organization_id, a.c.id == activity_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def save(self, before: Activity, after: Activity) -> None:
        old, new = _to_row(before), _to_row(after)
        await self._session.execute(update(a).where(
            a.c.organization_id == after.organization_id, a.c.id == after.id,
        ).values({k: v for k, v in new.items() if old[k] != v or k in {"version",
                                                                       "updated_at"}}))

    async def delete(self, organization_id: int, activity_id: int) -> None:
        await self._session.execute(delete(a).where(a.c.organization_id == organization_id,
                                                    a.c.id == activity_id))

    async def list(self, organization_id: int, query: ListQuery) -> Page[Activity]:
        stmt = select(a).where(a.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, LIST_COLUMNS, a.c.id, _to_domain)
