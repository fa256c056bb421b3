"""Factories for quote templates, and a way to make a quote with one straight in the
database (for the "in use" rule, beside the quotes API)."""

import secrets
from typing import Any

from httpx import AsyncClient
from sqlalchemy import text

from tests.customer_factories import insert_opportunity
from tests.factories import Tenant


async def create_quote_template(client: AsyncClient, headers: dict[str, str],
                                **fields: Any) -> dict[str, Any]:
    """A quote template made through the API by the caller of `headers` (who needs
    `sales_setup:write`): a fresh name unless given."""
    body = {"name": f"Template {secrets.token_hex(4)}", **fields}
    response = await client.post("/v1/quote-templates", json=body, headers=headers)
    assert response.status_code == 201, response.text
    template: dict[str, Any] = response.json()
    return template


async def insert_quote(tenant: Tenant, template_id: int) -> int:
    """A draft quote made with the template, on a new opportunity, written to the
    database."""
    opportunity_id = await insert_opportunity(tenant)
    async with tenant.app.state.salescore.sessions() as session:
        quote_id: int = (await session.execute(text(
            "INSERT INTO quotes (organization_id, opportunity_id, customer_id, template_id, "
            "currency, content, discount_percent, lines_total, discount_amount, total, "
            "valid_until) SELECT organization_id, id, customer_id, :template, 'NOK', "
            "'{}'::jsonb, 0, 0, 0, 0, current_date FROM opportunities "
            "WHERE organization_id = :org AND id = :opportunity RETURNING id"),
            {"org": tenant.organization_id, "opportunity": opportunity_id,
             "template": template_id})).scalar_one()
        await session.commit()
    return quote_id


async def delete_quote(tenant: Tenant, quote_id: int) -> None:
    async with tenant.app.state.salescore.sessions() as session:
        await session.execute(text(
            "DELETE FROM quotes WHERE organization_id = :org AND id = :id"),
            {"org": tenant.organization_id, "id": quote_id})
        await session.commit()
