"""The engine and its sessions, made from a URL (the embedded server's or a configured one)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asyncpg import UniqueViolationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from salescore.domain.errors import Conflict, Contended, Unavailable

UNIQUE_VIOLATION = "23505"
# The database gave up on a statement because of another transaction: a deadlock it broke,
# or a serialisation failure. Sent again, the request may well succeed.
TRANSIENT = frozenset({"40P01", "40001"})
# Every reference a request names is checked before it is written, so a foreign key that
# still fails means a concurrent request removed (or began to use) the record meanwhile.
FOREIGN_KEY_VIOLATION = "23503"
# The database takes no connection now: too many clients, starting up or shutting down, or
# a connection exception (class 08). Sent again a little later, the request may succeed.
UNAVAILABLE = frozenset({"53300", "57P03"})
CONNECTION_EXCEPTION = "08"


def make_engine(url: str, *, pool_size: int = 32) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": "salescore", "timezone": "UTC"}},
    )


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def is_reachable(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to answer means not ready
        return False
    return True


@asynccontextmanager
async def unique_or_conflict(detail: str) -> AsyncIterator[None]:
    """A unique constraint violated inside (through SQLAlchemy, or a prepared statement on
    the driver) becomes a Conflict: a concurrent writer took the value between the
    service's check and this write."""
    try:
        yield
    except UniqueViolationError:
        raise Conflict(detail) from None
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == UNIQUE_VIOLATION:
            raise Conflict(detail) from None
        raise


def concurrent_failure(
        error: BaseException | None) -> Contended | Conflict | Unavailable | None:
    """What a failure caused by a concurrent request, or by a database that takes no
    connection now, means to the caller, whether the driver raised it itself (a prepared
    statement) or through SQLAlchemy: a transient one (`TRANSIENT`) is `Contended`, a
    foreign key that failed after its check a `Conflict`, a database that refused or lost
    the connection (`UNAVAILABLE`, class 08, a refused or reset socket) `Unavailable`."""
    if error is None:
        return None
    state = getattr(error, "sqlstate", None) or getattr(getattr(error, "orig", None),
                                                        "sqlstate", None)
    refused = isinstance(error, ConnectionError) or isinstance(
        getattr(error, "orig", None), ConnectionError)
    if refused or state in UNAVAILABLE or (isinstance(state, str)
                                           and state.startswith(CONNECTION_EXCEPTION)):
        return Unavailable("the database takes no more connections just now; nothing was "
                           "written, send the request again shortly")
    if state in TRANSIENT:
        return Contended("a concurrent request held what this one needed; nothing was "
                         "written, send it again")
    if state == FOREIGN_KEY_VIOLATION:
        return Conflict("a record this request refers to was removed, or taken into use, "
                        "by a concurrent request; nothing was written")
    return None
