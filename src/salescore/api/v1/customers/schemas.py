"""Request and response bodies of customers and their contacts."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1 import examples
from salescore.api.v1.schemas import (
    NOT_BLANK,
    Email,
    ExternalId,
    Id,
    Name,
    NoNul,
    Patch,
    Strict,
    Trimmed,
)
from salescore.domain.customers.customers import Contact, Customer, CustomerStatus

Short = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK),
                  Trimmed, NoNul]


class CustomerUpsert(Strict):
    """A whole customer: what is left out is cleared (or set to its default)."""

    name: Name
    org_number: Short | None = None
    email: Email | None = None
    phone: Short | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    owner_id: Id | None = Field(default=None, description="A user of the organization.")


class CustomerCreate(CustomerUpsert):
    model_config = examples.shown("CustomerCreate")

    external_id: ExternalId | None = Field(
        default=None, description="The integrator's id; unique in the organization.")


class CustomerUpdate(Patch):
    NULLABLE = frozenset({"org_number", "email", "phone", "external_id", "owner_id"})

    name: Name | None = None
    org_number: Short | None = None
    email: Email | None = None
    phone: Short | None = None
    status: CustomerStatus | None = None
    external_id: ExternalId | None = None
    owner_id: Id | None = None


class CustomerRead(BaseModel):
    model_config = examples.shown("CustomerRead")

    id: int
    name: str
    org_number: str | None
    email: str | None
    phone: str | None
    status: CustomerStatus
    external_id: str | None
    owner_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, customer: Customer) -> "CustomerRead":
        return cls(id=customer.id, name=customer.name, org_number=customer.org_number,
                   email=customer.email, phone=customer.phone, status=customer.status,
                   external_id=customer.external_id, owner_id=customer.owner_id,
                   created_at=customer.created_at, updated_at=customer.updated_at,
                   version=customer.version)


class ContactUpsert(Strict):
    """A whole contact: what is left out is cleared."""

    name: Name
    email: Email | None = None
    phone: Short | None = None
    title: Short | None = None


class ContactCreate(ContactUpsert):
    external_id: ExternalId | None = Field(
        default=None, description="The integrator's id; unique in the organization.")


class ContactUpdate(Patch):
    NULLABLE = frozenset({"email", "phone", "title", "external_id"})

    name: Name | None = None
    email: Email | None = None
    phone: Short | None = None
    title: Short | None = None
    external_id: ExternalId | None = None


class ContactRead(BaseModel):
    id: int
    customer_id: int
    name: str
    email: str | None
    phone: str | None
    title: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, contact: Contact) -> "ContactRead":
        return cls(id=contact.id, customer_id=contact.customer_id, name=contact.name,
                   email=contact.email, phone=contact.phone, title=contact.title,
                   external_id=contact.external_id, created_at=contact.created_at,
                   updated_at=contact.updated_at, version=contact.version)
