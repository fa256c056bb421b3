"""Contacts: the people at a customer.

A contact belongs to one customer for good (its `customer_id` never changes). Its external
id is unique in the organization, not only within the customer, so an upsert under one
customer with an external id that a contact of another customer holds is a conflict. A
contact that an opportunity names cannot be deleted."""

from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.customers.customers import Contact, check_contact_details, contact_fields
from salescore.domain.errors import Conflict, NotFound, PreconditionFailed, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.customers.customers import UPSERT_ATTEMPTS


async def _hold_customer(uow: UnitOfWork, organization_id: int, customer_id: int) -> None:
    """The customer must exist, and stays until the contact is written."""
    if not await uow.customers.hold(organization_id, customer_id):
        raise NotFound("customer")


async def _check_external_id_free(uow: UnitOfWork, organization_id: int,
                                  external_id: str | None,
                                  except_id: int | None = None) -> None:
    if external_id is not None and await uow.contacts.external_id_taken(
            organization_id, external_id, except_id):
        raise Conflict(f"a contact with the external id {external_id!r} exists already")


def _created(contact: Contact) -> DomainEvent:
    return DomainEvent("contact.created", "contact", contact.id, contact_fields(contact))


def _updated(before: Contact, after: Contact) -> DomainEvent:
    return DomainEvent("contact.updated", "contact", after.id,
                       {"changes": changes(contact_fields(before), contact_fields(after))})


async def create_contact(uow: UnitOfWork, *, caller: Caller, customer_id: int, name: str,
                         email: str | None = None, phone: str | None = None,
                         title: str | None = None, external_id: str | None = None) -> Contact:
    """A new contact at the customer."""
    require(caller, Scope.CUSTOMERS_WRITE)
    values = {"customer_id": customer_id, "name": name, "email": email, "phone": phone,
              "title": title, "external_id": external_id}
    async with uow:
        contact = await store_new_contact(uow, caller, values)
        await uow.commit()
    return contact


async def store_new_contact(uow: UnitOfWork, caller: Caller,
                            values: dict[str, Any]) -> Contact:
    """A new contact of a create's fields (with its `customer_id`), stored with its event
    in the unit of work the caller opened and commits: the customer must exist, and the
    external id be free."""
    check_contact_details(values)
    org = caller.organization_id
    await _hold_customer(uow, org, values["customer_id"])
    await _check_external_id_free(uow, org, values.get("external_id"))
    contact = await uow.contacts.add(org, values)
    uow.emit(org, caller.actor, _created(contact))
    return contact


async def get_contact(uow: UnitOfWork, *, caller: Caller, contact_id: int) -> Contact:
    require(caller, Scope.CUSTOMERS_READ)
    async with uow.reading():
        contact = await uow.contacts.get(caller.organization_id, contact_id)
    if contact is None:
        raise NotFound("contact")
    return contact


async def list_contacts(uow: UnitOfWork, *, caller: Caller, customer_id: int,
                        query: ListQuery) -> Page[Contact]:
    """The customer's contacts; an unknown customer is a 404, not an empty list."""
    require(caller, Scope.CUSTOMERS_READ)
    async with uow:
        if await uow.customers.get(caller.organization_id, customer_id) is None:
            raise NotFound("customer")
        return await uow.contacts.list(caller.organization_id, customer_id, query)


async def update_contact(uow: UnitOfWork, *, caller: Caller, contact_id: int,
                         values: dict[str, Any], if_match: int | None = None) -> Contact:
    """Change the fields given; a new external id must be free."""
    require(caller, Scope.CUSTOMERS_WRITE)
    check_contact_details(values)
    org = caller.organization_id
    async with uow:
        await uow.contacts.lock(org, contact_id)
        before = await uow.contacts.get(org, contact_id)
        if before is None:
            raise NotFound("contact")
        check_version(before.version, if_match)
        await _check_external_id_free(uow, org, values.get("external_id"), contact_id)
        after = await uow.contacts.update(org, contact_id, values)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, _updated(before, after))
        await uow.commit()
    return after


async def upsert_contact(uow: UnitOfWork, *, caller: Caller, customer_id: int,
                         external_id: str, values: dict[str, Any],
                         if_match: int | None = None) -> tuple[Contact, bool]:
    """Create the customer's contact with `external_id`, or replace the fields of the one
    there is; True when it was created. Race-free and change-free as the customer upsert
    (services/customers/customers.py)."""
    require(caller, Scope.CUSTOMERS_WRITE)
    check_contact_details(values)
    org = caller.organization_id
    async with uow:
        await _hold_customer(uow, org, customer_id)
        for _ in range(UPSERT_ATTEMPTS):
            before = await uow.contacts.get_by_external_id(org, external_id)
            if before is not None:
                if before.customer_id != customer_id:
                    raise Conflict(f"the external id {external_id!r} belongs to a contact "
                                   "of another customer")
                check_version(before.version, if_match)
                after = before
                if changes(contact_fields(before), contact_fields(before) | values):
                    after = await uow.contacts.update(org, before.id, values)
                    uow.emit(org, caller.actor, _updated(before, after))
                await uow.commit()
                return after, False
            if if_match is not None:
                raise PreconditionFailed("no contact has this external id yet")
            created = await uow.contacts.add_if_absent(org, {
                **values, "customer_id": customer_id, "external_id": external_id})
            if created is not None:
                uow.emit(org, caller.actor, _created(created))
                await uow.commit()
                return created, True
    raise Conflict("the contact kept changing while it was being written; try again")


async def delete_contact(uow: UnitOfWork, *, caller: Caller, contact_id: int,
                         if_match: int | None = None) -> None:
    """Remove a contact no opportunity names."""
    require(caller, Scope.CUSTOMERS_WRITE)
    org = caller.organization_id
    async with uow:
        await uow.contacts.lock(org, contact_id)
        contact = await uow.contacts.get(org, contact_id)
        if contact is None:
            raise NotFound("contact")
        check_version(contact.version, if_match)
        if await uow.contacts.in_use(org, contact_id):
            raise Conflict("an opportunity names this contact; it cannot be deleted")
        await uow.contacts.delete(org, contact_id)
        uow.emit(org, caller.actor, DomainEvent("contact.deleted", "contact", contact_id,
                                                contact_fields(contact)))
        await uow.commit()
