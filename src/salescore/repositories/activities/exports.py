"""What an export of activities reads: the list's fields in its order, each reference
followed by the name of what it refers to (the assignee, customer, contact and
opportunity)."""

from sqlalchemy import select

from salescore.domain.listing import ListQuery
from salescore.repositories.access.models import users
from salescore.repositories.activities.activities import LIST_COLUMNS
from salescore.repositories.activities.models import activities as a
from salescore.repositories.customers.models import contacts, customers
from salescore.repositories.exports import (
    ExportQuery,
    export_query,
    picked_by,
    shown_with_names,
    with_names,
)
from salescore.repositories.sales.models import opportunities

_SOURCE, _NAMES = with_names(a, [
    ("assignee", users, a.c.assignee_id), ("customer", customers, a.c.customer_id),
    ("contact", contacts, a.c.contact_id), ("opportunity", opportunities, a.c.opportunity_id)])
_FIELDS = ("id", "kind", "subject", "text", "due_at", "starts_at", "ends_at", "done",
           "done_at", "assignee_id", "customer_id", "contact_id", "opportunity_id", "origin",
           "created_at", "created_by", "updated_at", "version")
"""The fields of the list (api/v1/activities/schemas.ActivityRead), in its order; a test
holds the two together."""
_SHOWN = shown_with_names(a, _FIELDS, _NAMES)


def activity_export(organization_id: int, query: ListQuery) -> ExportQuery:
    """Every activity of the organization that the list `query` picks, in its order."""
    picked = picked_by(select(a.c.id).where(a.c.organization_id == organization_id), query,
                       LIST_COLUMNS)
    return export_query(picked, query, LIST_COLUMNS, a.c.id, source=_SOURCE, shown=_SHOWN)
