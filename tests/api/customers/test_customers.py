"""Customers: create, read, list, change, delete, upsert by external id; owners, tenants,
versions and the change feed."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.customer_factories import (
    delete_opportunity,
    insert_opportunity,
    make_contact,
    make_customer,
)
from tests.factories import Tenant, make_user, read_events


async def _read(client: AsyncClient, tenant: Tenant, customer_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/customers/{customer_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(client: AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    response = await client.get("/v1/customers", params={"limit": 500, **params},
                                headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["data"]]


async def test_a_customer_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                      tenant: Tenant):
    owner = await make_user(client, tenant)
    created = await client.post("/v1/customers", headers=tenant.admin, json={
        "name": "Fjord AS", "org_number": "987654321", "email": "post@fjord.test",
        "phone": "+47 22 00 00 00", "external_id": "erp-1", "owner_id": owner["id"]})
    assert created.status_code == 201, created.text
    customer = created.json()
    assert created.headers["location"] == f"/v1/customers/{customer['id']}"
    assert created.headers["etag"] == '"1"'
    assert (customer["status"], customer["owner_id"], customer["version"]) == (
        "active", owner["id"], 1)
    assert await _read(client, tenant, customer["id"]) == customer
    assert await _names(client, tenant) == ["Fjord AS"]
    patched = await client.patch(f"/v1/customers/{customer['id']}", headers=tenant.admin,
                                 json={"status": "inactive", "owner_id": None, "phone": None})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["status"], patched.json()["owner_id"], patched.json()["phone"],
            patched.json()["version"]) == ("inactive", None, None, 2)
    assert patched.headers["etag"] == '"2"'
    assert (await client.delete(f"/v1/customers/{customer['id']}", headers=tenant.admin)
            ).status_code == 204
    assert (await client.get(f"/v1/customers/{customer['id']}", headers=tenant.admin)
            ).status_code == 404


async def test_an_owner_must_be_a_user_of_the_organization(client: AsyncClient,
                                                           tenant: Tenant,
                                                           other_tenant: Tenant):
    foreign = await make_user(client, other_tenant)
    for owner_id in (foreign["id"], 999_999_999):
        created = await client.post("/v1/customers", headers=tenant.admin,
                                    json={"name": "Nobody's", "owner_id": owner_id})
        assert created.status_code == 404
        assert created.json()["errors"][0]["field"] == "owner_id"
    assert await _names(client, tenant) == []
    customer = await make_customer(client, tenant)
    patched = await client.patch(f"/v1/customers/{customer['id']}", headers=tenant.admin,
                                 json={"name": "Renamed", "owner_id": foreign["id"]})
    assert patched.status_code == 404
    assert patched.json()["errors"][0]["field"] == "owner_id"
    assert await _read(client, tenant, customer["id"]) == customer


async def test_an_external_id_is_unique_in_the_organization(client: AsyncClient,
                                                            tenant: Tenant,
                                                            other_tenant: Tenant):
    await make_customer(client, tenant, external_id="erp-7")
    other = await make_customer(client, tenant)
    created = await client.post("/v1/customers", headers=tenant.admin,
                                json={"name": "Twin", "external_id": "erp-7"})
    assert created.status_code == 409
    patched = await client.patch(f"/v1/customers/{other['id']}", headers=tenant.admin,
                                 json={"external_id": "erp-7"})
    assert patched.status_code == 409
    assert await _read(client, tenant, other["id"]) == other
    assert (await make_customer(client, other_tenant, external_id="erp-7"))["id"]


@pytest.mark.parametrize(("field", "value"), [("email", "not-an-email"),
                                              ("status", "customer"), ("name", ""),
                                              ("organization_id", 1)])
async def test_bad_input_is_refused_naming_the_field(client: AsyncClient, tenant: Tenant,
                                                     field: str, value: Any):
    created = await client.post("/v1/customers", headers=tenant.admin,
                                json={"name": "Valid", field: value})
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == field
    assert await _names(client, tenant) == []


async def test_customers_filter_by_text_org_number_status_owner_and_ids(client: AsyncClient,
                                                             tenant: Tenant):
    owner = await make_user(client, tenant)
    first = await make_customer(client, tenant, name="Nordic Tools AS", org_number="911")
    await make_customer(client, tenant, name="Bergen Bakeri", email="hei@tools.test",
                        status="prospect", owner_id=owner["id"])
    await make_customer(client, tenant, name="Oslo Tools", external_id="x-1",
                        status="inactive")
    assert await _names(client, tenant, q="tools") == [
        "Nordic Tools AS", "Bergen Bakeri", "Oslo Tools"]
    assert await _names(client, tenant, name="%tools") == ["Oslo Tools"]
    assert await _names(client, tenant, q="911") == ["Nordic Tools AS"]
    assert await _names(client, tenant, org_number="911") == ["Nordic Tools AS"]
    assert await _names(client, tenant, org_number="91") == []
    assert await _names(client, tenant, status="prospect") == ["Bergen Bakeri"]
    assert await _names(client, tenant, owner_id=owner["id"]) == ["Bergen Bakeri"]
    assert await _names(client, tenant, external_id="x-1") == ["Oslo Tools"]
    assert await _names(client, tenant, **{"id[ne]": first["id"]}, sort="-name") == [
        "Oslo Tools", "Bergen Bakeri"]
    assert await _names(client, tenant, **{"created_at[gte]": first["created_at"]},
                        sort="name") == ["Bergen Bakeri", "Nordic Tools AS", "Oslo Tools"]
    refused = await client.get("/v1/customers", params={"phone": "1"}, headers=tenant.admin)
    assert refused.status_code == 422


async def test_put_by_external_id_creates_then_replaces(client: AsyncClient, tenant: Tenant):
    url = "/v1/customers/by-external-id/erp-42"
    created = await client.put(url, headers=tenant.key, json={
        "name": "Erp Kunde", "email": "a@erp.test", "phone": "123"})
    assert created.status_code == 201, created.text
    customer = created.json()
    assert created.headers["location"] == f"/v1/customers/{customer['id']}"
    assert (customer["external_id"], customer["status"], customer["version"]) == (
        "erp-42", "active", 1)
    replaced = await client.put(url, headers=tenant.key, json={
        "name": "Erp Kunde AS", "status": "prospect"})
    assert replaced.status_code == 200, replaced.text
    assert "location" not in replaced.headers
    assert replaced.headers["etag"] == '"2"'
    body = replaced.json()
    assert (body["id"], body["name"], body["status"], body["email"], body["phone"]) == (
        customer["id"], "Erp Kunde AS", "prospect", None, None)
    same = await client.put(url, headers=tenant.key, json={
        "name": "Erp Kunde AS", "status": "prospect"})
    assert (same.status_code, same.json()) == (200, body)
    events = [e for e in await read_events(client, tenant, "customer.created,customer.updated")
              if e["aggregate_id"] == customer["id"]]
    assert [e["type"] for e in events] == ["customer.created", "customer.updated"]
    assert events[0]["data"]["external_id"] == "erp-42"
    assert events[1]["data"]["changes"] == {
        "name": {"from": "Erp Kunde", "to": "Erp Kunde AS"},
        "email": {"from": "a@erp.test", "to": None}, "phone": {"from": "123", "to": None},
        "status": {"from": "active", "to": "prospect"}}


async def test_concurrent_puts_of_one_external_id_make_one_customer(client: AsyncClient,
                                                                     tenant: Tenant):
    answers = await asyncio.gather(*[
        client.put("/v1/customers/by-external-id/race", headers=tenant.key,
                   json={"name": f"Racer {n}"}) for n in range(5)])
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in answers}) == 1
    assert len(await _names(client, tenant, external_id="race")) == 1
    created = await read_events(client, tenant, "customer.created")
    assert len(created) == 1


async def test_put_by_external_id_honours_if_match(client: AsyncClient, tenant: Tenant):
    url = "/v1/customers/by-external-id/guarded"
    absent = await client.put(url, json={"name": "X"}, headers=tenant.key | {"If-Match": '"1"'})
    assert absent.status_code == 412
    assert await _names(client, tenant) == []
    await client.put(url, json={"name": "First"}, headers=tenant.key)
    await client.put(url, json={"name": "Second"}, headers=tenant.key)
    stale = await client.put(url, json={"name": "Lost"},
                             headers=tenant.key | {"If-Match": '"1"'})
    assert stale.status_code == 412
    assert await _names(client, tenant) == ["Second"]


async def test_put_by_external_id_takes_no_external_id_in_the_body(client: AsyncClient,
                                                                   tenant: Tenant):
    response = await client.put("/v1/customers/by-external-id/a", headers=tenant.key,
                                json={"name": "X", "external_id": "b"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "external_id"


async def test_a_customer_with_opportunities_cannot_be_deleted(client: AsyncClient,
                                                               tenant: Tenant):
    customer = await make_customer(client, tenant)
    opportunity = await insert_opportunity(tenant, customer_id=customer["id"])
    refused = await client.delete(f"/v1/customers/{customer['id']}", headers=tenant.admin)
    assert refused.status_code == 409
    assert await _read(client, tenant, customer["id"]) == customer
    await delete_opportunity(tenant, opportunity)
    assert (await client.delete(f"/v1/customers/{customer['id']}", headers=tenant.admin)
            ).status_code == 204


async def test_deleting_a_customer_deletes_its_contacts_with_events(client: AsyncClient,
                                                                    tenant: Tenant):
    customer = await make_customer(client, tenant)
    contacts = [await make_contact(client, tenant, customer["id"]) for _ in range(2)]
    await client.delete(f"/v1/customers/{customer['id']}", headers=tenant.admin)
    for contact in contacts:
        assert (await client.get(f"/v1/contacts/{contact['id']}", headers=tenant.admin)
                ).status_code == 404
    events = await read_events(client, tenant, "contact.deleted,customer.deleted")
    assert [(e["type"], e["aggregate_id"]) for e in events] == [
        *(("contact.deleted", c["id"]) for c in contacts),
        ("customer.deleted", customer["id"])]


async def test_another_organizations_customer_is_not_found(client: AsyncClient,
                                                           tenant: Tenant,
                                                           other_tenant: Tenant):
    theirs = await make_customer(client, other_tenant, external_id="shared")
    url = f"/v1/customers/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    mine = await client.put("/v1/customers/by-external-id/shared", json={"name": "Mine"},
                            headers=tenant.admin)
    assert mine.status_code == 201
    assert mine.json()["id"] != theirs["id"]
    assert await _read(client, other_tenant, theirs["id"]) == theirs


async def test_sellers_write_customers_but_a_read_only_key_does_not(client: AsyncClient,
                                                                     tenant: Tenant):
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    created = await client.post("/v1/customers", json={"name": "Sold"}, headers=seller)
    assert created.status_code == 201
    key = (await client.post("/v1/api-keys", headers=tenant.admin, json={
        "name": "reader", "scopes": ["customers:read"]})).json()["secret"]
    reader = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/v1/customers", headers=reader)).status_code == 200
    assert (await client.post("/v1/customers", json={"name": "No"}, headers=reader)
            ).status_code == 403
    assert (await client.put("/v1/customers/by-external-id/no", json={"name": "No"},
                             headers=reader)).status_code == 403
    assert await _names(client, tenant) == ["Sold"]


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant, method: str):
    customer = await make_customer(client, tenant)
    await client.patch(f"/v1/customers/{customer['id']}", json={"name": "Renamed"},
                       headers=tenant.admin)
    current = await _read(client, tenant, customer["id"])
    stale = tenant.admin | {"If-Match": '"1"'}
    url = f"/v1/customers/{customer['id']}"
    response = await (client.patch(url, json={"name": "Lost"}, headers=stale)
                      if method == "patch" else client.delete(url, headers=stale))
    assert response.status_code == 412
    assert await _read(client, tenant, customer["id"]) == current


async def test_changes_to_a_customer_show_in_the_change_feed(client: AsyncClient,
                                                             tenant: Tenant):
    customer = await make_customer(client, tenant, name="Feed AS")
    await client.patch(f"/v1/customers/{customer['id']}", json={"status": "prospect"},
                       headers=tenant.admin)
    events = [e for e in await read_events(client, tenant, "customer.created,customer.updated")
              if e["aggregate_id"] == customer["id"]]
    assert [(e["type"], e["aggregate_type"]) for e in events] == [
        ("customer.created", "customer"), ("customer.updated", "customer")]
    assert events[0]["data"]["name"] == "Feed AS"
    assert events[1]["data"] == {"changes": {"status": {"from": "active", "to": "prospect"}}}
    assert events[1]["actor"] == {"type": "user", "id": tenant.admin_id}
