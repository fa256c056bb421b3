"""The product catalogue: what the organization sells.

Everyone reads it (`products:read`); admins and managers keep it (`products:write`):
sellers put products on lines but do not set the prices. A product's sku is unique in the
organization whatever its case, and so is its external id, the integrator's key of the
create-or-replace upsert. A product's currency defaults to the organization's. A product
on any opportunity's line cannot be deleted: deactivate it, so that it is offered no more
and the lines that have it keep it."""

from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, PreconditionFailed, check_version
from salescore.domain.events import unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.quotes.products import (
    Product,
    check_product_values,
    created_event,
    deleted_event,
    product_changes,
    updated_event,
)
from salescore.repositories.quotes.products import external_id_taken_detail, sku_taken_detail
from salescore.repositories.unit_of_work import UnitOfWork

# How often an upsert looks again when the product it saw vanished or appeared meanwhile.
UPSERT_ATTEMPTS = 3


async def _check_unique(uow: UnitOfWork, organization_id: int, values: dict[str, Any],
                        except_id: int | None = None) -> None:
    """The sku and the external id a write gives must be free in the organization."""
    sku, external_id = values.get("sku"), values.get("external_id")
    if sku is not None and await uow.products.sku_taken(organization_id, sku, except_id):
        raise Conflict(sku_taken_detail(sku))
    if external_id is not None and await uow.products.external_id_taken(
            organization_id, external_id, except_id):
        raise Conflict(external_id_taken_detail(external_id))


async def _with_currency(uow: UnitOfWork, organization_id: int,
                         values: dict[str, Any]) -> dict[str, Any]:
    """The values of a whole product, in the organization's currency unless they name one."""
    if values.get("currency") is not None:
        return values
    organization = await uow.organizations.get(organization_id)
    assert organization is not None  # the caller's own organization
    return {**values, "currency": organization.base_currency}


async def create_product(uow: UnitOfWork, *, caller: Caller,
                         values: dict[str, Any]) -> Product:
    """A new product, active unless told otherwise."""
    require(caller, Scope.PRODUCTS_WRITE)
    values = check_product_values({"active": True, **values})
    org = caller.organization_id
    async with uow:
        values = await _with_currency(uow, org, values)
        await _check_unique(uow, org, values)
        product = await uow.products.add(org, {**values, "created_by": caller.user_id,
                                               "updated_by": caller.user_id})
        uow.emit(org, caller.actor, created_event(product))
        await uow.commit()
    return product


async def get_product(uow: UnitOfWork, *, caller: Caller, product_id: int) -> Product:
    require(caller, Scope.PRODUCTS_READ)
    async with uow.reading():
        product = await uow.products.get(caller.organization_id, product_id)
    if product is None:
        raise NotFound("product")
    return product


async def list_products(uow: UnitOfWork, *, caller: Caller,
                        query: ListQuery) -> Page[Product]:
    require(caller, Scope.PRODUCTS_READ)
    async with uow:
        return await uow.products.list(caller.organization_id, query)


async def update_product(uow: UnitOfWork, *, caller: Caller, product_id: int,
                         values: dict[str, Any], if_match: int | None = None) -> Product:
    """Change the fields given; a new sku or external id must be free."""
    require(caller, Scope.PRODUCTS_WRITE)
    values = check_product_values(values)
    org = caller.organization_id
    async with uow:
        await uow.products.lock(org, product_id)
        before = await uow.products.get(org, product_id)
        if before is None:
            raise NotFound("product")
        check_version(before.version, if_match)
        await _check_unique(uow, org, values, product_id)
        after = await uow.products.update(org, product_id,
                                          {**values, "updated_by": caller.user_id})
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, updated_event(before, after))
        await uow.commit()
    return after


async def upsert_product(uow: UnitOfWork, *, caller: Caller, external_id: str,
                         values: dict[str, Any],
                         if_match: int | None = None) -> tuple[Product, bool]:
    """Create the product with `external_id`, or replace the fields of the one there is
    (what the body leaves out is cleared, or set to its default); True when it was
    created. Concurrent upserts of one external id make one product. A replacement that
    changes nothing writes nothing (no new version, no event). `If-Match` applies to the
    product there is; naming a version when there is none is 412. An insert that meets a
    product of the same external id or sku (waiting for a concurrent writer of one) skips,
    and the next look finds the product to update, or else the sku taken (409)."""
    require(caller, Scope.PRODUCTS_WRITE)
    values = check_product_values(values)
    org = caller.organization_id
    async with uow:
        values = await _with_currency(uow, org, values)
        skipped = False
        for _ in range(UPSERT_ATTEMPTS):
            before = await uow.products.get_by_external_id(org, external_id)
            if before is not None:
                check_version(before.version, if_match)
                await _check_unique(uow, org, values, before.id)
                after = before
                if product_changes(before, values):
                    after = await uow.products.update(
                        org, before.id, {**values, "updated_by": caller.user_id})
                    uow.emit(org, caller.actor, updated_event(before, after))
                await uow.commit()
                return after, False
            if if_match is not None:
                raise PreconditionFailed("no product has this external id yet")
            if skipped:  # not for the external id, which no product has: for the sku
                await _check_unique(uow, org, values)
            created = await uow.products.add_if_absent(org, {
                **values, "external_id": external_id, "created_by": caller.user_id,
                "updated_by": caller.user_id})
            if created is not None:
                uow.emit(org, caller.actor, created_event(created))
                await uow.commit()
                return created, True
            skipped = True
    raise Conflict("the product kept changing while it was being written; try again")


async def delete_product(uow: UnitOfWork, *, caller: Caller, product_id: int,
                         if_match: int | None = None) -> None:
    """Remove a product no opportunity's line has (409 otherwise: deactivate it)."""
    require(caller, Scope.PRODUCTS_WRITE)
    org = caller.organization_id
    async with uow:
        await uow.products.lock(org, product_id)
        product = await uow.products.get(org, product_id)
        if product is None:
            raise NotFound("product")
        check_version(product.version, if_match)
        if await uow.products.in_use(org, product_id):
            raise Conflict("the product is on an opportunity's line; it cannot be deleted "
                           "(deactivate it instead: set active to false)")
        await uow.products.delete(org, product_id)
        uow.emit(org, caller.actor, deleted_event(product))
        await uow.commit()
