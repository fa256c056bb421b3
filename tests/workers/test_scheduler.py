"""The scheduled jobs: each runs once per due time whatever the number of workers; quote
expiry, pruning, and disabling endpoints that failed for five days."""

import asyncio
import secrets
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.settings import Settings
from salescore.workers.context import WorkerContext
from salescore.workers.scheduler import JOBS, Job, run_due_jobs, scheduler_loop
from tests.factories import Tenant, make_user
from tests.opportunity_factories import World, sql
from tests.quote_flow import make_draft, quote_world, send, token_of
from tests.report_factories import oslo_today
from tests.workers.contexts import context_of


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await quote_world(app, tenant)


def job(name: str) -> Job:
    return next(j for j in JOBS if j.name == name)


async def due_now(app: FastAPI, name: str) -> None:
    """Whatever another test left, the job is due from now on."""
    await sql(app, "DELETE FROM scheduled_jobs WHERE name = :name", name=name)


def counting(calls: list[datetime], *, every: timedelta = timedelta(hours=1),
             pause: float = 0.2, fails: bool = False) -> Job:
    async def run(context: WorkerContext, now: datetime) -> None:
        calls.append(now)
        await asyncio.sleep(pause)
        if fails:
            raise RuntimeError("boom")
    return Job(f"test_{secrets.token_hex(4)}", every, run)


async def test_two_workers_at_once_run_a_due_job_once(app: FastAPI, settings: Settings):
    calls: list[datetime] = []
    counted = counting(calls)
    context, now = context_of(app, settings), datetime.now(UTC)
    ran = await asyncio.gather(run_due_jobs(context, now=now, jobs=[counted]),
                               run_due_jobs(context, now=now, jobs=[counted]))
    assert sorted(ran) == [[], [counted.name]] and len(calls) == 1
    assert await run_due_jobs(context, now=now + timedelta(minutes=59), jobs=[counted]) == []
    later = now + timedelta(hours=1)
    assert await run_due_jobs(context, now=later, jobs=[counted]) == [counted.name]
    assert calls == [now, later]


async def test_two_scheduler_loops_run_each_due_time_once(app: FastAPI, settings: Settings):
    calls: list[datetime] = []
    counted = counting(calls, every=timedelta(minutes=1), pause=0.05)
    context = context_of(app, settings, worker_poll_seconds=0.02)
    clock = [datetime.now(UTC)]
    stopping = asyncio.Event()
    loops = [asyncio.create_task(scheduler_loop(context, stopping, clock=lambda: clock[0],
                                                jobs=[counted])) for _ in range(2)]
    await asyncio.sleep(0.4)
    clock[0] += timedelta(minutes=1)
    await asyncio.sleep(0.4)
    stopping.set()
    await asyncio.wait_for(asyncio.gather(*loops), 5)
    assert len(calls) == 2


async def test_a_failing_job_records_its_error_and_is_due_at_its_next_interval(
        app: FastAPI, settings: Settings):
    calls: list[datetime] = []
    failing = counting(calls, pause=0, fails=True)
    context, now = context_of(app, settings), datetime.now(UTC)
    assert await run_due_jobs(context, now=now, jobs=[failing]) == [failing.name]
    error = await sql(app, "SELECT last_error FROM scheduled_jobs WHERE name = :name "
                           "AND due_at = :due AND last_run_at = :now",
                      name=failing.name, due=now + timedelta(hours=1), now=now)
    assert error == "RuntimeError: boom"
    assert await run_due_jobs(context, now=now + timedelta(hours=1), jobs=[failing]) == [
        failing.name]


async def _expired_quote(client: AsyncClient, app: FastAPI, tenant: Tenant,
                         world: World) -> dict[str, Any]:
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    await sql(app, "UPDATE quotes SET valid_until = :day WHERE id = :id",
              day=oslo_today() - timedelta(days=1), id=sent["id"])
    return sent


async def test_expired_quotes_are_stored_once_with_an_event_and_a_notice_per_seller(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World):
    seller = (await make_user(client, tenant))["id"]
    first = await _expired_quote(client, app, tenant, world)
    added = await client.post(f"/v1/opportunities/{first['opportunity_id']}/sellers",
                              headers=tenant.admin, json={"user_id": seller, "share": "40"})
    assert added.status_code in (200, 201), added.text
    second = await _expired_quote(client, app, tenant, world)
    current = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    await due_now(app, "expire_quotes")
    context, now = context_of(app, settings), datetime.now(UTC)
    expiry = [job("expire_quotes")]
    ran = await asyncio.gather(run_due_jobs(context, now=now, jobs=expiry),
                               run_due_jobs(context, now=now, jobs=expiry))
    assert sorted(ran) == [[], ["expire_quotes"]]
    assert await run_due_jobs(context, now=now + timedelta(minutes=1), jobs=expiry) == [
        "expire_quotes"]  # a second run finds nothing more to do
    org = tenant.organization_id
    stored = await sql(app, "SELECT array_agg(status ORDER BY id) FROM quotes WHERE "
                            "organization_id = :org AND id = ANY(:ids)",
                       org=org, ids=[first["id"], second["id"], current["id"]])
    assert stored == ["expired", "expired", "sent"]
    events = await sql(app, "SELECT array_agg(aggregate_id ORDER BY aggregate_id) FROM events "
                            "WHERE organization_id = :org AND type = 'quote.expired'", org=org)
    assert events == [first["id"], second["id"]]
    notices = await sql(app, "SELECT array_agg(quote_id || ':' || user_id ORDER BY quote_id, "
                             "user_id) FROM notifications WHERE organization_id = :org AND "
                             "type = 'quote_expired'", org=org)
    owner = tenant.admin_id
    assert notices == [f"{first['id']}:{owner}", f"{first['id']}:{seller}",
                       f"{second['id']}:{owner}"]
    read = (await client.get(f"/v1/quotes/{first['id']}", headers=tenant.admin)).json()
    assert read["status"] == "expired"
    listed = (await client.get("/v1/quotes", params={"status": "expired"},
                               headers=tenant.admin)).json()["data"]
    assert {q["id"] for q in listed} == {first["id"], second["id"]}
    assert (await client.get(f"/v1/public/quotes/{token_of(first)}")).status_code == 410


