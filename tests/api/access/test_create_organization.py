"""A new organization as `create-organization` makes it: ready for its first opportunity
with the starter setup (domain/sales/starter.py), empty without it, and with an admin
e-mail that no other organization's user has unless sharing it is asked for."""

import secrets
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.domain.access.organization import SharedEmail
from salescore.domain.sales.starter import STARTER, StarterSetup
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.organizations import create_organization
from tests.factories import PASSWORD, Tenant, read_events
from tests.opportunity_factories import sql

STAGES = [("First contact", "10.00", "open", False),
          ("Initial contact made", "25.00", "open", False),
          ("Written quote sent", "50.00", "open", False),
          ("Verbal acceptance", "75.00", "open", False),
          ("Quote signed", "90.00", "open", True),
          ("Contract signed", "100.00", "won", False),
          ("Lost", "0.00", "lost", False)]


async def _organization(app: FastAPI, *, starter: StarterSetup | None = STARTER,
                        email: str | None = None, **options: Any) -> Tenant:
    email = email or f"admin-{secrets.token_hex(4)}@starter.test"
    made = await create_organization(UnitOfWork(app.state.salescore.sessions), name="Nordlys",
                                     admin_email=email, admin_password=PASSWORD,
                                     starter=starter, **options)
    tenant = Tenant(made.organization.id, made.admin_user_id, email, made.api_key, {},
                    {"Authorization": f"Bearer {made.api_key}"}, app)
    tenant.admin.update(tenant.token_for(made.admin_user_id))
    return tenant


async def _data(client: AsyncClient, tenant: Tenant, path: str) -> list[dict[str, Any]]:
    response = await client.get(path, params={"limit": 500}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _names(client: AsyncClient, tenant: Tenant, path: str) -> list[str]:
    return [item["name"] for item in await _data(client, tenant, path)]


async def test_the_first_opportunity_needs_only_a_customer_and_a_name(app: FastAPI,
                                                                      client: AsyncClient):
    tenant = await _organization(app)
    [process] = await _data(client, tenant, "/v1/sales-processes")
    assert (process["name"], process["active"], process["default_for"]["all"]) == (
        "Standard", True, True)
    assert [(s["name"], s["probability"], s["kind"], s["marks_quote_signed"])
            for s in process["stages"]] == STAGES
    customer = await client.post("/v1/customers", json={"name": "Fjord Verksted AS"},
                                 headers=tenant.admin)
    assert customer.status_code == 201, customer.text
    created = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Workshop tools", "customer_id": customer.json()["id"]})
    assert created.status_code == 201, created.text
    opportunity = created.json()
    assert (opportunity["sales_process_id"], opportunity["stage_id"]) == (
        process["id"], process["stages"][0]["id"])
    assert (opportunity["status"], opportunity["probability"]) == ("open", "10.00")


async def test_the_starter_lists_are_there_and_ordinary_records(app: FastAPI,
                                                                client: AsyncClient):
    tenant = await _organization(app)
    assert await _names(client, tenant, "/v1/lists/loss-reasons") == [
        "Price", "Chose a competitor", "No budget", "No decision", "Other"]
    assert await _names(client, tenant, "/v1/lists/sources") == [
        "Website", "Referral", "Trade fair", "Cold call", "Campaign"]
    assert await _names(client, tenant, "/v1/lists/opportunity-types") == []
    price, *_ = await _data(client, tenant, "/v1/lists/loss-reasons")
    renamed = await client.patch(f"/v1/lists/loss-reasons/{price['id']}",
                                 json={"name": "Too expensive"}, headers=tenant.admin)
    assert renamed.status_code == 200, renamed.text
    website, *_ = await _data(client, tenant, "/v1/lists/sources")
    deleted = await client.delete(f"/v1/lists/sources/{website['id']}", headers=tenant.admin)
    assert deleted.status_code == 204, deleted.text
    assert (await _names(client, tenant, "/v1/lists/sources"))[0] == "Referral"
    [process] = await _data(client, tenant, "/v1/sales-processes")
    lost = process["stages"][-1]
    changed = await client.patch(f"/v1/sales-processes/{process['id']}/stages/{lost['id']}",
                                 json={"name": "Lost deal"}, headers=tenant.admin)
    assert changed.status_code == 200, changed.text


async def test_the_starter_is_made_by_the_admin_with_the_events_of_the_api(
        app: FastAPI, client: AsyncClient):
    tenant = await _organization(app)
    events = await read_events(client, tenant)
    made = [(e["type"], e["actor"]) for e in events if e["type"].endswith(".created")]
    admin = {"type": "user", "id": tenant.admin_id}
    assert made == [("organization.created", admin), ("user.created", admin),
                    ("api_key.created", admin), ("sales_process.created", admin),
                    *[("loss_reason.created", admin)] * 5, *[("source.created", admin)] * 5]
    process = next(e for e in events if e["type"] == "sales_process.created")
    assert [s["name"] for s in process["data"]["stages"]] == [s[0] for s in STAGES]


async def test_without_the_starter_an_organization_is_empty(app: FastAPI,
                                                            client: AsyncClient):
    tenant = await _organization(app, starter=None)
    for path in ("/v1/sales-processes", "/v1/lists/loss-reasons", "/v1/lists/sources",
                 "/v1/lists/opportunity-types"):
        assert await _data(client, tenant, path) == [], path


async def test_an_admin_email_of_another_organization_is_refused_unless_shared(
        app: FastAPI, client: AsyncClient):
    first = await _organization(app, starter=None)
    for email in (first.admin_email, first.admin_email.upper()):
        with pytest.raises(SharedEmail, match="another organization"):
            await _organization(app, email=email, allow_shared_email=False)
    shared = await _organization(app, email=first.admin_email, allow_shared_email=True)
    assert shared.organization_id != first.organization_id
    fresh = await _organization(app, allow_shared_email=False)
    assert await _data(client, fresh, "/v1/sales-processes")


async def test_a_refused_organization_leaves_nothing_behind(app: FastAPI):
    first = await _organization(app, starter=None)
    name = f"Refused {secrets.token_hex(4)}"
    with pytest.raises(SharedEmail):
        await create_organization(UnitOfWork(app.state.salescore.sessions), name=name,
                                  admin_email=first.admin_email, admin_password=PASSWORD,
                                  starter=STARTER, allow_shared_email=False)
    assert await sql(app, "SELECT count(*) FROM organizations WHERE name = :name",
                     name=name) == 0
    assert await sql(app, "SELECT count(*) FROM users WHERE email = :email",
                     email=first.admin_email) == 1
