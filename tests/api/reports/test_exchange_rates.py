"""Exchange rates: create, read, list, change, delete; the base currency, decimals,
duplicates, permissions, events and tenants."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Tenant, make_user, read_events
from tests.pipeline_report_data import add_rate


async def _read(client: AsyncClient, tenant: Tenant, rate_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/exchange-rates/{rate_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _listed(client: AsyncClient, tenant: Tenant, **params: Any) -> list[tuple[str, str]]:
    response = await client.get("/v1/exchange-rates", headers=tenant.admin,
                                params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [(r["currency"], r["valid_from"]) for r in response.json()["data"]]


async def test_a_rate_is_created_read_listed_changed_and_deleted(client: AsyncClient,
                                                                 tenant: Tenant):
    created = await client.post("/v1/exchange-rates", headers=tenant.admin, json={
        "currency": "EUR", "rate": "11.7325000000", "valid_from": "2026-01-01"})
    assert created.status_code == 201, created.text
    rate = created.json()
    assert (rate["currency"], rate["rate"], rate["valid_from"], rate["version"]) == (
        "EUR", "11.7325", "2026-01-01", 1)
    assert created.headers["location"] == f"/v1/exchange-rates/{rate['id']}"
    assert created.headers["etag"] == '"1"'
    assert await _read(client, tenant, rate["id"]) == rate
    patched = await client.patch(f"/v1/exchange-rates/{rate['id']}", headers=tenant.admin,
                                 json={"rate": "0.0000000001"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["rate"], patched.headers["etag"]) == ("0.0000000001", '"2"')
    deleted = await client.delete(f"/v1/exchange-rates/{rate['id']}", headers=tenant.admin)
    assert deleted.status_code == 204
    assert (await client.get(f"/v1/exchange-rates/{rate['id']}", headers=tenant.admin)
            ).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"currency": "NOK"}, "currency"), ({"currency": "XYZ"}, "currency"),
    ({"currency": "eur"}, "currency"), ({"rate": "0"}, "rate"), ({"rate": "-1"}, "rate"),
    ({"rate": "1.00000000001"}, "rate"), ({"rate": "10000000000"}, "rate"),
    ({"rate": "NaN"}, "rate"), ({"valid_from": "2026-02-30"}, "valid_from"),
    ({"extra": 1}, "extra")])
async def test_bad_rates_are_refused_naming_the_field(client: AsyncClient, tenant: Tenant,
                                                      body: dict[str, Any], field: str):
    response = await client.post("/v1/exchange-rates", headers=tenant.admin, json={
        "currency": "EUR", "rate": "11.5", "valid_from": "2026-01-01", **body})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await _listed(client, tenant) == []


async def test_one_rate_per_currency_and_date(client: AsyncClient, tenant: Tenant):
    first = await add_rate(client, tenant, "EUR", "11.5", "2026-01-01")
    again = await client.post("/v1/exchange-rates", headers=tenant.admin, json={
        "currency": "EUR", "rate": "12", "valid_from": "2026-01-01"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    later = await add_rate(client, tenant, "EUR", "12", "2026-02-01")
    moved = await client.patch(f"/v1/exchange-rates/{later['id']}", headers=tenant.admin,
                               json={"valid_from": "2026-01-01"})
    assert moved.status_code == 409
    assert await _read(client, tenant, later["id"]) == later
    assert await _read(client, tenant, first["id"]) == first


async def test_a_rate_cannot_be_changed_to_the_base_currency(client: AsyncClient,
                                                             tenant: Tenant):
    rate = await add_rate(client, tenant, "EUR", "11.5", "2026-01-01")
    response = await client.patch(f"/v1/exchange-rates/{rate['id']}", headers=tenant.admin,
                                  json={"currency": "NOK"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "currency"
    for nothing in ({"rate": None}, {"valid_from": None}):
        refused = await client.patch(f"/v1/exchange-rates/{rate['id']}",
                                     headers=tenant.admin, json=nothing)
        assert refused.status_code == 422
    assert await _read(client, tenant, rate["id"]) == rate


async def test_rates_filter_by_currency_and_date(client: AsyncClient, tenant: Tenant):
    await add_rate(client, tenant, "EUR", "11", "2026-01-01")
    await add_rate(client, tenant, "USD", "10", "2026-03-01")
    await add_rate(client, tenant, "EUR", "11.5", "2026-06-01")
    assert await _listed(client, tenant, currency="EUR") == [("EUR", "2026-01-01"),
                                                             ("EUR", "2026-06-01")]
    assert await _listed(client, tenant, **{"valid_from[gte]": "2026-02-01",
                                            "valid_from[lte]": "2026-05-31"}) == [
        ("USD", "2026-03-01")]
    assert await _listed(client, tenant, sort="-valid_from") == [
        ("EUR", "2026-06-01"), ("USD", "2026-03-01"), ("EUR", "2026-01-01")]


@pytest.mark.parametrize("method", ["patch", "delete"])
async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant, method: str):
    rate = await add_rate(client, tenant, "EUR", "11.5", "2026-01-01")
    url = f"/v1/exchange-rates/{rate['id']}"
    await client.patch(url, json={"rate": "11.6"}, headers=tenant.admin)
    current = await _read(client, tenant, rate["id"])
    stale = tenant.admin | {"If-Match": '"1"'}
    response = await (client.patch(url, json={"rate": "1"}, headers=stale)
                      if method == "patch" else client.delete(url, headers=stale))
    assert response.status_code == 412
    assert await _read(client, tenant, rate["id"]) == current


async def test_sellers_read_rates_but_do_not_write_them(client: AsyncClient, tenant: Tenant):
    rate = await add_rate(client, tenant, "EUR", "11.5", "2026-01-01")
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    manager = tenant.token_for((await make_user(client, tenant, role="manager"))["id"])
    url = f"/v1/exchange-rates/{rate['id']}"
    assert (await client.get(url, headers=seller)).status_code == 200
    assert (await client.post("/v1/exchange-rates", headers=seller, json={
        "currency": "USD", "rate": "10", "valid_from": "2026-01-01"})).status_code == 403
    assert (await client.patch(url, json={"rate": "1"}, headers=seller)).status_code == 403
    assert (await client.delete(url, headers=seller)).status_code == 403
    assert (await client.patch(url, json={"rate": "12"}, headers=manager)).status_code == 200


async def test_another_organizations_rate_is_not_found(client: AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant):
    theirs = await add_rate(client, other_tenant, "EUR", "11.5", "2026-01-01")
    url = f"/v1/exchange-rates/{theirs['id']}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"rate": "1"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    assert await _listed(client, tenant) == []
    mine = await add_rate(client, tenant, "EUR", "10", "2026-01-01")  # same key, no clash
    assert mine["rate"] == "10"
    assert await _read(client, other_tenant, theirs["id"]) == theirs


async def test_changes_to_a_rate_show_in_the_change_feed(client: AsyncClient, tenant: Tenant):
    rate = await add_rate(client, tenant, "EUR", "11.50", "2026-01-01")
    await client.patch(f"/v1/exchange-rates/{rate['id']}", headers=tenant.admin,
                       json={"rate": "11.75", "valid_from": "2026-01-02"})
    await client.delete(f"/v1/exchange-rates/{rate['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, "exchange_rate.created,exchange_rate.updated,"
                                               "exchange_rate.deleted")
    assert [(e["type"], e["aggregate_id"], e["data"]) for e in events] == [
        ("exchange_rate.created", rate["id"],
         {"currency": "EUR", "rate": "11.5", "valid_from": "2026-01-01"}),
        ("exchange_rate.updated", rate["id"], {"changes": {
            "rate": {"from": "11.5", "to": "11.75"},
            "valid_from": {"from": "2026-01-01", "to": "2026-01-02"}}}),
        ("exchange_rate.deleted", rate["id"],
         {"currency": "EUR", "rate": "11.75", "valid_from": "2026-01-02"})]
