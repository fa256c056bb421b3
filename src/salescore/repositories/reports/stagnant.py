"""Report queries: SQL aggregations in PostgreSQL, one function per report."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import DateTime, and_, cast, exists, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.repositories.activities.models import activities as a
from salescore.repositories.sales.models import opportunities as o


@dataclass(frozen=True, slots=True)
class StagnantRow:
    opportunity_id: int
    name: str
    owner_id: int
    follow_up_date: date | None
    last_activity_at: datetime
    follow_up_overdue: bool
    inactive: bool


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def stagnant(self, organization_id: int, *, today: date, time_zone: str,
                       quiet_since: datetime, owner_id: int | None, after_id: int | None,
                       limit: int | None) -> list[StagnantRow]:
        """Open opportunities whose follow-up date has passed without a follow-up task
        done since, or with no activity (created or done) since `quiet_since`; an
        opportunity without activities counts from its creation."""
        mine = and_(a.c.organization_id == o.c.organization_id, a.c.opportunity_id == o.c.id)
        last = (select(func.max(func.greatest(a.c.created_at, a.c.done_at)))
                .where(mine).scalar_subquery())
        last_activity = func.coalesce(func.greatest(last, o.c.created_at), o.c.created_at)
        followed_up = exists().where(
            mine, a.c.origin == "follow_up", a.c.done,
            a.c.due_at >= func.timezone(literal(time_zone),
                                         cast(o.c.follow_up_date, DateTime())))
        overdue = and_(o.c.follow_up_date < today, ~followed_up)
        inner = select(o.c.id, o.c.name, o.c.owner_id, o.c.follow_up_date,
                       last_activity.label("last_activity_at"),
                       overdue.label("follow_up_overdue")).where(
            o.c.organization_id == organization_id, o.c.status == "open",
            o.c.owner_id == owner_id if owner_id is not None else true(),
            o.c.id > after_id if after_id is not None else true()).subquery()
        stmt = select(inner, (inner.c.last_activity_at < quiet_since).label("inactive")).where(
            inner.c.follow_up_overdue | (inner.c.last_activity_at < quiet_since),
        ).order_by(inner.c.id).limit(limit)
        rows = (await self._session.execute(stmt)).all()
        return [StagnantRow(r.id, r.name, r.owner_id, r.follow_up_date, r.last_activity_at,
                            bool(r.follow_up_overdue), bool(r.inactive)) for r in rows]
