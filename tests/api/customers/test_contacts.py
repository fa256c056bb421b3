"""Contacts: the people at a customer; they stay with their customer."""

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


async def _read(client: AsyncClient, tenant: Tenant, contact_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/contacts/{contact_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(client: AsyncClient, tenant: Tenant, customer_id: int,
                 **params: Any) -> list[str]:
    response = await client.get(f"/v1/customers/{customer_id}/contacts",
                                params={"limit": 500, **params}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["data"]]


async def test_a_contact_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                     tenant: Tenant):
    customer = await make_customer(client, tenant)
    created = await client.post(f"/v1/customers/{customer['id']}/contacts",
                                headers=tenant.admin, json={
                                    "name": "Kari Nordmann", "email": "kari@fjord.test",
                                    "phone": "+47 900 00 000", "title": "CFO"})
    assert created.status_code == 201, created.text
    contact = created.json()
    assert created.headers["location"] == f"/v1/contacts/{contact['id']}"
    assert created.headers["etag"] == '"1"'
    assert (contact["customer_id"], contact["title"], contact["external_id"]) == (
        customer["id"], "CFO", None)
    assert await _read(client, tenant, contact["id"]) == contact
    assert await _names(client, tenant, customer["id"]) == ["Kari Nordmann"]
    patched = await client.patch(f"/v1/contacts/{contact['id']}", headers=tenant.admin,
                                 json={"title": None, "name": "Kari N."})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["title"], patched.json()["name"], patched.json()["version"]) == (
        None, "Kari N.", 2)
    assert (await client.delete(f"/v1/contacts/{contact['id']}", headers=tenant.admin)
            ).status_code == 204
    assert await _names(client, tenant, customer["id"]) == []


