"""How much the worker's queues hold, across organizations (for the metrics)."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEPTHS = text("""
SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
       (SELECT min(next_attempt_at) FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= now()) AS oldest_due,
       (SELECT count(*) FROM quote_emails WHERE status = 'queued') AS emails,
       now() AS now
""")


class QueueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def depths(self) -> tuple[int, datetime | None, int, datetime]:
        """Pending deliveries, the due time of the oldest one due, queued e-mails, and
        the database's now, in one statement (the partial indexes on pending and queued
        rows keep it small)."""
        row = (await self._session.execute(_DEPTHS)).one()
        return row.pending, row.oldest_due, row.emails, row.now
