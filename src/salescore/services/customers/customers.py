"""Customers: the companies or people an organization sells to.

Sellers, managers and admins keep them (`customers:write`). A customer's owner, when it has
one, is a user of the organization (it is left empty unless given). The external id is the
integrator's key: unique in the organization, and the key of the create-or-replace upsert.
A customer that opportunities are with cannot be deleted; deleting one deletes its contacts
(each with its own `contact.deleted` event)."""

from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.customers.customers import (
    Customer,
    CustomerStatus,
    check_contact_details,
    contact_fields,
    customer_fields,
)
from salescore.domain.errors import Conflict, NotFound, PreconditionFailed, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.references import check_references

# How often an upsert looks again when the record it saw vanished or appeared meanwhile.
UPSERT_ATTEMPTS = 3


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Body values as columns take them, after the rules that need no database."""
    check_contact_details(values)
    if isinstance(values.get("status"), CustomerStatus):
        values = {**values, "status": values["status"].value}
    return values


async def _check_references(uow: UnitOfWork, organization_id: int, values: dict[str, Any],
                            except_id: int | None = None) -> None:
    await check_references(uow, organization_id, {"owner_id": values.get("owner_id")})
    external_id = values.get("external_id")
    if external_id is not None and await uow.customers.external_id_taken(
            organization_id, external_id, except_id):
        raise Conflict(f"a customer with the external id {external_id!r} exists already")


def _created(customer: Customer) -> DomainEvent:
    return DomainEvent("customer.created", "customer", customer.id, customer_fields(customer))


def _updated(before: Customer, after: Customer) -> DomainEvent:
    return DomainEvent("customer.updated", "customer", after.id,
                       {"changes": changes(customer_fields(before), customer_fields(after))})


async def create_customer(uow: UnitOfWork, *, caller: Caller, name: str,
                          org_number: str | None = None, email: str | None = None,
                          phone: str | None = None,
                          status: CustomerStatus = CustomerStatus.ACTIVE,
                          external_id: str | None = None,
                          owner_id: int | None = None) -> Customer:
    """A new customer, `active` unless told otherwise."""
    require(caller, Scope.CUSTOMERS_WRITE)
    values = {"name": name, "org_number": org_number, "email": email, "phone": phone,
              "status": status, "external_id": external_id, "owner_id": owner_id}
    async with uow:
        customer = await store_new_customer(uow, caller, values)
        await uow.commit()
    return customer


async def store_new_customer(uow: UnitOfWork, caller: Caller,
                             values: dict[str, Any]) -> Customer:
    """A new customer of a create's fields, stored with its event in the unit of work the
    caller opened and commits: the external id must be free, the owner a user."""
    values = _stored(values)
    org = caller.organization_id
    await _check_references(uow, org, values)
    customer = await uow.customers.add(org, values)
    uow.emit(org, caller.actor, _created(customer))
    return customer


async def get_customer(uow: UnitOfWork, *, caller: Caller, customer_id: int) -> Customer:
    require(caller, Scope.CUSTOMERS_READ)
    async with uow.reading():
        customer = await uow.customers.get(caller.organization_id, customer_id)
    if customer is None:
        raise NotFound("customer")
    return customer


async def list_customers(uow: UnitOfWork, *, caller: Caller,
                         query: ListQuery) -> Page[Customer]:
    require(caller, Scope.CUSTOMERS_READ)
    async with uow:
        return await uow.customers.list(caller.organization_id, query)


async def update_customer(uow: UnitOfWork, *, caller: Caller, customer_id: int,
                          values: dict[str, Any], if_match: int | None = None) -> Customer:
    """Change the fields given; a new external id must be free, a new owner a user."""
    require(caller, Scope.CUSTOMERS_WRITE)
    values = _stored(values)
    org = caller.organization_id
    async with uow:
        await uow.customers.lock(org, customer_id)
        before = await uow.customers.get(org, customer_id)
        if before is None:
            raise NotFound("customer")
        check_version(before.version, if_match)
        await _check_references(uow, org, values, customer_id)
        after = await uow.customers.update(org, customer_id, values)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, _updated(before, after))
        await uow.commit()
    return after


async def upsert_customer(uow: UnitOfWork, *, caller: Caller, external_id: str,
                          values: dict[str, Any],
                          if_match: int | None = None) -> tuple[Customer, bool]:
    """Create the customer with `external_id`, or replace the fields of the one there is;
    True when it was created. Concurrent upserts of one external id make one customer: the
    insert skips on the unique key and the existing row is then locked and updated. A
    replacement that changes nothing writes nothing (no new version, no event). `If-Match`
    applies to the customer there is; naming a version when there is none is 412."""
    require(caller, Scope.CUSTOMERS_WRITE)
    values = _stored(values)
    org = caller.organization_id
    async with uow:
        await _check_references(uow, org, values)
        for _ in range(UPSERT_ATTEMPTS):
            before = await uow.customers.get_by_external_id(org, external_id)
            if before is not None:
                check_version(before.version, if_match)
                after = before
                if changes(customer_fields(before), customer_fields(before) | values):
                    after = await uow.customers.update(org, before.id, values)
                    uow.emit(org, caller.actor, _updated(before, after))
                await uow.commit()
                return after, False
            if if_match is not None:
                raise PreconditionFailed("no customer has this external id yet")
            created = await uow.customers.add_if_absent(
                org, {**values, "external_id": external_id})
            if created is not None:
                uow.emit(org, caller.actor, _created(created))
                await uow.commit()
                return created, True
    raise Conflict("the customer kept changing while it was being written; try again")


async def delete_customer(uow: UnitOfWork, *, caller: Caller, customer_id: int,
                          if_match: int | None = None) -> None:
    """Remove a customer no opportunity is with, and its contacts."""
    require(caller, Scope.CUSTOMERS_WRITE)
    org = caller.organization_id
    async with uow:
        await uow.customers.lock(org, customer_id)
        customer = await uow.customers.get(org, customer_id)
        if customer is None:
            raise NotFound("customer")
        check_version(customer.version, if_match)
        if await uow.customers.in_use(org, customer_id):
            raise Conflict("opportunities are with this customer; it cannot be deleted "
                           "(set its status to inactive instead)")
        removed = await uow.contacts.delete_of_customer(org, customer_id)
        await uow.customers.delete(org, customer_id)
        uow.emit(org, caller.actor,
                 *(DomainEvent("contact.deleted", "contact", c.id, contact_fields(c))
                   for c in removed),
                 DomainEvent("customer.deleted", "customer", customer_id,
                             customer_fields(customer)))
        await uow.commit()
