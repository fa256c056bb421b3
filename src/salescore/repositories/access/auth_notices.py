"""Telling every process that what authenticates an organization's callers changed.

A write that changes a user, revokes an API key or changes an organization's description
calls `notify_auth_change` inside its transaction: PostgreSQL delivers
`NOTIFY salescore_auth, '<organization id>'` to every listening connection when, and only
if, the transaction commits. Each app process keeps one `AuthListener` connection
LISTENing and hands each organization id to its caller cache.

The process that made the change need not wait for its own notification: the sessions of
an app may carry an `on_auth_commit` callback in `session.info` (see `local_auth_hook`),
which is called right after the commit, before the use case returns."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger("salescore.notifications")

CHANNEL = "salescore_auth"
LISTENER_NAME = "salescore-auth-listener"
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :organization_id)")
_CHANGED = "salescore.auth_changed"
_ON_COMMIT = "salescore.on_auth_commit"
# Options of the SQLAlchemy URL that asyncpg.connect does not take.
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func",
                    "async_creator_fn")


async def notify_auth_change(session: AsyncSession, organization_id: int) -> None:
    """Announce, on commit, that the organization's callers must be looked up afresh."""
    await session.execute(_NOTIFY, {"organization_id": str(organization_id)})
    session.info.setdefault(_CHANGED, set()).add(organization_id)


def local_auth_hook(on_change: Callable[[int], None]) -> dict[str, Any]:
    """`info` for a sessionmaker: `on_change(organization_id)` runs after each commit that
    notified, in the committing process itself."""
    return {_ON_COMMIT: on_change}


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    changed: set[int] | None = session.info.pop(_CHANGED, None)
    on_change = session.info.get(_ON_COMMIT)
    if changed and on_change is not None:
        for organization_id in changed:
            on_change(organization_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class AuthListener:
    """One dedicated connection LISTENing on `salescore_auth` for the life of the app.

    `on_change(organization_id)` is called for each notification (with None, meaning every
    organization, for a payload that names none). `on_up()` is called once the connection
    listens, `on_down()` as soon as it is lost (or was never made): while down, nothing is
    heard, so the cache must not be trusted. The connection is checked every `heartbeat`
    seconds (a silent network loss shows no other way) and remade with exponential
    backoff, from `min_backoff` to `max_backoff` seconds."""

    def __init__(self, engine: AsyncEngine, *, on_change: Callable[[int | None], None],
                 on_up: Callable[[], None], on_down: Callable[[], None],
                 heartbeat: float = 5.0, min_backoff: float = 0.1,
                 max_backoff: float = 10.0) -> None:
        self._engine = engine
        self._on_change = on_change
        self._on_up = on_up
        self._on_down = on_down
        self._heartbeat = heartbeat
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._listened = False

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def start(self, *, wait: float = 5.0) -> None:
        """Start listening; waits up to `wait` seconds for the first connection, then goes
        on trying in the background."""
        if self._task is not None:
            return
        up = asyncio.Event()
        self._task = asyncio.create_task(self._run(up), name=LISTENER_NAME)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(up.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _connect(self) -> Any:
        args, options = self._engine.dialect.create_connect_args(self._engine.url)
        for option in _SQLALCHEMY_ONLY:
            options.pop(option, None)
        return await asyncpg.connect(*args, **options,
                                     server_settings={"application_name": LISTENER_NAME})

    async def _run(self, up: asyncio.Event) -> None:
        backoff = self._min_backoff
        while True:
            self._listened = False
            try:
                await self._listen(up)
            except Exception as error:  # whatever broke it, listen again after a pause
                log.warning("auth listener: %r; the caller cache is off until it is back",
                            error)
            finally:
                self._on_down()
                await self._close()
            up.set()  # the first attempt is over, successful or not
            if self._listened:  # a loss after listening retries soon; failures back off
                backoff = self._min_backoff
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _listen(self, up: asyncio.Event) -> None:
        """Listen until the connection is lost or stops answering."""
        lost = asyncio.Event()
        self._connection = await self._connect()
        self._connection.add_termination_listener(lambda _: lost.set())
        await self._connection.add_listener(CHANNEL, self._notified)
        self._listened = True
        self._on_up()
        up.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._heartbeat)
                break
            await self._connection.fetchval("SELECT 1", timeout=self._heartbeat)
        log.warning("auth listener: the connection was lost; the caller cache is off until "
                    "it is back")

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_change(int(payload) if payload.isdigit() else None)

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()
