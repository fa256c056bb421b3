"""Hot statements run on the session's own asyncpg connection, in its transaction.

SQLAlchemy spends several times more CPU on each statement than the database does on a
small one; for the few statements on the busiest paths, a Core statement is compiled once
(`Prepared`) and run by asyncpg directly, with asyncpg's statement cache. The connection is
the session's, so the statement sees and joins whatever the session has done and commits or
rolls back with it."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from asyncpg import Connection, Record
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

_DRIVER = "salescore.driver"
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
        return cls(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] if name in values else self.bound[name] for name in self.names]


async def driver(session: AsyncSession) -> Connection:
    """The asyncpg connection under the session, its transaction begun. SQLAlchemy's
    adapter begins the transaction lazily, on the first statement it runs itself; a
    statement run on the driver before that would run, and commit, on its own. For an
    autocommit session the adapter begins nothing. Kept in the session's `info` for as
    long as the session's transaction lasts (the connection is the session's till then)."""
    known = session.info.get(_DRIVER)
    if known is not None and known[0] is session.get_transaction():
        driver_connection: Connection = known[1]
        return driver_connection
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection  # the adapter has no public way to begin
    if adapter._transaction is None:
        await adapter._start_transaction()
    driver_connection = raw.driver_connection
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
