"""What every background loop of a worker is given."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from salescore.settings import Settings


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """The settings, the engine and its sessions (for `UnitOfWork(context.sessions)`)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


# A loop runs until `stopping` is set, then returns once its work in hand is done or put
# back (a worker gives its loops `shutdown_grace_seconds`, then cancels them).
Loop = Callable[[WorkerContext, asyncio.Event], Awaitable[None]]
