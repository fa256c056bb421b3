"""What an export of customers reads: the list's fields in its order, the owner's id
followed by the owner's name."""

from sqlalchemy import select

from salescore.domain.listing import ListQuery
from salescore.repositories.access.models import users
from salescore.repositories.customers.customers import CUSTOMER_COLUMNS, CustomerRepository
from salescore.repositories.customers.models import customers as c
from salescore.repositories.exports import (
    ExportQuery,
    export_query,
    picked_by,
    shown_with_names,
    with_names,
)

_SOURCE, _NAMES = with_names(c, [("owner", users, c.c.owner_id)])
_FIELDS = ("id", "name", "org_number", "email", "phone", "status", "external_id",
           "owner_id", "created_at", "updated_at", "version")
"""The fields of the list (api/v1/customers/schemas.CustomerRead), in its order; a test
holds the two together."""
_SHOWN = shown_with_names(c, _FIELDS, _NAMES)


def customer_export(organization_id: int, query: ListQuery) -> ExportQuery:
    """Every customer of the organization that the list `query` picks, in its order."""
    found, rest = CustomerRepository.search(query)
    picked = picked_by(select(c.c.id).where(c.c.organization_id == organization_id, *found),
                       rest, CUSTOMER_COLUMNS)
    return export_query(picked, rest, CUSTOMER_COLUMNS, c.c.id, source=_SOURCE, shown=_SHOWN)
