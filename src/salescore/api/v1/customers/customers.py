"""Customers and their contacts."""

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Response, status

from salescore.api.deps import AppStateDep, CallerDep, IfMatchDep, UnitOfWorkDep, etag
from salescore.api.errors import problem_responses
from salescore.api.export_streams import (
    ExportLayout,
    ExportRequest,
    export_answer,
    export_parameters,
)
from salescore.api.exports import EXPORT_RESPONSES
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.customers.schemas import (
    ContactCreate,
    ContactRead,
    ContactUpdate,
    ContactUpsert,
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    CustomerUpsert,
)
from salescore.api.v1.schemas import ExternalId, Id
from salescore.domain.customers.customers import CustomerStatus
from salescore.services.customers import contacts, customers
from salescore.services.customers import exports as customer_exports

router = Router(tags=["customers"])
ExternalIdPath = Annotated[ExternalId, Path(description="The integrator's id.")]
CUSTOMER_FILTERS = [
    Filter("q", str, pattern=True), Filter("name", str, pattern=True),
    Filter("id", int, ranges=True), Filter("status", CustomerStatus),
    Filter("owner_id", int), Filter("external_id", str), Filter("org_number", str),
    Filter("created_at", datetime, ranges=True), Filter("updated_at", datetime, ranges=True),
]
CUSTOMER_SORTS = ("id", "name", "created_at", "updated_at")
CustomerList = Annotated[ListRequest, Depends(list_parameters("customers", CUSTOMER_FILTERS,
                                                              sorts=CUSTOMER_SORTS))]
CustomerExport = Annotated[ExportRequest, Depends(export_parameters(CUSTOMER_FILTERS,
                                                                    CUSTOMER_SORTS))]
EXPORT = ExportLayout("customers", "Customers", (
    ("id", 14), ("name", 55), ("org_number", 22), ("email", 48), ("phone", 26),
    ("status", 16), ("external_id", 24), ("owner_name", 38), ("updated_at", 31)))
ContactList = Annotated[ListRequest, Depends(list_parameters("contacts", [
    Filter("q", str, pattern=True), Filter("name", str, pattern=True),
    Filter("id", int, ranges=True), Filter("email", str, pattern=True),
    Filter("external_id", str),
], sorts=("id", "name", "created_at", "updated_at")))]


@router.get("/v1/customers", response_model=PageOf[CustomerRead])
async def list_customers(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                         request: CustomerList) -> Response:
    """`q` looks in the name, organization number and email."""
    page = await customers.list_customers(uow, caller=caller, query=request.query)
    return page_response(state, request, page, CustomerRead.of)


@router.get("/v1/customers/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_customers(caller: CallerDep, uow: UnitOfWorkDep,
                           request: CustomerExport) -> Response:
    """Every customer the list's filters pick, in the list's `sort`, as a file: `format`
    `csv` (the default; no row limit), `xlsx` (at most 1,048,575 rows) or `pdf` (at most
    10,000 rows, the main columns); past those, 422 naming `format`. The list's fields,
    with `owner_name` after `owner_id`; times in RFC 3339 UTC."""
    export = customer_exports.export_customers(uow, caller=caller, query=request.query)
    return await export_answer(export, request.format, EXPORT)


@router.post("/v1/customers", response_model=CustomerRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(404, 409))
async def create_customer(body: CustomerCreate, caller: CallerDep, uow: UnitOfWorkDep,
                          response: Response) -> CustomerRead:
    """A new customer, answered with its `Location` and ETag. An `external_id` another
    customer of the organization has is a conflict (409); `owner_id` must be a user of
    the organization."""
    customer = await customers.create_customer(uow, caller=caller, **body.model_dump())
    response.headers["ETag"] = etag(customer.version)
    response.headers["Location"] = f"/v1/customers/{customer.id}"
    return CustomerRead.of(customer)


@router.put("/v1/customers/by-external-id/{external_id}", response_model=CustomerRead,
            responses={201: {"model": CustomerRead, "description": "Created"},
                       **problem_responses(404, 409, 412)})
async def upsert_customer(external_id: ExternalIdPath, body: CustomerUpsert,
                          caller: CallerDep, uow: UnitOfWorkDep, if_match: IfMatchDep,
                          response: Response) -> CustomerRead:
    """Create (201) or replace (200) the customer with this external id; fields left out
    are cleared. A body that changes nothing leaves the version as it is."""
    customer, created = await customers.upsert_customer(
        uow, caller=caller, external_id=external_id, values=body.model_dump(),
        if_match=if_match)
    response.headers["ETag"] = etag(customer.version)
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/v1/customers/{customer.id}"
    return CustomerRead.of(customer)


