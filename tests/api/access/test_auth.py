"""Tokens, API keys, roles and scopes."""

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from jose import jwt

from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, Tenant, make_user


def _token(claims: dict[str, object], secret: str = TEST_SECRET, alg: str = "HS256") -> str:
    return str(jwt.encode(claims, secret, algorithm=alg))


def _claims(tenant: Tenant, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(tenant.admin_id), "org": tenant.organization_id, "iss": "salescore",
        "aud": "salescore-api", "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_password_login_gives_a_token_that_reads_me(client: AsyncClient, tenant: Tenant):
    response = await client.post("/v1/auth/token", data={
        "username": tenant.admin_email.upper(), "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = await client.get("/v1/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["user_id"] == tenant.admin_id
    assert me.json()["organization_id"] == tenant.organization_id
    assert me.json()["role"] == "admin"


async def test_a_wrong_password_is_401(client: AsyncClient, tenant: Tenant):
    response = await client.post("/v1/auth/token", data={
        "username": tenant.admin_email, "password": "wrong password"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_api_key_reads_me_as_integration(client: AsyncClient, tenant: Tenant):
    response = await client.get("/v1/me", headers=tenant.key)
    assert response.status_code == 200
    me = response.json()
    assert me["role"] == "integration"
    assert me["user_id"] is None
    assert "opportunities:write" in me["scopes"]


async def test_no_credentials_is_401_with_www_authenticate(client: AsyncClient):
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


async def test_expired_token_is_401(client: AsyncClient, tenant: Tenant):
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    response = await client.get("/v1/me", headers=_bearer(_token(_claims(tenant, exp=past))))
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


async def test_token_without_audience_is_401(client: AsyncClient, tenant: Tenant):
    response = await client.get("/v1/me", headers=_bearer(_token(_claims(tenant, aud=None))))
    assert response.status_code == 401


async def test_token_without_expiry_is_401(client: AsyncClient, tenant: Tenant):
    response = await client.get("/v1/me", headers=_bearer(_token(_claims(tenant, exp=None))))
    assert response.status_code == 401


async def test_token_of_another_issuer_or_audience_is_401(client: AsyncClient, tenant: Tenant):
    for claims in (_claims(tenant, iss="someone-else"), _claims(tenant, aud="other-api")):
        response = await client.get("/v1/me", headers=_bearer(_token(claims)))
        assert response.status_code == 401


async def test_token_signed_with_another_key_is_401(client: AsyncClient, tenant: Tenant):
    token = _token(_claims(tenant), secret="not-the-secret-not-the-secret-000")
    assert (await client.get("/v1/me", headers=_bearer(token))).status_code == 401


async def test_unsigned_alg_none_token_is_401(client: AsyncClient, tenant: Tenant):
    import base64
    import json

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(_claims(tenant))}."
    assert (await client.get("/v1/me", headers=_bearer(token))).status_code == 401


async def test_garbage_bearer_is_401(client: AsyncClient):
    for header in ("Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer sck_unknown"):
        response = await client.get("/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_a_token_stops_working_when_its_user_is_deactivated(client: AsyncClient,
                                                                  tenant: Tenant):
    user = await make_user(client, tenant)
    headers = tenant.token_for(user["id"])
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    response = await client.patch(f"/v1/users/{user['id']}", json={"active": False},
                                  headers=tenant.admin)
    assert response.status_code == 200
    assert (await client.get("/v1/me", headers=headers)).status_code == 401


async def test_a_seller_may_not_create_users(client: AsyncClient, tenant: Tenant):
    seller = await make_user(client, tenant, role="seller")
    response = await client.post("/v1/users", headers=tenant.token_for(seller["id"]),
                                 json={"name": "X", "email": "x@x.test"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_api_key_without_the_scope_is_403(client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/api-keys", headers=tenant.admin,
                                json={"name": "reader", "scopes": ["users:read"]})
    assert created.status_code == 201
    key = _bearer(created.json()["secret"])
    assert (await client.get("/v1/users", headers=key)).status_code == 200
    response = await client.post("/v1/users", headers=key,
                                 json={"name": "X", "email": "x@x.test"})
    assert response.status_code == 403
