"""The change feed, and keeping the event log to its retention window."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Gone
from salescore.repositories.feed.events import FeedPage, FeedPosition
from salescore.repositories.unit_of_work import UnitOfWork


async def read_feed(uow: UnitOfWork, *, caller: Caller, after: FeedPosition | None,
                    types: Sequence[str], limit: int) -> FeedPage:
    """Events after the cursor, oldest first, and where the next read starts; a cursor
    whose events were pruned is refused (the reader must resync) rather than silently
    jumping the gap. A reader of some `types` moves on over the events of other types too,
    as far as the unfiltered feed is served, so that it never falls behind the retention
    window for events it did not ask for."""
    require(caller, Scope.EVENTS_READ)
    async with uow:
        pruned = await uow.events.pruned_through(caller.organization_id)
        if pruned is not None and after is not None and after < pruned:
            raise Gone("events after this cursor were pruned; resync from a fresh read")
        return await uow.events.feed(caller.organization_id, after=after, types=types,
                                     limit=limit)


async def prune_events(uow: UnitOfWork, *, now: datetime, retention: timedelta) -> int:
    """Drop events older than the retention window; returns how many."""
    async with uow:
        deleted = await uow.events.prune(now - retention)
        await uow.commit()
    return deleted
