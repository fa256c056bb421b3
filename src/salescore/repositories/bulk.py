"""Set-wise inserts: many new rows of a table in one statement, for a bulk import's batch.

Ids are reserved from the table's identity sequence first (`reserve_ids`), so that a batch
knows each new record's id before anything is written (its events and follow-up tasks
name it); `insert_rows` then sends every row as one array per column to one
`INSERT … SELECT FROM unnest(…)`, with `OVERRIDING SYSTEM VALUE` for reserved ids.
Row triggers fire as for any insert (the history tables are kept by them). The columns'
types come from the catalog, read once per table and process."""

from collections.abc import Sequence
from typing import Any

from asyncpg import Connection

_TYPES: dict[str, dict[str, str]] = {}
_STATEMENTS: dict[tuple[str, tuple[str, ...]], str] = {}
_RESERVE = ("SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id "
            "FROM generate_series(1, $2) ORDER BY 1")
_COLUMN_TYPES = ("SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                 "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped")


async def reserve_ids(connection: Connection, table: str, count: int) -> list[int]:
    """`count` new ids of `table`, in ascending order (gaps in the sequence are normal:
    an id reserved and not used is never given again)."""
    if count <= 0:
        return []
    return [int(row["id"]) for row in await connection.fetch(_RESERVE, table, count)]


async def insert_rows(connection: Connection, table: str, columns: tuple[str, ...],
                      rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (values in the order of `columns`: the reserved `id` among them, or
    left to the identity) in one statement."""
    if not rows:
        return
    key = (table, columns)
    if key not in _STATEMENTS:
        if table not in _TYPES:
            _TYPES[table] = {row["attname"]: row["type"]
                             for row in await connection.fetch(_COLUMN_TYPES, table)}
        types = _TYPES[table]
        arrays = ", ".join(f"${n}::{types[column]}[]"
                           for n, column in enumerate(columns, start=1))
        _STATEMENTS[key] = (f"INSERT INTO {table} ({', '.join(columns)}) OVERRIDING SYSTEM "
                            f"VALUE SELECT * FROM unnest({arrays})")
    await connection.execute(_STATEMENTS[key], *([row[n] for row in rows]
                                                 for n in range(len(columns))))
