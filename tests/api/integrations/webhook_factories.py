"""Webhook endpoints and the delivery log, for the webhook tests."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.repositories.feed.events import DELIVERIES_CHANNEL
from tests.factories import Tenant
from tests.opportunity_factories import sql

URL = "https://hooks.example.com/salescore"


async def make_endpoint(client: AsyncClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    """An endpoint of `tenant` (every event type unless `event_types` is given), with the
    secret its creation answered."""
    response = await client.post("/v1/webhook-endpoints", headers=tenant.admin,
                                 json={"url": URL, **fields})
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()
    return endpoint


async def deliveries(client: AsyncClient, tenant: Tenant, endpoint_id: int,
                     **params: Any) -> list[dict[str, Any]]:
    """Every delivery of the endpoint, in id order."""
    response = await client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries",
                                headers=tenant.admin, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def set_delivery(app: FastAPI, delivery_id: int, **columns: Any) -> None:
    """Give a delivery's columns the values a worker would have left (`status`, ...)."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    await sql(app, f"UPDATE webhook_deliveries SET {assignments} WHERE id = :id",
              id=delivery_id, **columns)


async def stored(app: FastAPI, table: str, row_id: int, column: str) -> Any:
    """One column of a row, as the database holds it."""
    return await sql(app, f"SELECT {column} FROM {table} WHERE id = :id", id=row_id)


def near_now(text: str, within: timedelta = timedelta(minutes=1)) -> bool:
    """Whether an RFC 3339 time of an answer is within `within` of now."""
    return abs(datetime.fromisoformat(text) - datetime.now(UTC)) < within


async def listening(app: FastAPI) -> tuple[Any, asyncio.Queue[str]]:
    """A connection listening on the channel that wakes the workers, and what it hears
    (close the connection when done)."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    connection = await app.state.salescore.engine.connect()
    driver = (await connection.get_raw_connection()).driver_connection
    await driver.add_listener(DELIVERIES_CHANNEL, lambda *args: heard.put_nowait(args[3]))
    return connection, heard
