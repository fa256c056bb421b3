"""The caller cache: fast for a known credential, never stale after a change that matters.

Apps here run their lifespan, so that the NOTIFY listener runs as in a real server; two
apps on one database stand for two replicas."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from jose import jwt
from sqlalchemy import text

from salescore.api.app import create_app
from salescore.api.state import AppState
from salescore.domain.access.organization import Organization
from salescore.domain.access.permissions import ALL_SCOPES, Caller, Role
from salescore.repositories.access.auth_notices import LISTENER_NAME
from salescore.services.access.auth import Identity
from salescore.services.access.caller_cache import CallerCache, credential_key
from salescore.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import Tenant, make_user, new_tenant

NOTIFICATION_WAIT = 5.0  # seconds a notification may take to reach another app
Running = tuple[FastAPI, AsyncClient]


@asynccontextmanager
async def running(settings: Settings, database_url: str,
                  **overrides: Any) -> AsyncIterator[Running]:
    """An app with its lifespan (listener included) and a client for it."""
    app = create_app(settings.model_copy(update=overrides), database_url)
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


@pytest.fixture
async def first(settings: Settings,
                database_url: str) -> AsyncIterator[Running]:
    async with running(settings, database_url, auth_cache_seconds=30) as made:
        yield made


@pytest.fixture
async def second(settings: Settings,
                 database_url: str) -> AsyncIterator[Running]:
    """Another replica on the same database."""
    async with running(settings, database_url, auth_cache_seconds=30) as made:
        yield made


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.salescore
    return state


def key_of(headers: dict[str, str]) -> bytes:
    return credential_key(headers["Authorization"].removeprefix("Bearer "))


async def me(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/me", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_key(client: AsyncClient, tenant: Tenant) -> tuple[int, dict[str, str]]:
    """A new API key's id and bearer header."""
    created = await client.post("/v1/api-keys", json={"name": "erp", "scopes": ["users:read"]},
                                headers=tenant.admin)
    assert created.status_code == 201, created.text
    return created.json()["id"], {"Authorization": f"Bearer {created.json()['secret']}"}


async def rename_behind_the_apps_back(app: FastAPI, organization_id: int, name: str) -> None:
    """A change no service made, so nobody is notified: only what reads the database sees."""
    async with state_of(app).engine.begin() as connection:
        await connection.execute(text("UPDATE organizations SET name = :name WHERE id = :id"),
                                 {"name": name, "id": organization_id})


async def eventually(check: Callable[[], Awaitable[bool]]) -> bool:
    """Whether `check` comes true within NOTIFICATION_WAIT seconds."""
    deadline = time.monotonic() + NOTIFICATION_WAIT
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


async def status_becomes(client: AsyncClient, headers: dict[str, str], status: int) -> bool:
    async def check() -> bool:
        return (await client.get("/v1/me", headers=headers)).status_code == status
    return await eventually(check)


async def test_a_known_credential_is_answered_from_the_cache(first: Running) -> None:
    app, client = first
    tenant = await new_tenant(app, "Cached")
    assert (await me(client, tenant.key))["organization_name"] == "Cached"
    await rename_behind_the_apps_back(app, tenant.organization_id, "Renamed quietly")
    assert (await me(client, tenant.key))["organization_name"] == "Cached"
    assert state_of(app).callers.get(key_of(tenant.key)) is not None


async def test_a_revoked_key_stops_working_on_the_next_request_though_cached(
        first: Running) -> None:
    app, client = first
    tenant = await new_tenant(app, "Revoking")
    key_id, key = await new_key(client, tenant)
    await me(client, key)
    assert state_of(app).callers.get(key_of(key)) is not None
    revoked = await client.delete(f"/v1/api-keys/{key_id}", headers=tenant.admin)
    assert revoked.status_code == 204
    assert (await client.get("/v1/me", headers=key)).status_code == 401


async def test_a_deactivated_user_is_refused_on_the_next_request_though_cached(
        first: Running) -> None:
    app, client = first
    tenant = await new_tenant(app, "Leaving")
    user = await make_user(client, tenant)
    headers = tenant.token_for(user["id"])
    await me(client, headers)
    assert state_of(app).callers.get(key_of(headers)) is not None
    response = await client.patch(f"/v1/users/{user['id']}", json={"active": False},
                                  headers=tenant.admin)
    assert response.status_code == 200
    assert (await client.get("/v1/me", headers=headers)).status_code == 401


