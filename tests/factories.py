"""Small factory functions for test data."""

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from salescore.api.tokens import issue_token
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.organizations import create_organization

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    admin_id: int
    admin_email: str
    api_key: str
    admin: dict[str, str]  # headers with the admin's JWT
    key: dict[str, str]  # headers with the all-scopes API key
    app: FastAPI

    def token_for(self, user_id: int) -> dict[str, str]:
        """Headers with a JWT for a user of this organization (no password round trip)."""
        state = self.app.state.salescore
        token = issue_token(state.tokens, organization_id=self.organization_id,
                            user_id=user_id, now=datetime.now(UTC))
        return {"Authorization": f"Bearer {token}"}


async def new_tenant(app: FastAPI, name: str) -> Tenant:
    email = f"admin-{secrets.token_hex(4)}@{name.lower()}.test"
    made = await create_organization(UnitOfWork(app.state.salescore.sessions), name=name,
                                     admin_email=email, admin_password=PASSWORD)
    key = {"Authorization": f"Bearer {made.api_key}"}
    tenant = Tenant(made.organization.id, made.admin_user_id, email, made.api_key, {}, key, app)
    tenant.admin.update(tenant.token_for(made.admin_user_id))
    return tenant


async def make_user(client: AsyncClient, tenant: Tenant, *, role: str = "seller",
                    **fields: Any) -> dict[str, Any]:
    body = {"name": f"User {secrets.token_hex(3)}", "email": f"{secrets.token_hex(5)}@x.test",
            "role": role, **fields}
    response = await client.post("/v1/users", json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def make_unit(client: AsyncClient, tenant: Tenant, path: str = "departments", *,
                    name: str | None = None, **fields: Any) -> dict[str, Any]:
    """A department, sales region or sales group (`path` as in the URL)."""
    body = {"name": name or f"Unit {secrets.token_hex(3)}", **fields}
    response = await client.post(f"/v1/{path}", json=body, headers=tenant.admin)
    assert response.status_code == 201, response.text
    unit: dict[str, Any] = response.json()
    return unit


async def read_events(client: AsyncClient, tenant: Tenant,
                      types: str | None = None) -> list[dict[str, Any]]:
    """Every event of the tenant's change feed, oldest first."""
    events: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params = {"limit": 500} | ({"types": types} if types else {}) | (
            {"after": after} if after else {})
        response = await client.get("/v1/events", params=params, headers=tenant.key)
        assert response.status_code == 200, response.text
        page = response.json()
        events += page["data"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return events


async def asgi_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that calls `app` in process; the app's engine is closed afterwards."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await app.state.salescore.engine.dispose()


async def department_names(client: AsyncClient, tenant: Tenant) -> list[str]:
    """The names of the tenant's departments, in id order."""
    response = await client.get("/v1/departments", headers=tenant.key)
    return [d["name"] for d in response.json()["data"]]
