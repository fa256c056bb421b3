"""Orders an ERP linked back to opportunities, and each opportunity's ordered amount."""

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Select,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.orders import (
    MAX_AMOUNT,
    Order,
    OrderedAmount,
    OrderTerms,
    Pricing,
)
from salescore.repositories.access.models import organizations
from salescore.repositories.listing import fetch_page
from salescore.repositories.prepared import Prepared, fetch
from salescore.repositories.reports.fx import rate_on
from salescore.repositories.sales.models import opportunities as o
from salescore.repositories.sales.models import orders as r

_OF_OPPORTUNITIES = Prepared.of(select(r).where(
    r.c.organization_id == bindparam("organization_id"),
    r.c.opportunity_id == func.any(bindparam("opportunity_ids", type_=ARRAY(BigInteger))),
).order_by(r.c.opportunity_id, r.c.id))
LIST_COLUMNS: dict[str, ColumnElement[Any]] = {name: r.c[name] for name in (
    "id", "opportunity_id", "system", "order_number", "currency", "status", "ordered_at",
    "created_at", "updated_at")}


def _to_domain(row: Any) -> Order:
    return Order(**{c.key: getattr(row, c.key) for c in r.c})


def _terms(terms: OrderTerms) -> dict[str, Any]:
    return {"amount": terms.amount, "currency": terms.currency, "status": terms.status,
            "url": terms.url, "ordered_at": terms.ordered_at}


def fx_day(time_zone: str) -> ColumnElement[date]:
    """The day an order is converted on: when it was ordered, else when it was linked, as
    a date in the organization's time zone."""
    moment = func.coalesce(r.c.ordered_at, r.c.created_at)
    return cast(func.timezone(time_zone, moment), Date)


