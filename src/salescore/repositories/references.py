"""Checking that the records a request names are the organization's."""

from typing import Any

from sqlalchemy import ColumnElement, Table, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.repositories.models import users
from salescore.repositories.sales_models import (
    campaigns,
    contacts,
    customers,
    loss_reasons,
    opportunities,
    opportunity_types,
    sources,
)

TABLE_OF_FIELD: dict[str, Table] = {
    "owner_id": users, "user_id": users, "assignee_id": users, "customer_id": customers,
    "type_id": opportunity_types, "source_id": sources, "campaign_id": campaigns,
    "loss_reason_id": loss_reasons, "opportunity_id": opportunities,
}


class ReferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def missing(self, organization_id: int, values: dict[str, Any]) -> str | None:
        """The first reference field in `values` naming no record of the organization, else
        None; a `contact_id` must also be a contact of the `customer_id` given with it.
        One round trip."""
        checks: dict[str, ColumnElement[bool]] = {}
        for field, table in TABLE_OF_FIELD.items():
            if values.get(field) is not None:
                checks[field] = exists().where(table.c.organization_id == organization_id,
                                               table.c.id == values[field])
        if values.get("contact_id") is not None:
            same_customer = [] if values.get("customer_id") is None else [
                contacts.c.customer_id == values["customer_id"]]
            checks["contact_id"] = exists().where(
                contacts.c.organization_id == organization_id,
                contacts.c.id == values["contact_id"], *same_customer)
        if not checks:
            return None
        row = (await self._session.execute(
            select(*(check.label(field) for field, check in checks.items())))).one()
        return next((field for field in checks if not getattr(row, field)), None)
