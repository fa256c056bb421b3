"""Hot statements run on the session's own asyncpg connection, in its transaction.

SQLAlchemy spends several times more CPU on each statement than the database does on a
small one; for the few statements on the busiest paths, a Core statement is compiled once
(`Prepared`) and run by asyncpg directly, with asyncpg's statement cache. The connection is
the session's, so the statement sees and joins whatever the session has done and commits or
rolls back with it.

A read-only unit of work gives its session a `PooledReader` instead: the hot statements of
an autocommit read then run on a pool connection checked out by itself, which costs a
third of what the session's own connection does (its transaction bookkeeping, events and
reset). The session is then not used at all by a read that is only hot statements."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from asyncpg import Connection, Record
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler

_DRIVER = "salescore.driver"
_READER = "salescore.reader"
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def as_json(value: Any) -> str:
    """A JSON(B) parameter as SQLAlchemy's JSON type would send it."""
    return json.dumps(value)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled for asyncpg: its SQL and its parameters, in order, with the
    values bound in the statement itself (literals of the query) as defaults."""

    sql: str
    names: tuple[str, ...]
    bound: dict[str, Any]

    @classmethod
    def of(cls, stmt: ClauseElement) -> "Prepared":
        compiled = cast(SQLCompiler, stmt.compile(dialect=_DIALECT))
        literals = {name for name, bind in compiled.binds.items() if not bind.required}
        return cls(str(compiled), tuple(compiled.positiontup or ()),
                   {k: v for k, v in compiled.params.items() if k in literals})

    def args(self, values: dict[str, Any]) -> list[Any]:
        """The parameters in order; a name with no value given and none in the statement
        is a KeyError, never a silent NULL."""
        return [values[name] if name in values else self.bound[name] for name in self.names]


class PooledReader:
    """An asyncpg connection of the engine's pool for statements that run without a
    transaction, checked out on the first one and kept until `release`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._checked_out: PoolProxiedConnection | None = None
        self._session: AsyncSession | None = None

    @property
    def used(self) -> bool:
        return self._checked_out is not None

    def serve(self, session: AsyncSession) -> None:
        """Run the session's hot statements on this reader while the session itself has
        no connection."""
        session.info[_READER] = self
        self._session = session

    async def driver(self) -> Connection:
        if self._checked_out is None:
            self._checked_out = await self._engine.raw_connection()
        connection: Connection = self._checked_out.driver_connection
        return connection

    async def release(self) -> None:
        """Back to the pool (a connection that broke is closed instead). The pool's reset
        has no transaction to roll back: the driver began none. Giving it back may close
        it, which awaits the driver from SQLAlchemy's synchronous pool code: that runs in
        the session's `run_sync`, as every synchronous SQLAlchemy call from async code
        must."""
        checked_out, self._checked_out = self._checked_out, None
        if checked_out is None or self._session is None:
            return
        connection = checked_out.driver_connection
        broken = connection is None or connection.is_closed()
        await self._session.run_sync(
            lambda _: checked_out.invalidate() if broken else checked_out.close())


async def driver(session: AsyncSession) -> Connection:
    """The asyncpg connection under the session, its transaction begun; a session served
    by a `PooledReader` that has no connection of its own uses the reader's.

    A unit of work's write session has begun its transaction as it took the connection
    (repositories/unit_of_work.py); any other session's SQLAlchemy adapter begins one
    lazily, on the first statement it runs itself, so one that has not yet is sent an
    empty statement first (a statement run on the driver before that would run, and
    commit, on its own). A read's autocommit session begins nothing. Kept in the
    session's `info` for as long as the session's transaction lasts (the connection is
    the session's till then)."""
    known = session.info.get(_DRIVER)
    if known is not None and known[0] is session.get_transaction():
        driver_connection: Connection = known[1]
        return driver_connection
    reader: PooledReader | None = session.info.get(_READER)
    if reader is not None and not session.in_transaction():
        return await reader.driver()
    connection = await session.connection()
    driver_connection = (await connection.get_raw_connection()).driver_connection
    if reader is None and not driver_connection.is_in_transaction():
        await connection.exec_driver_sql(";")
    session.info[_DRIVER] = (session.get_transaction(), driver_connection)
    return driver_connection


async def fetch(session: AsyncSession, prepared: Prepared, **values: Any) -> list[Record]:
    rows: list[Record] = await (await driver(session)).fetch(prepared.sql,
                                                             *prepared.args(values))
    return rows


async def fetchrow(session: AsyncSession, prepared: Prepared, **values: Any) -> Record | None:
    row: Record | None = await (await driver(session)).fetchrow(prepared.sql,
                                                               *prepared.args(values))
    return row


async def execute_many(session: AsyncSession, prepared: Prepared,
                       rows: Sequence[dict[str, Any]]) -> None:
    await (await driver(session)).executemany(prepared.sql,
                                              [prepared.args(row) for row in rows])
