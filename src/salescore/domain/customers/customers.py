"""Customers (the companies or people an organization sells to) and their contacts."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from salescore.domain.access.organization import check_email


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    organization_id: int
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


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    organization_id: int
    customer_id: int
    name: str
    email: str | None
    phone: str | None
    title: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int


def check_contact_details(values: dict[str, Any]) -> None:
    """An email, when one is given, must look like an email address."""
    if values.get("email") is not None:
        check_email(values["email"])


def customer_fields(customer: Customer) -> dict[str, Any]:
    """What a customer says about itself, as its events record it."""
    return {"name": customer.name, "org_number": customer.org_number,
            "email": customer.email, "phone": customer.phone,
            "status": customer.status.value, "external_id": customer.external_id,
            "owner_id": customer.owner_id}


def contact_fields(contact: Contact) -> dict[str, Any]:
    """What a contact says about itself, as its events record it."""
    return {"customer_id": contact.customer_id, "name": contact.name, "email": contact.email,
            "phone": contact.phone, "title": contact.title,
            "external_id": contact.external_id}
