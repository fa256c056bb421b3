"""A PATCH that changes nothing (an empty body, or every field as it is) writes nothing: the
same version and ETag, no event, so that a retried or repeated integration call does not
fill the change feed or break the `If-Match` of another client."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.customer_factories import make_campaign, make_contact, make_customer, make_list_item
from tests.factories import Tenant, make_unit, make_user, new_tenant, read_events
from tests.opportunity_factories import create_opportunity, make_world
from tests.process_factories import make_process

Made = tuple[str, dict[str, Any]]  # the record's path, fields as they are


async def _user(client: AsyncClient, tenant: Tenant) -> Made:
    user = await make_user(client, tenant)
    return f"/v1/users/{user['id']}", {"name": user["name"], "role": user["role"]}


async def _department(client: AsyncClient, tenant: Tenant) -> Made:
    unit = await make_unit(client, tenant)
    return f"/v1/departments/{unit['id']}", {"name": unit["name"]}


async def _customer(client: AsyncClient, tenant: Tenant) -> Made:
    customer = await make_customer(client, tenant)
    return f"/v1/customers/{customer['id']}", {"name": customer["name"]}


async def _contact(client: AsyncClient, tenant: Tenant) -> Made:
    contact = await make_contact(client, tenant)
    return f"/v1/contacts/{contact['id']}", {"name": contact["name"]}


async def _campaign(client: AsyncClient, tenant: Tenant) -> Made:
    campaign = await make_campaign(client, tenant)
    return f"/v1/campaigns/{campaign['id']}", {"name": campaign["name"]}


async def _source(client: AsyncClient, tenant: Tenant) -> Made:
    item = await make_list_item(client, tenant)
    return f"/v1/lists/sources/{item['id']}", {"name": item["name"]}


async def _rate(client: AsyncClient, tenant: Tenant) -> Made:
    created = await client.post("/v1/exchange-rates", headers=tenant.admin, json={
        "currency": "EUR", "rate": "11.5", "valid_from": "2026-01-01"})
    assert created.status_code == 201, created.text
    rate = created.json()
    return f"/v1/exchange-rates/{rate['id']}", {"rate": "11.5"}


async def _process(client: AsyncClient, tenant: Tenant) -> Made:
    process = await make_process(client, tenant)
    return f"/v1/sales-processes/{process['id']}", {"name": process["name"]}


async def _stage(client: AsyncClient, tenant: Tenant) -> Made:
    process = await make_process(client, tenant)
    stage = process["stages"][0]
    path = f"/v1/sales-processes/{process['id']}/stages/{stage['id']}"
    return path, {"name": stage["name"], "probability": stage["probability"]}


async def _activity(client: AsyncClient, tenant: Tenant) -> Made:
    created = await client.post("/v1/activities", headers=tenant.admin,
                                json={"kind": "call", "subject": "Ring Kari"})
    assert created.status_code == 201, created.text
    activity = created.json()
    return f"/v1/activities/{activity['id']}", {"subject": "Ring Kari"}


async def _opportunity(client: AsyncClient, tenant: Tenant) -> Made:
    world = await make_world(tenant.app, tenant)
    made = await create_opportunity(client, tenant, world.customer_id)
    return f"/v1/opportunities/{made['id']}", {"name": made["name"]}


MAKERS: dict[str, Callable[[AsyncClient, Tenant], Awaitable[Made]]] = {
    "user": _user, "department": _department, "customer": _customer, "contact": _contact,
    "campaign": _campaign, "source": _source, "exchange rate": _rate, "process": _process,
    "stage": _stage, "activity": _activity, "opportunity": _opportunity}


@pytest.fixture
async def own(app: FastAPI) -> Tenant:
    """A tenant of this test alone, so that its change feed holds only what it made."""
    return await new_tenant(app, "Unchanged")


@pytest.mark.parametrize("body", ["empty", "same"])
@pytest.mark.parametrize("resource", sorted(MAKERS))
async def test_a_patch_that_changes_nothing_writes_nothing(
        client: AsyncClient, own: Tenant, resource: str, body: str) -> None:
    path, same = await MAKERS[resource](client, own)
    read = await client.get(path, headers=own.admin)
    assert read.status_code == 200, read.text
    events = len(await read_events(client, own))
    patched = await client.patch(path, headers=own.admin,
                                 json={} if body == "empty" else same)
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == read.headers["etag"]  # a stage's is its process's
    assert patched.json() == read.json()
    assert len(await read_events(client, own)) == events
    again = await client.get(path, headers=own.admin)
    assert again.json() == read.json()


async def test_a_patch_that_changes_a_field_still_counts(client: AsyncClient,
                                                         own: Tenant) -> None:
    path, _ = await _customer(client, own)
    events = len(await read_events(client, own))
    patched = await client.patch(path, headers=own.admin, json={"name": "Renamed AS"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    assert len(await read_events(client, own)) == events + 1
