"""The webhook outbox: an event's deliveries are written by the statement that writes the
event, one for each active endpoint of its organization that takes its type, and the
workers are woken only when one was."""

import asyncio
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.repositories.feed.events import DELIVERIES_CHANNEL
from tests.factories import Tenant
from tests.opportunity_factories import sql


async def endpoint(app: FastAPI, tenant: Tenant, types: list[str], *,
                   active: bool = True) -> int:
    made: int = await sql(
        app, "INSERT INTO webhook_endpoints (organization_id, url, event_types, active, "
             "secret_encrypted) VALUES (:org, 'https://erp.example.com/hook', :types, "
             ":active, 'v1.unused') RETURNING id",
        org=tenant.organization_id, types=types, active=active)
    return made


async def deliveries(app: FastAPI, tenant: Tenant) -> set[tuple[int, str]]:
    async with app.state.salescore.engine.connect() as connection:
        rows = await connection.exec_driver_sql(
            "SELECT endpoint_id, event_type FROM webhook_deliveries "
            "WHERE organization_id = $1", (tenant.organization_id,))
        return {(r[0], r[1]) for r in rows}


async def create_customer(client: AsyncClient, tenant: Tenant, name: str) -> None:
    response = await client.post("/v1/customers", json={"name": name}, headers=tenant.key)
    assert response.status_code == 201, response.text


async def test_an_event_is_queued_for_each_active_endpoint_that_takes_its_type(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    every = await endpoint(app, tenant, [])
    customers = await endpoint(app, tenant, ["customer.created", "customer.deleted"])
    await endpoint(app, tenant, ["opportunity.won"])
    await endpoint(app, tenant, [], active=False)
    await endpoint(app, other_tenant, [])
    await create_customer(client, tenant, "Fjordline AS")
    assert await deliveries(app, tenant) == {(every, "customer.created"),
                                             (customers, "customer.created")}
    assert await deliveries(app, other_tenant) == set()


@pytest.fixture
async def listening(database_url: str) -> Any:
    """A connection LISTENing on the workers' channel, and what it has heard."""
    heard: list[str] = []
    connection = await asyncpg.connect(database_url.replace("+asyncpg", "", 1))
    await connection.add_listener(DELIVERIES_CHANNEL, lambda *args: heard.append(args[2]))
    try:
        yield heard
    finally:
        await connection.close()


async def test_the_workers_are_woken_only_when_a_delivery_was_queued(
        app: FastAPI, client: AsyncClient, tenant: Tenant, listening: list[str]):
    await create_customer(client, tenant, "No endpoint yet")
    await endpoint(app, tenant, ["opportunity.won"])
    await create_customer(client, tenant, "Not a type it takes")
    await asyncio.sleep(0.3)
    assert listening == []
    await endpoint(app, tenant, ["customer.created"])
    await create_customer(client, tenant, "Taken")
    for _ in range(50):
        if listening:
            break
        await asyncio.sleep(0.02)
    assert listening == [DELIVERIES_CHANNEL]
