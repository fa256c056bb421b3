"""Quotes made, sent and answered through the API, for the tests of quotes, their public
link and e-signature callbacks. Lines and templates are written straight to the database,
so that those tests stand on the quote rules alone."""

import secrets
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world, sql
from tests.report_factories import oslo_today


async def quote_world(app: FastAPI, tenant: Tenant) -> World:
    """An organization ready for opportunities whose "Quote" stage marks a signed quote."""
    world = await make_world(app, tenant)
    await sql(app, "UPDATE stages SET marks_quote_signed = true WHERE id = :id",
              id=world.process.stages["Quote"])
    return world


async def add_line(app: FastAPI, tenant: Tenant, opportunity_id: int, name: str,
                   quantity: str, unit_price: str, discount: str = "0",
                   line_total: str | None = None) -> None:
    total = line_total or str((Decimal(quantity) * Decimal(unit_price) * (
        100 - Decimal(discount)) / 100).quantize(Decimal("0.01")))
    await sql(app, "INSERT INTO opportunity_lines (organization_id, opportunity_id, name, "
                   "quantity, unit_price, discount_percent, position, line_total) VALUES "
                   "(:org, :opp, :name, CAST(:q AS numeric), CAST(:p AS numeric), "
                   "CAST(:d AS numeric), (SELECT count(*) + 1 FROM opportunity_lines WHERE "
                   "organization_id = :org AND opportunity_id = :opp), CAST(:t AS numeric))",
              org=tenant.organization_id, opp=opportunity_id, name=name, q=quantity,
              p=unit_price, d=discount, t=total)


async def make_template(app: FastAPI, tenant: Tenant, **texts: str) -> int:
    template_id: int = await sql(
        app, "INSERT INTO quote_templates (organization_id, name, header_text, terms, "
             "email_subject, email_message) VALUES (:org, :name, :header, :terms, :subject, "
             ":message) RETURNING id",
        org=tenant.organization_id, name=f"Template {secrets.token_hex(4)}",
        header=texts.get("header", "Dear customer"), terms=texts.get("terms", "Net 30"),
        subject=texts.get("subject", "Quote {number} from {seller}"),
        message=texts.get("message", "See {link}, valid until {valid_until}."))
    return template_id


async def make_draft(client: AsyncClient, app: FastAPI, tenant: Tenant, world: World, *,
                     opportunity: dict[str, Any] | None = None,
                     valid_until: date | None = None) -> dict[str, Any]:
    if opportunity is None:
        opportunity = await create_opportunity(client, tenant, world.customer_id)
        await add_line(app, tenant, opportunity["id"], "Ærlig Østbø Åsen consulting", "2.5",
                       "1200.00", "10")
        await add_line(app, tenant, opportunity["id"], "Licence", "3", "99.99")
    template_id = await make_template(app, tenant)
    response = await client.post(
        f"/v1/opportunities/{opportunity['id']}/quotes", headers=tenant.admin,
        json={"template_id": template_id,
              "valid_until": str(valid_until or oslo_today() + timedelta(days=30))})
    assert response.status_code == 201, response.text
    draft: dict[str, Any] = response.json()
    return draft


async def send(client: AsyncClient, tenant: Tenant, quote_id: int,
               **body: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/quotes/{quote_id}/send", headers=tenant.admin,
                                 json=body or None)
    assert response.status_code == 200, response.text
    sent: dict[str, Any] = response.json()
    return sent


def token_of(sent: dict[str, Any]) -> str:
    return str(sent["public_url"]).rsplit("/", 1)[1]
