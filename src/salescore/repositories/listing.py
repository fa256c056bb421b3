"""Keyset pagination and filters over any select, for every list of the API.

Rows come in `sort` order with the id as tie-breaker, NULLs last in both directions, and a
page continues strictly after the last row shown, so rows inserted meanwhile never shift it."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.errors import InvalidInput
from salescore.domain.listing import Condition, ListQuery, Op, Page, Position
from salescore.domain.patterns import TextPattern

T = TypeVar("T")
Columns = Mapping[str, ColumnElement[Any]]


def where(condition: Condition, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """One filter as SQL; text patterns match case-insensitively, wildcards escaped."""
    value = condition.value
    if isinstance(value, TextPattern):
        like = column.ilike(value.like(), escape="\\")
        return ~like if condition.op is Op.NE else like
    if condition.op is Op.EQ:
        return column.is_(None) if value is None else column == value
    if condition.op is Op.NE:
        return column.is_distinct_from(value)
    if condition.op is Op.GTE:
        return column >= value
    return column <= value


def _after(position: Position, column: ColumnElement[Any], id_column: ColumnElement[Any],
           descending: bool) -> ColumnElement[bool]:
    def beyond(a: ColumnElement[Any], b: Any) -> ColumnElement[bool]:
        comparison: ColumnElement[bool] = a < b if descending else a > b
        return comparison

    if position.value is None:
        return and_(column.is_(None), beyond(id_column, position.id))
    return or_(
        beyond(column, position.value),
        and_(column == position.value, beyond(id_column, position.id)),
        column.is_(None),
    )


def order_of(query: ListQuery, columns: Columns,
             id_column: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """The list's order: its sort field, NULLs last, then the id."""
    sort_column = _column(columns, query.sort.field, "sort")
    if query.sort.descending:
        return [sort_column.desc().nulls_last(), id_column.desc()]
    return [sort_column.asc().nulls_last(), id_column.asc()]


def filtered(stmt: Select[Any], query: ListQuery, columns: Columns) -> Select[Any]:
    """`stmt` with every condition of the list (AND)."""
    for condition in query.conditions:
        stmt = stmt.where(where(condition, _column(columns, condition.field)))
    return stmt


def apply_query(stmt: Select[Any], query: ListQuery, columns: Columns,
                id_column: ColumnElement[Any]) -> Select[Any]:
    """Filters, order, keyset position and limit (one row more, to see if a page follows)."""
    stmt = filtered(stmt, query, columns)
    sort_column = _column(columns, query.sort.field, "sort")
    if query.after is not None:
        stmt = stmt.where(_after(query.after, sort_column, id_column, query.sort.descending))
    return stmt.order_by(*order_of(query, columns, id_column)).limit(query.limit + 1)


def ids_first(stmt: Select[Any], query: ListQuery, columns: Columns,
              id_column: ColumnElement[Any], rows: Select[Any]) -> Select[Any]:
    """`apply_query` in two steps: the page's ids found by `stmt` on the table alone, then
    only those rows made up by `rows` (a select of one row per id, with what it adds to
    each row, such as subqueries), in the same order."""
    page = apply_query(stmt.with_only_columns(id_column), query, columns, id_column)
    return rows.where(id_column.in_(page.correlate(None))).order_by(
        *order_of(query, columns, id_column))


async def fetch_page(session: AsyncSession, stmt: Select[Any], query: ListQuery,
                     columns: Columns, id_column: ColumnElement[Any],
                     to_domain: Callable[[Any], T], *,
                     rows_of: Select[Any] | None = None) -> Page[T]:
    """One page of `stmt`'s rows as domain objects, with the position to continue from.
    With `rows_of`, `stmt` only finds the page's ids and `rows_of` makes up its rows (see
    `ids_first`)."""
    shaped = (apply_query(stmt, query, columns, id_column) if rows_of is None
              else ids_first(stmt, query, columns, id_column, rows_of))
    rows: Sequence[Any] = (await session.execute(shaped)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [to_domain(row) for row in rows]
    if not more:
        return Page(items, None)
    last = rows[-1]._mapping
    sort_key = _column(columns, query.sort.field, "sort").key
    return Page(items, Position(last[sort_key], last[id_column.key]))


def _column(columns: Columns, field: str, context: str = "filter") -> ColumnElement[Any]:
    try:
        return columns[field]
    except KeyError:
        raise InvalidInput.of(context, f"cannot {context} by {field}") from None
