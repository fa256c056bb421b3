"""Orders an ERP links back to opportunities: link and update, idempotency, conflicts,
`If-Match`, the opportunity's ordered amount and its conversion, validation, lists and
filters, scopes, tenants, the change feed and deleting an opportunity that has orders."""

import asyncio
import re
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import text

from salescore.repositories.unit_of_work import UnitOfWork
from tests.api.sales.test_lines import statements
from tests.customer_factories import insert_opportunity
from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import sql
from tests.pipeline_report_data import add_rate

ORDER_FIELDS = {"id", "opportunity_id", "system", "order_number", "amount", "currency",
                "status", "url", "ordered_at", "created_at", "updated_at", "version"}


async def _opportunity(tenant: Tenant, currency: str = "NOK", status: str = "open") -> int:
    """An opportunity in `currency` (the organization's base currency is NOK)."""
    opportunity_id = await insert_opportunity(tenant)
    await sql(tenant.app, "UPDATE opportunities SET currency = :currency, status = :status,"
                          " closed_at = CASE WHEN :status = 'open' THEN NULL ELSE now() END"
                          " WHERE organization_id = :org AND id = :id",
              currency=currency, status=status, org=tenant.organization_id, id=opportunity_id)
    return opportunity_id


async def _erp(client: AsyncClient, tenant: Tenant,
               scopes: tuple[str, ...] = ("orders:write", "orders:read")) -> dict[str, str]:
    """Headers with an API key as an ERP holds one."""
    made = await client.post("/v1/api-keys", headers=tenant.admin,
                             json={"name": "ERP", "scopes": list(scopes)})
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['secret']}"}


async def _put(client: AsyncClient, headers: dict[str, str], opportunity_id: int,
               number: str = "SO-1", system: str = "visma", **body: Any) -> Response:
    return await client.put(f"/v1/opportunities/{opportunity_id}/orders/{system}/{number}",
                            headers=headers, json={"amount": "1000.00", **body})


async def _linked(client: AsyncClient, headers: dict[str, str], opportunity_id: int,
                  number: str = "SO-1", **body: Any) -> dict[str, Any]:
    response = await _put(client, headers, opportunity_id, number, **body)
    assert response.status_code in (200, 201), response.text
    order: dict[str, Any] = response.json()
    return order


async def _ordered(tenant: Tenant, opportunity_id: int) -> tuple[str | None, int]:
    """The opportunity's stored ordered amount (as text) and its version."""
    async with tenant.app.state.salescore.engine.connect() as connection:
        row = (await connection.execute(text(
            "SELECT ordered_amount::text AS amount, version FROM opportunities"
            " WHERE organization_id = :org AND id = :id"),
            {"org": tenant.organization_id, "id": opportunity_id})).one()
    return row.amount, row.version


