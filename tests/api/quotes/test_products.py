"""The product catalogue: create, read, list, change, delete, upsert by external id; unique
skus, money, currencies, scopes, tenants, versions and the change feed."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.customer_factories import delete_opportunity, insert_opportunity
from tests.factories import Tenant, make_user, read_events
from tests.product_factories import create_product, delete_line, insert_line

EVENTS = "product.created,product.updated,product.deleted"


async def _read(client: AsyncClient, tenant: Tenant, product_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/products/{product_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _skus(client: AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    response = await client.get("/v1/products", params={"limit": 500, **params},
                                headers=tenant.admin)
    assert response.status_code == 200, response.text
    return [p["sku"] for p in response.json()["data"]]


async def _events(client: AsyncClient, tenant: Tenant, product_id: int) -> list[dict[str, Any]]:
    return [e for e in await read_events(client, tenant, EVENTS)
            if e["aggregate_id"] == product_id]


async def test_a_product_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                     tenant: Tenant):
    created = await client.post("/v1/products", headers=tenant.admin, json={
        "sku": "CHAIR-01", "name": "Office chair", "description": "Grey, with armrests",
        "unit_price": "1250.00", "currency": "EUR", "unit_cost": "800",
        "external_id": "erp-1"})
    assert created.status_code == 201, created.text
    product = created.json()
    assert created.headers["location"] == f"/v1/products/{product['id']}"
    assert created.headers["etag"] == '"1"'
    assert {k: product[k] for k in ("sku", "unit_price", "currency", "unit_cost", "active",
                                    "external_id", "version")} == {
        "sku": "CHAIR-01", "unit_price": "1250.00", "currency": "EUR", "unit_cost": "800.00",
        "active": True, "external_id": "erp-1", "version": 1}
    read = await client.get(f"/v1/products/{product['id']}", headers=tenant.admin)
    assert (read.json(), read.headers["etag"]) == (product, '"1"')
    assert await _skus(client, tenant) == ["CHAIR-01"]
    patched = await client.patch(f"/v1/products/{product['id']}", headers=tenant.admin,
                                 json={"unit_price": "1300.5", "unit_cost": None,
                                       "description": None, "active": False})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["unit_price"], body["unit_cost"], body["description"], body["active"],
            body["version"], patched.headers["etag"]) == (
        "1300.50", None, None, False, 2, '"2"')
    deleted = await client.delete(f"/v1/products/{product['id']}", headers=tenant.admin)
    assert deleted.status_code == 204
    assert (await client.get(f"/v1/products/{product['id']}", headers=tenant.admin)
            ).status_code == 404


async def test_the_currency_defaults_to_the_organizations(client: AsyncClient,
                                                          tenant: Tenant):
    assert (await create_product(client, tenant.admin))["currency"] == "NOK"
    changed = await client.patch("/v1/settings", headers=tenant.admin,
                                 json={"base_currency": "SEK"})
    assert changed.status_code == 200, changed.text
    assert (await create_product(client, tenant.admin))["currency"] == "SEK"
    assert (await create_product(client, tenant.admin, currency="DKK"))["currency"] == "DKK"


async def test_events_record_each_change_in_the_feed(client: AsyncClient, tenant: Tenant):
    product = await create_product(client, tenant.key, sku="EV-1", unit_price="10.00")
    url = f"/v1/products/{product['id']}"
    await client.patch(url, headers=tenant.admin, json={"unit_price": "12", "name": "Eve"})
    assert (await client.delete(url, headers=tenant.admin)).status_code == 204
    events = await _events(client, tenant, product["id"])
    assert [e["type"] for e in events] == [
        "product.created", "product.updated", "product.deleted"]
    assert [e["aggregate_type"] for e in events] == ["product"] * 3
    assert events[0]["data"] == {
        "sku": "EV-1", "name": product["name"], "description": None, "unit_price": "10.00",
        "currency": "NOK", "unit_cost": None, "active": True, "external_id": None}
    assert events[0]["actor"]["type"] == "api_key"
    assert events[1]["data"] == {"sku": "EV-1", "changes": {
        "name": {"from": product["name"], "to": "Eve"},
        "unit_price": {"from": "10.00", "to": "12.00"}}}
    assert events[1]["actor"] == {"type": "user", "id": tenant.admin_id}
    assert (events[2]["data"]["sku"], events[2]["data"]["name"]) == ("EV-1", "Eve")


async def test_a_write_that_changes_nothing_keeps_the_version(client: AsyncClient,
                                                              tenant: Tenant):
    product = await create_product(client, tenant.admin, unit_price="5.00")
    url = f"/v1/products/{product['id']}"
    for body in ({}, {"unit_price": "5", "sku": product["sku"], "active": True}):
        same = await client.patch(url, headers=tenant.admin, json=body)
        assert (same.status_code, same.headers["etag"]) == (200, '"1"')
        assert same.json() == product
    assert [e["type"] for e in await _events(client, tenant, product["id"])] == [
        "product.created"]


async def test_a_sku_is_unique_in_the_organization_whatever_its_case(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    await create_product(client, tenant.admin, sku="Desk-10")
    other = await create_product(client, tenant.admin, sku="Lamp-1")
    twin = await client.post("/v1/products", headers=tenant.admin,
                             json={"sku": "dESK-10", "name": "Twin", "unit_price": "1.00"})
    assert twin.status_code == 409
    assert "sku" in twin.json()["detail"]
    renamed = await client.patch(f"/v1/products/{other['id']}", headers=tenant.admin,
                                 json={"sku": "DESK-10"})
    assert renamed.status_code == 409
    assert "sku" in renamed.json()["detail"]
    upserted = await client.put("/v1/products/by-external-id/x", headers=tenant.admin,
                                json={"sku": "desk-10", "name": "X", "unit_price": "1.00"})
    assert upserted.status_code == 409
    assert "sku" in upserted.json()["detail"]
    assert await _read(client, tenant, other["id"]) == other
    assert sorted(await _skus(client, tenant)) == ["Desk-10", "Lamp-1"]
    recased = await client.patch(f"/v1/products/{other['id']}", headers=tenant.admin,
                                 json={"sku": "LAMP-1"})
    assert (recased.status_code, recased.json()["sku"]) == (200, "LAMP-1")
    assert (await create_product(client, other_tenant.admin, sku="DESK-10"))["id"]


async def test_an_external_id_is_unique_in_the_organization(client: AsyncClient,
                                                            tenant: Tenant):
    await create_product(client, tenant.admin, external_id="erp-7")
    other = await create_product(client, tenant.admin)
    created = await client.post("/v1/products", headers=tenant.admin, json={
        "sku": "NEW", "name": "New", "unit_price": "1.00", "external_id": "erp-7"})
    assert created.status_code == 409
    assert "external id" in created.json()["detail"]
    patched = await client.patch(f"/v1/products/{other['id']}", headers=tenant.admin,
                                 json={"external_id": "erp-7"})
    assert patched.status_code == 409
    assert await _read(client, tenant, other["id"]) == other


@pytest.mark.parametrize(("field", "value"), [
    ("unit_price", "-1.00"), ("unit_price", "1.005"), ("unit_price", "abc"),
    ("unit_price", "12345678901234567.00"), ("unit_cost", "-0.01"), ("unit_cost", "0.001"),
    ("currency", "XYZ"), ("currency", "nok"), ("currency", "EURO"), ("sku", ""),
    ("sku", "   "), ("name", ""), ("active", "yes"), ("organization_id", 1)])
async def test_bad_input_is_refused_naming_the_field(client: AsyncClient, tenant: Tenant,
                                                     field: str, value: Any):
    body = {"sku": "OK-1", "name": "Valid", "unit_price": "1.00", field: value}
    created = await client.post("/v1/products", headers=tenant.admin, json=body)
    assert created.status_code == 422, created.text
    assert created.json()["errors"][0]["field"] == field
    upserted = await client.put("/v1/products/by-external-id/bad", headers=tenant.admin,
                                json=body)
    assert upserted.status_code == 422, upserted.text
    assert upserted.json()["errors"][0]["field"] == field
    assert await _skus(client, tenant) == []


@pytest.mark.parametrize(("field", "value"), [
    ("unit_price", "-5"), ("unit_price", "0.123"), ("unit_price", None), ("unit_cost", "-1"),
    ("currency", "ABC"), ("currency", None), ("sku", None), ("name", None), ("active", None)])
async def test_a_bad_change_is_refused_naming_the_field(client: AsyncClient, tenant: Tenant,
                                                        field: str, value: Any):
    product = await create_product(client, tenant.admin)
    patched = await client.patch(f"/v1/products/{product['id']}", headers=tenant.admin,
                                 json={"name": "Changed", field: value})
    assert patched.status_code == 422, patched.text
    assert patched.json()["errors"][0]["field"] == field
    assert await _read(client, tenant, product["id"]) == product


async def test_products_filter_by_every_field(client: AsyncClient, tenant: Tenant):
    chair = await create_product(client, tenant.admin, sku="CH-1", name="Office chair",
                                 unit_price="1250.00")
    desk = await create_product(client, tenant.admin, sku="DESK-2", name="Standing desk",
                                unit_price="4000.00", currency="EUR", external_id="e-2")
    await create_product(client, tenant.admin, sku="LAMP-3", name="Desk lamp",
                         unit_price="300.00", active=False)
    assert await _skus(client, tenant, q="desk") == ["DESK-2", "LAMP-3"]
    assert await _skus(client, tenant, q="ch%") == ["CH-1"]
    assert await _skus(client, tenant, q="%chair") == ["CH-1"]
    assert await _skus(client, tenant, sku="desk%") == ["DESK-2"]
    assert await _skus(client, tenant, sku="%-3") == ["LAMP-3"]
    assert await _skus(client, tenant, name="desk%") == ["LAMP-3"]
    assert await _skus(client, tenant, active="false") == ["LAMP-3"]
    assert await _skus(client, tenant, active="true") == ["CH-1", "DESK-2"]
    assert await _skus(client, tenant, currency="EUR") == ["DESK-2"]
    assert await _skus(client, tenant, external_id="e-2") == ["DESK-2"]
    assert await _skus(client, tenant, **{"unit_price[gte]": "1250"}) == ["CH-1", "DESK-2"]
    assert await _skus(client, tenant, **{"unit_price[lte]": "1250.00"}) == ["CH-1", "LAMP-3"]
    assert await _skus(client, tenant, **{"unit_price[ne]": "300"}) == ["CH-1", "DESK-2"]
    assert await _skus(client, tenant, unit_price="4000") == ["DESK-2"]
    assert await _skus(client, tenant, id=desk["id"]) == ["DESK-2"]
    assert await _skus(client, tenant, **{"id[gte]": desk["id"]}) == ["DESK-2", "LAMP-3"]
    assert await _skus(client, tenant, **{"id[lte]": desk["id"]}) == ["CH-1", "DESK-2"]
    assert await _skus(client, tenant, **{"id[ne]": chair["id"]}) == ["DESK-2", "LAMP-3"]
    assert await _skus(client, tenant, **{"created_at[gte]": desk["created_at"]}) == [
        "DESK-2", "LAMP-3"]
    assert await _skus(client, tenant, **{"created_at[lte]": chair["created_at"]}) == [
        "CH-1"]
    await client.patch(f"/v1/products/{chair['id']}", headers=tenant.admin,
                       json={"name": "Office chair, black"})
    changed = await _read(client, tenant, chair["id"])
    assert await _skus(client, tenant, **{"updated_at[gte]": changed["updated_at"]}) == [
        "CH-1"]
    assert await _skus(client, tenant, **{"updated_at[lte]": desk["updated_at"]}) == [
        "DESK-2"]
    assert await _skus(client, tenant, q="desk", active="true", currency="EUR") == ["DESK-2"]
    for bad in ({"unit_price[gte]": "1.001"}, {"unit_price[gte]": "x"}, {"price": "1"},
                {"active": "maybe"}, {"created_at[gte]": "1700000000"}, {"sort": "cost"}):
        refused = await client.get("/v1/products", params=bad, headers=tenant.admin)
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == next(iter(bad))


async def test_products_sort_and_page_like_other_lists(client: AsyncClient, tenant: Tenant):
    for sku, price in (("B", "30.00"), ("A", "10.00"), ("C", "20.00")):
        await create_product(client, tenant.admin, sku=sku, name=f"Name {sku}",
                             unit_price=price)
    assert await _skus(client, tenant, sort="sku") == ["A", "B", "C"]
    assert await _skus(client, tenant, sort="-unit_price") == ["B", "C", "A"]
    assert await _skus(client, tenant, sort="-name") == ["C", "B", "A"]
    first = await client.get("/v1/products", params={"limit": 2, "sort": "unit_price"},
                             headers=tenant.admin)
    assert [p["sku"] for p in first.json()["data"]] == ["A", "C"]
    rest = await client.get("/v1/products", headers=tenant.admin, params={
        "limit": 2, "sort": "unit_price", "cursor": first.json()["next_cursor"]})
    assert ([p["sku"] for p in rest.json()["data"]], rest.json()["next_cursor"]) == (
        ["B"], None)


async def test_put_by_external_id_creates_then_replaces(client: AsyncClient, tenant: Tenant):
    url = "/v1/products/by-external-id/erp-42"
    created = await client.put(url, headers=tenant.key, json={
        "sku": "ERP-42", "name": "Erp product", "unit_price": "99.90", "currency": "EUR",
        "unit_cost": "50.00", "description": "From the ERP"})
    assert created.status_code == 201, created.text
    product = created.json()
    assert created.headers["location"] == f"/v1/products/{product['id']}"
    assert created.headers["etag"] == '"1"'
    assert (product["external_id"], product["active"], product["version"]) == (
        "erp-42", True, 1)
    replaced = await client.put(url, headers=tenant.key, json={
        "sku": "ERP-42", "name": "Erp product", "unit_price": "109.90", "active": False})
    assert replaced.status_code == 200, replaced.text
    assert "location" not in replaced.headers
    assert replaced.headers["etag"] == '"2"'
    body = replaced.json()
    assert (body["id"], body["unit_price"], body["currency"], body["unit_cost"],
            body["description"], body["active"], body["version"]) == (
        product["id"], "109.90", "NOK", None, None, False, 2)
    same = await client.put(url, headers=tenant.key, json={
        "sku": "ERP-42", "name": "Erp product", "unit_price": "109.9", "currency": "NOK",
        "active": False})
    assert (same.status_code, same.headers["etag"], same.json()) == (200, '"2"', body)
    events = await _events(client, tenant, product["id"])
    assert [e["type"] for e in events] == ["product.created", "product.updated"]
    assert events[0]["data"]["external_id"] == "erp-42"
    assert events[1]["data"]["changes"] == {
        "description": {"from": "From the ERP", "to": None},
        "unit_price": {"from": "99.90", "to": "109.90"},
        "currency": {"from": "EUR", "to": "NOK"},
        "unit_cost": {"from": "50.00", "to": None},
        "active": {"from": True, "to": False}}


async def test_concurrent_puts_of_one_external_id_make_one_product(client: AsyncClient,
                                                                    tenant: Tenant):
    answers = await asyncio.gather(*[
        client.put("/v1/products/by-external-id/race", headers=tenant.key,
                   json={"sku": "RACE", "name": f"Racer {n}", "unit_price": "1.00"})
        for n in range(5)])
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await _skus(client, tenant) == ["RACE"]
    assert len(await read_events(client, tenant, "product.created")) == 1


async def test_put_by_external_id_honours_if_match(client: AsyncClient, tenant: Tenant):
    url = "/v1/products/by-external-id/guarded"
    body = {"sku": "G-1", "name": "First", "unit_price": "1.00"}
    absent = await client.put(url, json=body, headers=tenant.key | {"If-Match": '"1"'})
    assert absent.status_code == 412
    assert await _skus(client, tenant) == []
    await client.put(url, json=body, headers=tenant.key)
    await client.put(url, json=body | {"name": "Second"}, headers=tenant.key)
    stale = await client.put(url, json=body | {"name": "Lost"},
                             headers=tenant.key | {"If-Match": '"1"'})
    assert stale.status_code == 412
    fresh = await client.put(url, json=body | {"name": "Third"},
                             headers=tenant.key | {"If-Match": '"2"'})
    assert (fresh.status_code, fresh.json()["name"]) == (200, "Third")


async def test_put_by_external_id_takes_no_external_id_in_the_body(client: AsyncClient,
                                                                   tenant: Tenant):
    response = await client.put("/v1/products/by-external-id/a", headers=tenant.key, json={
        "sku": "A", "name": "A", "unit_price": "1.00", "external_id": "b"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "external_id"


async def test_a_stale_if_match_is_refused(client: AsyncClient, tenant: Tenant):
    product = await create_product(client, tenant.admin)
    url = f"/v1/products/{product['id']}"
    first = await client.patch(url, headers=tenant.admin | {"If-Match": '"1"'},
                               json={"name": "Renamed"})
    assert first.status_code == 200, first.text
    stale = await client.patch(url, headers=tenant.admin | {"If-Match": '"1"'},
                               json={"name": "Lost"})
    assert stale.status_code == 412
    assert (await client.delete(url, headers=tenant.admin | {"If-Match": '"1"'})
            ).status_code == 412
    assert await _read(client, tenant, product["id"]) == first.json()
    assert (await client.delete(url, headers=tenant.admin | {"If-Match": '"2"'})
            ).status_code == 204


async def test_a_product_on_a_line_cannot_be_deleted(client: AsyncClient, tenant: Tenant):
    product = await create_product(client, tenant.admin)
    opportunity = await insert_opportunity(tenant)
    line = await insert_line(tenant, opportunity, product["id"])
    refused = await client.delete(f"/v1/products/{product['id']}", headers=tenant.admin)
    assert refused.status_code == 409
    assert "deactivate it instead" in refused.json()["detail"]
    assert await _read(client, tenant, product["id"]) == product
    deactivated = await client.patch(f"/v1/products/{product['id']}", headers=tenant.admin,
                                     json={"active": False})
    assert deactivated.json()["active"] is False
    await delete_line(tenant, line)
    await delete_opportunity(tenant, opportunity)
    assert (await client.delete(f"/v1/products/{product['id']}", headers=tenant.admin)
            ).status_code == 204
    assert [e["type"] for e in await _events(client, tenant, product["id"])] == [
        "product.created", "product.updated", "product.deleted"]


async def test_sellers_read_the_catalogue_but_do_not_write_it(client: AsyncClient,
                                                               tenant: Tenant):
    product = await create_product(client, tenant.admin)
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    manager = tenant.token_for((await make_user(client, tenant, role="manager"))["id"])
    assert (await client.get(f"/v1/products/{product['id']}", headers=seller)
            ).status_code == 200
    assert (await client.get("/v1/products", headers=seller)).status_code == 200
    url = f"/v1/products/{product['id']}"
    refused = [
        await client.post("/v1/products", headers=seller,
                          json={"sku": "S", "name": "S", "unit_price": "1.00"}),
        await client.patch(url, headers=seller, json={"name": "Mine"}),
        await client.put("/v1/products/by-external-id/s", headers=seller,
                         json={"sku": "S", "name": "S", "unit_price": "1.00"}),
        await client.delete(url, headers=seller),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert "products:write" in refused[0].json()["detail"]
    assert await _skus(client, tenant) == [product["sku"]]
    assert await _read(client, tenant, product["id"]) == product
    assert (await create_product(client, manager))["id"]


async def test_an_api_key_needs_the_products_scopes(client: AsyncClient, tenant: Tenant):
    made = await client.post("/v1/api-keys", headers=tenant.admin,
                             json={"name": "Reader", "scopes": ["customers:read"]})
    assert made.status_code == 201, made.text
    key = {"Authorization": f"Bearer {made.json()['secret']}"}
    product = await create_product(client, tenant.admin)
    assert (await client.get(f"/v1/products/{product['id']}", headers=key)
            ).status_code == 403
    assert (await client.get("/v1/products", headers=key)).status_code == 403


async def test_another_organizations_product_is_not_found(client: AsyncClient,
                                                          tenant: Tenant,
                                                          other_tenant: Tenant):
    theirs = await create_product(client, other_tenant.admin, external_id="shared")
    url = f"/v1/products/{theirs['id']}"
    answers = [
        await client.get(url, headers=tenant.admin),
        await client.patch(url, headers=tenant.admin, json={"name": "Taken"}),
        await client.delete(url, headers=tenant.admin),
    ]
    assert [r.status_code for r in answers] == [404] * 3
    assert await _skus(client, tenant) == []
    mine = await client.put("/v1/products/by-external-id/shared", headers=tenant.admin,
                            json={"sku": theirs["sku"], "name": "Mine", "unit_price": "1.00"})
    assert mine.status_code == 201, mine.text
    assert mine.json()["id"] != theirs["id"]
    assert await _read(client, other_tenant, theirs["id"]) == theirs