async def test_a_contact_stays_with_its_customer(client: AsyncClient, tenant: Tenant):
    contact = await make_contact(client, tenant)
    other = await make_customer(client, tenant)
    response = await client.patch(f"/v1/contacts/{contact['id']}", headers=tenant.admin,
                                  json={"customer_id": other["id"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "customer_id"
    assert await _read(client, tenant, contact["id"]) == contact


async def test_a_customer_lists_only_its_own_contacts(client: AsyncClient, tenant: Tenant):
    first = await make_customer(client, tenant)
    second = await make_customer(client, tenant)
    await make_contact(client, tenant, first["id"], name="Ola", title="Buyer")
    await make_contact(client, tenant, first["id"], name="Per", email="per@shop.test")
    await make_contact(client, tenant, second["id"], name="Åse")
    assert await _names(client, tenant, first["id"]) == ["Ola", "Per"]
    assert await _names(client, tenant, second["id"]) == ["Åse"]
    assert await _names(client, tenant, first["id"], q="buy") == ["Ola"]
    assert await _names(client, tenant, first["id"], email="%shop.test") == ["Per"]


async def test_a_contact_needs_a_customer_of_the_organization(client: AsyncClient,
                                                              tenant: Tenant,
                                                              other_tenant: Tenant):
    theirs = await make_customer(client, other_tenant)
    for customer_id in (theirs["id"], 999_999_999):
        url = f"/v1/customers/{customer_id}/contacts"
        assert (await client.post(url, json={"name": "X"}, headers=tenant.admin)
                ).status_code == 404
        assert (await client.get(url, headers=tenant.admin)).status_code == 404
        upsert = await client.put(f"{url}/by-external-id/x", json={"name": "X"},
                                  headers=tenant.admin)
        assert upsert.status_code == 404
    assert await _names(client, other_tenant, theirs["id"]) == []


async def test_another_organizations_contact_is_not_found(client: AsyncClient,
                                                          tenant: Tenant,
                                                          other_tenant: Tenant):
    theirs = await make_contact(client, other_tenant)
    url = f"/v1/contacts/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    assert await _read(client, other_tenant, theirs["id"]) == theirs


async def test_an_external_id_is_unique_among_the_organizations_contacts(
        client: AsyncClient, tenant: Tenant):
    await make_contact(client, tenant, external_id="c-1")
    customer = await make_customer(client, tenant)
    created = await client.post(f"/v1/customers/{customer['id']}/contacts",
                                json={"name": "Twin", "external_id": "c-1"},
                                headers=tenant.admin)
    assert created.status_code == 409
    assert await _names(client, tenant, customer["id"]) == []


async def test_put_by_external_id_creates_then_replaces_a_contact(client: AsyncClient,
                                                                  tenant: Tenant):
    customer = await make_customer(client, tenant)
    url = f"/v1/customers/{customer['id']}/contacts/by-external-id/p-9"
    created = await client.put(url, json={"name": "Ola", "title": "CEO"}, headers=tenant.key)
    assert created.status_code == 201, created.text
    contact = created.json()
    assert created.headers["location"] == f"/v1/contacts/{contact['id']}"
    assert (contact["customer_id"], contact["external_id"]) == (customer["id"], "p-9")
    replaced = await client.put(url, json={"name": "Ola Nordmann"}, headers=tenant.key)
    assert replaced.status_code == 200
    assert (replaced.json()["id"], replaced.json()["title"], replaced.json()["version"]) == (
        contact["id"], None, 2)
    same = await client.put(url, json={"name": "Ola Nordmann"}, headers=tenant.key)
    assert (same.status_code, same.json()["version"]) == (200, 2)


async def test_an_external_id_of_another_customers_contact_is_a_conflict(
        client: AsyncClient, tenant: Tenant):
    held = await make_contact(client, tenant, external_id="p-1")
    other = await make_customer(client, tenant)
    response = await client.put(f"/v1/customers/{other['id']}/contacts/by-external-id/p-1",
                                json={"name": "Moved?"}, headers=tenant.admin)
    assert response.status_code == 409
    assert await _read(client, tenant, held["id"]) == held


async def test_concurrent_puts_of_one_contact_make_one(client: AsyncClient, tenant: Tenant):
    customer = await make_customer(client, tenant)
    url = f"/v1/customers/{customer['id']}/contacts/by-external-id/race"
    answers = await asyncio.gather(*[
        client.put(url, json={"name": f"Racer {n}"}, headers=tenant.key) for n in range(4)])
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201]
    assert len(await _names(client, tenant, customer["id"])) == 1


async def test_a_contact_an_opportunity_names_cannot_be_deleted(client: AsyncClient,
                                                                tenant: Tenant):
    contact = await make_contact(client, tenant)
    opportunity = await insert_opportunity(tenant, customer_id=contact["customer_id"],
                                           contact_id=contact["id"])
    refused = await client.delete(f"/v1/contacts/{contact['id']}", headers=tenant.admin)
    assert refused.status_code == 409
    assert await _read(client, tenant, contact["id"]) == contact
    await delete_opportunity(tenant, opportunity)
    assert (await client.delete(f"/v1/contacts/{contact['id']}", headers=tenant.admin)
            ).status_code == 204


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant, method: str):
    contact = await make_contact(client, tenant)
    await client.patch(f"/v1/contacts/{contact['id']}", json={"name": "Renamed"},
                       headers=tenant.admin)
    current = await _read(client, tenant, contact["id"])
    stale = tenant.admin | {"If-Match": '"1"'}
    url = f"/v1/contacts/{contact['id']}"
    response = await (client.patch(url, json={"name": "Lost"}, headers=stale)
                      if method == "patch" else client.delete(url, headers=stale))
    assert response.status_code == 412
    assert await _read(client, tenant, contact["id"]) == current


async def test_a_seller_writes_contacts(client: AsyncClient, tenant: Tenant):
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    customer = await make_customer(client, tenant)
    created = await client.post(f"/v1/customers/{customer['id']}/contacts",
                                json={"name": "By seller"}, headers=seller)
    assert created.status_code == 201


async def test_changes_to_a_contact_show_in_the_change_feed(client: AsyncClient,
                                                            tenant: Tenant):
    contact = await make_contact(client, tenant, name="Feed", email="feed@x.test")
    await client.patch(f"/v1/contacts/{contact['id']}", json={"email": None},
                       headers=tenant.admin)
    await client.delete(f"/v1/contacts/{contact['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, "contact.created,contact.updated,"
                                               "contact.deleted")
    assert [e["type"] for e in events] == ["contact.created", "contact.updated",
                                           "contact.deleted"]
    assert events[0]["data"]["customer_id"] == contact["customer_id"]
    assert events[1]["data"] == {"changes": {"email": {"from": "feed@x.test", "to": None}}}
    assert events[2]["aggregate_id"] == contact["id"]