async def _numbers(client: AsyncClient, headers: dict[str, str], path: str = "/v1/orders",
                   **params: Any) -> list[str]:
    response = await client.get(path, headers=headers, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [o["order_number"] for o in response.json()["data"]]


async def _order_events(client: AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    return await read_events(client, tenant, "order.linked,order.updated")


async def test_an_order_is_linked_then_updated(client: AsyncClient, tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    created = await _put(client, erp, opportunity_id, "SO-1001", status="confirmed",
                         url="https://erp.test/orders/1001",
                         ordered_at="2026-03-10T09:00:00+01:00")
    assert created.status_code == 201, created.text
    order = created.json()
    assert set(order) == ORDER_FIELDS
    assert created.headers["location"] == f"/v1/orders/{order['id']}"
    assert created.headers["etag"] == '"1"'
    assert {k: order[k] for k in ("opportunity_id", "system", "order_number", "amount",
                                  "currency", "status", "url", "ordered_at", "version")} == {
        "opportunity_id": opportunity_id, "system": "visma", "order_number": "SO-1001",
        "amount": "1000.00", "currency": "NOK", "status": "confirmed",
        "url": "https://erp.test/orders/1001", "ordered_at": "2026-03-10T08:00:00Z",
        "version": 1}
    read = await client.get(f"/v1/orders/{order['id']}", headers=erp)
    assert (read.status_code, read.json(), read.headers["etag"]) == (200, order, '"1"')
    updated = await _put(client, erp, opportunity_id, "SO-1001", amount="1200.50",
                         status="shipped", url="https://erp.test/orders/1001",
                         ordered_at="2026-03-10T09:00:00+01:00")
    assert updated.status_code == 200, updated.text
    assert (updated.json()["amount"], updated.json()["status"], updated.json()["version"],
            updated.headers["etag"]) == ("1200.50", "shipped", 2, '"2"')
    assert "location" not in updated.headers
    assert await _ordered(tenant, opportunity_id) == ("1200.50", 1)


async def test_a_link_replaces_the_whole_order(client: AsyncClient, tenant: Tenant):
    """Fields left out are cleared, and a currency left out is the opportunity's."""
    await add_rate(client, tenant, "EUR", "11.00", "2026-01-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    await _linked(client, erp, opportunity_id, currency="EUR", status="confirmed",
                  url="https://erp.test/1", ordered_at="2026-03-10T09:00:00Z")
    replaced = await _linked(client, erp, opportunity_id, amount="10.00")
    assert {k: replaced[k] for k in ("currency", "status", "url", "ordered_at", "version")} == {
        "currency": "NOK", "status": None, "url": None, "ordered_at": None, "version": 2}
    assert await _ordered(tenant, opportunity_id) == ("10.00", 1)


async def test_the_same_body_again_changes_nothing(client: AsyncClient, tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    body = {"status": "confirmed", "ordered_at": "2026-03-10T09:00:00Z"}
    first = await _linked(client, erp, opportunity_id, **body)
    for _ in range(2):
        again = await _put(client, erp, opportunity_id, **body)
        assert again.status_code == 200, again.text
        assert again.json() == first
        assert again.headers["etag"] == '"1"'
    events = await _order_events(client, tenant)
    assert [e["type"] for e in events] == ["order.linked"]
    assert await _ordered(tenant, opportunity_id) == ("1000.00", 1)


async def test_an_order_number_on_another_opportunity_is_a_conflict(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    erp = await _erp(client, tenant)
    first, second = await _opportunity(tenant), await _opportunity(tenant)
    order = await _linked(client, erp, first, "SO-7")
    moved = await _put(client, erp, second, "SO-7", amount="5.00")
    assert moved.status_code == 409, moved.text
    assert moved.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/v1/orders/{order['id']}", headers=erp)).json() == order
    assert await _ordered(tenant, second) == (None, 1)
    other_system = await _put(client, erp, second, "SO-7", system="sap")
    assert other_system.status_code == 201, other_system.text
    other_erp = await _erp(client, other_tenant)
    elsewhere = await _put(client, other_erp, await _opportunity(other_tenant), "SO-7")
    assert elsewhere.status_code == 201, elsewhere.text


async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient,
                                                           tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    await _linked(client, erp, opportunity_id)
    current = await _linked(client, erp, opportunity_id, amount="2000.00")
    stale = await _put(client, {**erp, "If-Match": '"1"'}, opportunity_id, amount="3000.00")
    assert stale.status_code == 412, stale.text
    assert (await client.get(f"/v1/orders/{current['id']}", headers=erp)).json() == current
    assert await _ordered(tenant, opportunity_id) == ("2000.00", 1)
    fresh = await _put(client, {**erp, "If-Match": '"2"'}, opportunity_id, amount="3000.00")
    assert (fresh.status_code, fresh.json()["version"]) == (200, 3)
    unborn = await _put(client, {**erp, "If-Match": '"1"'}, opportunity_id, "SO-2")
    assert unborn.status_code == 412, unborn.text
    assert await _numbers(client, erp) == ["SO-1"]
    anything = await _put(client, {**erp, "If-Match": "*"}, opportunity_id, "SO-2")
    assert anything.status_code == 201, anything.text


async def test_an_opportunity_of_any_status_takes_orders(client: AsyncClient,
                                                         tenant: Tenant):
    erp = await _erp(client, tenant)
    for status in ("open", "won", "lost", "expired"):
        opportunity_id = await _opportunity(tenant, status=status)
        linked = await _put(client, erp, opportunity_id, f"SO-{status}")
        assert linked.status_code == 201, linked.text


async def test_ordered_amount_sums_orders_converted_on_their_day(client: AsyncClient,
                                                                 tenant: Tenant):
    """EUR is worth 11 NOK from 2026-01-01 and 11.50 from 2026-06-01 (Oslo days): an order
    made at 23:30 UTC on 31 May is made on 1 June in Oslo."""
    await add_rate(client, tenant, "EUR", "11.00", "2026-01-01")
    await add_rate(client, tenant, "EUR", "11.50", "2026-06-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    assert await _ordered(tenant, opportunity_id) == (None, 1)
    await _linked(client, erp, opportunity_id, "SO-1", amount="1000.00")
    assert await _ordered(tenant, opportunity_id) == ("1000.00", 1)
    euros = await _linked(client, erp, opportunity_id, "SO-2", amount="100.00",
                          currency="EUR", ordered_at="2026-05-31T21:30:00Z")
    assert euros["currency"] == "EUR"
    assert await _ordered(tenant, opportunity_id) == ("2100.00", 1)
    await _linked(client, erp, opportunity_id, "SO-2", amount="100.00", currency="EUR",
                  ordered_at="2026-05-31T22:30:00Z")
    assert await _ordered(tenant, opportunity_id) == ("2150.00", 1)


async def test_an_order_without_ordered_at_is_converted_on_the_day_it_is_linked(
        client: AsyncClient, tenant: Tenant):
    await add_rate(client, tenant, "EUR", "11.00", "2000-01-01")
    await add_rate(client, tenant, "EUR", "99.00", "9999-01-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    await _linked(client, erp, opportunity_id, amount="10.00", currency="EUR")
    assert await _ordered(tenant, opportunity_id) == ("110.00", 1)


async def test_the_sum_is_rounded_half_even_once(client: AsyncClient, tenant: Tenant):
    """0.25 SEK at 0.50 is 0.125 NOK: 0.12 alone, but two of them are 0.25, not 0.24."""
    await add_rate(client, tenant, "SEK", "0.50", "2026-01-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    order = {"amount": "0.25", "currency": "SEK", "ordered_at": "2026-02-01T12:00:00Z"}
    await _linked(client, erp, opportunity_id, "SO-1", **order)
    assert await _ordered(tenant, opportunity_id) == ("0.12", 1)
    await _linked(client, erp, opportunity_id, "SO-2", **order)
    assert await _ordered(tenant, opportunity_id) == ("0.25", 1)


async def test_an_order_is_converted_through_the_base_currency(client: AsyncClient,
                                                               tenant: Tenant):
    """An opportunity in EUR and an order in SEK: 100 SEK is 110 NOK, which is 10 EUR."""
    await add_rate(client, tenant, "EUR", "11.00", "2026-01-01")
    await add_rate(client, tenant, "SEK", "1.10", "2026-01-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant, "EUR")
    await _linked(client, erp, opportunity_id, "SO-1", amount="100.00", currency="SEK",
                  ordered_at="2026-02-01T12:00:00Z")
    await _linked(client, erp, opportunity_id, "SO-2", amount="5.00",
                  ordered_at="2026-02-01T12:00:00Z")
    assert await _ordered(tenant, opportunity_id) == ("15.00", 1)


async def test_an_order_no_rate_converts_is_refused_naming_currency(client: AsyncClient,
                                                                    tenant: Tenant):
    await add_rate(client, tenant, "EUR", "11.00", "2026-06-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    for body in ({"currency": "SEK", "ordered_at": "2026-07-01T12:00:00Z"},
                 {"currency": "EUR", "ordered_at": "2026-05-01T12:00:00Z"}):
        refused = await _put(client, erp, opportunity_id, **body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "currency"
    assert await _numbers(client, erp) == []
    assert await _ordered(tenant, opportunity_id) == (None, 1)
    order = await _linked(client, erp, opportunity_id)
    refused = await _put(client, erp, opportunity_id, currency="SEK")
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "currency")
    stale_and_refused = await _put(client, {**erp, "If-Match": '"9"'}, opportunity_id,
                                   currency="SEK")
    assert stale_and_refused.status_code == 422, "bad input is its 422 before a 412"
    assert (await client.get(f"/v1/orders/{order['id']}", headers=erp)).json() == order
    assert await _ordered(tenant, opportunity_id) == ("1000.00", 1)
    assert [e["type"] for e in await _order_events(client, tenant)] == ["order.linked"]



async def test_orders_that_would_sum_past_what_money_holds_are_refused(client: AsyncClient,
                                                                      tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    await _linked(client, erp, opportunity_id, "SO-1", amount="9000000000000000.00")
    refused = await _put(client, erp, opportunity_id, "SO-2", amount="1000000000000000.00")
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "amount")
    assert await _numbers(client, erp) == ["SO-1"]
    assert await _ordered(tenant, opportunity_id) == ("9000000000000000.00", 1)

@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "-1.00"}, "amount"), ({"amount": "1.005"}, "amount"),
    ({"amount": "ten"}, "amount"), ({"amount": None}, "amount"),
    ({"amount": "10000000000000000.00"}, "amount"),
    ({"currency": "XYZ"}, "currency"), ({"currency": "eur"}, "currency"),
    ({"currency": "EURO"}, "currency"),
    ({"status": ""}, "status"), ({"status": "x" * 101}, "status"),
    ({"url": "ftp://erp.test/1"}, "url"), ({"url": "erp.test/1"}, "url"),
    ({"url": "https://"}, "url"), ({"url": "https://erp.test/a b"}, "url"),
    ({"url": "https://erp.test/" + "x" * 2000}, "url"),
    ({"ordered_at": "2026-03-10"}, "ordered_at"),
    ({"ordered_at": "2026-03-10T09:00:00"}, "ordered_at"),
    ({"ordered_at": 1773133200}, "ordered_at"),
    ({"version": 1}, "version"), ({"order_number": "SO-2"}, "order_number")])
async def test_bad_input_is_refused_naming_the_field(client: AsyncClient, tenant: Tenant,
                                                     body: dict[str, Any], field: str):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    response = await _put(client, erp, opportunity_id, **body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await _numbers(client, erp) == []
    assert await _ordered(tenant, opportunity_id) == (None, 1)


async def test_an_amount_is_required_and_the_path_is_bounded(client: AsyncClient,
                                                             tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    path = f"/v1/opportunities/{opportunity_id}/orders"
    missing = await client.put(f"{path}/visma/SO-1", headers=erp, json={})
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "amount")
    for url, field in ((f"{path}/{'s' * 201}/SO-1", "system"),
                       (f"{path}/visma/{'9' * 201}", "order_number"),
                       (f"{path}/%20/SO-1", "system")):
        refused = await client.put(url, headers=erp, json={"amount": "1.00"})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, field)
    assert await _numbers(client, erp) == []


async def test_orders_are_listed_and_filtered(client: AsyncClient, tenant: Tenant):
    erp = await _erp(client, tenant)
    first, second = await _opportunity(tenant), await _opportunity(tenant)
    a = await _linked(client, erp, first, "A-1", ordered_at="2026-01-15T12:00:00Z",
                      status="confirmed")
    await _linked(client, erp, first, "A-2", ordered_at="2026-02-15T12:00:00Z")
    await _linked(client, erp, second, "A-1", system="sap",
                  ordered_at="2026-03-15T12:00:00Z")
    await _linked(client, erp, second, "B-1")
    assert await _numbers(client, erp) == ["A-1", "A-2", "A-1", "B-1"]
    assert await _numbers(client, erp, system="sap") == ["A-1"]
    assert await _numbers(client, erp, order_number="A-1", system="visma") == ["A-1"]
    assert await _numbers(client, erp, opportunity_id=second) == ["A-1", "B-1"]
    assert await _numbers(client, erp, status="confirmed") == ["A-1"]
    assert await _numbers(client, erp, **{"ordered_at[gte]": "2026-02-01"}) == ["A-2", "A-1"]
    assert await _numbers(client, erp, **{"ordered_at[lte]": "2026-02-15T12:00:00Z"}) == [
        "A-1", "A-2"]
    assert await _numbers(client, erp, **{"id[ne]": a["id"], "sort": "-ordered_at"}) == [
        "A-1", "A-2", "B-1"]
    assert await _numbers(client, erp, **{"created_at[gte]": a["created_at"],
                                          "updated_at[lte]": "2999-01-01"}) == [
        "A-1", "A-2", "A-1", "B-1"]
    assert await _numbers(client, erp, f"/v1/opportunities/{first}/orders") == ["A-1", "A-2"]
    assert await _numbers(client, erp, f"/v1/opportunities/{second}/orders",
                          system="visma") == ["B-1"]
    page = await client.get("/v1/orders", headers=erp, params={"limit": 3})
    assert [o["order_number"] for o in page.json()["data"]] == ["A-1", "A-2", "A-1"]
    rest = await client.get("/v1/orders", headers=erp,
                            params={"limit": 3, "cursor": page.json()["next_cursor"]})
    assert ([o["order_number"] for o in rest.json()["data"]], rest.json()["next_cursor"]) == (
        ["B-1"], None)
    for params in ({"sytem": "sap"}, {"ordered_at[gte]": "2026-02-01T00:00:00"},
                   {"opportunity_id": "one"}, {"sort": "amount"}):
        refused = await client.get("/v1/orders", headers=erp, params=params)
        assert refused.status_code == 422, (params, refused.text)
    refused = await client.get(f"/v1/opportunities/{first}/orders", headers=erp,
                               params={"opportunity_id": second})
    assert refused.status_code == 422, "the opportunity's list has no opportunity filter"


async def test_a_seller_reads_orders_but_cannot_link_them(client: AsyncClient,
                                                          tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    order = await _linked(client, erp, opportunity_id)
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    refused = await _put(client, seller, opportunity_id, amount="1.00")
    assert refused.status_code == 403, refused.text
    reader = await _erp(client, tenant, ("orders:read",))
    assert (await _put(client, reader, opportunity_id, amount="1.00")).status_code == 403
    assert (await client.get(f"/v1/orders/{order['id']}", headers=seller)).json() == order
    assert await _numbers(client, seller) == ["SO-1"]
    assert await _numbers(client, seller, f"/v1/opportunities/{opportunity_id}/orders") == [
        "SO-1"]
    blind = await _erp(client, tenant, ("orders:write",))
    assert (await client.get("/v1/orders", headers=blind)).status_code == 403
    manager = tenant.token_for((await make_user(client, tenant, role="manager"))["id"])
    assert (await _put(client, manager, opportunity_id, amount="2.00")).status_code == 200
    assert await _ordered(tenant, opportunity_id) == ("2.00", 1)


async def test_expanding_orders_needs_their_read_scope(client: AsyncClient, tenant: Tenant):
    opportunity_id = await _opportunity(tenant)
    await _linked(client, await _erp(client, tenant), opportunity_id)
    key = await _erp(client, tenant, ("opportunities:read",))
    url = f"/v1/opportunities/{opportunity_id}"
    for path in (f"{url}?expand=orders", "/v1/opportunities?expand=orders"):
        assert (await client.get(path, headers=key)).status_code == 403, path
    assert (await client.get(f"{url}?expand=lines", headers=key)).status_code == 200
    reader = await _erp(client, tenant, ("opportunities:read", "orders:read"))
    shown = (await client.get(f"{url}?expand=orders", headers=reader)).json()
    assert [o["order_number"] for o in shown["orders"]] == ["SO-1"]


async def test_another_organizations_opportunity_and_order_are_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    order = await _linked(client, erp, opportunity_id)
    rival = await _erp(client, other_tenant)
    for headers in (rival, other_tenant.admin):
        linked = await _put(client, headers, opportunity_id, "SO-9")
        assert linked.status_code == 404, linked.text
        assert (await client.get(f"/v1/orders/{order['id']}", headers=headers)
                ).status_code == 404
        assert (await client.get(f"/v1/opportunities/{opportunity_id}/orders",
                                 headers=headers)).status_code == 404
        assert await _numbers(client, headers) == []
        assert await _numbers(client, headers, opportunity_id=opportunity_id) == []
    assert (await _put(client, erp, 999_999_999, "SO-9")).status_code == 404
    assert (await client.get("/v1/opportunities/999999999/orders", headers=erp)
            ).status_code == 404
    assert (await client.get("/v1/orders/999999999", headers=erp)).status_code == 404
    assert await _numbers(client, erp) == ["SO-1"]


async def test_links_and_updates_are_in_the_change_feed(client: AsyncClient,
                                                        tenant: Tenant):
    await add_rate(client, tenant, "EUR", "11.00", "2026-01-01")
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    order = await _linked(client, erp, opportunity_id, amount="100.00", currency="EUR",
                          ordered_at="2026-03-10T09:00:00Z", status="confirmed")
    await _linked(client, erp, opportunity_id, amount="100.00", currency="EUR",
                  ordered_at="2026-03-10T09:00:00Z", status="shipped",
                  url="https://erp.test/1")
    linked, updated = await _order_events(client, tenant)
    assert (linked["type"], linked["aggregate_type"], linked["aggregate_id"]) == (
        "order.linked", "order", order["id"])
    assert linked["actor"]["type"] == "api_key"
    assert linked["data"] == {
        "opportunity_id": opportunity_id, "system": "visma", "order_number": "SO-1",
        "amount": "100.00", "currency": "EUR", "status": "confirmed", "url": None,
        "ordered_at": "2026-03-10T09:00:00+00:00", "opportunity_ordered_amount": "1100.00"}
    assert (updated["type"], updated["aggregate_id"]) == ("order.updated", order["id"])
    assert updated["data"] == {
        "opportunity_id": opportunity_id, "system": "visma", "order_number": "SO-1",
        "changes": {"status": {"from": "confirmed", "to": "shipped"},
                    "url": {"from": None, "to": "https://erp.test/1"}},
        "opportunity_ordered_amount": "1100.00"}
    assert not [e for e in await read_events(client, tenant)
                if e["aggregate_type"] == "opportunity"], "the opportunity has no event"


async def test_concurrent_links_to_one_opportunity_each_count_in_its_sum(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """Two links held up by a lock on the opportunity: once it is released, each sums the
    orders with the other's, whichever commits first."""
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    keys = {"org": tenant.organization_id, "id": opportunity_id}
    async with app.state.salescore.engine.connect() as holder:
        await holder.execute(text("SELECT id FROM opportunities WHERE organization_id = :org"
                                  " AND id = :id FOR UPDATE"), keys)
        links = [asyncio.create_task(_put(client, erp, opportunity_id, f"SO-{n}",
                                          amount=f"{n}00.00")) for n in (1, 2)]
        for _ in range(200):
            if await sql(app, "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                              " current_database() AND wait_event_type = 'Lock'") >= 2:
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError("the links did not wait for the opportunity")
        await holder.rollback()
    assert [(await link).status_code for link in links] == [201, 201]
    assert await _ordered(tenant, opportunity_id) == ("300.00", 1)


async def test_an_opportunity_with_orders_is_not_deleted(client: AsyncClient,
                                                         tenant: Tenant):
    """The ERP's order points at it: deleting it is a conflict, not a server error."""
    erp = await _erp(client, tenant)
    opportunity_id = await _opportunity(tenant)
    await _linked(client, erp, opportunity_id)
    deleted = await client.delete(f"/v1/opportunities/{opportunity_id}",
                                  headers=tenant.admin)
    assert deleted.status_code == 409, deleted.text
    assert "orders from the ERP" in deleted.json()["detail"]
    bulk = await client.post("/v1/opportunities/bulk-delete", headers=tenant.admin,
                             json={"ids": [opportunity_id]})
    assert bulk.status_code == 409, bulk.text
    assert bulk.json()["detail"].startswith("ids[0]: orders from the ERP")
    assert await _ordered(tenant, opportunity_id) == ("1000.00", 1)
    assert await _numbers(client, erp, f"/v1/opportunities/{opportunity_id}/orders") == [
        "SO-1"]


async def test_the_orders_of_a_page_of_opportunities_are_read_at_once(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    """What `expand=orders` reads: each opportunity's orders, oldest first, none for one
    without, never another organization's."""
    erp = await _erp(client, tenant)
    first, second, bare = (await _opportunity(tenant), await _opportunity(tenant),
                           await _opportunity(tenant))
    a = await _linked(client, erp, first, "A-1")
    b = await _linked(client, erp, first, "A-2")
    c = await _linked(client, erp, second, "B-1")
    foreign = await _opportunity(other_tenant)
    await _linked(client, await _erp(client, other_tenant), foreign, "X-1")
    uow = UnitOfWork(tenant.app.state.salescore.sessions)
    async with uow:
        found = await uow.orders.for_opportunities(tenant.organization_id,
                                                   [first, second, bare, foreign])
    assert {k: [o.id for o in v] for k, v in found.items()} == {
        first: [a["id"], b["id"]], second: [c["id"]], bare: [], foreign: []}


async def test_expand_orders_reads_a_pages_orders_in_one_query(client: AsyncClient,
                                                               tenant: Tenant):
    erp = await _erp(client, tenant)
    for n in range(3):
        await _linked(client, erp, await _opportunity(tenant), f"P-{n}")
    with statements(tenant.app) as sent:
        page = await client.get("/v1/opportunities?expand=orders", headers=tenant.admin)
        await asyncio.sleep(0.01)  # the driver's query loggers are called soon after
    assert page.status_code == 200, page.text
    assert sorted(o["order_number"] for d in page.json()["data"] for o in d["orders"]) == [
        "P-0", "P-1", "P-2"]
    assert sum(bool(re.search(r"\bFROM orders\b", q, re.I)) for q in sent) == 1


async def test_the_opportunity_shows_its_orders_and_is_found_by_having_them(
        client: AsyncClient, tenant: Tenant):
    erp = await _erp(client, tenant)
    ordered, bare = await _opportunity(tenant), await _opportunity(tenant)
    order = await _linked(client, erp, ordered, "SO-9", amount="250.00")
    read = (await client.get(f"/v1/opportunities/{ordered}", params={"expand": "orders"},
                             headers=tenant.admin)).json()
    assert read["ordered_amount"] == "250.00"
    assert [o["order_number"] for o in read["orders"]] == ["SO-9"]
    assert read["orders"][0]["id"] == order["id"]
    plain = (await client.get(f"/v1/opportunities/{bare}", headers=tenant.admin)).json()
    assert plain["ordered_amount"] is None and "orders" not in plain
    for value, expected in (("true", [ordered]), ("false", [bare])):
        page = (await client.get("/v1/opportunities", headers=tenant.admin,
                                 params={"has_order": value, "expand": "orders"})).json()
        assert [o["id"] for o in page["data"]] == expected
        assert all("orders" in o for o in page["data"])
