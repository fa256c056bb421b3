"""Checking that the records a request names are the organization's, and finding those it
names by a name (or an e-mail) rather than an id."""

from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    bindparam,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.access.organization import Organization
from salescore.domain.integrations.leads import Named
from salescore.repositories.access.models import organizations, users
from salescore.repositories.access.organizations import ORGANIZATION_COLUMNS, organization_of
from salescore.repositories.customers.models import contacts, customers
from salescore.repositories.prepared import Prepared, fetch, fetchrow
from salescore.repositories.sales.models import (
    campaigns,
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
# What a request may name by a text of the record's instead of its id: the table and the
# column compared (case-insensitively).
NAMED_BY: dict[str, tuple[Table, str]] = {
    "type": (opportunity_types, "name"), "source": (sources, "name"),
    "campaign": (campaigns, "name"), "owner_email": (users, "email"),
}
_ORG: BindParameter[int] = bindparam("organization_id")
# One prepared statement per combination of fields checked (and the organization or not).
_CHECKS: dict[tuple[tuple[str, ...], bool, bool], Prepared] = {}
# One per combination of fields named.
_NAMED: dict[tuple[str, ...], Prepared] = {}


def checked_fields(values: dict[str, Any]) -> tuple[str, ...]:
    """The reference fields of `values` that name a record (a contact among them)."""
    fields = [field for field in TABLE_OF_FIELD if values.get(field) is not None]
    if values.get("contact_id") is not None:
        fields.append("contact_id")
    return tuple(fields)


def _statement(fields: tuple[str, ...], contact_of_customer: bool,
               with_organization: bool) -> Prepared:
    key = (fields, contact_of_customer, with_organization)
    if key not in _CHECKS:
        checks: dict[str, ColumnElement[bool]] = {}
        for field in fields:
            if field == "contact_id":
                same_customer = [contacts.c.customer_id == bindparam("customer_id")
                                 ] if contact_of_customer else []
                checks[field] = exists().where(contacts.c.organization_id == _ORG,
                                               contacts.c.id == bindparam(field),
                                               *same_customer)
            else:
                table = TABLE_OF_FIELD[field]
                checks[field] = exists().where(table.c.organization_id == _ORG,
                                               table.c.id == bindparam(field))
        labelled = [check.label(field) for field, check in checks.items()]
        stmt = (select(*ORGANIZATION_COLUMNS, *labelled).where(organizations.c.id == _ORG)
                if with_organization else select(*labelled))
        _CHECKS[key] = Prepared.of(stmt)
    return _CHECKS[key]


def _named_statement(fields: tuple[str, ...]) -> Prepared:
    if fields not in _NAMED:
        parts: list[Select[Any]] = []
        for field in fields:
            table, column = NAMED_BY[field]
            parts.append(select(literal(field).label("field"), table.c.id, table.c.active)
                         .where(table.c.organization_id == _ORG,
                                func.lower(table.c[column]) == func.lower(bindparam(field))))
        _NAMED[fields] = Prepared.of(parts[0] if len(parts) == 1 else union_all(*parts))
    return _NAMED[fields]


class ReferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def missing(self, organization_id: int, values: dict[str, Any]) -> str | None:
        """The first reference field in `values` naming no record of the organization, else
        None; a `contact_id` must also be a contact of the `customer_id` given with it.
        One round trip."""
        fields = checked_fields(values)
        if not fields:
            return None
        row = await self._check(organization_id, values, fields, with_organization=False)
        assert row is not None
        return next((field for field in fields if not row[field]), None)

    async def organization_and_missing(self, organization_id: int, values: dict[str, Any],
                                       ) -> tuple[Organization | None, str | None]:
        """The organization, and what `missing` finds, in one round trip."""
        fields = checked_fields(values)
        row = await self._check(organization_id, values, fields, with_organization=True)
        if row is None:
            return None, None
        organization = organization_of(SimpleNamespace(_mapping=dict(row.items())))
        return organization, next((field for field in fields if not row[field]), None)

    async def _check(self, organization_id: int, values: dict[str, Any],
                     fields: tuple[str, ...], *, with_organization: bool) -> Any:
        contact_of_customer = "contact_id" in fields and values.get("customer_id") is not None
        prepared = _statement(fields, contact_of_customer, with_organization)
        given = {field: values[field] for field in fields}
        if contact_of_customer:
            given["customer_id"] = values["customer_id"]
        return await fetchrow(self._session, prepared, organization_id=organization_id,
                              **given)

    async def named(self, organization_id: int,
                    values: dict[str, str]) -> dict[str, list[Named]]:
        """For each field of `values` (keys of NAMED_BY), the organization's records whose
        name (or e-mail) is the value given, whatever its case, lowest id first. One round
        trip."""
        fields = tuple(field for field in NAMED_BY if field in values)
        found: dict[str, list[Named]] = {field: [] for field in fields}
        if not fields:
            return found
        rows = await fetch(self._session, _named_statement(fields),
                           organization_id=organization_id,
                           **{field: values[field] for field in fields})
        for row in sorted(rows, key=lambda r: r["id"]):
            found[row["field"]].append(Named(id=row["id"], active=row["active"]))
        return found
