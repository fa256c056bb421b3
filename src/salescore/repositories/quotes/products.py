"""The product catalogue."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.errors import Conflict
from salescore.domain.listing import ListQuery, Page
from salescore.domain.quotes.products import Product
from salescore.repositories.database import UNIQUE_VIOLATION
from salescore.repositories.listing import fetch_page, where
from salescore.repositories.quotes.models import products as p
from salescore.repositories.sales.models import opportunity_lines

LIST_COLUMNS: dict[str, ColumnElement[Any]] = {name: p.c[name] for name in (
    "id", "sku", "name", "active", "currency", "unit_price", "external_id", "created_at",
    "updated_at")}
SEARCHED = (p.c.sku, p.c.name)
SKU_INDEX = "uq_products_organization_id_sku"


def _to_domain(row: Any) -> Product:
    return Product(**{c.key: getattr(row, c.key) for c in p.c})


def sku_taken_detail(sku: Any) -> str:
    return f"a product with the sku {sku!r} exists already (skus ignore case)"


def external_id_taken_detail(external_id: Any) -> str:
    return f"a product with the external id {external_id!r} exists already"


@asynccontextmanager
async def _unique(values: dict[str, Any]) -> AsyncIterator[None]:
    """A unique key broken inside (a concurrent writer took the sku or the external id
    between the service's check and this write) is a Conflict naming which."""
    try:
        yield
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        # asyncpg's own error, which SQLAlchemy's wraps, names the constraint.
        constraint = getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)
        if constraint == SKU_INDEX:
            raise Conflict(sku_taken_detail(values.get("sku"))) from None
        raise Conflict(external_id_taken_detail(values.get("external_id"))) from None


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _mine(self, organization_id: int) -> ColumnElement[bool]:
        return p.c.organization_id == organization_id

    async def _one(self, stmt: Any) -> Product | None:
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def get(self, organization_id: int, product_id: int) -> Product | None:
        return await self._one(select(p).where(self._mine(organization_id),
                                               p.c.id == product_id))

    async def get_by_external_id(self, organization_id: int,
                                 external_id: str) -> Product | None:
        """The product with `external_id`, its row held until the transaction ends."""
        return await self._one(select(p).where(
            self._mine(organization_id), p.c.external_id == external_id).with_for_update())

    async def lock(self, organization_id: int, product_id: int) -> None:
        """Hold the row until the transaction ends: a line being put on the product
        waits for a delete, and the other way round."""
        await self._session.execute(select(p.c.id).where(
            self._mine(organization_id), p.c.id == product_id).with_for_update())

    async def sku_taken(self, organization_id: int, sku: str,
                        except_id: int | None = None) -> bool:
        """Whether another product has the sku, compared as the unique index does."""
        stmt = select(p.c.id).where(self._mine(organization_id),
                                    func.lower(p.c.sku) == func.lower(sku),
                                    p.c.id.is_distinct_from(except_id))
        return (await self._session.execute(stmt)).first() is not None

    async def external_id_taken(self, organization_id: int, external_id: str,
                                except_id: int | None = None) -> bool:
        stmt = select(p.c.id).where(self._mine(organization_id),
                                    p.c.external_id == external_id,
                                    p.c.id.is_distinct_from(except_id))
        return (await self._session.execute(stmt)).first() is not None

    async def in_use(self, organization_id: int, product_id: int) -> bool:
        """Whether a line of an opportunity is of the product."""
        lines = opportunity_lines.c
        stmt = select(exists().where(lines.organization_id == organization_id,
                                     lines.product_id == product_id))
        return bool((await self._session.execute(stmt)).scalar())

    async def list(self, organization_id: int, query: ListQuery) -> Page[Product]:
        """A page of the catalogue; `q` finds its pattern in the sku or the name."""
        stmt = select(p).where(self._mine(organization_id))
        rest = []
        for condition in query.conditions:
            if condition.field == "q":
                stmt = stmt.where(or_(*(where(condition, c) for c in SEARCHED)))
            else:
                rest.append(condition)
        return await fetch_page(self._session, stmt, replace(query, conditions=tuple(rest)),
                                LIST_COLUMNS, p.c.id, _to_domain)

    async def add(self, organization_id: int, values: dict[str, Any]) -> Product:
        stmt = insert(p).values(organization_id=organization_id, **values).returning(*p.c)
        async with _unique(values):
            return _to_domain((await self._session.execute(stmt)).one())

    async def add_if_absent(self, organization_id: int,
                            values: dict[str, Any]) -> Product | None:
        """Insert unless a product with the same external id or sku exists (waiting for a
        writer still busy with one); None when one does."""
        stmt = (insert(p).values(organization_id=organization_id, **values)
                .on_conflict_do_nothing().returning(*p.c))
        return await self._one(stmt)

    async def update(self, organization_id: int, product_id: int,
                     values: dict[str, Any]) -> Product:
        stmt = (update(p).where(self._mine(organization_id), p.c.id == product_id)
                .values(**values, version=p.c.version + 1, updated_at=func.now())
                .returning(*p.c))
        async with _unique(values):
            return _to_domain((await self._session.execute(stmt)).one())

    async def delete(self, organization_id: int, product_id: int) -> None:
        await self._session.execute(delete(p).where(self._mine(organization_id),
                                                    p.c.id == product_id))