@router.get("/v1/customers/{customer_id}", response_model=CustomerRead,
            responses=problem_responses(404))
async def read_customer(customer_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                        response: Response) -> CustomerRead:
    """One customer, and its ETag for a later `If-Match`."""
    customer = await customers.get_customer(uow, caller=caller, customer_id=customer_id)
    response.headers["ETag"] = etag(customer.version)
    return CustomerRead.of(customer)


@router.patch("/v1/customers/{customer_id}", response_model=CustomerRead,
              responses=problem_responses(404, 409, 412))
async def update_customer(customer_id: Id, body: CustomerUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep, if_match: IfMatchDep,
                          response: Response) -> CustomerRead:
    """Change the fields given; `null` clears the optional ones."""
    customer = await customers.update_customer(uow, caller=caller, customer_id=customer_id,
                                               values=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(customer.version)
    return CustomerRead.of(customer)


@router.delete("/v1/customers/{customer_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_customer(customer_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                          if_match: IfMatchDep) -> None:
    """Remove a customer no opportunity is with (409 otherwise), with its contacts."""
    await customers.delete_customer(uow, caller=caller, customer_id=customer_id,
                                    if_match=if_match)


@router.get("/v1/customers/{customer_id}/contacts", response_model=PageOf[ContactRead],
            responses=problem_responses(404))
async def list_contacts(customer_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                        state: AppStateDep, request: ContactList) -> Response:
    """The customer's contacts, a page at a time; `q` looks in the name, email and title."""
    page = await contacts.list_contacts(uow, caller=caller, customer_id=customer_id,
                                        query=request.query)
    return page_response(state, request, page, ContactRead.of)


@router.post("/v1/customers/{customer_id}/contacts", response_model=ContactRead,
             status_code=status.HTTP_201_CREATED, responses=problem_responses(404, 409))
async def create_contact(customer_id: Id, body: ContactCreate, caller: CallerDep,
                         uow: UnitOfWorkDep, response: Response) -> ContactRead:
    """A new contact person of the customer, answered with its `Location` and ETag; an
    `external_id` another contact has is a conflict (409)."""
    contact = await contacts.create_contact(uow, caller=caller, customer_id=customer_id,
                                            **body.model_dump())
    response.headers["ETag"] = etag(contact.version)
    response.headers["Location"] = f"/v1/contacts/{contact.id}"
    return ContactRead.of(contact)


@router.put("/v1/customers/{customer_id}/contacts/by-external-id/{external_id}",
            response_model=ContactRead,
            responses={201: {"model": ContactRead, "description": "Created"},
                       **problem_responses(404, 409, 412)})
async def upsert_contact(customer_id: Id, external_id: ExternalIdPath, body: ContactUpsert,
                         caller: CallerDep, uow: UnitOfWorkDep, if_match: IfMatchDep,
                         response: Response) -> ContactRead:
    """Create (201) or replace (200) the customer's contact with this external id; an
    external id that a contact of another customer holds is a conflict."""
    contact, created = await contacts.upsert_contact(
        uow, caller=caller, customer_id=customer_id, external_id=external_id,
        values=body.model_dump(), if_match=if_match)
    response.headers["ETag"] = etag(contact.version)
    if created:
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = f"/v1/contacts/{contact.id}"
    return ContactRead.of(contact)


@router.get("/v1/contacts/{contact_id}", response_model=ContactRead,
            responses=problem_responses(404))
async def read_contact(contact_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                       response: Response) -> ContactRead:
    """One contact, and its ETag for a later `If-Match`."""
    contact = await contacts.get_contact(uow, caller=caller, contact_id=contact_id)
    response.headers["ETag"] = etag(contact.version)
    return ContactRead.of(contact)


@router.patch("/v1/contacts/{contact_id}", response_model=ContactRead,
              responses=problem_responses(404, 409, 412))
async def update_contact(contact_id: Id, body: ContactUpdate, caller: CallerDep,
                         uow: UnitOfWorkDep, if_match: IfMatchDep,
                         response: Response) -> ContactRead:
    """Change the fields given; a contact stays with its customer."""
    contact = await contacts.update_contact(uow, caller=caller, contact_id=contact_id,
                                            values=body.changes(), if_match=if_match)
    response.headers["ETag"] = etag(contact.version)
    return ContactRead.of(contact)


@router.delete("/v1/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(404, 409, 412))
async def delete_contact(contact_id: Id, caller: CallerDep, uow: UnitOfWorkDep,
                         if_match: IfMatchDep) -> None:
    """Remove a contact no opportunity names (409 otherwise)."""
    await contacts.delete_contact(uow, caller=caller, contact_id=contact_id,
                                  if_match=if_match)
