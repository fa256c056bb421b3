"""Rate limits through the app: per credential, per address, past trusted proxies only."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from salescore.api.app import create_app
from salescore.settings import Settings
from tests.factories import PASSWORD, new_tenant


@asynccontextmanager
async def limited_app(settings: Settings, database_url: str,
                      **overrides: Any) -> AsyncIterator[FastAPI]:
    """An app with its own limits (the suite's are off), its engine closed afterwards."""
    app = create_app(settings.model_copy(update=overrides), database_url)
    try:
        yield app
    finally:
        await app.state.salescore.engine.dispose()


@asynccontextmanager
async def client_at(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    """A client whose connection comes from `address`."""
    transport = ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _is_429_problem(response: Response) -> bool:
    return (response.status_code == 429
            and response.headers["content-type"] == "application/problem+json"
            and response.json()["status"] == 429)


async def test_past_the_burst_a_credential_gets_429_with_retry_after_and_the_headers(
        settings: Settings, database_url: str):
    async with limited_app(settings, database_url, rate_limit_per_minute=1,
                           rate_limit_burst=3) as app:
        tenant = await new_tenant(app, "Acme")
        async with client_at(app, "10.0.0.1") as client:
            served = [await client.get("/v1/me", headers=tenant.key) for _ in range(3)]
            refused = await client.get("/v1/me", headers=tenant.key)
    assert [r.status_code for r in served] == [200, 200, 200]
    assert {r.headers["ratelimit-policy"] for r in served} == {'"credential";q=3;w=180'}
    assert [r.headers["ratelimit"].split(";")[1] for r in served] == ["r=2", "r=1", "r=0"]
    assert _is_429_problem(refused)
    assert refused.json()["type"] == "urn:salescore:problem:too-many-requests"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-policy"] == '"credential";q=3;w=180'
    assert refused.headers["ratelimit"] == (
        f'"credential";r=0;t={refused.headers["retry-after"]}')


async def test_two_api_keys_do_not_share_a_bucket(settings: Settings, database_url: str):
    async with limited_app(settings, database_url, rate_limit_per_minute=1,
                           rate_limit_burst=2) as app:
        tenant = await new_tenant(app, "Acme")
        async with client_at(app, "10.0.0.1") as client:
            made = await client.post("/v1/api-keys", headers=tenant.admin,
                                     json={"name": "second", "scopes": ["users:read"]})
            other = {"Authorization": f"Bearer {made.json()['secret']}"}
            first = [(await client.get("/v1/me", headers=tenant.key)).status_code
                     for _ in range(3)]
            second = [(await client.get("/v1/me", headers=other)).status_code
                      for _ in range(3)]
    assert made.status_code == 201
    assert first == [200, 200, 429]
    assert second == [200, 200, 429]


async def test_a_users_token_has_its_own_bucket_beside_the_keys(settings: Settings,
                                                                 database_url: str):
    async with limited_app(settings, database_url, rate_limit_per_minute=1,
                           rate_limit_burst=1) as app:
        tenant = await new_tenant(app, "Acme")
        async with client_at(app, "10.0.0.1") as client:
            by_key = [(await client.get("/v1/me", headers=tenant.key)).status_code
                      for _ in range(2)]
            by_token = [(await client.get("/v1/me", headers=tenant.admin)).status_code
                        for _ in range(2)]
    assert by_key == [200, 429]
    assert by_token == [200, 429]


async def test_requests_without_a_credential_are_limited_per_address(settings: Settings,
                                                                     database_url: str):
    async with (limited_app(settings, database_url,
                            rate_limit_unauthenticated_per_minute=2) as app,
                client_at(app, "10.0.0.1") as first, client_at(app, "10.0.0.2") as second):
        from_first = [await first.get("/v1/me") for _ in range(3)]
        from_second = await second.get("/v1/me")
    assert [r.status_code for r in from_first] == [401, 401, 429]
    assert from_first[0].headers["ratelimit-policy"] == '"address";q=2;w=60'
    assert from_first[0].headers["ratelimit"].startswith('"address";r=1;')
    assert _is_429_problem(from_first[2])
    assert "retry-after" in from_first[2].headers
    assert from_second.status_code == 401


async def test_the_token_endpoint_is_limited_per_address_whatever_the_request_carries(
        settings: Settings, database_url: str):
    async with limited_app(settings, database_url,
                           rate_limit_unauthenticated_per_minute=2) as app:
        tenant = await new_tenant(app, "Acme")
        login = {"username": tenant.admin_email, "password": PASSWORD}
        async with client_at(app, "10.0.0.1") as client:
            answers = [await client.post("/v1/auth/token", data=login, headers={
                "Authorization": f"Bearer sck_{secrets.token_hex(8)}"}) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"address";q=2;w=60'


async def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy(
        settings: Settings, database_url: str):
    async def status(client: AsyncClient, forwarded: str) -> int:
        response = await client.get("/v1/me", headers={"X-Forwarded-For": forwarded})
        return response.status_code

    async with (limited_app(settings, database_url, rate_limit_unauthenticated_per_minute=1,
                            trusted_proxies="10.0.0.1, 10.8.0.0/16") as app,
                client_at(app, "10.0.0.1") as proxy, client_at(app, "10.9.9.9") as other):
        through_proxy = [await status(proxy, "203.0.113.5"),
                         await status(proxy, "203.0.113.6"),
                         await status(proxy, "198.51.100.1, 203.0.113.5, 10.8.1.1"),
                         await status(proxy, "203.0.113.7")]
        direct = [await status(other, "203.0.113.10"), await status(other, "203.0.113.11")]
    assert through_proxy == [401, 401, 429, 401]
    assert direct == [401, 429]


async def test_health_probes_are_not_limited(settings: Settings, database_url: str):
    async with (limited_app(settings, database_url,
                            rate_limit_unauthenticated_per_minute=1) as app,
                client_at(app, "10.0.0.1") as client):
        probes = [await client.get(path) for path in ("/healthz", "/readyz") * 3]
    assert {r.status_code for r in probes} == {200}
    assert not any("ratelimit" in r.headers for r in probes)


async def test_made_up_credentials_count_against_the_address(settings: Settings,
                                                             database_url: str):
    async with limited_app(settings, database_url, rate_limit_per_minute=600,
                           rate_limit_unauthenticated_per_minute=2) as app:
        tenant = await new_tenant(app, "Acme")
        async with client_at(app, "10.0.0.1") as client:
            known = await client.get("/v1/me", headers=tenant.key)
            made_up = [(await client.get("/v1/me", headers={
                "Authorization": f"Bearer sck_{secrets.token_hex(16)}"})).status_code
                for _ in range(3)]
            still_known = await client.get("/v1/me", headers=tenant.key)
    assert known.status_code == 200
    assert made_up == [401, 401, 429]
    assert still_known.status_code == 200


async def test_zero_a_minute_turns_the_limits_off(settings: Settings, database_url: str):
    async with limited_app(settings, database_url, rate_limit_per_minute=0,
                           rate_limit_unauthenticated_per_minute=0) as app:
        tenant = await new_tenant(app, "Acme")
        async with client_at(app, "10.0.0.1") as client:
            answers = [await client.get("/v1/me", headers=tenant.key) for _ in range(5)]
            anonymous = [await client.get("/v1/me") for _ in range(5)]
    assert {r.status_code for r in answers} == {200}
    assert {r.status_code for r in anonymous} == {401}
    assert not any("ratelimit" in r.headers for r in answers + anonymous)


async def test_429_is_documented_on_every_limited_route(app: FastAPI):
    spec = app.openapi()
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert ("429" in operation["responses"]) == (path not in {"/healthz", "/readyz"})
