"""What every background loop of a worker is given."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from salescore.services.integrations.imports import RowRules
from salescore.settings import Settings


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """The settings, the engine and its sessions (for `UnitOfWork(context.sessions)`), and
    the API's rules for imported rows (the API layer gives them; without, imports wait
    for a worker that has them)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    import_rows: RowRules | None = None


async def first_of(*events: asyncio.Event, seconds: float) -> None:
    """Wait until one of `events` is set, at most `seconds`."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


# A loop runs until `stopping` is set, then returns once its work in hand is done or put
# back (a worker gives its loops `shutdown_grace_seconds`, then cancels them).
Loop = Callable[[WorkerContext, asyncio.Event], Awaitable[None]]
