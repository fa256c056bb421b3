"""Statements run on the driver itself (repositories/prepared.py) belong to the unit of
work's transaction: rolled back with it, committed with it, seeing what it wrote. In a
read-only unit of work they run on a pool connection of their own, given back at the end."""

from contextlib import nullcontext
from dataclasses import replace

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.pool import QueuePool

from salescore.domain.events import DomainEvent
from salescore.repositories.customers.models import customers
from salescore.repositories.prepared import Prepared, driver
from salescore.repositories.unit_of_work import UnitOfWork
from tests.factories import Tenant
from tests.opportunity_factories import (
    World,
    count_opportunities,
    create_opportunity,
    make_world,
    sql,
)


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


def _probe(aggregate_id: int) -> DomainEvent:
    return DomainEvent(aggregate_type="probe", aggregate_id=aggregate_id, type="campaign.created",
                       data={"n": aggregate_id})


async def _count_probes(app: FastAPI, tenant: Tenant) -> int:
    found: int = await sql(app, "SELECT count(*) FROM events WHERE organization_id = :org"
                                " AND aggregate_type = 'probe'", org=tenant.organization_id)
    return found


async def test_a_driver_statement_is_committed_or_rolled_back_with_the_unit_of_work(
        app: FastAPI, client: AsyncClient, tenant: Tenant) -> None:
    before = await _count_probes(app, tenant)
    async with UnitOfWork(app.state.salescore.sessions) as uow:
        await uow.events.append([(tenant.organization_id, {"type": "test"}, _probe(1))])
    assert await _count_probes(app, tenant) == before
    async with UnitOfWork(app.state.salescore.sessions) as uow:
        await uow.events.append([(tenant.organization_id, {"type": "test"}, _probe(2))])
        await uow.commit()
    assert await _count_probes(app, tenant) == before + 1


async def test_a_driver_statement_sees_what_the_orm_wrote_in_the_same_transaction(
        app: FastAPI, client: AsyncClient, tenant: Tenant) -> None:
    async with UnitOfWork(app.state.salescore.sessions) as uow:
        new_id = (await uow.session.execute(insert(customers).values(
            organization_id=tenant.organization_id, name="Uncommitted AS",
        ).returning(customers.c.id))).scalar_one()
        assert await uow.references.missing(tenant.organization_id,
                                            {"customer_id": new_id}) is None
    async with UnitOfWork(app.state.salescore.sessions) as uow:
        assert await uow.references.missing(tenant.organization_id,
                                            {"customer_id": new_id}) == "customer_id"


async def test_an_opportunity_inserted_on_the_driver_goes_when_the_unit_of_work_is_not_committed(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World) -> None:
    made = await create_opportunity(client, tenant, world.customer_id)
    before = await count_opportunities(app, tenant)
    async with UnitOfWork(app.state.salescore.sessions) as uow:
        existing = await uow.opportunities.get(tenant.organization_id, made["id"])
        assert existing is not None
        new_id = await uow.opportunities.add(replace(existing, id=0))
        copy = await uow.opportunities.get(tenant.organization_id, new_id)
        assert copy is not None and copy.sellers == existing.sellers
        assert await count_opportunities(app, tenant) == before  # not visible outside
    assert await count_opportunities(app, tenant) == before
    assert await sql(app, "SELECT count(*) FROM opportunity_sellers WHERE organization_id"
                          " = :org AND opportunity_id = :id", org=tenant.organization_id,
                     id=new_id) == 0


def _checked_out(app: FastAPI) -> int:
    pool: QueuePool = app.state.salescore.engine.sync_engine.pool
    return pool.checkedout()


async def test_a_read_of_hot_statements_uses_one_pool_connection_and_no_session_connection(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World) -> None:
    made = await create_opportunity(client, tenant, world.customer_id)
    before = _checked_out(app)
    uow = UnitOfWork(app.state.salescore.sessions)
    async with uow.reading():
        found = await uow.opportunities.get(tenant.organization_id, made["id"])
        assert _checked_out(app) == before + 1
        assert not uow.session.in_transaction()
    assert found is not None and found.name == made["name"]
    assert _checked_out(app) == before


