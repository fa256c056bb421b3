"""The product lines of an opportunity (DOMAIN.md §6; the rules are in domain/sales/lines.py).

A line has no version of its own: every line write locks the opportunity, weighs its
`If-Match` once the request is otherwise valid, and is stored as a change of the
opportunity (`store_change`), so that it takes a new version and `updated_at` and leaves
one `opportunity.updated` event with the line's change and the figures that moved
(`lines_total`, and `amount`, `margin_amount`, `weighted_amount` on amount source
`lines`). A write that changes nothing (a line given the values it has, the order it has)
keeps the version and leaves no event. Writes need `opportunities:write` and the right to
edit the opportunity; reads `opportunities:read`. Another organization's opportunity, or a
line of another opportunity, is not found; an unknown product is a 404 naming
`product_id`, like every reference in a body."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import NotFound, check_version
from salescore.domain.sales.lines import (
    Line,
    ProductTerms,
    change_line,
    checked_line_values,
    line_changes,
    new_line,
    order_changes,
    priced,
    reorder,
    without,
)
from salescore.domain.sales.opportunities import Opportunity
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.sales.opportunities import locked_for_change, now_utc, store_change


@dataclass(frozen=True, slots=True)
class LineAnswer:
    opportunity: Opportunity
    line: Line


@dataclass(frozen=True, slots=True)
class LinesAnswer:
    opportunity: Opportunity
    lines: tuple[Line, ...]


def _line_of(lines: Sequence[Line], line_id: int) -> Line:
    found = next((line for line in lines if line.id == line_id), None)
    if found is None:
        raise NotFound("line")
    return found


async def _opportunity(uow: UnitOfWork, caller: Caller, opportunity_id: int) -> Opportunity:
    opportunity = await uow.opportunities.get(caller.organization_id, opportunity_id)
    if opportunity is None:
        raise NotFound("opportunity")
    return opportunity


async def list_lines(uow: UnitOfWork, *, caller: Caller, opportunity_id: int) -> LinesAnswer:
    """The opportunity's lines in their order, with the opportunity (for its ETag)."""
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow.reading():
        opportunity = await _opportunity(uow, caller, opportunity_id)
        lines = await uow.opportunity_lines.of_opportunity(caller.organization_id,
                                                           opportunity_id)
    return LinesAnswer(opportunity, tuple(lines))


async def get_line(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                   line_id: int) -> LineAnswer:
    answer = await list_lines(uow, caller=caller, opportunity_id=opportunity_id)
    return LineAnswer(answer.opportunity, _line_of(answer.lines, line_id))


async def _product(uow: UnitOfWork, organization_id: int,
                   product_id: int | None) -> ProductTerms | None:
    if product_id is None:
        return None
    product = await uow.opportunity_lines.product(organization_id, product_id)
    if product is None:
        raise NotFound("product", field="product_id")
    return product


async def _store(uow: UnitOfWork, caller: Caller, before: Opportunity, figured: Opportunity,
                 change: dict[str, Any]) -> Opportunity:
    """The opportunity with its new figures, stored with `change` in its event, and the
    whole committed."""
    after = await store_change(uow, caller, before, figured, now_utc(), change)
    await uow.commit()
    return after


async def add_line(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                   values: dict[str, Any], if_match: int | None = None) -> LineAnswer:
    """A new line, last; a product's line takes the product's terms where not given."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    checked = checked_line_values(values)
    org = caller.organization_id
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, None)
        product = await _product(uow, org, checked.get("product_id"))
        lines = await uow.opportunity_lines.of_opportunity(org, opportunity_id)
        line = new_line(checked, product, opportunity=before, lines=lines, now=now_utc(),
                        user_id=caller.user_id)
        figured = priced(before, [*lines, line])
        check_version(before.version, if_match)
        line = replace(line, id=await uow.opportunity_lines.add(line))
        after = await _store(uow, caller, before, figured, line_changes(None, line))
    return LineAnswer(after, line)


async def change_opportunity_line(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                                  line_id: int, values: dict[str, Any],
                                  if_match: int | None = None) -> LineAnswer:
    """The fields given changed; the line keeps its product and position."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    checked = checked_line_values(values)
    org = caller.organization_id
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, None)
        lines = await uow.opportunity_lines.of_opportunity(org, opportunity_id)
        old = _line_of(lines, line_id)
        new = change_line(old, checked, now=now_utc(), user_id=caller.user_id)
        figured = priced(before, [new if line.id == line_id else line for line in lines])
        check_version(before.version, if_match)
        await uow.opportunity_lines.save(old, new)
        after = await _store(uow, caller, before, figured, line_changes(old, new))
    return LineAnswer(after, new)


async def remove_line(uow: UnitOfWork, *, caller: Caller, opportunity_id: int, line_id: int,
                      if_match: int | None = None) -> Opportunity:
    """The line goes; the lines after it move up a position."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    org = caller.organization_id
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, None)
        lines = await uow.opportunity_lines.of_opportunity(org, opportunity_id)
        gone = _line_of(lines, line_id)
        left = without(lines, line_id)
        check_version(before.version, if_match)
        await uow.opportunity_lines.delete(gone)
        await uow.opportunity_lines.place(lines, left)
        return await _store(uow, caller, before, priced(before, left),
                            line_changes(gone, None))


async def reorder_lines(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                        line_ids: Sequence[int], if_match: int | None = None) -> LinesAnswer:
    """The lines in the order given, which names each of them once."""
    require(caller, Scope.OPPORTUNITIES_WRITE)
    org = caller.organization_id
    async with uow:
        before = await locked_for_change(uow, caller, opportunity_id, None)
        lines = await uow.opportunity_lines.of_opportunity(org, opportunity_id)
        ordered = reorder(lines, line_ids)
        check_version(before.version, if_match)
        await uow.opportunity_lines.place(lines, ordered)
        after = await _store(uow, caller, before, priced(before, ordered),
                             order_changes(lines, ordered))
    return LinesAnswer(after, ordered)
