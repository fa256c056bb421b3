"""Users' notifications (their inbox)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.activities.notifications import NewNotification, Notification
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.activities.models import notifications as n
from salescore.repositories.bulk import insert_rows
from salescore.repositories.listing import fetch_page
from salescore.repositories.prepared import Prepared, driver, execute_many

LIST_COLUMNS: dict[str, ColumnElement[Any]] = {"id": n.c.id, "type": n.c.type,
                                               "opportunity_id": n.c.opportunity_id,
                                               "created_at": n.c.created_at}


_COLUMNS = ("organization_id", "user_id", "type", "text", "opportunity_id", "activity_id",
            "quote_id")
_ADD = Prepared.of(insert(n).inline().values({key: bindparam(key) for key in _COLUMNS}))
# Fewer notifications than this go as one prepared statement each, in one round trip.
_MANY = 16


def _to_domain(row: Any) -> Notification:
    return Notification(**{c.key: getattr(row, c.key) for c in n.c})


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, new: Sequence[tuple[int, NewNotification]]) -> None:
        """Store (organization id, notification) pairs in one round trip (many in one
        statement)."""
        if len(new) >= _MANY:
            await insert_rows(await driver(self._session), "notifications", _COLUMNS, [
                (organization_id, x.user_id, x.type, x.text, x.opportunity_id,
                 x.activity_id, x.quote_id) for organization_id, x in new])
        elif new:
            await execute_many(self._session, _ADD, [
                {"organization_id": organization_id, "user_id": x.user_id, "type": x.type,
                 "text": x.text, "opportunity_id": x.opportunity_id,
                 "activity_id": x.activity_id, "quote_id": x.quote_id}
                for organization_id, x in new])

    async def list(self, organization_id: int, user_id: int, query: ListQuery, *,
                   unread: bool | None) -> Page[Notification]:
        stmt = select(n).where(n.c.organization_id == organization_id, n.c.user_id == user_id)
        if unread is not None:
            stmt = stmt.where(n.c.read_at.is_(None) if unread else n.c.read_at.is_not(None))
        return await fetch_page(self._session, stmt, query, LIST_COLUMNS, n.c.id, _to_domain)

    async def mark_read(self, organization_id: int, user_id: int, notification_id: int,
                        now: datetime) -> Notification | None:
        """Mark it read (once: a second time keeps the first moment); None if not theirs."""
        await self._session.execute(update(n).where(
            n.c.organization_id == organization_id, n.c.user_id == user_id,
            n.c.id == notification_id, n.c.read_at.is_(None)).values(read_at=now))
        row = (await self._session.execute(select(n).where(
            n.c.organization_id == organization_id, n.c.user_id == user_id,
            n.c.id == notification_id))).one_or_none()
        return None if row is None else _to_domain(row)
