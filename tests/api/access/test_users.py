"""Employees: create, read, list, change; tenant isolation, versions and the change feed."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Tenant, make_unit, make_user, read_events

UNIT_FIELDS = [("departments", "department_id"), ("sales-regions", "sales_region_id")]


async def _read(client: AsyncClient, tenant: Tenant, user_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/users/{user_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _emails(client: AsyncClient, tenant: Tenant) -> list[str]:
    response = await client.get("/v1/users", params={"limit": 500}, headers=tenant.admin)
    return [u["email"] for u in response.json()["data"]]


async def test_creating_a_user_answers_201_with_location_and_etag(client: AsyncClient,
                                                                 tenant: Tenant):
    department = await make_unit(client, tenant, "departments")
    region = await make_unit(client, tenant, "sales-regions")
    groups = [await make_unit(client, tenant, "sales-groups") for _ in range(2)]
    response = await client.post("/v1/users", headers=tenant.admin, json={
        "name": "Kari Nordmann", "email": "kari@acme.test", "role": "manager",
        "password": "long enough password", "department_id": department["id"],
        "sales_region_id": region["id"], "sales_group_ids": [g["id"] for g in groups]})
    assert response.status_code == 201, response.text
    user = response.json()
    assert response.headers["location"] == f"/v1/users/{user['id']}"
    assert response.headers["etag"] == '"1"'
    assert user["version"] == 1
    assert (user["name"], user["email"], user["role"]) == (
        "Kari Nordmann", "kari@acme.test", "manager")
    assert user["department_id"] == department["id"]
    assert user["sales_region_id"] == region["id"]
    assert user["sales_group_ids"] == sorted(g["id"] for g in groups)
    assert user["active"] is True
    assert "password" not in user and "password_hash" not in user
    assert await _read(client, tenant, user["id"]) == user


@pytest.mark.parametrize(("name", "initials"), [
    ("Kari Nordmann", "KN"), ("anne marie lund", "AML"), ("Cher", "C")])
async def test_initials_come_from_the_name_when_not_given(client: AsyncClient, tenant: Tenant,
                                                          name: str, initials: str):
    assert (await make_user(client, tenant, name=name))["initials"] == initials


async def test_given_initials_are_kept(client: AsyncClient, tenant: Tenant):
    assert (await make_user(client, tenant, name="Kari Nordmann", initials="KNO"))[
        "initials"] == "KNO"


async def test_reading_a_user_gives_its_etag(client: AsyncClient, tenant: Tenant):
    user = await make_user(client, tenant)
    response = await client.get(f"/v1/users/{user['id']}", headers=tenant.key)
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["email"] == user["email"]


async def test_the_list_shows_the_organizations_users(client: AsyncClient, tenant: Tenant):
    made = [await make_user(client, tenant) for _ in range(2)]
    assert await _emails(client, tenant) == [
        tenant.admin_email, *[u["email"] for u in made]]


async def test_patch_changes_the_fields_given_and_increments_the_version(
        client: AsyncClient, tenant: Tenant):
    user = await make_user(client, tenant, name="Old Name")
    response = await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                                  json={"name": "New Name", "role": "manager"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["name"], changed["role"], changed["version"]) == ("New Name", "manager", 2)
    assert changed["email"] == user["email"]
    assert changed["initials"] == user["initials"]
    assert response.headers["etag"] == '"2"'
    assert await _read(client, tenant, user["id"]) == changed


@pytest.mark.parametrize(("path", "field"), UNIT_FIELDS)
async def test_null_clears_a_department_or_region(client: AsyncClient, tenant: Tenant,
                                                  path: str, field: str):
    unit = await make_unit(client, tenant, path)
    user = await make_user(client, tenant, **{field: unit["id"]})
    response = await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                                  json={field: None})
    assert response.status_code == 200, response.text
    assert (await _read(client, tenant, user["id"]))[field] is None


async def test_a_null_name_is_refused_naming_the_field(client: AsyncClient, tenant: Tenant):
    user = await make_user(client, tenant)
    response = await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                                  json={"name": None})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
    assert await _read(client, tenant, user["id"]) == user


async def test_duplicate_email_is_a_conflict_whatever_the_case(client: AsyncClient,
                                                               tenant: Tenant):
    first = await make_user(client, tenant, email="Per@Acme.test")
    response = await client.post("/v1/users", headers=tenant.admin,
                                 json={"name": "Twin", "email": "per@ACME.TEST"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    other = await make_user(client, tenant)
    patched = await client.patch(f"/v1/users/{other['id']}", headers=tenant.admin,
                                 json={"email": "PER@acme.test"})
    assert patched.status_code == 409
    assert await _read(client, tenant, other["id"]) == other
    assert [e for e in await _emails(client, tenant) if e.lower() == "per@acme.test"] == [
        first["email"]]


async def test_the_same_email_may_exist_in_another_organization(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    await make_user(client, tenant, email="shared@x.test")
    assert (await make_user(client, other_tenant, email="shared@x.test"))["id"]


@pytest.mark.parametrize(("path", "field"), [*UNIT_FIELDS, ("sales-groups", "sales_group_ids")])
async def test_a_unit_of_another_organization_is_not_found_and_nothing_is_written(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, path: str, field: str):
    foreign = (await make_unit(client, other_tenant, path))["id"]
    value = [foreign] if field == "sales_group_ids" else foreign
    created = await client.post("/v1/users", headers=tenant.admin, json={
        "name": "Nobody", "email": "nobody@acme.test", field: value})
    assert created.status_code == 404
    assert created.json()["errors"][0]["field"] == field
    assert "nobody@acme.test" not in await _emails(client, tenant)
    user = await make_user(client, tenant)
    patched = await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                                 json={field: value, "name": "Renamed"})
    assert patched.status_code == 404
    assert patched.json()["errors"][0]["field"] == field
    assert await _read(client, tenant, user["id"]) == user


async def test_another_organizations_user_is_not_found(client: AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant):
    theirs = await make_user(client, other_tenant)
    read = await client.get(f"/v1/users/{theirs['id']}", headers=tenant.admin)
    assert read.status_code == 404
    assert read.headers["content-type"] == "application/problem+json"
    patched = await client.patch(f"/v1/users/{theirs['id']}", headers=tenant.admin,
                                 json={"name": "Hijacked"})
    assert patched.status_code == 404
    assert await _read(client, other_tenant, theirs["id"]) == theirs


async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant):
    user = await make_user(client, tenant, name="First")
    await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin, json={"name": "Second"})
    current = await _read(client, tenant, user["id"])
    response = await client.patch(f"/v1/users/{user['id']}", json={"name": "Third"},
                                  headers=tenant.admin | {"If-Match": '"1"'})
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert await _read(client, tenant, user["id"]) == current


async def test_the_current_if_match_is_accepted(client: AsyncClient, tenant: Tenant):
    user = await make_user(client, tenant)
    etag = (await client.get(f"/v1/users/{user['id']}", headers=tenant.admin)).headers["etag"]
    response = await client.patch(f"/v1/users/{user['id']}", json={"name": "Fresh"},
                                  headers=tenant.admin | {"If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Fresh"
    assert response.headers["etag"] == '"2"'


async def test_integration_is_not_a_role_for_a_user(client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/users", headers=tenant.admin, json={
        "name": "Robot", "email": "robot@acme.test", "role": "integration"})
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == "role"
    assert "robot@acme.test" not in await _emails(client, tenant)
    user = await make_user(client, tenant)
    patched = await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                                 json={"role": "integration"})
    assert patched.status_code == 422
    assert (await _read(client, tenant, user["id"]))["role"] == "seller"


async def test_unknown_fields_in_the_body_are_refused(client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/users", headers=tenant.admin, json={
        "name": "X", "email": "extra@acme.test", "is_superuser": True})
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == "is_superuser"
    assert "extra@acme.test" not in await _emails(client, tenant)
    user = await make_user(client, tenant)
    patched = await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                                 json={"name": "Y", "organization_id": 1})
    assert patched.status_code == 422
    assert await _read(client, tenant, user["id"]) == user


async def test_creating_and_changing_a_user_shows_in_the_change_feed(client: AsyncClient,
                                                                     tenant: Tenant):
    user = await make_user(client, tenant, name="Feed Person")
    await client.patch(f"/v1/users/{user['id']}", headers=tenant.admin,
                       json={"name": "Fed Person", "active": False})
    events = [e for e in await read_events(client, tenant, "user.created,user.updated")
              if e["aggregate_id"] == user["id"]]
    assert [e["type"] for e in events] == ["user.created", "user.updated"]
    assert events[0]["aggregate_type"] == "user"
    assert events[0]["data"]["name"] == "Feed Person"
    assert events[0]["data"]["email"] == user["email"]
    assert "password_hash" not in events[0]["data"]
    assert events[1]["data"]["changes"] == {
        "name": {"from": "Feed Person", "to": "Fed Person"},
        "active": {"from": True, "to": False}}
    assert events[1]["actor"] == {"type": "user", "id": tenant.admin_id}


async def test_concurrent_patches_with_one_if_match_let_exactly_one_through(
        client: AsyncClient, tenant: Tenant):
    user = await make_user(client, tenant)
    answers = await asyncio.gather(*[
        client.patch(f"/v1/users/{user['id']}", json={"name": f"Writer {n}"},
                     headers=tenant.admin | {"If-Match": '"1"'}) for n in range(4)])
    assert sorted(r.status_code for r in answers) == [200, 412, 412, 412]
    winner = next(r.json() for r in answers if r.status_code == 200)
    assert await _read(client, tenant, user["id"]) == winner
    assert winner["version"] == 2


async def test_concurrent_creates_with_one_email_make_one_user(client: AsyncClient,
                                                                tenant: Tenant):
    spellings = ["twin@acme.test", "TWIN@acme.test", "Twin@Acme.test", "twin@ACME.TEST"]
    answers = await asyncio.gather(*[
        client.post("/v1/users", headers=tenant.admin, json={"name": "Twin", "email": email})
        for email in spellings])
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]
    assert [e.lower() for e in await _emails(client, tenant)].count("twin@acme.test") == 1
