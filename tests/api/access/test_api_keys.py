"""API keys: made by admins, shown once, scoped, revocable at once."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Tenant, make_user, read_events


async def _create(client: AsyncClient, tenant: Tenant, scopes: list[str],
                  name: str = "erp") -> dict[str, Any]:
    response = await client.post("/v1/api-keys", json={"name": name, "scopes": scopes},
                                 headers=tenant.admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _keys(client: AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = await client.get("/v1/api-keys", params={"limit": 500}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    keys: list[dict[str, Any]] = response.json()["data"]
    return keys


async def test_the_secret_is_shown_once_and_never_listed(client: AsyncClient, tenant: Tenant):
    created = await _create(client, tenant, ["users:read", "events:read"], name="Shop")
    secret = created["secret"]
    assert secret.startswith("sck_")
    assert len(secret) > 40
    assert created["prefix"] == secret[:12]
    assert created["scopes"] == ["events:read", "users:read"]
    assert created["revoked_at"] is None
    response = await client.get("/v1/api-keys", headers=tenant.admin)
    assert secret not in response.text
    listed = {k["id"]: k for k in response.json()["data"]}
    assert all("secret" not in k for k in listed.values())
    assert listed[created["id"]] == {k: v for k, v in created.items() if k != "secret"}


async def test_two_keys_never_share_a_secret(client: AsyncClient, tenant: Tenant):
    first = await _create(client, tenant, ["users:read"])
    second = await _create(client, tenant, ["users:read"])
    assert first["secret"] != second["secret"]


async def test_a_key_works_as_a_bearer_token_within_its_scopes(client: AsyncClient,
                                                               tenant: Tenant):
    key = _bearer((await _create(client, tenant, ["organization:read"]))["secret"])
    me = (await client.get("/v1/me", headers=key)).json()
    assert (me["role"], me["scopes"], me["organization_id"]) == (
        "integration", ["organization:read"], tenant.organization_id)
    assert (await client.get("/v1/departments", headers=key)).status_code == 200
    refused = await client.post("/v1/departments", json={"name": "No"}, headers=key)
    assert refused.status_code == 403
    assert (await client.get("/v1/users", headers=key)).status_code == 403
    listed = await client.get("/v1/departments", headers=tenant.admin)
    assert listed.json()["data"] == []


async def test_a_revoked_key_is_refused_at_once(client: AsyncClient, tenant: Tenant):
    created = await _create(client, tenant, ["users:read"])
    key = _bearer(created["secret"])
    assert (await client.get("/v1/users", headers=key)).status_code == 200
    revoked = await client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.admin)
    assert revoked.status_code == 204
    response = await client.get("/v1/users", headers=key)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    listed = {k["id"]: k for k in await _keys(client, tenant)}
    assert listed[created["id"]]["revoked_at"] is not None


async def test_revoking_twice_is_harmless(client: AsyncClient, tenant: Tenant):
    created = await _create(client, tenant, ["users:read"])
    first = await client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.admin)
    when = {k["id"]: k for k in await _keys(client, tenant)}[created["id"]]["revoked_at"]
    second = await client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.admin)
    assert first.status_code == second.status_code == 204
    assert {k["id"]: k for k in await _keys(client, tenant)}[created["id"]]["revoked_at"] == when
    revocations = [e for e in await read_events(client, tenant, "api_key.revoked")
                   if e["aggregate_id"] == created["id"]]
    assert len(revocations) == 1


async def test_revoking_another_organizations_key_is_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    theirs = await _create(client, other_tenant, ["users:read"])
    response = await client.delete(f"/v1/api-keys/{theirs['id']}", headers=tenant.admin)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/users", headers=_bearer(theirs["secret"]))).status_code == 200
    assert theirs["id"] not in {k["id"] for k in await _keys(client, tenant)}


async def test_an_unknown_key_id_is_not_found(client: AsyncClient, tenant: Tenant):
    response = await client.delete("/v1/api-keys/999999999", headers=tenant.admin)
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["manager", "seller"])
async def test_only_admins_manage_keys(client: AsyncClient, tenant: Tenant, role: str):
    existing = await _create(client, tenant, ["users:read"])
    headers = tenant.token_for((await make_user(client, tenant, role=role))["id"])
    created = await client.post("/v1/api-keys", json={"name": "mine", "scopes": ["users:read"]},
                                headers=headers)
    assert created.status_code == 403
    assert created.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/api-keys", headers=headers)).status_code == 403
    revoked = await client.delete(f"/v1/api-keys/{existing['id']}", headers=headers)
    assert revoked.status_code == 403
    keys = await _keys(client, tenant)
    assert [k["name"] for k in keys if k["name"] == "mine"] == []
    assert {k["id"]: k for k in keys}[existing["id"]]["revoked_at"] is None


@pytest.mark.parametrize("body", [
    {"name": "none", "scopes": []},
    {"name": "unknown", "scopes": ["users:read", "everything:write"]},
    {"name": "missing"},
])
async def test_scopes_must_be_given_and_known(client: AsyncClient, tenant: Tenant,
                                              body: dict[str, Any]):
    before = await _keys(client, tenant)
    response = await client.post("/v1/api-keys", json=body, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].split(".")[0] == "scopes"
    assert await _keys(client, tenant) == before


async def test_a_key_cannot_grant_scopes_it_does_not_hold(client: AsyncClient, tenant: Tenant):
    maker = _bearer((await _create(client, tenant, ["api_keys:write", "users:read"]))["secret"])
    wider = await client.post("/v1/api-keys", headers=maker,
                              json={"name": "wider", "scopes": ["users:read", "users:write"]})
    assert wider.status_code == 403
    assert "users:write" in wider.json()["detail"]
    narrower = await client.post("/v1/api-keys", headers=maker,
                                 json={"name": "narrower", "scopes": ["users:read"]})
    assert narrower.status_code == 201, narrower.text
    assert [k["name"] for k in await _keys(client, tenant)].count("wider") == 0


async def test_concurrent_revokes_record_one_revocation(client: AsyncClient, tenant: Tenant):
    created = await _create(client, tenant, ["users:read"])
    answers = await asyncio.gather(*[
        client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.admin)
        for _ in range(4)])
    assert [r.status_code for r in answers] == [204] * 4
    revocations = [e for e in await read_events(client, tenant, "api_key.revoked")
                   if e["aggregate_id"] == created["id"]]
    assert len(revocations) == 1
