"""Opportunity types, sources and loss reasons: ordered lists of one shape."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.customer_factories import delete_opportunity, insert_opportunity, make_list_item
from tests.factories import Tenant, make_user, read_events

PATHS = {"opportunity-types": "type_id", "sources": "source_id",
         "loss-reasons": "loss_reason_id"}
each_list = pytest.mark.parametrize("path", list(PATHS))


async def _items(client: AsyncClient, tenant: Tenant, path: str,
                 **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/lists/{path}", params={"limit": 500, **params},
                                headers=tenant.admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


async def _order(client: AsyncClient, tenant: Tenant, path: str) -> list[tuple[str, int]]:
    return [(i["name"], i["position"]) for i in await _items(client, tenant, path)]


async def _make(client: AsyncClient, tenant: Tenant, path: str, *names: str) -> list[int]:
    return [(await make_list_item(client, tenant, path, name=n))["id"] for n in names]


@each_list
async def test_an_item_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                  tenant: Tenant, path: str):
    created = await client.post(f"/v1/lists/{path}", json={"name": "Referral"},
                                headers=tenant.admin)
    assert created.status_code == 201, created.text
    item = created.json()
    assert created.headers["location"] == f"/v1/lists/{path}/{item['id']}"
    assert created.headers["etag"] == '"1"'
    assert (item["name"], item["position"], item["active"], item["version"]) == (
        "Referral", 1, True, 1)
    read = await client.get(f"/v1/lists/{path}/{item['id']}", headers=tenant.key)
    assert (read.json(), read.headers["etag"]) == (item, '"1"')
    patched = await client.patch(f"/v1/lists/{path}/{item['id']}", headers=tenant.admin,
                                 json={"name": "Partner referral", "active": False})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["active"], patched.json()["version"]) == (
        "Partner referral", False, 2)
    assert patched.headers["etag"] == '"2"'
    deleted = await client.delete(f"/v1/lists/{path}/{item['id']}", headers=tenant.admin)
    assert deleted.status_code == 204
    assert (await client.get(f"/v1/lists/{path}/{item['id']}", headers=tenant.admin)
            ).status_code == 404
    assert await _items(client, tenant, path) == []


async def test_a_new_item_goes_last_unless_given_a_position(client: AsyncClient,
                                                            tenant: Tenant):
    await _make(client, tenant, "sources", "Web", "Fair")
    first = await make_list_item(client, tenant, "sources", name="Phone", position=1)
    assert first["position"] == 1
    await make_list_item(client, tenant, "sources", name="Far", position=99)
    assert await _order(client, tenant, "sources") == [
        ("Phone", 1), ("Web", 2), ("Fair", 3), ("Far", 4)]


async def test_moving_an_item_shifts_the_items_in_between(client: AsyncClient, tenant: Tenant):
    a, _, _, d = await _make(client, tenant, "loss-reasons", "A", "B", "C", "D")
    moved = await client.patch(f"/v1/lists/loss-reasons/{d}", json={"position": 2},
                               headers=tenant.admin)
    assert moved.status_code == 200, moved.text
    assert await _order(client, tenant, "loss-reasons") == [
        ("A", 1), ("D", 2), ("B", 3), ("C", 4)]
    await client.patch(f"/v1/lists/loss-reasons/{a}", json={"position": 4},
                       headers=tenant.admin)
    assert await _order(client, tenant, "loss-reasons") == [
        ("D", 1), ("B", 2), ("C", 3), ("A", 4)]
    versions = {i["name"]: i["version"] for i in await _items(client, tenant, "loss-reasons")}
    assert versions == {"A": 2, "B": 3, "C": 3, "D": 3}  # one version per move


async def test_deleting_an_item_closes_the_gap(client: AsyncClient, tenant: Tenant):
    _, b, _ = await _make(client, tenant, "opportunity-types", "New", "Upsell", "Renewal")
    await client.delete(f"/v1/lists/opportunity-types/{b}", headers=tenant.admin)
    assert await _order(client, tenant, "opportunity-types") == [("New", 1), ("Renewal", 2)]


@each_list
async def test_the_list_is_reordered_by_its_full_order(client: AsyncClient, tenant: Tenant,
                                                       path: str):
    a, b, c = await _make(client, tenant, path, "A", "B", "C")
    response = await client.put(f"/v1/lists/{path}/order", json={"ids": [c, a, b]},
                                headers=tenant.admin)
    assert response.status_code == 200, response.text
    assert [(i["id"], i["position"]) for i in response.json()["data"]] == [
        (c, 1), (a, 2), (b, 3)]
    assert await _order(client, tenant, path) == [("C", 1), ("A", 2), ("B", 3)]


@pytest.mark.parametrize("ids", [[3, 1], [3, 1, 2, 2], [3, 1, 2, 999_999_999], []])
async def test_an_order_that_is_not_every_item_once_is_refused(client: AsyncClient,
                                                               tenant: Tenant, ids: list[int]):
    made = await _make(client, tenant, "sources", "A", "B", "C")
    real = [made[i - 1] if i <= 3 else i for i in ids]
    response = await client.put("/v1/lists/sources/order", json={"ids": real},
                                headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ids"
    assert await _order(client, tenant, "sources") == [("A", 1), ("B", 2), ("C", 3)]


async def test_another_organizations_item_cannot_be_ordered_into_a_list(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    mine = await _make(client, tenant, "sources", "A")
    theirs = await _make(client, other_tenant, "sources", "B")
    response = await client.put("/v1/lists/sources/order", json={"ids": mine + theirs},
                                headers=tenant.admin)
    assert response.status_code == 422
    assert await _order(client, other_tenant, "sources") == [("B", 1)]


@each_list
async def test_names_are_unique_in_a_list_whatever_their_case(client: AsyncClient,
                                                             tenant: Tenant, path: str):
    await _make(client, tenant, path, "Web")
    (other,) = await _make(client, tenant, path, "Fair")
    created = await client.post(f"/v1/lists/{path}", json={"name": "WEB"},
                                headers=tenant.admin)
    assert created.status_code == 409
    assert created.headers["content-type"] == "application/problem+json"
    renamed = await client.patch(f"/v1/lists/{path}/{other}", json={"name": "web"},
                                 headers=tenant.admin)
    assert renamed.status_code == 409
    assert await _order(client, tenant, path) == [("Web", 1), ("Fair", 2)]


async def test_the_same_name_may_be_in_another_list_or_organization(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    await _make(client, tenant, "sources", "Other")
    await _make(client, tenant, "loss-reasons", "Other")
    await _make(client, other_tenant, "sources", "Other")
    assert await _order(client, other_tenant, "sources") == [("Other", 1)]


async def test_lists_filter_by_active_and_name_and_sort_by_name(client: AsyncClient,
                                                                tenant: Tenant):
    await _make(client, tenant, "sources", "Web form", "Fair", "Website chat")
    await make_list_item(client, tenant, "sources", name="Webinar", active=False)
    assert [i["name"] for i in await _items(client, tenant, "sources", active="false")] == [
        "Webinar"]
    assert [i["name"] for i in await _items(client, tenant, "sources", name="web%",
                                            active="true", sort="-name")] == [
        "Website chat", "Web form"]


async def test_pages_follow_the_list_order(client: AsyncClient, tenant: Tenant):
    ids = await _make(client, tenant, "sources", "A", "B", "C", "D", "E")
    await client.put("/v1/lists/sources/order", json={"ids": ids[::-1]}, headers=tenant.admin)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = (await client.get("/v1/lists/sources", params=params,
                                 headers=tenant.admin)).json()
        seen += [i["name"] for i in page["data"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == ["E", "D", "C", "B", "A"]


@each_list
async def test_an_item_in_use_cannot_be_deleted_but_can_be_deactivated(
        client: AsyncClient, tenant: Tenant, path: str):
    (item,) = await _make(client, tenant, path, "Used")
    opportunity = await insert_opportunity(tenant, **{PATHS[path]: item})
    refused = await client.delete(f"/v1/lists/{path}/{item}", headers=tenant.admin)
    assert refused.status_code == 409
    assert "deactivate" in refused.json()["detail"]
    deactivated = await client.patch(f"/v1/lists/{path}/{item}", json={"active": False},
                                     headers=tenant.admin)
    assert deactivated.status_code == 200
    await delete_opportunity(tenant, opportunity)
    assert (await client.delete(f"/v1/lists/{path}/{item}", headers=tenant.admin)
            ).status_code == 204


async def test_a_seller_reads_the_lists_but_only_admins_and_managers_write_them(
        client: AsyncClient, tenant: Tenant):
    (item,) = await _make(client, tenant, "sources", "Visible")
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    manager = tenant.token_for((await make_user(client, tenant, role="manager"))["id"])
    assert [i["name"] for i in (await client.get("/v1/lists/sources", headers=seller)
                                ).json()["data"]] == ["Visible"]
    writes = [client.post("/v1/lists/sources", json={"name": "Sneaky"}, headers=seller),
              client.patch(f"/v1/lists/sources/{item}", json={"name": "X"}, headers=seller),
              client.put("/v1/lists/sources/order", json={"ids": [item]}, headers=seller),
              client.delete(f"/v1/lists/sources/{item}", headers=seller)]
    assert [(await w).status_code for w in writes] == [403, 403, 403, 403]
    by_manager = await client.post("/v1/lists/sources", json={"name": "Managed"},
                                   headers=manager)
    assert by_manager.status_code == 201
    assert await _order(client, tenant, "sources") == [("Visible", 1), ("Managed", 2)]


@each_list
async def test_another_organizations_item_is_not_found(client: AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant, path: str):
    theirs = await make_list_item(client, other_tenant, path, name="Theirs")
    url = f"/v1/lists/{path}/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    assert (await client.get(url, headers=other_tenant.admin)).json() == theirs


async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant):
    (item,) = await _make(client, tenant, "sources", "First")
    await client.patch(f"/v1/lists/sources/{item}", json={"name": "Second"},
                       headers=tenant.admin)
    stale = tenant.admin | {"If-Match": '"1"'}
    assert (await client.patch(f"/v1/lists/sources/{item}", json={"name": "Third"},
                               headers=stale)).status_code == 412
    assert (await client.delete(f"/v1/lists/sources/{item}", headers=stale)).status_code == 412
    assert await _order(client, tenant, "sources") == [("Second", 1)]


async def test_changes_to_a_list_show_in_the_change_feed(client: AsyncClient, tenant: Tenant):
    a, b = await _make(client, tenant, "loss-reasons", "Price", "Timing")
    await client.patch(f"/v1/lists/loss-reasons/{b}", json={"position": 1},
                       headers=tenant.admin)
    await client.delete(f"/v1/lists/loss-reasons/{b}", headers=tenant.admin)
    events = await read_events(client, tenant, "loss_reason.created,loss_reason.updated,"
                                               "loss_reason.deleted")
    assert [(e["type"], e["aggregate_id"], e["data"]) for e in events] == [
        ("loss_reason.created", a, {"name": "Price", "position": 1, "active": True}),
        ("loss_reason.created", b, {"name": "Timing", "position": 2, "active": True}),
        ("loss_reason.updated", b, {"changes": {"position": {"from": 2, "to": 1}}}),
        ("loss_reason.updated", a, {"changes": {"position": {"from": 1, "to": 2}}}),
        ("loss_reason.deleted", b, {"name": "Timing", "position": 1, "active": True}),
        ("loss_reason.updated", a, {"changes": {"position": {"from": 2, "to": 1}}})]


async def test_concurrent_creates_get_distinct_positions(client: AsyncClient, tenant: Tenant):
    answers = await asyncio.gather(*[
        client.post("/v1/lists/sources", json={"name": f"S{n}"}, headers=tenant.admin)
        for n in range(5)])
    assert [r.status_code for r in answers] == [201] * 5
    assert sorted(p for _, p in await _order(client, tenant, "sources")) == [1, 2, 3, 4, 5]
