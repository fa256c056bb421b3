"""Factories for the product catalogue, and a way to put a product on an opportunity's line
straight in the database (for "in use" rules, before or beside the lines API)."""

import secrets
from typing import Any

from httpx import AsyncClient
from sqlalchemy import text

from tests.factories import Tenant


async def create_product(client: AsyncClient, headers: dict[str, str],
                         **fields: Any) -> dict[str, Any]:
    """A product made through the API by the caller of `headers` (who needs
    `products:write`): a fresh sku, a name and a price of 100.00 unless given."""
    body = {"sku": f"SKU-{secrets.token_hex(4)}", "name": f"Product {secrets.token_hex(3)}",
            "unit_price": "100.00", **fields}
    response = await client.post("/v1/products", json=body, headers=headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def insert_line(tenant: Tenant, opportunity_id: int, product_id: int) -> int:
    """A line of one unit of the product on the opportunity, written to the database."""
    async with tenant.app.state.salescore.sessions() as session:
        line_id: int = (await session.execute(text(
            "INSERT INTO opportunity_lines (organization_id, opportunity_id, product_id, "
            "name, quantity, unit_price, position, line_total) VALUES (:org, :opportunity, "
            ":product, 'Line', 1, 100, 1, 100) RETURNING id"),
            {"org": tenant.organization_id, "opportunity": opportunity_id,
             "product": product_id})).scalar_one()
        await session.commit()
    return line_id


async def delete_line(tenant: Tenant, line_id: int) -> None:
    async with tenant.app.state.salescore.sessions() as session:
        await session.execute(text(
            "DELETE FROM opportunity_lines WHERE organization_id = :org AND id = :id"),
            {"org": tenant.organization_id, "id": line_id})
        await session.commit()
