"""What reaches the service without credentials: a quote's public answers and the
e-signature callbacks, limited per address, their bodies bounded (the callbacks' bound is
larger, since a provider may send the signed PDF), and the address an answer records."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from salescore.api.app import create_app
from salescore.settings import Settings
from tests.factories import Tenant, new_tenant
from tests.quote_flow import make_draft, quote_world, send, token_of


@asynccontextmanager
async def served(settings: Settings, database_url: str,
                 **overrides: Any) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """An app with settings of its own, and a client whose connection is one address."""
    app = create_app(settings.model_copy(update=overrides), database_url)
    transport = ASGITransport(app=app, raise_app_exceptions=False, client=("10.0.0.9", 4000))
    try:
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client
    finally:
        await app.state.salescore.engine.dispose()


async def test_a_signer_name_past_its_bound_is_refused_naming_it_and_signs_nothing(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await quote_world(app, tenant)
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    answer = await client.post(f"/v1/public/quotes/{token_of(sent)}/sign",
                               json={"name": "N" * 201, "email": "n@kunde.test"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["name"]
    quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert quote["status"] == "sent" and quote["signed_by_name"] is None


async def test_a_form_whose_csrf_field_is_not_ours_is_403_whatever_its_characters(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await quote_world(app, tenant)
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    for csrf in ("0" * 32, "Ø" * 32, ""):
        answer = await client.post(f"/q/{token_of(sent)}/reject", data={"csrf": csrf})
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
    quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert quote["status"] == "sent"


async def test_public_answers_and_callbacks_share_one_limit_per_address(
        settings: Settings, database_url: str):
    async with served(settings, database_url,
                      rate_limit_unauthenticated_per_minute=2) as (_, client):
        token = "A" * 43
        first = [(await client.get(f"/v1/public/quotes/{token}")).status_code,
                 (await client.get(f"/q/{token}")).status_code]
        then = [(await client.get(f"/v1/public/quotes/{token}")).status_code,
                (await client.post(f"/q/{token}/sign", data={"name": "x"})).status_code,
                (await client.post("/v1/esign-callbacks/1", content=b"{}")).status_code]
    assert first == [404, 404]
    assert then == [429, 429, 429]


async def test_the_callback_route_takes_a_larger_body_than_the_others(settings: Settings,
                                                                      database_url: str):
    async with served(settings, database_url, max_body_bytes=1_000,
                      max_callback_body_bytes=100_000) as (app, client):
        tenant = await new_tenant(app, "Bounds")
        body = b'{"pdf": "' + b"x" * 50_000 + b'"}'
        headers = {"Content-Type": "application/json"}
        provider = await client.post("/v1/esign-providers", headers=tenant.admin,
                                     json={"name": "Signer", "kind": "standard_webhooks"})
        callback = f"/v1/esign-callbacks/{provider.json()['id']}"
        unsigned = await client.post(callback, content=body, headers=headers)
        assert unsigned.status_code == 401, unsigned.text
        too_large = await client.post(callback, content=body * 3, headers=headers)
        assert too_large.status_code == 413
        elsewhere = await client.post("/v1/public/quotes/" + "A" * 43 + "/sign",
                                      content=body, headers=headers)
        assert elsewhere.status_code == 413


async def test_the_signers_address_is_the_connections_or_a_trusted_proxys_client(
        settings: Settings, database_url: str):
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    for trusted, expected in (("", "10.0.0.9"), ("10.0.0.0/24", "203.0.113.7")):
        async with served(settings, database_url, trusted_proxies=trusted) as (app, client):
            tenant = await new_tenant(app, "Proxied")
            world = await quote_world(app, tenant)
            sent = await send(client, tenant,
                              (await make_draft(client, app, tenant, world))["id"])
            signed = await client.post(f"/v1/public/quotes/{token_of(sent)}/sign",
                                       json={"name": "Kari", "email": "kari@kunde.test"},
                                       headers=forwarded)
            assert signed.status_code == 200, signed.text
            quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
            assert quote["signed_ip"] == expected, trusted


async def test_a_wrong_answer_by_form_or_json_is_422_naming_the_field_and_answers_nothing(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await quote_world(app, tenant)
    sent = await send(client, tenant, (await make_draft(client, app, tenant, world))["id"])
    token = token_of(sent)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', (await client.get(f"/q/{token}")).text)
    assert csrf is not None
    for path, data, field in ((f"/q/{token}/sign", {"name": "Kari"}, "email"),
                              (f"/q/{token}/sign", {"name": "N" * 201, "email": "n@x.test"},
                               "name"),
                              (f"/q/{token}/sign", {"name": "Kari", "email": "no-at-sign"},
                               "email"),
                              (f"/q/{token}/request-change", {"name": "Kari"}, "comment")):
        answer = await client.post(path, data={**data, "csrf": csrf.group(1)})
        assert answer.status_code == 422, (path, data)
        assert answer.headers["content-type"].startswith("text/html")
        assert f"{field}:" in answer.text, answer.text
    refused = await client.post(f"/v1/public/quotes/{token}/sign",
                                json={"name": "Kari", "email": "no-at-sign"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["email"]
    quote = (await client.get(f"/v1/quotes/{sent['id']}", headers=tenant.admin)).json()
    assert quote["status"] == "sent"
