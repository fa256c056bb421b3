"""Creates in one organization do not queue on one another: placing an opportunity takes
the organization's placing lock (advisory) shared, and locks no row of a stage."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.repositories.unit_of_work import UnitOfWork
from tests.factories import Tenant
from tests.opportunity_factories import World, make_world, sql

CREATES = 32


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def test_32_creates_in_one_organization_hold_their_transactions_open_at_once(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        monkeypatch: pytest.MonkeyPatch):
    """Each create stops just before its commit until all 32 have got there: none waits
    for a lock another holds, and the stages it was not placed on were not written to (a
    row lock would have set their xmax). The process row and the stage placed on are
    locked FOR KEY SHARE by the foreign key checks of the insert, as every row an
    opportunity refers to is: that PostgreSQL does whatever the service does."""
    placed_on = world.process.stages["Lead"]
    at_commit, go = asyncio.Semaphore(0), asyncio.Event()
    commit = UnitOfWork.commit

    async def commit_when_told(self: UnitOfWork) -> Any:
        at_commit.release()
        await go.wait()
        return await commit(self)

    monkeypatch.setattr(UnitOfWork, "commit", commit_when_told)
    creates = [asyncio.create_task(client.post(
        "/v1/opportunities", headers=tenant.admin,
        json={"name": f"Deal {n}", "customer_id": world.customer_id, "stage_id": placed_on}))
        for n in range(CREATES)]
    try:
        for _ in range(CREATES):
            await asyncio.wait_for(at_commit.acquire(), timeout=20)
        open_at_once = await sql(
            app, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                 " AND state = 'idle in transaction'")
        waiting = await sql(app, "SELECT count(*) FROM pg_locks WHERE NOT granted")
        placing = await sql(app, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                 " AND mode = 'ShareLock' AND granted")
    finally:
        go.set()
        answers = await asyncio.gather(*creates)
    assert [a.status_code for a in answers] == [201] * CREATES
    assert (open_at_once, waiting, placing) == (CREATES, 0, CREATES)
    untouched = await sql(
        app, "SELECT bool_and(xmax = '0') FROM stages WHERE organization_id = :org"
             " AND sales_process_id = :process AND id <> :placed_on",
        org=tenant.organization_id, process=world.process.id, placed_on=placed_on)
    assert untouched, "a create locked a row of a stage it is not placed on"
