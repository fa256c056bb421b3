"""The change feed: complete, ordered, never skipping an event, tenant-scoped."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.domain.events import DomainEvent
from salescore.repositories.feed.events import EventRepository
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.feed.events import prune_events
from tests.factories import Tenant


async def _feed(client: AsyncClient, tenant: Tenant, **params: object) -> dict:
    response = await client.get("/v1/events", params=params, headers=tenant.key)
    assert response.status_code == 200, response.text
    return response.json()


async def _read_all(client: AsyncClient, tenant: Tenant, after: str | None = None,
                    ) -> tuple[list[dict], str]:
    events: list[dict] = []
    while True:
        params = {"limit": 2} | ({"after": after} if after else {})
        page = await _feed(client, tenant, **params)
        events += page["data"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return events, after


async def test_a_new_organization_starts_its_feed_with_its_creation(client: AsyncClient,
                                                                    tenant: Tenant):
    events, _ = await _read_all(client, tenant)
    assert [e["type"] for e in events] == [
        "organization.created", "user.created", "api_key.created"]
    assert events[0]["aggregate_id"] == tenant.organization_id
    assert events[0]["actor"] == {"type": "user", "id": tenant.admin_id}


async def test_the_cursor_continues_where_the_reader_stopped(client: AsyncClient,
                                                             tenant: Tenant):
    _, cursor = await _read_all(client, tenant)
    await client.post("/v1/departments", json={"name": "Oslo"}, headers=tenant.key)
    page = await _feed(client, tenant, after=cursor)
    assert [e["type"] for e in page["data"]] == ["department.created"]
    assert page["data"][0]["data"] == {"name": "Oslo"}
    assert page["data"][0]["actor"]["type"] == "api_key"
    again = await _feed(client, tenant, after=page["next_cursor"])
    assert again["data"] == []
    assert again["next_cursor"] == page["next_cursor"]


async def test_types_filter_the_feed(client: AsyncClient, tenant: Tenant):
    await client.post("/v1/departments", json={"name": "Bergen"}, headers=tenant.key)
    page = await _feed(client, tenant, types="department.created,api_key.created")
    assert [e["type"] for e in page["data"]] == ["api_key.created", "department.created"]


async def test_another_organizations_events_never_show(client: AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant):
    await client.post("/v1/departments", json={"name": "Secret"}, headers=other_tenant.key)
    events, _ = await _read_all(client, tenant)
    assert all(e["data"].get("name") != "Secret" for e in events)
    assert {e["aggregate_id"] for e in events if e["aggregate_type"] == "organization"} == {
        tenant.organization_id}


async def test_a_slow_transaction_holds_back_later_commits_so_none_is_skipped(
        client: AsyncClient, tenant: Tenant, app: FastAPI):
    _, cursor = await _read_all(client, tenant)
    sessions = app.state.salescore.sessions
    async with sessions() as slow, slow.begin():
        # The slow transaction takes its event id first ...
        await EventRepository(slow).append([(tenant.organization_id, {"type": "test"},
                                             DomainEvent("campaign.created", "campaign", 1))])
        # ... a later one commits while it is still open.
        created = await client.post("/v1/departments", json={"name": "Fast"},
                                    headers=tenant.key)
        assert created.status_code == 201
        held = await _feed(client, tenant, after=cursor)
        assert held["data"] == []
        assert held["next_cursor"] == cursor
    after_commit = await _feed(client, tenant, after=cursor)
    assert [e["type"] for e in after_commit["data"]] == ["campaign.created", "department.created"]


async def test_a_cursor_past_the_retention_window_is_gone(client: AsyncClient, tenant: Tenant,
                                                          app: FastAPI):
    first = await _feed(client, tenant, limit=1)
    await client.post("/v1/departments", json={"name": "Later"}, headers=tenant.key)
    uow = UnitOfWork(app.state.salescore.sessions)
    deleted = await prune_events(uow, now=datetime.now(UTC) + timedelta(days=1),
                                 retention=timedelta(days=1))
    assert deleted >= 4
    response = await client.get("/v1/events", params={"after": first["next_cursor"]},
                                headers=tenant.key)
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/problem+json"
    fresh = await _feed(client, tenant)
    assert fresh["data"] == []
    await client.post("/v1/departments", json={"name": "After prune"}, headers=tenant.key)
    page = await _feed(client, tenant, after=fresh["next_cursor"])
    assert [e["data"]["name"] for e in page["data"]] == ["After prune"]


async def test_reading_the_feed_needs_the_events_scope(client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/api-keys", headers=tenant.admin,
                                json={"name": "users only", "scopes": ["users:read"]})
    key = {"Authorization": f"Bearer {created.json()['secret']}"}
    assert (await client.get("/v1/events", headers=key)).status_code == 403


async def test_a_tampered_feed_cursor_is_refused(client: AsyncClient, tenant: Tenant):
    page = await _feed(client, tenant, limit=1)
    cursor = page["next_cursor"]
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    response = await client.get("/v1/events", params={"after": tampered}, headers=tenant.key)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_a_filtered_read_moves_its_cursor_past_the_events_it_skipped(
        client: AsyncClient, tenant: Tenant, app: FastAPI):
    """A reader of `types=` that finds nothing still moves on, so that pruning what it
    skipped never makes its cursor stale."""
    await client.post("/v1/departments", json={"name": "Wanted"}, headers=tenant.key)
    wanted = await _feed(client, tenant, types="department.created")
    assert [e["data"]["name"] for e in wanted["data"]] == ["Wanted"]
    await client.post("/v1/sales-regions", json={"name": "Skipped"}, headers=tenant.key)
    page = await _feed(client, tenant, types="department.created",
                       after=wanted["next_cursor"])
    assert page["data"] == []
    assert not page["has_more"]
    _, cursor = await _read_all(client, tenant)
    assert page["next_cursor"] == cursor
    uow = UnitOfWork(app.state.salescore.sessions)
    await prune_events(uow, now=datetime.now(UTC) + timedelta(days=1),
                       retention=timedelta(days=1))
    after_prune = await client.get("/v1/events", headers=tenant.key, params={
        "after": page["next_cursor"], "types": "department.created"})
    assert after_prune.status_code == 200, after_prune.text
    assert after_prune.json()["data"] == []


async def test_a_filtered_read_never_moves_past_a_transaction_still_open(
        client: AsyncClient, tenant: Tenant, app: FastAPI):
    _, cursor = await _read_all(client, tenant)
    sessions = app.state.salescore.sessions
    async with sessions() as slow, slow.begin():
        await EventRepository(slow).append([(tenant.organization_id, {"type": "test"},
                                             DomainEvent("campaign.created", "campaign", 1))])
        await client.post("/v1/departments", json={"name": "Fast"}, headers=tenant.key)
        held = await _feed(client, tenant, after=cursor, types="campaign.created")
        assert held["next_cursor"] == cursor
    after_commit = await _feed(client, tenant, after=cursor, types="campaign.created")
    assert [e["type"] for e in after_commit["data"]] == ["campaign.created"]
    _, everything = await _read_all(client, tenant, cursor)
    assert after_commit["next_cursor"] == everything


async def test_a_full_filtered_page_ends_at_its_last_event(client: AsyncClient,
                                                          tenant: Tenant):
    for name in ("One", "Two", "Three"):
        await client.post("/v1/departments", json={"name": name}, headers=tenant.key)
    page = await _feed(client, tenant, types="department.created", limit=2)
    assert [e["data"]["name"] for e in page["data"]] == ["One", "Two"]
    assert page["has_more"]
    rest = await _feed(client, tenant, types="department.created",
                       after=page["next_cursor"])
    assert [e["data"]["name"] for e in rest["data"]] == ["Three"]
