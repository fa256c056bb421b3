"""Test data for opportunity tests, written straight to the database so that these tests do
not depend on the customer and sales-process endpoints."""

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.factories import Tenant

STAGES = (("Lead", "10", "open"), ("Qualified", "25", "open"), ("Quote", "50", "open"),
          ("Won", "100", "won"), ("Lost", "0", "lost"))

T = TypeVar("T")


@dataclass(frozen=True)
class Process:
    id: int
    stages: dict[str, int]  # stage name -> id


async def sql(app: FastAPI, statement: str, **params: Any) -> Any:
    """Run one statement in its own committed transaction; returns the first value."""
    async with app.state.salescore.engine.begin() as connection:
        result = await connection.execute(text(statement), params)
        return result.scalar() if result.returns_rows else None


async def make_customer(app: FastAPI, tenant: Tenant, name: str | None = None) -> int:
    customer_id: int = await sql(
        app, "INSERT INTO customers (organization_id, name) VALUES (:org, :name) RETURNING id",
        org=tenant.organization_id, name=name or f"Customer {secrets.token_hex(3)}")
    return customer_id


async def make_contact(app: FastAPI, tenant: Tenant, customer_id: int) -> int:
    contact_id: int = await sql(
        app, "INSERT INTO contacts (organization_id, customer_id, name) "
             "VALUES (:org, :customer, 'Kari Nordmann') RETURNING id",
        org=tenant.organization_id, customer=customer_id)
    return contact_id


async def make_process(app: FastAPI, tenant: Tenant, *, stages: tuple[tuple[str, str, str], ...]
                       = STAGES, default_for_all: bool = False, active: bool = True,
                       default_user_id: int | None = None) -> Process:
    org = tenant.organization_id
    process_id: int = await sql(
        app, "INSERT INTO sales_processes (organization_id, name, active, default_for_all) "
             "VALUES (:org, :name, :active, :all) RETURNING id",
        org=org, name=f"Process {secrets.token_hex(3)}", active=active, all=default_for_all)
    ids = {}
    for position, (name, probability, kind) in enumerate(stages, start=1):
        ids[name] = await sql(
            app, "INSERT INTO stages (organization_id, sales_process_id, name, position, "
                 "probability, kind) VALUES (:org, :process, :name, :position, "
                 "CAST(:probability AS numeric), :kind) RETURNING id",
            org=org, process=process_id, name=name, position=position,
            probability=probability, kind=kind)
    if default_user_id is not None:
        await sql(app, "INSERT INTO sales_process_defaults (organization_id, sales_process_id,"
                       " user_id) VALUES (:org, :process, :user)",
                  org=org, process=process_id, user=default_user_id)
    return Process(process_id, ids)


async def make_list_item(app: FastAPI, tenant: Tenant, table: str, name: str = "Item") -> int:
    """A row of opportunity_types, sources, loss_reasons or campaigns."""
    columns = "organization_id, name" + (", position" if table != "campaigns" else "")
    values = ":org, :name" + (", 1" if table != "campaigns" else "")
    item_id: int = await sql(app, f"INSERT INTO {table} ({columns}) VALUES ({values}) "
                                  "RETURNING id", org=tenant.organization_id, name=name)
    return item_id


async def create_opportunity(client: AsyncClient, tenant: Tenant, customer_id: int, *,
                             headers: dict[str, str] | None = None,
                             **fields: Any) -> dict[str, Any]:
    body = {"name": f"Deal {secrets.token_hex(3)}", "customer_id": customer_id,
            "amount": "1000.00", **fields}
    response = await client.post("/v1/opportunities", json=body,
                                 headers=headers or tenant.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def count_opportunities(app: FastAPI, tenant: Tenant) -> int:
    found: int = await sql(app, "SELECT count(*) FROM opportunities WHERE organization_id = :org",
                           org=tenant.organization_id)
    return found


@dataclass(frozen=True)
class World:
    """An organization ready for opportunities: a default process and a customer."""

    process: Process
    customer_id: int


async def make_world(app: FastAPI, tenant: Tenant) -> World:
    process = await make_process(app, tenant, default_for_all=True)
    return World(process, await make_customer(app, tenant, "Bergen Nord AS"))


async def waiting_for_a_lock(app: FastAPI, call: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """`call`, started, once a backend of the test database waits for a lock (5 s at
    most): the lock a test holds on a second connection."""
    started = asyncio.create_task(call)
    for _ in range(200):
        waiting = await sql(app, "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                 " current_database() AND wait_event_type = 'Lock'")
        if waiting:
            await asyncio.sleep(0.05)  # whatever waits, the request has not got through
            assert not started.done(), "the request did not wait for the lock"
            return started
        await asyncio.sleep(0.025)
    raise AssertionError("nothing waited for a lock")
