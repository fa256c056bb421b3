"""The worker's import loop: woken by the upload, one run per import whatever the number
of loops, a stopping worker's import put back, a dead worker's taken up after its lease."""

import asyncio
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.v1.integrations.import_rows import ImportRowRules
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations import imports as service
from salescore.settings import Settings
from salescore.workers.context import WorkerContext
from salescore.workers.imports import import_loop
from tests.api.integrations.import_support import upload
from tests.factories import Tenant
from tests.opportunity_factories import sql


def _context(app: FastAPI, settings: Settings) -> WorkerContext:
    state = app.state.salescore
    return WorkerContext(settings.model_copy(update={"worker_poll_seconds": 30}),
                         state.engine, state.sessions, import_rows=ImportRowRules())


async def _ended(client: AsyncClient, tenant: Tenant, import_id: int) -> dict[str, object]:
    for _ in range(200):
        job = (await client.get(f"/v1/imports/{import_id}", headers=tenant.admin)).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not end")


async def test_two_loops_woken_by_the_upload_run_each_import_once(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant):
    context = _context(app, settings)
    stopping = asyncio.Event()
    loops = [asyncio.create_task(import_loop(context, stopping)) for _ in range(2)]
    try:
        await asyncio.sleep(0.3)  # listening; the poll is 30 s, so only NOTIFY wakes them
        jobs = [await upload(client, tenant, f"name,external_id\nC{i},w{i}\n",
                             resource="customers") for i in range(4)]
        ended = [await _ended(client, tenant, job["id"]) for job in jobs]
    finally:
        stopping.set()
        await asyncio.gather(*loops)
    assert [j["rows_created"] for j in ended] == [1, 1, 1, 1]
    assert await sql(app, "SELECT count(*) FROM customers WHERE organization_id = :org",
                     org=tenant.organization_id) == 4


async def test_a_stopped_run_goes_back_to_the_queue_and_goes_on_after_its_batches(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant):
    rows = "name\n" + "".join(f"C{i}\n" for i in range(4500))
    job = await upload(client, tenant, rows, resource="customers")
    context = _context(app, settings)
    stopping = asyncio.Event()
    loop = asyncio.create_task(import_loop(context, stopping))
    for _ in range(400):
        count = await sql(app, "SELECT rows_processed FROM imports WHERE id = :id",
                          id=job["id"])
        if count >= 2000:
            break
        await asyncio.sleep(0.05)
    loop.cancel()  # past its grace: the worker cancels the run
    await asyncio.gather(loop, return_exceptions=True)
    status = await sql(app, "SELECT status FROM imports WHERE id = :id", id=job["id"])
    assert status in ("queued", "succeeded")
    claimed = await service.claim_import(UnitOfWork(app.state.salescore.sessions))
    if status == "queued":
        assert claimed is not None and claimed.id == job["id"]
        await service.run_import(app.state.salescore.sessions, ImportRowRules(), claimed)
    ended = (await client.get(f"/v1/imports/{job['id']}", headers=tenant.admin)).json()
    assert (ended["status"], ended["rows_created"]) == ("succeeded", 4500)
    assert await sql(app, "SELECT count(*) FROM customers WHERE organization_id = :org",
                     org=tenant.organization_id) == 4500


async def test_an_import_whose_lease_ran_out_is_taken_up_again(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    job = await upload(client, tenant, "name\nA\nB\n", resource="customers")
    sessions = app.state.salescore.sessions
    claimed = await service.claim_import(UnitOfWork(sessions))
    assert claimed is not None and claimed.id == job["id"]
    assert await service.claim_import(UnitOfWork(sessions)) is None  # leased
    await sql(app, "UPDATE imports SET leased_until = now() - interval '1 second' "
                   "WHERE id = :id", id=job["id"])
    again = await service.claim_import(UnitOfWork(sessions))
    assert again is not None and again.id == job["id"]
    await service.run_import(sessions, ImportRowRules(), again)
    ended = (await client.get(f"/v1/imports/{job['id']}", headers=tenant.admin)).json()
    assert (ended["status"], ended["rows_created"]) == ("succeeded", 2)
    assert timedelta(minutes=5) == service.LEASE
