"""Departments, sales regions and sales groups: one shape, three resources."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.factories import Tenant, make_unit, make_user, read_events
from tests.opportunity_factories import waiting_for_a_lock
from tests.process_factories import make_process, read_process

PATHS = ["departments", "sales-regions", "sales-groups"]
each_kind = pytest.mark.parametrize("path", PATHS)


async def _read(client: AsyncClient, tenant: Tenant, path: str, unit_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/{path}/{unit_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(client: AsyncClient, tenant: Tenant, path: str) -> list[str]:
    response = await client.get(f"/v1/{path}", params={"limit": 500}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [u["name"] for u in response.json()["data"]]


@each_kind
async def test_a_unit_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                  tenant: Tenant, path: str):
    created = await client.post(f"/v1/{path}", json={"name": "North"}, headers=tenant.admin)
    assert created.status_code == 201, created.text
    unit = created.json()
    assert created.headers["location"] == f"/v1/{path}/{unit['id']}"
    assert created.headers["etag"] == '"1"'
    assert (unit["name"], unit["version"]) == ("North", 1)
    assert await _read(client, tenant, path, unit["id"]) == unit
    assert await _names(client, tenant, path) == ["North"]

    patched = await client.patch(f"/v1/{path}/{unit['id']}", json={"name": "South"},
                                 headers=tenant.admin)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["version"]) == ("South", 2)
    assert patched.headers["etag"] == '"2"'
    assert await _read(client, tenant, path, unit["id"]) == patched.json()

    deleted = await client.delete(f"/v1/{path}/{unit['id']}", headers=tenant.admin)
    assert deleted.status_code == 204
    gone = await client.get(f"/v1/{path}/{unit['id']}", headers=tenant.admin)
    assert gone.status_code == 404
    assert await _names(client, tenant, path) == []


@each_kind
async def test_a_stale_if_match_on_patch_is_412_and_changes_nothing(
        client: AsyncClient, tenant: Tenant, path: str):
    unit = await make_unit(client, tenant, path, name="Before")
    await client.patch(f"/v1/{path}/{unit['id']}", json={"name": "Now"}, headers=tenant.admin)
    response = await client.patch(f"/v1/{path}/{unit['id']}", json={"name": "Lost update"},
                                  headers=tenant.admin | {"If-Match": '"1"'})
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    current = await _read(client, tenant, path, unit["id"])
    assert (current["name"], current["version"]) == ("Now", 2)
    fresh = await client.patch(f"/v1/{path}/{unit['id']}", json={"name": "Later"},
                               headers=tenant.admin | {"If-Match": '"2"'})
    assert fresh.status_code == 200
    assert fresh.json()["name"] == "Later"


@each_kind
async def test_a_stale_if_match_on_delete_is_412_and_keeps_the_unit(
        client: AsyncClient, tenant: Tenant, path: str):
    unit = await make_unit(client, tenant, path, name="Kept")
    await client.patch(f"/v1/{path}/{unit['id']}", json={"name": "Kept too"},
                       headers=tenant.admin)
    response = await client.delete(f"/v1/{path}/{unit['id']}",
                                   headers=tenant.admin | {"If-Match": '"1"'})
    assert response.status_code == 412
    assert (await _read(client, tenant, path, unit["id"]))["name"] == "Kept too"
    current = await client.delete(f"/v1/{path}/{unit['id']}",
                                  headers=tenant.admin | {"If-Match": '"2"'})
    assert current.status_code == 204
    assert await _names(client, tenant, path) == []


@each_kind
async def test_a_duplicate_name_is_a_conflict(client: AsyncClient, tenant: Tenant, path: str):
    await make_unit(client, tenant, path, name="Taken")
    other = await make_unit(client, tenant, path, name="Free")
    response = await client.post(f"/v1/{path}", json={"name": "Taken"}, headers=tenant.admin)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    renamed = await client.patch(f"/v1/{path}/{other['id']}", json={"name": "Taken"},
                                 headers=tenant.admin)
    assert renamed.status_code == 409
    assert await _names(client, tenant, path) == ["Taken", "Free"]


@each_kind
async def test_the_same_name_may_exist_in_another_organization(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, path: str):
    await make_unit(client, tenant, path, name="Everywhere")
    await make_unit(client, other_tenant, path, name="Everywhere")
    assert await _names(client, other_tenant, path) == ["Everywhere"]


async def test_a_sales_group_is_of_type_sales_unless_told(client: AsyncClient, tenant: Tenant):
    default = await make_unit(client, tenant, "sales-groups", name="Hunters")
    other = await make_unit(client, tenant, "sales-groups", name="Support", group_type="other")
    assert default["group_type"] == "sales"
    assert other["group_type"] == "other"
    assert (await _read(client, tenant, "sales-groups", other["id"]))["group_type"] == "other"
    patched = await client.patch(f"/v1/sales-groups/{default['id']}", headers=tenant.admin,
                                 json={"group_type": "other"})
    assert patched.json()["group_type"] == "other"


async def test_an_unknown_group_type_is_refused(client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/sales-groups", headers=tenant.admin,
                                json={"name": "Odd", "group_type": "marketing"})
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == "group_type"
    assert await _names(client, tenant, "sales-groups") == []
    group = await make_unit(client, tenant, "sales-groups")
    patched = await client.patch(f"/v1/sales-groups/{group['id']}", headers=tenant.admin,
                                 json={"group_type": "marketing"})
    assert patched.status_code == 422
    assert await _read(client, tenant, "sales-groups", group["id"]) == group


async def test_a_department_or_region_has_no_group_type(client: AsyncClient, tenant: Tenant):
    response = await client.post("/v1/departments", headers=tenant.admin,
                                 json={"name": "Typed", "group_type": "sales"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "group_type"


@pytest.mark.parametrize(("path", "field"), [("departments", "department_id"),
                                             ("sales-regions", "sales_region_id")])
async def test_deleting_a_unit_clears_it_from_its_users(client: AsyncClient, tenant: Tenant,
                                                        path: str, field: str):
    unit = await make_unit(client, tenant, path)
    kept = await make_unit(client, tenant, path)
    member = await make_user(client, tenant, **{field: unit["id"]})
    bystander = await make_user(client, tenant, **{field: kept["id"]})
    assert (await client.delete(f"/v1/{path}/{unit['id']}", headers=tenant.admin)
            ).status_code == 204
    after = (await client.get(f"/v1/users/{member['id']}", headers=tenant.admin)).json()
    assert after[field] is None
    assert after["active"] is True
    assert after["version"] == member["version"] + 1
    assert await _user_changes(client, tenant, member["id"]) == [
        {field: {"from": unit["id"], "to": None}}]
    still = (await client.get(f"/v1/users/{bystander['id']}", headers=tenant.admin)).json()
    assert still == bystander
    assert await _user_changes(client, tenant, bystander["id"]) == []


async def _user_changes(client: AsyncClient, tenant: Tenant,
                        user_id: int) -> list[dict[str, Any]]:
    return [e["data"]["changes"] for e in await read_events(client, tenant, "user.updated")
            if e["aggregate_id"] == user_id]


@pytest.mark.parametrize(("path", "field"), [("departments", "department_ids"),
                                             ("sales-regions", "sales_region_ids")])
async def test_deleting_a_unit_clears_it_from_the_default_for_of_processes(
        client: AsyncClient, tenant: Tenant, path: str, field: str):
    unit = await make_unit(client, tenant, path)
    process = await make_process(client, tenant, default_for={field: [unit["id"]]})
    untouched = await make_process(client, tenant)
    assert (await client.delete(f"/v1/{path}/{unit['id']}", headers=tenant.admin)
            ).status_code == 204
    after = await read_process(client, tenant, process["id"])
    assert after["default_for"][field] == []
    assert after["version"] == process["version"] + 1
    events = [e["data"] for e in await read_events(client, tenant, "sales_process.updated")
              if e["aggregate_id"] == process["id"]]
    assert [e["changes"]["default_for"]["to"][field] for e in events] == [[]]
    assert await read_process(client, tenant, untouched["id"]) == untouched


async def test_deleting_a_sales_group_removes_it_from_its_users(client: AsyncClient,
                                                                 tenant: Tenant):
    gone = await make_unit(client, tenant, "sales-groups")
    kept = await make_unit(client, tenant, "sales-groups")
    member = await make_user(client, tenant, sales_group_ids=[gone["id"], kept["id"]])
    await client.delete(f"/v1/sales-groups/{gone['id']}", headers=tenant.admin)
    after = (await client.get(f"/v1/users/{member['id']}", headers=tenant.admin)).json()
    assert after["sales_group_ids"] == [kept["id"]]
    assert after["version"] == member["version"] + 1
    assert await _user_changes(client, tenant, member["id"]) == [
        {"sales_group_ids": {"from": sorted([gone["id"], kept["id"]]), "to": [kept["id"]]}}]


@each_kind
async def test_another_organizations_unit_is_not_found(client: AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant, path: str):
    theirs = await make_unit(client, other_tenant, path, name="Theirs")
    url = f"/v1/{path}/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    patched = await client.patch(url, json={"name": "Mine now"}, headers=tenant.admin)
    assert patched.status_code == 404
    deleted = await client.delete(url, headers=tenant.admin)
    assert deleted.status_code == 404
    assert deleted.headers["content-type"] == "application/problem+json"
    assert await _read(client, other_tenant, path, theirs["id"]) == theirs


@each_kind
async def test_a_seller_can_read_units_but_not_create_them(client: AsyncClient, tenant: Tenant,
                                                           path: str):
    unit = await make_unit(client, tenant, path, name="Visible")
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    listed = await client.get(f"/v1/{path}", headers=seller)
    assert [u["name"] for u in listed.json()["data"]] == ["Visible"]
    assert (await client.get(f"/v1/{path}/{unit['id']}", headers=seller)).status_code == 200
    created = await client.post(f"/v1/{path}", json={"name": "Sneaky"}, headers=seller)
    assert created.status_code == 403
    assert created.headers["content-type"] == "application/problem+json"
    patched = await client.patch(f"/v1/{path}/{unit['id']}", json={"name": "Sneaky"},
                                 headers=seller)
    assert patched.status_code == 403
    assert (await client.delete(f"/v1/{path}/{unit['id']}", headers=seller)).status_code == 403
    assert await _names(client, tenant, path) == ["Visible"]


async def test_changes_to_units_show_in_the_change_feed(client: AsyncClient, tenant: Tenant):
    unit = await make_unit(client, tenant, "sales-groups", name="Feed")
    await client.patch(f"/v1/sales-groups/{unit['id']}", json={"name": "Fed"},
                       headers=tenant.admin)
    await client.delete(f"/v1/sales-groups/{unit['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, "sales_group.created,sales_group.updated,"
                                               "sales_group.deleted")
    assert [(e["type"], e["data"]) for e in events] == [
        ("sales_group.created", {"name": "Feed", "group_type": "sales"}),
        ("sales_group.updated", {"changes": {"name": {"from": "Feed", "to": "Fed"}}}),
        ("sales_group.deleted", {"name": "Fed", "group_type": "sales"})]


@each_kind
async def test_concurrent_writes_never_lose_an_update_or_duplicate_a_name(
        client: AsyncClient, tenant: Tenant, path: str):
    unit = await make_unit(client, tenant, path, name="Contested")
    patches = await asyncio.gather(*[
        client.patch(f"/v1/{path}/{unit['id']}", json={"name": f"Writer {n}"},
                     headers=tenant.admin | {"If-Match": '"1"'}) for n in range(4)])
    assert sorted(r.status_code for r in patches) == [200, 412, 412, 412]
    assert (await _read(client, tenant, path, unit["id"]))["version"] == 2
    creates = await asyncio.gather(*[
        client.post(f"/v1/{path}", json={"name": "Twin"}, headers=tenant.admin)
        for _ in range(4)])
    assert sorted(r.status_code for r in creates) == [201, 409, 409, 409]
    assert (await _names(client, tenant, path)).count("Twin") == 1


async def test_a_unit_deleted_while_a_user_is_put_in_it_is_a_conflict_and_changes_nothing(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """The reference is checked before the write; the deletion commits in between, so the
    foreign key fails: 409, and the user is as it was."""
    unit = await make_unit(client, tenant)
    user = await make_user(client, tenant)
    async with app.state.salescore.engine.connect() as deleting:
        await deleting.execute(text("DELETE FROM departments WHERE organization_id = :org"
                                    " AND id = :id"),
                               {"org": tenant.organization_id, "id": unit["id"]})
        moving = await waiting_for_a_lock(app, client.patch(
            f"/v1/users/{user['id']}", json={"department_id": unit["id"]},
            headers=tenant.admin))
        await deleting.commit()
    response = await moving
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/v1/users/{user['id']}", headers=tenant.admin)).json() == user
