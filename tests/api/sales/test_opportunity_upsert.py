"""The upsert by external id (`PUT /v1/opportunities/by-external-id/{id}`): null where a
field cannot be null, and `If-Match`, as a PATCH has them."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, read_events
from tests.opportunity_factories import World, count_opportunities, make_world

PATH = "/v1/opportunities/by-external-id/erp-9"


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


def _body(world: World, **fields: Any) -> dict[str, Any]:
    return {"name": "Inbound", "customer_id": world.customer_id, "amount": "10", **fields}


@pytest.mark.parametrize("field", ["amount", "currency", "probability", "owner_id",
                                   "stage_id", "sales_process_id", "name", "customer_id"])
async def test_an_upsert_refuses_null_where_the_field_cannot_be_null(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, field: str):
    """Whether or not the record exists yet, so that a retried upsert gets one answer."""
    created = await client.put(PATH, headers=tenant.admin, json=_body(world))
    assert created.status_code == 201, created.text
    for path in (PATH, f"{PATH}-new"):
        response = await client.put(path, headers=tenant.admin,
                                    json=_body(world, **{field: None}))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    assert await count_opportunities(app, tenant) == 1
    kept = (await client.get(created.headers["Location"], headers=tenant.admin)).json()
    assert (kept["amount"], kept["version"]) == ("10.00", 1)


async def test_an_upsert_may_clear_what_may_be_null(client: AsyncClient, tenant: Tenant,
                                                    world: World):
    await client.put(PATH, headers=tenant.admin,
                     json=_body(world, description="Fleet", expected_close_date="2027-01-31"))
    cleared = await client.put(PATH, headers=tenant.admin,
                               json=_body(world, description=None, expected_close_date=None))
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["description"], cleared.json()["expected_close_date"]) == (
        None, None)


async def test_an_upsert_with_a_stale_if_match_changes_nothing(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    created = await client.put(PATH, headers=tenant.admin, json=_body(world))
    assert created.headers["ETag"] == '"1"'
    current = await client.put(PATH, headers=tenant.admin | {"If-Match": '"1"'},
                               json=_body(world, amount="20"))
    assert current.status_code == 200 and current.headers["ETag"] == '"2"'
    stale = await client.put(PATH, headers=tenant.admin | {"If-Match": '"1"'},
                             json=_body(world, amount="30"))
    assert stale.status_code == 412, stale.text
    kept = (await client.get(created.headers["Location"], headers=tenant.admin)).json()
    assert (kept["amount"], kept["version"]) == ("20.00", 2)
    assert len(await read_events(client, tenant, "opportunity.updated")) == 1


async def test_an_upsert_naming_a_version_of_a_record_not_there_is_412(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    absent = await client.put(PATH, headers=tenant.admin | {"If-Match": '"1"'},
                              json=_body(world))
    assert absent.status_code == 412, absent.text
    assert await count_opportunities(app, tenant) == 0
    anything = await client.put(PATH, headers=tenant.admin | {"If-Match": "*"},
                                json=_body(world))
    assert anything.status_code == 201
