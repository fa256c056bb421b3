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


Factory = Callable[[AsyncClient, Tenant], Awaitable[dict[str, Any]]]


def _named(make: Factory, path: str, *kept: str) -> Callable[[AsyncClient, Tenant],
                                                            Awaitable[Made]]:
    """A record made by `make`, at `path` (formatted with it), its name (and `kept`) as
    they are."""
    async def made(client: AsyncClient, tenant: Tenant) -> Made:
        record = await make(client, tenant)
        return path.format(**record), {k: record[k] for k in ("name", *kept)}
    return made


async def _rate(client: AsyncClient, tenant: Tenant) -> Made:
    created = await client.post("/v1/exchange-rates", headers=tenant.admin, json={
        "currency": "EUR", "rate": "11.5", "valid_from": "2026-01-01"})
    assert created.status_code == 201, created.text
    rate = created.json()
    return f"/v1/exchange-rates/{rate['id']}", {"rate": "11.5"}


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
    "user": _named(make_user, "/v1/users/{id}", "role"),
    "department": _named(make_unit, "/v1/departments/{id}"),
    "customer": _named(make_customer, "/v1/customers/{id}"),
    "contact": _named(make_contact, "/v1/contacts/{id}"),
    "campaign": _named(make_campaign, "/v1/campaigns/{id}"),
    "source": _named(make_list_item, "/v1/lists/sources/{id}"),
    "process": _named(make_process, "/v1/sales-processes/{id}"),
    "exchange rate": _rate, "stage": _stage, "activity": _activity,
    "opportunity": _opportunity}


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
    path, _ = await MAKERS["customer"](client, own)
    events = len(await read_events(client, own))
    patched = await client.patch(path, headers=own.admin, json={"name": "Renamed AS"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    assert len(await read_events(client, own)) == events + 1
