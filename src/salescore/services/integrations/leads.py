"""Lead intake (`POST /v1/leads`, DOMAIN.md §6b): a marketing tool's customer, contact and
opportunity, each matched to a record of the caller's organization or created, in one
transaction.

- The customer is the one with the lead's `external_id`, else the earliest with its
  `org_number`, else a new one. A customer with neither is new every time.
- The contact (optional) is the one with its `external_id`, else the customer's earliest
  with its e-mail (whatever its case), else a new one with the `external_id` given. An
  external id that a contact of another customer holds is a conflict (409).
- The opportunity is the one with its `external_id`, else a new one with the customer,
  the contact, and the defaults, first seller, event and follow-up and reminder tasks of
  any create (services/sales/opportunities.py).
- A matched record is only referred to: never changed, whatever the lead says of it.
- The opportunity's owner is `owner_id` or `owner_email`, else the calling user; an API
  key must give one. `type`, `source` and `campaign` may be given by name (see
  domain/integrations/leads.py `one_named`) instead of by id. These are checked whether
  or not the opportunity turns out to exist, so that a lead sent again is answered as the
  first time; a name that stands for nothing is a 422 naming the field
  (`opportunity.source`), and nothing is written.
- Records are created through the same store steps as the API's creates: the rules are
  theirs, and so are the events.
- Two leads with the same keys at once make one record of each: the customer's external
  id and organization number, then the opportunity's external id, are locked before they
  are looked up. The customer's locks hold the contact of the same lead too; a contact
  external id that two leads for different customers both create is a conflict for the
  later one (409), as it would be a moment later."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, FieldError, InvalidInput, NotFound
from salescore.domain.integrations.leads import LeadOutcome, LeadRecord, one_named
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.customers.contacts import store_new_contact
from salescore.services.customers.customers import store_new_customer
from salescore.services.sales.opportunities import store_new_opportunity

# What the opportunity may name instead of giving an id: the field it stands for, what
# it is and what of it is compared.
NAMES = {"type": ("type_id", "opportunity type", "name"),
         "source": ("source_id", "source", "name"),
         "campaign": ("campaign_id", "campaign", "name"),
         "owner_email": ("owner_id", "user", "e-mail")}


@contextmanager
def _part(name: str) -> Iterator[None]:
    """The fields an error of one part of the lead names, named within the lead
    (`opportunity.stage_id`)."""
    try:
        yield
    except InvalidInput as error:
        raise InvalidInput(*(FieldError(f"{name}.{e.field}", e.message)
                             for e in error.errors)) from error
    except NotFound as error:
        if error.field is None:
            raise
        raise NotFound(error.resource, field=f"{name}.{error.field}") from error


async def take_lead(uow: UnitOfWork, *, caller: Caller, customer: dict[str, Any],
                    contact: dict[str, Any] | None,
                    opportunity: dict[str, Any]) -> LeadOutcome:
    """Match or create the lead's customer, contact and opportunity (see the module)."""
    require(caller, Scope.LEADS_WRITE)
    with _part("opportunity"):
        _check_opportunity(caller, opportunity, with_contact=contact is not None)
    async with uow:
        with _part("opportunity"):
            opportunity = await _ids_of_names(uow, caller.organization_id, opportunity)
        with _part("customer"):
            found_customer = await _customer(uow, caller, customer)
        found_contact = None
        if contact is not None:
            with _part("contact"):
                found_contact = await _contact(uow, caller, found_customer.id, contact)
                opportunity["contact_id"] = found_contact.id
        with _part("opportunity"):
            found_opportunity = await _opportunity(
                uow, caller, {**opportunity, "customer_id": found_customer.id})
        outcome = LeadOutcome(found_customer, found_contact, found_opportunity)
        if outcome.created_any:
            await uow.commit()
    return outcome


def _check_opportunity(caller: Caller, values: dict[str, Any], *, with_contact: bool) -> None:
    """What needs no database: an owner there is, one way of giving each reference."""
    for name, (field, _, _) in NAMES.items():
        if name in values and field in values:
            raise InvalidInput.of(name, f"give {name} or {field}, not both")
    if caller.user_id is None and not {"owner_id", "owner_email"} & values.keys():
        raise InvalidInput.of("owner_id", "an API key must give owner_id or owner_email")
    if with_contact and "contact_id" in values:
        raise InvalidInput.of("contact_id", "the lead's contact is the opportunity's; "
                                            "give one or the other")


async def _ids_of_names(uow: UnitOfWork, organization_id: int,
                        values: dict[str, Any]) -> dict[str, Any]:
    """The opportunity's values with each name turned into the id it stands for."""
    names = {name: values[name] for name in NAMES if name in values}
    ids = {k: v for k, v in values.items() if k not in NAMES}
    if names:
        found = await uow.references.named(organization_id, names)
        for name, records in found.items():
            field, what, key = NAMES[name]
            ids[field] = one_named(name, what, key, names[name], records)
    return ids


async def _customer(uow: UnitOfWork, caller: Caller, values: dict[str, Any]) -> LeadRecord:
    org = caller.organization_id
    external_id, org_number = values.get("external_id"), values.get("org_number")
    await uow.customers.lock_keys(org, {"external_id": external_id, "org_number": org_number})
    found = await uow.customers.matching(org, external_id=external_id,
                                         org_number=org_number)
    if found is not None:
        return LeadRecord(found.id, created=False)
    return LeadRecord((await store_new_customer(uow, caller, values)).id, created=True)


async def _contact(uow: UnitOfWork, caller: Caller, customer_id: int,
                   values: dict[str, Any]) -> LeadRecord:
    org = caller.organization_id
    external_id = values.get("external_id")
    found = await uow.contacts.matching(org, customer_id=customer_id,
                                        external_id=external_id, email=values.get("email"))
    if found is not None:
        if found.customer_id != customer_id:
            raise Conflict(f"the contact with the external id {external_id!r} is a contact "
                           "of another customer")
        return LeadRecord(found.id, created=False)
    contact = await store_new_contact(uow, caller, {**values, "customer_id": customer_id})
    return LeadRecord(contact.id, created=True)


async def _opportunity(uow: UnitOfWork, caller: Caller,
                       values: dict[str, Any]) -> LeadRecord:
    org = caller.organization_id
    external_id = values.get("external_id")
    if external_id is not None:
        await uow.opportunities.lock_external_id(org, external_id)
        found = await uow.opportunities.id_by_external_id(org, external_id)
        if found is not None:
            return LeadRecord(found, created=False)
    return LeadRecord((await store_new_opportunity(uow, caller, values)).id, created=True)
