"""What the app holds for its whole life: settings, the database, keys, the caller cache."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from salescore.api.cursors import CursorCodec
from salescore.api.tokens import TokenSettings
from salescore.repositories.access.auth_notices import AuthListener
from salescore.services.access.caller_cache import CallerCache
from salescore.services.access.login_throttle import LoginThrottle
from salescore.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Each statement on its own (autocommit): for use cases that read with one statement,
    # saving a BEGIN and a ROLLBACK round trip each.
    reads: async_sessionmaker[AsyncSession]
    tokens: TokenSettings
    cursors: CursorCodec
    callers: CallerCache
    auth_listener: AuthListener
    logins: LoginThrottle
