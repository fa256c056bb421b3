"""The product lines of opportunities, and the product terms a new line takes.

Reads are prepared statements on the driver (repositories/prepared.py), so that a read
unit of work that has read the opportunity the same way stays on its one connection. A
line's `line_total` and `line_cost` are stored as the domain computes them."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.sales.lines import Line, ProductTerms
from salescore.repositories.prepared import Prepared, fetch, fetchrow
from salescore.repositories.quotes.models import products
from salescore.repositories.sales.models import opportunity_lines as t

_ORG: BindParameter[int] = bindparam("organization_id")
_ORDER = (t.c.position, t.c.id)
_STORED = ("product_id", "name", "description", "quantity", "unit_price", "discount_percent",
           "unit_cost", "position", "created_at", "created_by", "updated_at", "updated_by")
_OF_OPPORTUNITY = Prepared.of(select(t).where(
    t.c.organization_id == _ORG, t.c.opportunity_id == bindparam("opportunity_id"),
).order_by(*_ORDER))
_OF_OPPORTUNITIES = Prepared.of(select(t).where(
    t.c.organization_id == _ORG,
    t.c.opportunity_id == func.any(bindparam("opportunity_ids", type_=ARRAY(BigInteger))),
).order_by(t.c.opportunity_id, *_ORDER))
_COUNT = Prepared.of(select(func.count()).select_from(t).where(
    t.c.organization_id == _ORG, t.c.opportunity_id == bindparam("opportunity_id")))
_PRODUCT = Prepared.of(select(
    products.c.id, products.c.name, products.c.description, products.c.unit_price,
    products.c.currency, products.c.unit_cost, products.c.active,
).where(products.c.organization_id == _ORG, products.c.id == bindparam("product_id")))

_MOVES = func.unnest(bindparam("line_ids", type_=ARRAY(BigInteger)),
                     bindparam("positions", type_=ARRAY(Integer))).table_valued(
    "line_id", "new_position").render_derived()
_PLACE = update(t).where(t.c.organization_id == bindparam("org"),
                         t.c.id == _MOVES.c.line_id).values(position=_MOVES.c.new_position)


def _to_domain(row: Any) -> Line:
    return Line(**{key: row[key] for key in Line.__dataclass_fields__})


def _to_row(line: Line) -> dict[str, Any]:
    """The stored columns, with the figures the domain computed."""
    return {**{key: getattr(line, key) for key in _STORED},
            "line_total": line.line_total, "line_cost": line.line_cost}


class OpportunityLineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_opportunity(self, organization_id: int, opportunity_id: int) -> list[Line]:
        """The opportunity's lines in their order."""
        rows = await fetch(self._session, _OF_OPPORTUNITY, organization_id=organization_id,
                           opportunity_id=opportunity_id)
        return [_to_domain(row) for row in rows]

    async def for_opportunities(self, organization_id: int,
                                opportunity_ids: Collection[int]) -> dict[int, list[Line]]:
        """The lines of each of the opportunities in their order (an empty list for one
        without), in one query: for `expand=lines` on a page of opportunities."""
        found: dict[int, list[Line]] = {opportunity_id: [] for opportunity_id in
                                        opportunity_ids}
        if not found:
            return found
        rows = await fetch(self._session, _OF_OPPORTUNITIES, organization_id=organization_id,
                           opportunity_ids=list(found))
        for row in rows:
            found[row["opportunity_id"]].append(_to_domain(row))
        return found

    async def count(self, organization_id: int, opportunity_id: int) -> int:
        row = await fetchrow(self._session, _COUNT, organization_id=organization_id,
                             opportunity_id=opportunity_id)
        assert row is not None
        return int(row[0])

    async def product(self, organization_id: int, product_id: int) -> ProductTerms | None:
        """What a new line takes from the organization's product; None when it has none."""
        row = await fetchrow(self._session, _PRODUCT, organization_id=organization_id,
                             product_id=product_id)
        return None if row is None else ProductTerms(**dict(row.items()))

    async def add(self, line: Line) -> int:
        """Store a new line; its id."""
        stmt = insert(t).values(organization_id=line.organization_id,
                                opportunity_id=line.opportunity_id,
                                **_to_row(line)).returning(t.c.id)
        new_id: int = (await self._session.execute(stmt)).scalar_one()
        return new_id

    async def save(self, before: Line, after: Line) -> None:
        """Store what changed of a line."""
        old, new = _to_row(before), _to_row(after)
        changed = {key: value for key, value in new.items() if old[key] != value}
        if changed:
            await self._session.execute(update(t).where(
                t.c.organization_id == after.organization_id, t.c.id == after.id,
            ).values(changed))

    async def place(self, before: Sequence[Line], after: Sequence[Line]) -> None:
        """Store the positions of the lines whose position changed, in one statement."""
        was = {line.id: line.position for line in before}
        moved = [line for line in after if was.get(line.id) != line.position]
        if not moved:
            return
        await self._session.execute(_PLACE, {
            "org": moved[0].organization_id,
            "line_ids": [line.id for line in moved],
            "positions": [line.position for line in moved]})

    async def delete(self, line: Line) -> None:
        await self._session.execute(delete(t).where(
            t.c.organization_id == line.organization_id, t.c.id == line.id))