def in_currency(organization_id: int, pricing: Pricing) -> ColumnElement[Decimal]:
    """An order's amount in the opportunity's currency: as it is in that currency, else
    through the base currency at the rates of the order's day; NULL when a rate is
    missing."""
    day = fx_day(pricing.time_zone)
    to_base = rate_on(organization_id, pricing.base_currency, r.c.currency, day)
    from_base = rate_on(organization_id, pricing.base_currency, literal(pricing.currency), day)
    return case((r.c.currency == pricing.currency, r.c.amount),
                else_=r.c.amount * to_base / from_base)


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _mine(self, organization_id: int) -> ColumnElement[bool]:
        return r.c.organization_id == organization_id

    async def lock_opportunity(self, organization_id: int,
                               opportunity_id: int) -> Pricing | None:
        """How the opportunity's orders are summed, its row held until the transaction
        ends (so that concurrent links to it sum one after the other, each seeing the
        orders the one before wrote); None when the organization has no such
        opportunity."""
        stmt = (select(o.c.currency, organizations.c.base_currency, organizations.c.time_zone)
                .join(organizations, organizations.c.id == o.c.organization_id)
                .where(o.c.organization_id == organization_id, o.c.id == opportunity_id)
                .with_for_update(of=o, key_share=True))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else Pricing(row.currency, row.base_currency, row.time_zone)

    async def opportunity_exists(self, organization_id: int, opportunity_id: int) -> bool:
        stmt = select(exists().where(o.c.organization_id == organization_id,
                                     o.c.id == opportunity_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def get(self, organization_id: int, order_id: int) -> Order | None:
        stmt = select(r).where(self._mine(organization_id), r.c.id == order_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def by_number(self, organization_id: int, system: str,
                        order_number: str) -> Order | None:
        """The order `system` knows as `order_number`, its row held until the transaction
        ends."""
        stmt = select(r).where(self._mine(organization_id), r.c.system == system,
                               r.c.order_number == order_number).with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def add_if_absent(self, organization_id: int, opportunity_id: int, system: str,
                            order_number: str, terms: OrderTerms,
                            user_id: int | None) -> Order | None:
        """Insert unless the system's order number is there (waiting for a writer still
        busy with it); None when it is."""
        stmt = (insert(r).values(organization_id=organization_id,
                                 opportunity_id=opportunity_id, system=system,
                                 order_number=order_number, created_by=user_id,
                                 updated_by=user_id, **_terms(terms))
                .on_conflict_do_nothing(index_elements=[r.c.organization_id, r.c.system,
                                                        r.c.order_number])
                .returning(*r.c))
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def update(self, organization_id: int, order_id: int, terms: OrderTerms,
                     user_id: int | None) -> Order:
        stmt = (update(r).where(self._mine(organization_id), r.c.id == order_id)
                .values(**_terms(terms), updated_by=user_id, updated_at=func.now(),
                        version=r.c.version + 1)
                .returning(*r.c))
        return _to_domain((await self._session.execute(stmt)).one())

    async def refresh_ordered_amount(self, organization_id: int, opportunity_id: int,
                                     pricing: Pricing) -> OrderedAmount:
        """Sum the opportunity's orders into its currency (see `in_currency`), rounded
        half-even to the cent once, and store the sum as its `ordered_amount` (NULL without
        orders) in the same statement. The opportunity keeps its version and `updated_at`:
        the figure is derived from the orders. Orders no rate converts are left out of the
        sum and named in the answer; a sum too large for the column is answered, not
        stored (see `check_summable`)."""
        converted = in_currency(organization_id, pricing)
        summed = (select(func.half_even_cents(func.sum(converted)).label("total"),
                         func.array_agg(r.c.id).filter(converted.is_(None)).label("unconverted"))
                  .where(self._mine(organization_id), r.c.opportunity_id == opportunity_id)
                  .cte("summed"))
        fits = or_(summed.c.total.is_(None), func.abs(summed.c.total) < MAX_AMOUNT)
        stored = (update(o).where(o.c.organization_id == organization_id,
                                  o.c.id == opportunity_id, fits,
                                  o.c.ordered_amount.is_distinct_from(summed.c.total))
                  .values(ordered_amount=summed.c.total).returning(o.c.id).cte("stored"))
        stmt = select(summed.c.total, summed.c.unconverted).add_cte(stored)
        row = (await self._session.execute(stmt)).one()
        return OrderedAmount(row.total, frozenset(row.unconverted or ()))

    def _listed(self, organization_id: int) -> Select[Any]:
        return select(r).where(self._mine(organization_id))

    async def for_opportunities(self, organization_id: int,
                                opportunity_ids: Collection[int]) -> dict[int, list[Order]]:
        """The orders of each of the opportunities (oldest first; an empty list for one
        without), in one prepared statement on the driver: for `expand=orders` on a page
        of opportunities, read on the connection that read the page."""
        found: dict[int, list[Order]] = {opportunity_id: [] for opportunity_id in
                                         opportunity_ids}
        if not found:
            return found
        rows = await fetch(self._session, _OF_OPPORTUNITIES, organization_id=organization_id,
                           opportunity_ids=list(found))
        for row in rows:
            found[row["opportunity_id"]].append(Order(**{c.key: row[c.key] for c in r.c}))
        return found

    async def opportunities_with_orders(self, organization_id: int,
                                        opportunity_ids: Collection[int]) -> set[int]:
        """Those of the opportunities that have orders (and so cannot be deleted)."""
        if not opportunity_ids:
            return set()
        stmt = select(r.c.opportunity_id).distinct().where(
            self._mine(organization_id), r.c.opportunity_id.in_(list(opportunity_ids)))
        return set((await self._session.execute(stmt)).scalars())

    async def list(self, organization_id: int, query: ListQuery,
                   opportunity_id: int | None = None) -> Page[Order]:
        """The organization's orders, or one opportunity's."""
        stmt = self._listed(organization_id)
        if opportunity_id is not None:
            stmt = stmt.where(r.c.opportunity_id == opportunity_id)
        return await fetch_page(self._session, stmt, query, LIST_COLUMNS, r.c.id, _to_domain)
