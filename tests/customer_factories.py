"""Factories for customers, contacts, campaigns and configuration-list items, and a way to
put an opportunity in the database that refers to them (for "in use" rules)."""

import secrets
from typing import Any

from httpx import AsyncClient
from sqlalchemy import text

from tests.factories import Tenant


async def _created(client: AsyncClient, tenant: Tenant, path: str,
                   body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


async def make_customer(client: AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    """A customer of `tenant`; any field can be given."""
    return await _created(client, tenant, "/v1/customers",
                          {"name": f"Customer {secrets.token_hex(3)}", **fields})


async def make_contact(client: AsyncClient, tenant: Tenant, customer_id: int | None = None,
                       **fields: Any) -> dict[str, Any]:
    """A contact at `customer_id` (a new customer when not given)."""
    if customer_id is None:
        customer_id = (await make_customer(client, tenant))["id"]
    return await _created(client, tenant, f"/v1/customers/{customer_id}/contacts",
                          {"name": f"Contact {secrets.token_hex(3)}", **fields})


async def make_campaign(client: AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    return await _created(client, tenant, "/v1/campaigns",
                          {"name": f"Campaign {secrets.token_hex(3)}", **fields})


async def make_list_item(client: AsyncClient, tenant: Tenant, path: str = "sources",
                         **fields: Any) -> dict[str, Any]:
    """An item of `/v1/lists/<path>` (opportunity-types, sources, loss-reasons)."""
    return await _created(client, tenant, f"/v1/lists/{path}",
                          {"name": f"Item {secrets.token_hex(3)}", **fields})


async def insert_opportunity(tenant: Tenant, **references: int | None) -> int:
    """An open opportunity written straight to the database (with its own sales process
    and stage), referring to whatever `references` name: customer_id, contact_id, type_id,
    source_id, campaign_id, loss_reason_id. Without a customer_id it gets a new customer."""
    org = tenant.organization_id
    async with tenant.app.state.salescore.sessions() as session:
        process_id = (await session.execute(text(
            "INSERT INTO sales_processes (organization_id, name) VALUES (:org, 'P') "
            "RETURNING id"), {"org": org})).scalar_one()
        stage_id = (await session.execute(text(
            "INSERT INTO stages (organization_id, sales_process_id, name, position, "
            "probability, kind) VALUES (:org, :process, 'S', 1, 10, 'open') RETURNING id"),
            {"org": org, "process": process_id})).scalar_one()
        if references.get("customer_id") is None:
            references["customer_id"] = (await session.execute(text(
                "INSERT INTO customers (organization_id, name) VALUES (:org, 'C') "
                "RETURNING id"), {"org": org})).scalar_one()
        columns = ", ".join(references)
        values = ", ".join(f":{name}" for name in references)
        opportunity_id: int = (await session.execute(text(
            "INSERT INTO opportunities (organization_id, name, owner_id, sales_process_id, "
            f"stage_id, currency, probability, {columns}) VALUES (:org, 'O', :owner, "
            f":process, :stage, 'NOK', 10, {values}) RETURNING id"),
            {"org": org, "owner": tenant.admin_id, "process": process_id, "stage": stage_id,
             **references})).scalar_one()
        await session.commit()
    return opportunity_id


async def delete_opportunity(tenant: Tenant, opportunity_id: int) -> None:
    """Remove an opportunity `insert_opportunity` made."""
    async with tenant.app.state.salescore.sessions() as session:
        await session.execute(text(
            "DELETE FROM opportunities WHERE organization_id = :org AND id = :id"),
            {"org": tenant.organization_id, "id": opportunity_id})
        await session.commit()
