"""Idempotency-Key: a retried POST is answered once, never applied twice."""

import hashlib
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.feed.idempotency import Claim, claim_key
from tests.factories import Tenant, department_names


def _with_key(tenant: Tenant, key: str) -> dict[str, str]:
    return tenant.key | {"Idempotency-Key": key}


async def test_a_retry_with_the_same_body_replays_the_first_answer(client: AsyncClient,
                                                                  tenant: Tenant):
    first = await client.post("/v1/departments", json={"name": "Sales"},
                              headers=_with_key(tenant, "k-1"))
    retry = await client.post("/v1/departments", json={"name": "Sales"},
                              headers=_with_key(tenant, "k-1"))
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await department_names(client, tenant) == ["Sales"]


async def test_the_same_key_with_another_body_is_refused(client: AsyncClient, tenant: Tenant):
    await client.post("/v1/departments", json={"name": "One"}, headers=_with_key(tenant, "k-2"))
    response = await client.post("/v1/departments", json={"name": "Two"},
                                 headers=_with_key(tenant, "k-2"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert await department_names(client, tenant) == ["One"]


async def test_a_key_still_in_flight_is_a_conflict(client: AsyncClient, tenant: Tenant,
                                                   app: FastAPI):
    body = b'{"name":"Racing"}'
    digest = hashlib.sha256(b"\n".join([b"/v1/departments", b"", body])).digest()
    claim, _ = await claim_key(UnitOfWork(app.state.salescore.sessions),
                               organization_id=tenant.organization_id, key="k-3",
                               request_hash=digest, ttl=timedelta(hours=24))
    assert claim is Claim.NEW
    response = await client.post("/v1/departments", content=body,
                                 headers=_with_key(tenant, "k-3")
                                 | {"Content-Type": "application/json"})
    assert response.status_code == 409
    assert await department_names(client, tenant) == []


async def test_keys_are_per_organization(client: AsyncClient, tenant: Tenant,
                                         other_tenant: Tenant):
    mine = await client.post("/v1/departments", json={"name": "Same"},
                             headers=_with_key(tenant, "shared"))
    theirs = await client.post("/v1/departments", json={"name": "Same"},
                               headers=_with_key(other_tenant, "shared"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "idempotent-replayed" not in theirs.headers


async def test_an_error_answer_is_replayed_too(client: AsyncClient, tenant: Tenant):
    taken = await client.post("/v1/departments", json={"name": "Taken"}, headers=tenant.key)
    first = await client.post("/v1/departments", json={"name": "Taken"},
                              headers=_with_key(tenant, "k-4"))
    assert first.status_code == 409
    await client.patch(f"/v1/departments/{taken.json()['id']}", json={"name": "Renamed"},
                       headers=tenant.key)
    retry = await client.post("/v1/departments", json={"name": "Taken"},
                              headers=_with_key(tenant, "k-4"))
    assert retry.status_code == 409
    assert retry.headers["idempotent-replayed"] == "true"
    assert await department_names(client, tenant) == ["Renamed"]


async def test_without_credentials_the_key_changes_nothing(client: AsyncClient):
    response = await client.post("/v1/departments", json={"name": "X"},
                                 headers={"Idempotency-Key": "anon"})
    assert response.status_code == 401


async def test_an_overlong_key_is_refused(client: AsyncClient, tenant: Tenant):
    response = await client.post("/v1/departments", json={"name": "X"},
                                 headers=_with_key(tenant, "k" * 256))
    assert response.status_code == 422
    assert await department_names(client, tenant) == []