async def test_a_quote_expires_when_its_day_has_ended_in_its_organizations_zone(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World):
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    day = oslo_today() - timedelta(days=2)
    await sql(app, "UPDATE quotes SET valid_until = :day WHERE id = :id", day=day, id=sent["id"])
    # Half past midnight in Oslo after its day is still that day's evening in New York.
    now = datetime.combine(day + timedelta(days=1), time(0, 30), ZoneInfo("Europe/Oslo"))
    context, expiry = context_of(app, settings), [job("expire_quotes")]

    async def status_in(zone: str, at: datetime) -> str:
        await sql(app, "UPDATE organizations SET time_zone = :zone WHERE id = :org",
                  zone=zone, org=tenant.organization_id)
        await due_now(app, "expire_quotes")
        await run_due_jobs(context, now=at, jobs=expiry)
        status: str = await sql(app, "SELECT status FROM quotes WHERE id = :id", id=sent["id"])
        return status

    assert await status_in("America/New_York", now) == "sent"
    assert await status_in("America/New_York", now + timedelta(hours=6)) == "expired"
    await sql(app, "UPDATE quotes SET status = 'sent' WHERE id = :id", id=sent["id"])
    assert await status_in("Europe/Oslo", now) == "expired"


async def test_the_prune_job_drops_old_events_and_idempotency_keys(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant):
    org = tenant.organization_id
    now = datetime.now(UTC)
    await sql(app, "UPDATE events SET occurred_at = :old WHERE organization_id = :org",
              old=now - timedelta(days=10), org=org)
    fresh = await client.post("/v1/departments", json={"name": "Fresh"}, headers=tenant.key)
    assert fresh.status_code == 201
    for key, age in (("old", timedelta(hours=2)), ("new", timedelta(minutes=5))):
        await sql(app, "INSERT INTO idempotency_keys (organization_id, key, request_hash, "
                       "created_at, locked_until) VALUES (:org, :key, '\\x00', :at, :at)",
                  org=org, key=key, at=now - age)
    await due_now(app, "prune")
    context = context_of(app, settings, event_retention_days=5, idempotency_ttl_hours=1)
    assert await run_due_jobs(context, now=now, jobs=[job("prune")]) == ["prune"]
    left = await sql(app, "SELECT array_agg(type) FROM events WHERE organization_id = :org",
                     org=org)
    assert left == ["department.created"]
    keys = await sql(app, "SELECT array_agg(key) FROM idempotency_keys WHERE "
                          "organization_id = :org", org=org)
    assert keys == ["new"]
    assert await sql(app, "SELECT count(*) FROM event_retention WHERE organization_id = :org",
                     org=org) == 1


async def _endpoint(app: FastAPI, tenant: Tenant, url: str, failing_for: timedelta) -> int:
    endpoint_id: int = await sql(
        app, "INSERT INTO webhook_endpoints (organization_id, url, secret_encrypted, "
             "failing_since) VALUES (:org, :url, 'not a real secret', :since) RETURNING id",
        org=tenant.organization_id, url=url, since=datetime.now(UTC) - failing_for)
    return endpoint_id


async def test_an_endpoint_failing_for_five_days_is_disabled_and_admins_told(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant):
    org = tenant.organization_id
    other_admin = (await make_user(client, tenant, role="admin"))["id"]
    gone_admin = (await make_user(client, tenant, role="admin"))["id"]
    await sql(app, "UPDATE users SET active = false WHERE id = :id", id=gone_admin)
    await make_user(client, tenant, role="seller")
    failing = await _endpoint(app, tenant, "https://erp.test/hooks",
                              timedelta(days=5, minutes=1))
    recent = await _endpoint(app, tenant, "https://crm.test/hooks", timedelta(days=4))
    await due_now(app, "disable_failing_endpoints")
    context, now = context_of(app, settings), datetime.now(UTC)
    disabling = [job("disable_failing_endpoints")]
    assert await run_due_jobs(context, now=now, jobs=disabling) == [
        "disable_failing_endpoints"]
    state = await sql(app, "SELECT array_agg(id || ':' || active || ':' || "
                           "coalesce(disabled_reason, '-') ORDER BY id) FROM webhook_endpoints "
                           "WHERE organization_id = :org", org=org)
    assert state == [f"{failing}:false:no success for five days", f"{recent}:true:-"]
    notices = await sql(app, "SELECT array_agg(user_id || ' ' || text ORDER BY user_id) FROM "
                             "notifications WHERE organization_id = :org AND "
                             "type = 'webhook_endpoint_disabled'", org=org)
    told = "The webhook endpoint https://erp.test/hooks was disabled: no success for five days"
    assert notices == [f"{tenant.admin_id} {told}", f"{other_admin} {told}"]
    events = await sql(app, "SELECT count(*) FROM events WHERE organization_id = :org AND "
                            "type = 'webhook_endpoint.updated' AND aggregate_id = :id",
                       org=org, id=failing)
    assert events == 1
    later = now + timedelta(hours=1)
    assert await run_due_jobs(context, now=later, jobs=disabling) == [
        "disable_failing_endpoints"]
    assert await sql(app, "SELECT count(*) FROM notifications WHERE organization_id = :org "
                          "AND type = 'webhook_endpoint_disabled'", org=org) == 2
