"""Listing opportunities: every filter of API.md, combined, sorted, keyset-paginated, and
text search per DOMAIN.md §7."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, make_user
from tests.opportunity_factories import (
    World,
    create_opportunity,
    make_customer,
    make_world,
)


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def names(client: AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    response = await client.get("/v1/opportunities", params=params, headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()["data"]]


async def test_q_matches_name_description_and_customer_name(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    other = await make_customer(app, tenant, "Tromsø Fisk ASA")
    await create_opportunity(client, tenant, world.customer_id, name="ASsets upgrade")
    await create_opportunity(client, tenant, other, name="Boat engines")
    await create_opportunity(client, tenant, other, name="Nets", description="via Bergen AS")
    await create_opportunity(client, tenant, other, name="Ropes")
    assert await names(client, tenant, q="as%") == ["ASsets upgrade"]
    assert await names(client, tenant, q="%AS", sort="name") == ["ASsets upgrade", "Nets"]
    assert await names(client, tenant, q="nord") == ["ASsets upgrade"]
    assert await names(client, tenant, q="%ASA") == ["Boat engines", "Nets", "Ropes"]
    assert await names(client, tenant, q="100%") == []


async def test_wildcards_inside_the_text_are_literal(client: AsyncClient, tenant: Tenant,
                                                     world: World):
    await create_opportunity(client, tenant, world.customer_id, name="50% off")
    await create_opportunity(client, tenant, world.customer_id, name="500 units")
    assert await names(client, tenant, name="50%%") == ["50% off"]
    assert await names(client, tenant, name="_0") == []


async def test_filters_combine(client: AsyncClient, tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    await create_opportunity(client, tenant, world.customer_id, name="A", owner_id=seller["id"],
                             expected_close_date="2027-01-10", amount="100")
    await create_opportunity(client, tenant, world.customer_id, name="B", owner_id=seller["id"],
                             expected_close_date="2027-03-10", amount="300")
    await create_opportunity(client, tenant, world.customer_id, name="C",
                             expected_close_date="2027-01-20", amount="200")
    won = await create_opportunity(client, tenant, world.customer_id, name="D",
                                   owner_id=seller["id"], expected_close_date="2027-01-15")
    await client.post(f"/v1/opportunities/{won['id']}/win", headers=tenant.admin)
    assert await names(client, tenant, owner_id=seller["id"], status="open",
                       **{"expected_close_date[gte]": "2027-01-01",
                          "expected_close_date[lte]": "2027-01-31"}) == ["A"]
    assert await names(client, tenant, **{"amount[gte]": "150"}, sort="-amount") == [
        "D", "B", "C"]
    assert await names(client, tenant, status="won") == ["D"]
    assert await names(client, tenant, **{"probability[lte]": "10"}, sort="name") == [
        "A", "B", "C"]


async def test_seller_id_finds_every_opportunity_a_user_shares_in(
        client: AsyncClient, tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    shared = await create_opportunity(client, tenant, world.customer_id, name="Shared")
    await create_opportunity(client, tenant, world.customer_id, name="Alone")
    await client.post(f"/v1/opportunities/{shared['id']}/sellers", headers=tenant.admin,
                      json={"user_id": seller["id"], "share": "30"})
    assert await names(client, tenant, seller_id=seller["id"]) == ["Shared"]
    assert await names(client, tenant, owner_id=seller["id"]) == []


async def test_pages_follow_each_other_without_gaps(client: AsyncClient, tenant: Tenant,
                                                    world: World):
    for amount in ("5", "1", "3", "1", "4"):
        await create_opportunity(client, tenant, world.customer_id, amount=amount)
    seen: list[str] = []
    params: dict[str, Any] = {"sort": "amount", "limit": 2}
    while True:
        page = (await client.get("/v1/opportunities", params=params,
                                 headers=tenant.admin)).json()
        seen += [o["amount"] for o in page["data"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == ["1.00", "1.00", "3.00", "4.00", "5.00"]


@pytest.mark.parametrize("params", [{"status": "closed"}, {"amount[gte]": "lots"},
                                    {"sort": "owner"}, {"colour": "red"},
                                    {"expected_close_date[gte]": "tomorrow"}])
async def test_bad_list_parameters_are_refused(client: AsyncClient, tenant: Tenant,
                                               params: dict[str, str]):
    response = await client.get("/v1/opportunities", params=params, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"]