@pytest.mark.parametrize("session_first", [True, False], ids=["session-first", "reader-first"])
async def test_a_read_that_needs_the_session_must_use_it_before_any_hot_statement(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        session_first: bool) -> None:
    made = await create_opportunity(client, tenant, world.customer_id)
    before = _checked_out(app)
    uow = UnitOfWork(app.state.salescore.sessions)
    refused = nullcontext() if session_first else pytest.raises(RuntimeError,
                                                                 match="two connections")
    with refused:
        async with uow.reading():
            if session_first:
                await uow.session.execute(select(customers.c.id).limit(1))
            assert await uow.opportunities.get(tenant.organization_id, made["id"]) is not None
            if not session_first:
                await uow.session.execute(select(customers.c.id).limit(1))
            assert _checked_out(app) == before + (1 if session_first else 2)
    assert _checked_out(app) == before


async def test_a_reader_connection_that_broke_is_not_given_back_to_the_pool(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World) -> None:
    made = await create_opportunity(client, tenant, world.customer_id)
    uow = UnitOfWork(app.state.salescore.sessions)
    async with uow.reading():
        await uow.opportunities.get(tenant.organization_id, made["id"])
        broken = await driver(uow.session)
        broken.terminate()
    for _ in range(3):  # whichever pooled connection comes next answers
        async with uow.reading():
            assert await driver(uow.session) is not broken
            assert await uow.opportunities.get(tenant.organization_id, made["id"]) is not None


def test_a_prepared_statement_keeps_its_literals_and_refuses_a_missing_parameter():
    prepared = Prepared.of(select(customers.c.id).where(
        customers.c.organization_id == bindparam("organization_id"),
        customers.c.name == "Acme AS"))
    assert prepared.args({"organization_id": 7}) == [7, "Acme AS"]
    with pytest.raises(KeyError, match="organization_id"):
        prepared.args({"organisation_id": 7})


@pytest.mark.parametrize("driver_first", [True, False])
async def test_a_write_runs_the_session_and_the_driver_in_the_one_transaction_it_began(
        app: FastAPI, client: AsyncClient, driver_first: bool) -> None:
    """The session is on an autocommit connection: were the unit of work's own BEGIN not
    sent, each statement would be a transaction of its own."""
    async with UnitOfWork(app.state.salescore.sessions) as uow:
        async def on_session() -> int:
            found: int = (await uow.session.execute(select(func.txid_current()))).scalar_one()
            return found

        async def on_driver() -> int:
            found: int = await (await driver(uow.session)).fetchval("SELECT txid_current()")
            return found

        first, second = ((await on_driver(), await on_session()) if driver_first
                         else (await on_session(), await on_driver()))
        assert first == second
        assert await on_driver() == first


async def test_a_write_that_fails_gives_its_connection_back_out_of_its_transaction(
        app: FastAPI, client: AsyncClient, tenant: Tenant) -> None:
    async def idle_in_transaction() -> int:
        found: int = await sql(app, "SELECT count(*) FROM pg_stat_activity WHERE"
                                    " application_name = 'salescore' AND pid <>"
                                    " pg_backend_pid() AND datname = current_database()"
                                    " AND state LIKE 'idle in transaction%'")
        return found

    with pytest.raises(RuntimeError, match="the use case failed"):
        async with UnitOfWork(app.state.salescore.sessions) as uow:
            await uow.events.append([(tenant.organization_id, {"type": "test"}, _probe(3))])
            raise RuntimeError("the use case failed")
    assert await idle_in_transaction() == 0
    assert await _count_probes(app, tenant) == 0


async def test_a_unit_of_work_on_autocommit_sessions_begins_no_transaction(
        app: FastAPI, client: AsyncClient) -> None:
    """The caller lookups use one: each statement on its own, no BEGIN and ROLLBACK."""
    async with UnitOfWork(app.state.salescore.reads) as uow:
        ids = [(await uow.session.execute(select(func.txid_current()))).scalar_one()
               for _ in range(2)]
    assert ids[0] != ids[1]
