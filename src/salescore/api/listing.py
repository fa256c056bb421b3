"""List parameters shared by every resource: `limit`, `cursor`, `sort`, and filters as
`field=`, `field[gte]=`, `field[lte]=`, `field[ne]=`; text fields take the patterns of
DOMAIN.md §7. Unknown parameters are refused, so that a typo never silently widens a list."""

import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response
from pydantic import BaseModel

from salescore.api.deps import AppStateDep, CallerDep
from salescore.api.json_bodies import JSON
from salescore.api.state import AppState
from salescore.api.v1.schemas import BigInt, DateIn, TimeOrDateIn
from salescore.domain.access.permissions import Caller
from salescore.domain.activities.activities import start_of_day
from salescore.domain.errors import InvalidInput
from salescore.domain.listing import Condition, ListQuery, Op, Page, Position, Sort
from salescore.domain.patterns import parse_pattern
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.activities.settings import time_zone

T = TypeVar("T")
MAX_LIMIT = 500
# A filter declared with a plain type takes the range and the spelling of its column:
# integers as `bigint`, dates as YYYY-MM-DD, times as RFC 3339 with an offset or as a date
# (the start of that day in the organization's time zone, DESIGN.md).
QUERY_TYPES: Mapping[Any, Any] = {int: BigInt, date: DateIn, datetime: TimeOrDateIn}


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


@dataclass(frozen=True, slots=True)
class FilterParameters:
    """The query parameters of a set of filters, and how to read them into conditions."""

    parameters: list[inspect.Parameter]
    names: frozenset[str]
    patterns: frozenset[str]
    times: frozenset[str]

    async def conditions(self, values: Mapping[str, Any], *, state: AppState,
                         caller: Caller) -> tuple[Condition, ...]:
        """The conditions of the filters given (`values` by parameter name); a date given
        to a time filter stands for the start of that day in the organization's zone."""
        found = self._conditions(values)
        if not any(self._day_of_a_time(c) is not None for c in found):
            return found
        zone = await time_zone(UnitOfWork(state.reads), caller=caller)
        return tuple(c if (day := self._day_of_a_time(c)) is None
                     else replace(c, value=start_of_day(day, zone)) for c in found)

    def _day_of_a_time(self, condition: Condition) -> date | None:
        value = condition.value
        return value if condition.field in self.times and type(value) is date else None

    def _conditions(self, values: Mapping[str, Any]) -> tuple[Condition, ...]:
        found = []
        for key, value in values.items():
            if value is None:
                continue
            field, _, op = key.partition("__")
            if isinstance(value, str) and "\x00" in value:
                raise InvalidInput.of(field if op == Op.EQ else f"{field}[{op}]",
                                      "must not contain NUL characters")
            found.append(Condition(
                field, Op(op), parse_pattern(value) if field in self.patterns else value))
        return tuple(found)


def _parameter(name: str, alias: str, annotation: Any, description: str) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                             annotation=Annotated[annotation | None, Query(
                                 alias=alias, description=description)], default=None)


def filter_parameters(filters: Sequence[Filter]) -> FilterParameters:
    """`field=` for every filter, and `field[gte]=`, `field[lte]=`, `field[ne]=` for those
    with ranges, each typed as its column (see QUERY_TYPES)."""
    params, names = [], set()
    for f in filters:
        kind = "a pattern: AS% starts, %AS ends, AS contains" if f.pattern else "equal to"
        annotation = QUERY_TYPES.get(f.type, f.type)
        params.append(_parameter(f"{f.name}__eq", f.name, annotation, kind))
        names.add(f.name)
        for op in (Op.GTE, Op.LTE, Op.NE) if f.ranges else ():
            alias = f"{f.name}[{op.value}]"
            params.append(_parameter(f"{f.name}__{op.value}", alias, annotation, op.value))
            names.add(alias)
    return FilterParameters(params, frozenset(names),
                            frozenset(f.name for f in filters if f.pattern),
                            frozenset(f.name for f in filters if f.type is datetime))


def refuse_unknown(request: Request, known: frozenset[str] | set[str], what: str) -> None:
    """A query parameter that is not one of `known` is refused, naming it."""
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InvalidInput.of(unknown[0], f"is not a parameter of this {what}")


def sort_parameter(sorts: Sequence[str]) -> inspect.Parameter:
    """`sort`: one of `sorts`, ascending, or descending with a `-` first; `id` unless
    given."""
    return inspect.Parameter("sort", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
        str, Query(description=f"One of {', '.join(sorts)}; `-` for descending.")],
        default="id")


def read_sort(raw: str, sorts: Sequence[str]) -> Sort:
    sort = Sort.parse(raw)
    if sort.field not in sorts:
        raise InvalidInput.of("sort", f"must be one of {', '.join(sorts)}")
    return sort


def list_parameters(resource: str, filters: Sequence[Filter],
                    sorts: Sequence[str] = ("id",),
                    others: Collection[str] = ()) -> Callable[..., Any]:
    """A dependency that reads the list parameters of `resource` into a ListRequest;
    `others` are query parameters the route reads itself (such as `expand`)."""
    read = filter_parameters(filters)
    params = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("state", inspect.Parameter.KEYWORD_ONLY, annotation=AppStateDep),
        inspect.Parameter("caller", inspect.Parameter.KEYWORD_ONLY, annotation=CallerDep),
        inspect.Parameter("limit", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
            int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")], default=50),
        inspect.Parameter("cursor", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
            str | None, Query(description="`next_cursor` of the previous page.")],
            default=None),
        sort_parameter(sorts),
        *read.parameters,
    ]
    known = read.names | {"limit", "cursor", "sort", *others}

    async def dependency(**kwargs: Any) -> ListRequest:
        refuse_unknown(kwargs.pop("request"), known, "list")
        state, caller = kwargs.pop("state"), kwargs.pop("caller")
        sort = read_sort(kwargs.pop("sort"), sorts)
        limit, cursor = kwargs.pop("limit"), kwargs.pop("cursor")
        scope = f"{resource}:{sort.field}:{int(sort.descending)}"
        after = None
        if cursor is not None:
            value, row_id = state.cursors.decode(scope, cursor)
            after = Position(value, row_id)
        conditions = await read.conditions(kwargs, state=state, caller=caller)
        return ListRequest(ListQuery(conditions, sort, limit, after), scope)

    dependency.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return dependency


def next_cursor(state: Any, request: ListRequest, page: Page[Any]) -> str | None:
    """The cursor to the page after this one; None on the last."""
    return None if page.next is None else state.cursors.encode(
        request.scope, [page.next.value, page.next.id])


def page_of(state: Any, request: ListRequest, page: Page[Any],
            shape: Callable[[Any], T]) -> PageOf[T]:
    """The reply for one page: its rows shaped for the API, and the cursor to the next."""
    return PageOf[T](data=[shape(item) for item in page.items],
                     next_cursor=next_cursor(state, request, page))


def page_response(state: Any, request: ListRequest, page: Page[Any],
                  shape: Callable[[Any], BaseModel]) -> Response:
    """The page as JSON, written once here: FastAPI passes a Response through instead of
    validating the page again against the route's `response_model` (which stays its
    documented shape), and a route that answers its own Response is a lean one
    (lean_routes.py)."""
    return Response(page_of(state, request, page, shape).model_dump_json(by_alias=True),
                    media_type=JSON)


def page_values(state: Any, request: ListRequest, page: Page[Any],
                values: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The fields of a `PageOf` as plain values, for a `JsonBody` of it (json_bodies.py)."""
    return {"data": [values(item) for item in page.items],
            "next_cursor": next_cursor(state, request, page)}
