"""Seller shares through the API (DOMAIN.md §3; the arithmetic itself is unit-tested in
tests/domain/sales/test_shares.py)."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import World, create_opportunity, make_world


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


@pytest.fixture
async def deal(client: AsyncClient, tenant: Tenant, world: World) -> dict[str, Any]:
    return await create_opportunity(client, tenant, world.customer_id)


def shares(answer: dict[str, Any]) -> list[tuple[int, str]]:
    return [(s["user_id"], s["share"]) for s in answer["sellers"]]


async def test_adding_sellers_splits_the_rest_equally(client: AsyncClient, tenant: Tenant,
                                                      deal: dict[str, Any]):
    one, two = (await make_user(client, tenant))["id"], (await make_user(client, tenant))["id"]
    path = f"/v1/opportunities/{deal['id']}/sellers"
    first = (await client.post(path, headers=tenant.admin,
                               json={"user_id": one, "share": "50"})).json()
    assert shares(first) == [(tenant.admin_id, "50.00"), (one, "50.00")]
    second = await client.post(path, headers=tenant.admin, json={"user_id": two, "share": "0.01"})
    assert shares(second.json()) == [(tenant.admin_id, "50.00"), (one, "49.99"), (two, "0.01")]
    assert second.json()["total_share"] == "100.00" and second.json()["warnings"] == []
    assert second.headers["ETag"] == '"3"'
    event = (await read_events(client, tenant, "opportunity.seller_changed"))[-1]
    assert event["data"]["changes"]["sellers"]["to"][2] == {"user_id": two, "share": "0.01"}


async def test_one_hundred_among_three_leaves_the_extra_cent_to_the_first(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    path = f"/v1/opportunities/{deal['id']}/sellers"
    users = [(await make_user(client, tenant))["id"] for _ in range(3)]
    await client.post(path, headers=tenant.admin, json={"user_id": users[0], "share": "50"})
    await client.post(path, headers=tenant.admin, json={"user_id": users[1], "share": "50"})
    answer = (await client.post(path, headers=tenant.admin,
                                json={"user_id": users[2], "share": "0.01"})).json()
    assert [s["share"] for s in answer["sellers"]] == ["33.33", "33.33", "33.33", "0.01"]
    assert answer["total_share"] == "100.00"


@pytest.mark.parametrize(("share", "status"), [("0", 422), ("-5", 422), ("100.01", 422),
                                               ("100", 422), ("33.333", 422)])
async def test_bad_shares_are_refused(client: AsyncClient, tenant: Tenant,
                                      deal: dict[str, Any], share: str, status: int):
    user = await make_user(client, tenant)
    response = await client.post(f"/v1/opportunities/{deal['id']}/sellers",
                                 headers=tenant.admin,
                                 json={"user_id": user["id"], "share": share})
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == "share"
    unchanged = await client.get(f"/v1/opportunities/{deal['id']}/sellers", headers=tenant.admin)
    assert shares(unchanged.json()) == [(tenant.admin_id, "100.00")]


async def test_a_user_is_a_seller_once(client: AsyncClient, tenant: Tenant,
                                       deal: dict[str, Any]):
    response = await client.post(f"/v1/opportunities/{deal['id']}/sellers",
                                 headers=tenant.admin,
                                 json={"user_id": tenant.admin_id, "share": "10"})
    assert response.status_code == 409


async def test_a_user_of_another_organization_is_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, deal: dict[str, Any]):
    response = await client.post(f"/v1/opportunities/{deal['id']}/sellers",
                                 headers=tenant.admin,
                                 json={"user_id": other_tenant.admin_id, "share": "10"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "user_id"


async def test_the_last_seller_stays(client: AsyncClient, tenant: Tenant,
                                     deal: dict[str, Any]):
    response = await client.delete(
        f"/v1/opportunities/{deal['id']}/sellers/{tenant.admin_id}", headers=tenant.admin)
    assert response.status_code == 409


async def test_removing_down_to_one_gives_it_everything_and_to_several_warns(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    path = f"/v1/opportunities/{deal['id']}/sellers"
    one, two = (await make_user(client, tenant))["id"], (await make_user(client, tenant))["id"]
    await client.post(path, headers=tenant.admin, json={"user_id": one, "share": "40"})
    await client.post(path, headers=tenant.admin, json={"user_id": two, "share": "20"})
    several = (await client.delete(f"{path}/{one}", headers=tenant.admin)).json()
    assert shares(several) == [(tenant.admin_id, "40.00"), (two, "20.00")]
    assert several["total_share"] == "60.00"
    assert several["warnings"][0]["total"] == "60.00"
    single = (await client.delete(f"{path}/{two}", headers=tenant.admin)).json()
    assert shares(single) == [(tenant.admin_id, "100.00")] and single["warnings"] == []


async def test_changing_a_share_recomputes_nothing_but_warns(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    path = f"/v1/opportunities/{deal['id']}/sellers"
    one = (await make_user(client, tenant))["id"]
    await client.post(path, headers=tenant.admin, json={"user_id": one, "share": "25"})
    answer = (await client.patch(f"{path}/{one}", headers=tenant.admin,
                                 json={"share": "30"})).json()
    assert shares(answer) == [(tenant.admin_id, "75.00"), (one, "30.00")]
    assert answer["total_share"] == "105.00"
    assert answer["warnings"][0]["code"] == "total_share_not_100"
    missing = await client.patch(f"{path}/{tenant.admin_id + 10_000}", headers=tenant.admin,
                                 json={"share": "30"})
    assert missing.status_code == 404


async def test_with_several_sellers_a_new_owner_leaves_them_alone(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    one, two = (await make_user(client, tenant))["id"], (await make_user(client, tenant))["id"]
    await client.post(f"/v1/opportunities/{deal['id']}/sellers", headers=tenant.admin,
                      json={"user_id": one, "share": "40"})
    changed = (await client.patch(f"/v1/opportunities/{deal['id']}", headers=tenant.admin,
                                  json={"owner_id": two})).json()
    assert shares(changed) == [(tenant.admin_id, "60.00"), (one, "40.00")]


async def test_setting_a_share_it_already_has_changes_nothing(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    path = f"/v1/opportunities/{deal['id']}/sellers"
    one = (await make_user(client, tenant))["id"]
    added = await client.post(path, headers=tenant.admin, json={"user_id": one, "share": "25"})
    events = len(await read_events(client, tenant))
    same = await client.patch(f"{path}/{one}", headers=tenant.admin | {"If-Match": '"2"'},
                              json={"share": "25.00"})
    assert same.status_code == 200, same.text
    assert same.headers["ETag"] == added.headers["ETag"] == '"2"'
    assert shares(same.json()) == [(tenant.admin_id, "75.00"), (one, "25.00")]
    assert len(await read_events(client, tenant)) == events


async def test_a_new_owner_taking_the_sole_sellers_place_is_a_seller_change(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    """A feed consumer mirroring shares sees the seller move; the new owner is told of the
    share as of the assignment."""
    seller = await make_user(client, tenant)
    changed = await client.patch(f"/v1/opportunities/{deal['id']}", headers=tenant.admin,
                                 json={"owner_id": seller["id"]})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    event = (await read_events(client, tenant, "opportunity.seller_changed"))[-1]
    assert (event["aggregate_id"], event["data"]["changes"]["sellers"]) == (deal["id"], {
        "from": [{"user_id": tenant.admin_id, "share": "100.00"}],
        "to": [{"user_id": seller["id"], "share": "100.00"}]})
    inbox = (await client.get("/v1/notifications", headers=tenant.token_for(seller["id"])))
    assert sorted(n["type"] for n in inbox.json()["data"]) == [
        "opportunity_assigned", "seller_share_given"]
