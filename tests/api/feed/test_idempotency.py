"""Idempotency-Key: a retried POST is answered once, never applied twice."""

import hashlib
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api.deps import authenticate
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.feed.idempotency import Claim, claim_key
from tests.factories import Tenant, department_names, make_user


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
    state = app.state.salescore
    caller = await authenticate(state, tenant.key["Authorization"])
    claim, _ = await claim_key(UnitOfWork(state.sessions), caller=caller,
                               route="POST /v1/departments", key="k-3",
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


async def test_another_callers_key_never_replays_their_answer(client: AsyncClient,
                                                              tenant: Tenant):
    """A seller who sends the admin's key and body gets the route's own 403, not the
    admin's new API key secret."""
    body = {"name": "ERP", "scopes": ["opportunities:read"]}
    first = await client.post("/v1/api-keys", json=body,
                              headers=tenant.admin | {"Idempotency-Key": "mine"})
    assert first.status_code == 201, first.text
    seller = await make_user(client, tenant)
    stolen = await client.post("/v1/api-keys", json=body,
                               headers=tenant.token_for(seller["id"])
                               | {"Idempotency-Key": "mine"})
    assert stolen.status_code == 403
    assert "idempotent-replayed" not in stolen.headers
    assert first.json()["secret"] not in stolen.text


async def test_the_same_key_from_two_callers_creates_two_records(client: AsyncClient,
                                                                 tenant: Tenant):
    body = {"kind": "note", "subject": "Same note"}
    by_key = await client.post("/v1/activities", json=body, headers=_with_key(tenant, "k-5"))
    by_admin = await client.post("/v1/activities", json=body,
                                 headers=tenant.admin | {"Idempotency-Key": "k-5"})
    assert by_key.status_code == by_admin.status_code == 201
    assert by_key.json()["id"] != by_admin.json()["id"]
    assert "idempotent-replayed" not in by_admin.headers


async def test_the_same_key_on_two_routes_is_two_keys(client: AsyncClient, tenant: Tenant):
    department = await client.post("/v1/departments", json={"name": "North"},
                                   headers=_with_key(tenant, "k-6"))
    region = await client.post("/v1/sales-regions", json={"name": "North"},
                               headers=_with_key(tenant, "k-6"))
    assert department.status_code == region.status_code == 201, region.text
    assert "idempotent-replayed" not in region.headers
    assert await department_names(client, tenant) == ["North"]


async def test_a_revoked_api_keys_retry_is_unauthenticated(client: AsyncClient,
                                                           tenant: Tenant):
    made = await client.post("/v1/api-keys", headers=tenant.admin, json={
        "name": "HR sync", "scopes": ["organization:read", "organization:write"]})
    key = {"Authorization": f"Bearer {made.json()['secret']}", "Idempotency-Key": "k-7"}
    first = await client.post("/v1/departments", json={"name": "HR"}, headers=key)
    assert first.status_code == 201
    revoked = await client.delete(f"/v1/api-keys/{made.json()['id']}", headers=tenant.admin)
    assert revoked.status_code == 204
    retry = await client.post("/v1/departments", json={"name": "HR"}, headers=key)
    assert retry.status_code == 401
    assert "idempotent-replayed" not in retry.headers


async def test_a_user_who_lost_the_role_gets_the_403_not_the_replay(client: AsyncClient,
                                                                     tenant: Tenant):
    admin = await make_user(client, tenant, role="admin")
    headers = tenant.token_for(admin["id"]) | {"Idempotency-Key": "k-8"}
    body = {"name": "Billing", "scopes": ["reports:read"]}
    first = await client.post("/v1/api-keys", json=body, headers=headers)
    assert first.status_code == 201, first.text
    demoted = await client.patch(f"/v1/users/{admin['id']}", json={"role": "seller"},
                                 headers=tenant.admin)
    assert demoted.status_code == 200, demoted.text
    retry = await client.post("/v1/api-keys", json=body, headers=headers)
    assert retry.status_code == 403
    assert first.json()["secret"] not in retry.text


async def test_a_deactivated_users_retry_is_unauthenticated(client: AsyncClient,
                                                            tenant: Tenant):
    manager = await make_user(client, tenant, role="manager")
    headers = tenant.token_for(manager["id"]) | {"Idempotency-Key": "k-9"}
    first = await client.post("/v1/activities", json={"kind": "call", "subject": "Ring"},
                              headers=headers)
    assert first.status_code == 201, first.text
    off = await client.patch(f"/v1/users/{manager['id']}", json={"active": False},
                             headers=tenant.admin)
    assert off.status_code == 200, off.text
    retry = await client.post("/v1/activities", json={"kind": "call", "subject": "Ring"},
                              headers=headers)
    assert retry.status_code == 401
