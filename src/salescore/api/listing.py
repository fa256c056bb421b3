"""List parameters shared by every resource: `limit`, `cursor`, `sort`, and filters as
`field=`, `field[gte]=`, `field[lte]=`, `field[ne]=`; text fields take the patterns of
DOMAIN.md §7. Unknown parameters are refused, so that a typo never silently widens a list."""

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel

from salescore.api.deps import AppStateDep
from salescore.domain.errors import InvalidInput
from salescore.domain.listing import Condition, ListQuery, Op, Page, Position, Sort
from salescore.domain.patterns import parse_pattern

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Filter:
    name: str
    type: Any
    ranges: bool = False
    pattern: bool = False


class PageOf(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ListRequest:
    query: ListQuery
    scope: str


def _parameter(name: str, alias: str, annotation: Any, description: str) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                             annotation=Annotated[annotation | None, Query(
                                 alias=alias, description=description)], default=None)


def list_parameters(resource: str, filters: Sequence[Filter],
                    sorts: Sequence[str] = ("id",)) -> Callable[..., Any]:
    """A dependency that reads the list parameters of `resource` into a ListRequest."""
    params = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("state", inspect.Parameter.KEYWORD_ONLY, annotation=AppStateDep),
        inspect.Parameter("limit", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")], default=50),
        inspect.Parameter("cursor", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
            str | None, Query(description="`next_cursor` of the previous page.")],
            default=None),
        inspect.Parameter("sort", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
            str, Query(description=f"One of {', '.join(sorts)}; `-` for descending.")],
            default="id"),
    ]
    known = {"limit", "cursor", "sort"}
    for f in filters:
        kind = "a pattern: AS% starts, %AS ends, AS contains" if f.pattern else "equal to"
        params.append(_parameter(f"{f.name}__eq", f.name, f.type, kind))
        known.add(f.name)
        if f.ranges:
            for op in (Op.GTE, Op.LTE, Op.NE):
                alias = f"{f.name}[{op.value}]"
                params.append(_parameter(f"{f.name}__{op.value}", alias, f.type, op.value))
                known.add(alias)
    patterns = {f.name for f in filters if f.pattern}

    async def dependency(**kwargs: Any) -> ListRequest:
        request: Request = kwargs.pop("request")
        state = kwargs.pop("state")
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise InvalidInput.of(unknown[0], "is not a parameter of this list")
        sort = Sort.parse(kwargs.pop("sort"))
        if sort.field not in sorts:
            raise InvalidInput.of("sort", f"must be one of {', '.join(sorts)}")
        limit, cursor = kwargs.pop("limit"), kwargs.pop("cursor")
        conditions = []
        for key, value in kwargs.items():
            if value is None:
                continue
            field, _, op = key.partition("__")
            _check_storable(value, field if op == Op.EQ else f"{field}[{op}]")
            conditions.append(Condition(
                field, Op(op), parse_pattern(value) if field in patterns else value))
        scope = f"{resource}:{sort.field}:{int(sort.descending)}"
        after = None
        if cursor is not None:
            value, row_id = state.cursors.decode(scope, cursor)
            after = Position(value, row_id)
        return ListRequest(ListQuery(tuple(conditions), sort, limit, after), scope)

    dependency.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return dependency


def _check_storable(value: Any, parameter: str) -> None:
    """Refuse what PostgreSQL cannot compare with: integers beyond bigint, NUL in text."""
    if isinstance(value, int) and not isinstance(value, bool) and not (
            -(2**63) <= value < 2**63):
        raise InvalidInput.of(parameter, "is out of range")
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput.of(parameter, "must not contain NUL characters")


def page_of(state: Any, request: ListRequest, page: Page[Any],
            shape: Callable[[Any], T]) -> PageOf[T]:
    """The reply for one page: its rows shaped for the API, and the cursor to the next."""
    cursor = None if page.next is None else state.cursors.encode(
        request.scope, [page.next.value, page.next.id])
    return PageOf[T](data=[shape(item) for item in page.items], next_cursor=cursor)
