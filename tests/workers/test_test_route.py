"""`POST /v1/webhook-endpoints/{endpoint_id}/test`: a `webhook.test` message sent at once,
signed and guarded as deliveries are, and not logged as a delivery."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from ipaddress import ip_address

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.app import create_app
from salescore.api.deps import webhook_resolver
from salescore.services.integrations.guard import Address, Resolver
from tests.factories import Tenant, asgi_client, make_user, new_tenant
from tests.workers.receiver import Answer, Receiver
from tests.workers.webhook_support import (
    add_endpoint,
    deliveries_of,
    hook_app,
    hook_settings,
    hook_settings_for,
    hook_tenant,
    receiver,
    unique_path,
)

__all__ = ["hook_app", "hook_settings", "hook_tenant", "receiver"]


@pytest.fixture(scope="module")
async def hook_client(hook_app: FastAPI) -> AsyncIterator[AsyncClient]:
    async for http in asgi_client(hook_app):
        yield http


@pytest.fixture(scope="module")
async def guarded_app(database_url: str) -> AsyncIterator[FastAPI]:
    """An app that allows no private network, as in production."""
    app = create_app(hook_settings_for(database_url, webhook_allow_private_networks=False),
                     database_url)
    yield app
    await app.state.salescore.engine.dispose()


def resolving_to(address: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[Address]:
        return [ip_address(address)]

    return resolve


async def test_a_test_message_is_sent_signed_and_answered(
        hook_app: FastAPI, hook_client: AsyncClient, hook_tenant: Tenant,
        receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    receiver.expect(path, [secret], lambda _: Answer(202, body=b"thanks"))
    response = await hook_client.post(f"/v1/webhook-endpoints/{endpoint_id}/test",
                                      headers=hook_tenant.admin)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["webhook_id"].startswith("msg_") and answer["succeeded"] is True
    assert answer["status_code"] == 202 and answer["error"] is None
    assert answer["response_excerpt"] is None  # 127.0.0.1 is no public address
    [message] = receiver.received(path)
    assert message.verified_by == (secret,) and message.webhook_id == answer["webhook_id"]
    body = json.loads(message.body)
    assert body["type"] == "webhook.test" and body["data"] == {"endpoint_id": endpoint_id}
    sent_at = datetime.fromisoformat(body["timestamp"])
    assert abs((sent_at - datetime.now(UTC)).total_seconds()) < 60
    assert await deliveries_of(hook_app, endpoint_id) == []
    again = await hook_client.post(f"/v1/webhook-endpoints/{endpoint_id}/test",
                                   headers=hook_tenant.key)
    assert again.json()["webhook_id"] != answer["webhook_id"]  # a fresh one each time


async def test_a_failing_endpoint_is_reported_not_raised(
        hook_app: FastAPI, hook_client: AsyncClient, hook_tenant: Tenant,
        receiver: Receiver) -> None:
    path = unique_path()
    endpoint_id, secret = await add_endpoint(hook_app, hook_tenant, receiver.url(path))
    receiver.expect(path, [secret], lambda _: Answer(302, {"Location": "http://10.0.0.1/"}))
    answer = (await hook_client.post(f"/v1/webhook-endpoints/{endpoint_id}/test",
                                     headers=hook_tenant.admin)).json()
    assert (answer["succeeded"], answer["status_code"]) == (False, 302)
    assert len(receiver.received(path)) == 1  # the redirect was not followed


async def test_another_organizations_endpoint_is_not_found(
        hook_app: FastAPI, hook_client: AsyncClient, hook_tenant: Tenant,
        receiver: Receiver) -> None:
    other = await new_tenant(hook_app, "Elsewhere")
    endpoint_id, _ = await add_endpoint(hook_app, other, receiver.url(unique_path()))
    response = await hook_client.post(f"/v1/webhook-endpoints/{endpoint_id}/test",
                                      headers=hook_tenant.admin)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_it_needs_the_webhooks_write_scope(
        hook_app: FastAPI, hook_client: AsyncClient, hook_tenant: Tenant,
        receiver: Receiver) -> None:
    endpoint_id, _ = await add_endpoint(hook_app, hook_tenant, receiver.url(unique_path()))
    seller = await make_user(hook_client, hook_tenant, role="seller")
    response = await hook_client.post(f"/v1/webhook-endpoints/{endpoint_id}/test",
                                      headers=hook_tenant.token_for(seller["id"]))
    assert response.status_code == 403


@pytest.mark.parametrize(("address", "reason"), [
    ("169.254.169.254", "refused: the cloud metadata address"),
    ("10.1.2.3", "refused: a private address"),
])
async def test_the_ssrf_guard_refuses_before_connecting(
        guarded_app: FastAPI, address: str, reason: str) -> None:
    tenant = await new_tenant(guarded_app, "Guarded")
    endpoint_id, _ = await add_endpoint(guarded_app, tenant, "https://hooks.example.org/x")
    guarded_app.dependency_overrides[webhook_resolver] = lambda: resolving_to(address)
    try:
        async for client in asgi_client(guarded_app):
            answer = (await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test",
                                        headers=tenant.admin)).json()
    finally:
        guarded_app.dependency_overrides.clear()
    assert answer["error"] == reason and answer["status_code"] is None
