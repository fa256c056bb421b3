"""Exports of a list: every row its filters pick, in its order, read in one statement.

An `ExportQuery` is the list's rows (its filters and order, no page) with the columns an
export shows: the list's fields under their names and the names of what they refer to.
As CSV the rows are written by PostgreSQL itself (`COPY (query) TO STDOUT`), each value
already as text in the export's spelling: money and other decimals plain with a dot
(`1250.00`), times in RFC 3339 UTC to the second, dates as YYYY-MM-DD, booleans `true` and
`false`, and text that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or
a carriage return first) behind an apostrophe. The same statement with its typed values is
read through a cursor, in batches, for the files Python draws (xlsx, PDF).

COPY takes no parameters: asyncpg's `copy_from_query` has the server quote each value
into the statement first (`quote_literal`), two round trips."""

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asyncpg import Record
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    FromClause,
    Numeric,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import ListQuery
from salescore.repositories.listing import Columns, filtered, order_of
from salescore.repositories.prepared import driver

Sink = Callable[[bytes], Awaitable[None]]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CODES: list[ColumnElement[Any]] = [literal_column(str(ord(c))) for c in FORMULA_STARTS]
_RFC3339_UTC = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """The rows of a list (`rows`: the main table's, filtered and ordered), the tables
    they are shown with (`source`: the main table joined to what it refers to) and the
    columns shown, by name."""

    rows: Select[Any]
    source: FromClause
    columns: tuple[tuple[str, ColumnElement[Any]], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def typed(self, *, at_most: int | None = None) -> Select[Any]:
        """The rows with each column's own values; `at_most` rows."""
        return self._select([c.label(name) for name, c in self.columns], at_most)

    def as_text(self, *, quote_formulas: bool, names: Sequence[str] | None = None,
                at_most: int | None = None) -> Select[Any]:
        """The rows with each value in the export's spelling (see the module); only the
        columns `names` when given."""
        chosen = dict(self.columns)
        shown = self.names if names is None else names
        return self._select([as_text(chosen[name], quote_formulas=quote_formulas).label(name)
                             for name in shown], at_most)

    def count(self, *, at_most: int) -> Select[Any]:
        """How many rows there are, counting no further than `at_most`."""
        return select(func.count()).select_from(
            self.rows.order_by(None).limit(at_most).subquery())

    def _select(self, columns: list[Any], at_most: int | None) -> Select[Any]:
        stmt = self.rows.with_only_columns(*columns).select_from(self.source)
        return stmt if at_most is None else stmt.limit(at_most)


def export_query(picked: Select[Any], query: ListQuery, columns: Columns,
                 id_column: ColumnElement[Any], *, source: FromClause,
                 shown: Sequence[tuple[str, ColumnElement[Any]]]) -> ExportQuery:
    """The export of the rows `picked` (a select of the main table's id with every
    condition of the list `query`, as `picked_by` makes it) in the list's order."""
    return ExportQuery(picked.order_by(*order_of(query, columns, id_column)), source,
                       tuple(shown))


def picked_by(rows: Select[Any], query: ListQuery, columns: Columns) -> Select[Any]:
    """`rows` (a select of the main table's id with the organization's condition, and any
    the list adds of its own) with the list's filters on `columns`."""
    return filtered(rows, query, columns)


def with_names(main: Table, references: Sequence[tuple[str, Table, ColumnElement[Any]]],
               ) -> tuple[FromClause, dict[str, ColumnElement[Any]]]:
    """`main` left-joined to each table it refers to, given as (`what`, table, the column
    of `main` holding the id): by its organization and that id, each under an alias of
    its own (`what`), so that no subquery of the list's filters over the same table is
    taken for one about it; and each one's name column, as `<what>_name`."""
    source: FromClause = main
    names: dict[str, ColumnElement[Any]] = {}
    for what, table, column in references:
        referred = table.alias(what)
        source = source.outerjoin(referred, and_(
            referred.c.organization_id == main.c.organization_id, referred.c.id == column))
        names[f"{what}_name"] = referred.c.name
    return source, names


def shown_with_names(main: Table, fields: Sequence[str], names: dict[str, ColumnElement[Any]],
                     made: dict[str, Sequence[tuple[str, ColumnElement[Any]]]] | None = None,
                     ) -> list[tuple[str, ColumnElement[Any]]]:
    """The columns of `main` named by `fields`, in that order, each `<what>_id` followed
    by `<what>_name` when `names` has it (see `with_names`); a field in `made` is the
    columns given there instead."""
    shown: list[tuple[str, ColumnElement[Any]]] = []
    made = made or {}
    for field in fields:
        shown.extend(made[field] if field in made else [(field, main.c[field])])
        name = field.removesuffix("_id") + "_name"
        if field.endswith("_id") and name in names:
            shown.append((name, names[name]))
    return shown


def as_text(column: ColumnElement[Any], *, quote_formulas: bool) -> ColumnElement[Any]:
    """The column's values in the export's spelling (see the module); whole numbers are
    left as they are, which is already how COPY writes them."""
    kind = column.type
    if isinstance(kind, DateTime):
        return func.to_char(func.timezone("UTC", column), _RFC3339_UTC)
    if isinstance(kind, Date):
        return func.to_char(column, "YYYY-MM-DD")
    if isinstance(kind, Boolean | Numeric):
        return sql_cast(column, Text)
    if isinstance(kind, String) and quote_formulas:
        return case((func.ascii(column).in_(_FORMULA_CODES), literal("'") + column),
                    else_=column)
    return column


def compiled(stmt: Select[Any]) -> tuple[str, list[Any]]:
    """The statement as asyncpg runs it: its SQL and its parameters, in order."""
    done = stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    return str(done), [done.params[name] for name in done.positiontup or ()]


class ExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def copy_csv(self, export: ExportQuery, sink: Sink) -> None:
        """Every row as CSV, a header line first, as PostgreSQL writes it, handed to
        `sink` in the pieces it arrives in; reading waits while `sink` does."""
        sql, args = compiled(export.as_text(quote_formulas=True))
        connection = await driver(self._session)

        async def passed(piece: bytes | bytearray) -> None:  # asyncpg's own buffer, or bytes
            await sink(bytes(piece))

        await connection.copy_from_query(sql, *args, output=passed, format="csv",
                                         header=True)

    async def count(self, export: ExportQuery, *, at_most: int) -> int:
        sql, args = compiled(export.count(at_most=at_most))
        found: int = await (await driver(self._session)).fetchval(sql, *args)
        return found

    async def batches(self, stmt: Select[Any], *,
                      size: int) -> AsyncGenerator[list[Record], None]:
        """The rows of `stmt` (one of an `ExportQuery`'s), `size` at a time, from a
        cursor: only in a transaction."""
        sql, args = compiled(stmt)
        cursor = await (await driver(self._session)).cursor(sql, *args)
        while batch := await cursor.fetch(size):
            yield batch
