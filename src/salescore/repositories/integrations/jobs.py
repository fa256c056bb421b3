"""The scheduled jobs' due times (`scheduled_jobs`, one row per job, across organizations).

A worker claims a job by locking its row while it is due (`FOR UPDATE SKIP LOCKED`): a
second worker skips the locked row and, once the first has committed the next due time,
finds it not due. The lock lasts as long as the claiming transaction, so a worker that dies
mid-run lets the job go at once, still due."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.repositories.integrations.models import scheduled_jobs

j = scheduled_jobs


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ensure(self, names: Sequence[str], now: datetime) -> None:
        """A row for each job that has none yet, due at `now`."""
        if names:
            await self._session.execute(
                insert(j).values([{"name": name, "due_at": now} for name in names])
                .on_conflict_do_nothing(index_elements=[j.c.name]))

    async def claim(self, name: str, now: datetime) -> bool:
        """Lock the job's row if it is due at `now` and no other transaction holds it;
        whether it was."""
        stmt = (select(j.c.name).where(j.c.name == name, j.c.due_at <= now)
                .with_for_update(skip_locked=True))
        return (await self._session.execute(stmt)).first() is not None

    async def finish(self, name: str, *, ran_at: datetime, due_at: datetime,
                     error: str | None) -> None:
        """Record a run of the claimed job: when, how it ended, when it is due again."""
        await self._session.execute(update(j).where(j.c.name == name).values(
            last_run_at=ran_at, last_error=error, due_at=due_at))