async def test_a_role_change_holds_from_the_next_request_though_cached(first: Running) -> None:
    app, client = first
    tenant = await new_tenant(app, "Promoting")
    user = await make_user(client, tenant, role="seller")
    headers = tenant.token_for(user["id"])
    assert (await me(client, headers))["role"] == "seller"
    refused = await client.post("/v1/departments", json={"name": "Sales"}, headers=headers)
    assert refused.status_code == 403
    await client.patch(f"/v1/users/{user['id']}", json={"role": "admin"}, headers=tenant.admin)
    assert (await me(client, headers))["role"] == "admin"
    allowed = await client.post("/v1/departments", json={"name": "Sales"}, headers=headers)
    assert allowed.status_code == 201


async def test_another_replica_stops_accepting_a_revoked_key_it_had_cached(
        first: Running, second: Running) -> None:
    (app, client), (replica, replica_client) = first, second
    tenant = await new_tenant(app, "Replicated")
    key_id, key = await new_key(client, tenant)
    await me(replica_client, key)
    assert state_of(replica).callers.get(key_of(key)) is not None
    await client.delete(f"/v1/api-keys/{key_id}", headers=tenant.admin)
    assert await status_becomes(replica_client, key, 401)


async def test_another_replica_refuses_a_deactivated_user_it_had_cached(
        first: Running, second: Running) -> None:
    (app, client), (replica, replica_client) = first, second
    tenant = await new_tenant(app, "Replicated")
    user = await make_user(client, tenant)
    headers = tenant.token_for(user["id"])
    await me(replica_client, headers)
    assert state_of(replica).callers.get(key_of(headers)) is not None
    await client.patch(f"/v1/users/{user['id']}", json={"active": False}, headers=tenant.admin)
    assert await status_becomes(replica_client, headers, 401)


async def test_another_replica_forgets_the_cached_role_on_a_role_change(
        first: Running, second: Running) -> None:
    (app, client), (replica, replica_client) = first, second
    tenant = await new_tenant(app, "Replicated")
    user = await make_user(client, tenant, role="seller")
    headers = tenant.token_for(user["id"])
    assert (await me(replica_client, headers))["role"] == "seller"
    await client.patch(f"/v1/users/{user['id']}", json={"role": "manager"}, headers=tenant.admin)

    async def forgotten() -> bool:
        return state_of(replica).callers.get(key_of(headers)) is None
    assert await eventually(forgotten)  # by the notification: no request was made meanwhile
    assert (await me(replica_client, headers))["role"] == "manager"


async def test_a_new_base_currency_shows_on_me_at_once_in_every_replica(
        first: Running, second: Running) -> None:
    (app, client), (_, replica_client) = first, second
    tenant = await new_tenant(app, "Converting")
    assert (await me(client, tenant.key))["base_currency"] == "NOK"
    assert (await me(replica_client, tenant.key))["base_currency"] == "NOK"
    response = await client.patch("/v1/settings", json={"base_currency": "SEK"},
                                  headers=tenant.admin)
    assert response.status_code == 200, response.text
    assert (await me(client, tenant.key))["base_currency"] == "SEK"

    async def converted() -> bool:
        currency: str = (await me(replica_client, tenant.key))["base_currency"]
        return currency == "SEK"
    assert await eventually(converted)


async def test_a_change_in_one_organization_keeps_the_others_cached(first: Running) -> None:
    app, client = first
    tenant, other = await new_tenant(app, "Changing"), await new_tenant(app, "Untouched")
    await me(client, tenant.key)
    await me(client, other.key)
    user = await make_user(client, tenant)
    await client.patch(f"/v1/users/{user['id']}", json={"name": "New name"},
                       headers=tenant.admin)
    callers = state_of(app).callers
    assert callers.get(key_of(tenant.key)) is None
    assert callers.get(key_of(other.key)) is not None


