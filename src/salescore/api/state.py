"""What the app holds for its whole life: settings, the database, keys."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from salescore.api.cursors import CursorCodec
from salescore.api.tokens import TokenSettings
from salescore.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenSettings
    cursors: CursorCodec