async def test_a_tokens_entry_ends_at_its_expiry(first: Running) -> None:
    app, client = first
    tenant = await new_tenant(app, "Expiring")
    expires = int(time.time()) + 2
    token = str(jwt.encode({"sub": str(tenant.admin_id), "org": tenant.organization_id,
                            "iss": "salescore", "aud": "salescore-api",
                            "iat": int(time.time()), "exp": expires}, TEST_SECRET,
                           algorithm="HS256"))
    headers = {"Authorization": f"Bearer {token}"}
    await me(client, headers)
    assert state_of(app).callers.expires_at(key_of(headers)) == expires  # not now + 30 s
    await asyncio.sleep(expires + 1 - time.time() + 0.05)  # python-jose counts whole seconds
    assert (await client.get("/v1/me", headers=headers)).status_code == 401


async def test_zero_seconds_caches_nothing(settings: Settings, database_url: str) -> None:
    async with running(settings, database_url, auth_cache_seconds=0) as (app, client):
        tenant = await new_tenant(app, "Uncached")
        await me(client, tenant.key)
        await rename_behind_the_apps_back(app, tenant.organization_id, "Seen at once")
        assert (await me(client, tenant.key))["organization_name"] == "Seen at once"
        assert len(state_of(app).callers) == 0
        assert not state_of(app).auth_listener.listening


async def test_without_a_listener_the_cache_is_bypassed(first: Running) -> None:
    app, client = first
    state = state_of(app)
    tenant = await new_tenant(app, "Deaf")
    await me(client, tenant.key)
    await state.auth_listener.stop()
    assert len(state.callers) == 0
    await me(client, tenant.key)
    await rename_behind_the_apps_back(app, tenant.organization_id, "Seen at once")
    assert (await me(client, tenant.key))["organization_name"] == "Seen at once"
    assert len(state.callers) == 0
    await state.auth_listener.start()
    await me(client, tenant.key)
    assert len(state.callers) == 1


async def listener_pids(app: FastAPI) -> set[int]:
    async with state_of(app).engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = :name AND datname = current_database()"),
            {"name": LISTENER_NAME})
        return set(rows.scalars())


async def test_a_lost_listener_empties_the_cache_and_comes_back(first: Running) -> None:
    app, client = first
    state = state_of(app)
    tenant = await new_tenant(app, "Lost")
    await me(client, tenant.key)
    await rename_behind_the_apps_back(app, tenant.organization_id, "Missed while deaf")
    lost = await listener_pids(app)
    assert lost
    async with state.engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(pid) "
                                      "FROM unnest(CAST(:pids AS int[])) AS pid"),
                                 {"pids": sorted(lost)})

    async def back() -> bool:
        return state.callers.active and bool(await listener_pids(app) - lost)
    assert await eventually(back)
    assert (await me(client, tenant.key))["organization_name"] == "Missed while deaf"


def _identity(organization_id: int = 1) -> Identity:
    organization = Organization(organization_id, "Acme", "NOK", "Europe/Oslo",
                                datetime.now(UTC))
    return Identity(Caller(organization_id, Role.INTEGRATION, ALL_SCOPES, api_key_id=7),
                    organization)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_the_ttl_and_never_past_not_after() -> None:
    clock = Clock()
    cache = CallerCache(30, clock=clock)
    cache.listening()
    cache.put(b"long", _identity(), ticket=cache.ticket())
    cache.put(b"short", _identity(), ticket=cache.ticket(), not_after=clock.now + 5)
    clock.now += 5
    assert cache.get(b"short") is None
    assert cache.get(b"long") is not None
    clock.now += 25
    assert cache.get(b"long") is None


def test_a_look_up_that_began_before_a_change_is_not_kept() -> None:
    cache = CallerCache(30)
    cache.listening()
    ticket = cache.ticket()
    cache.forget(1)  # a change committed while the look-up read the database
    cache.put(b"stale", _identity(1), ticket=ticket)
    assert cache.get(b"stale") is None


def test_a_cache_that_does_not_hear_changes_keeps_nothing() -> None:
    cache = CallerCache(30)
    cache.put(b"never", _identity(), ticket=cache.ticket())
    assert cache.get(b"never") is None
    cache.listening()
    cache.put(b"kept", _identity(), ticket=cache.ticket())
    cache.deaf()
    assert cache.get(b"kept") is None


def test_a_full_cache_makes_room() -> None:
    cache = CallerCache(30, max_entries=2)
    cache.listening()
    for key in (b"a", b"b", b"c"):
        cache.put(key, _identity(), ticket=cache.ticket())
    assert len(cache) == 2
    assert cache.get(b"c") is not None
