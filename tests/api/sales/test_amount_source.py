"""An opportunity's amount and margin taken from its product lines (`amount_source=lines`),
the offer discount, and the currency an opportunity with lines keeps (DOMAIN.md §6)."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.factories import Tenant, read_events
from tests.opportunity_factories import World, create_opportunity, make_world


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


@pytest.fixture
async def deal(client: AsyncClient, tenant: Tenant, world: World) -> dict[str, Any]:
    """An opportunity with a manual amount of 1000.00, a margin of 100.00, and two lines:
    2 x 300.00 at 10 % off (cost 200.00 each), and 1 x 100.00 (cost 40.00)."""
    made = await create_opportunity(client, tenant, world.customer_id, margin_amount="100")
    path = f"/v1/opportunities/{made['id']}/lines"
    for line in ({"name": "Licence", "quantity": "2", "unit_price": "300",
                  "discount_percent": "10", "unit_cost": "200"},
                 {"name": "Setup", "unit_price": "100", "unit_cost": "40"}):
        response = await client.post(path, json=line, headers=tenant.admin)
        assert response.status_code == 201, response.text
    return await read(client, tenant, made["id"])


async def read(client: AsyncClient, tenant: Tenant, opportunity_id: int) -> dict[str, Any]:
    response = await client.get(f"/v1/opportunities/{opportunity_id}", headers=tenant.admin)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def patch(client: AsyncClient, tenant: Tenant, opportunity: dict[str, Any],
                **fields: Any) -> Response:
    return await client.patch(f"/v1/opportunities/{opportunity['id']}", json=fields,
                              headers=tenant.admin)


def figures(opportunity: dict[str, Any]) -> tuple[Any, ...]:
    return (opportunity["amount_source"], opportunity["discount_percent"],
            opportunity["lines_total"], opportunity["amount"], opportunity["margin_amount"])


async def test_a_new_opportunity_is_manual_without_discount_lines_or_orders(
        client: AsyncClient, tenant: Tenant, world: World):
    made = await create_opportunity(client, tenant, world.customer_id)
    assert figures(made) == ("manual", "0.00", "0.00", "1000.00", None)
    assert made["ordered_amount"] is None


async def test_lines_keep_their_total_but_a_manual_amount_stays_as_typed(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    assert figures(deal) == ("manual", "0.00", "640.00", "1000.00", "100.00")


async def test_switching_to_lines_derives_amount_and_margin_in_one_event(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    switched = await patch(client, tenant, deal, amount_source="lines")
    assert switched.status_code == 200, switched.text
    # 640.00 - 2 x 200.00 - 40.00
    assert figures(switched.json()) == ("lines", "0.00", "640.00", "640.00", "200.00")
    assert switched.json()["version"] == deal["version"] + 1
    event = (await read_events(client, tenant))[-1]
    assert event["type"] == "opportunity.updated"
    assert {k: event["data"]["changes"][k] for k in ("amount_source", "amount",
                                                      "margin_amount")} == {
        "amount_source": {"from": "manual", "to": "lines"},
        "amount": {"from": "1000.00", "to": "640.00"},
        "margin_amount": {"from": "100.00", "to": "200.00"}}


async def test_on_lines_the_offer_discount_and_every_line_change_move_the_amount(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    await patch(client, tenant, deal, amount_source="lines")
    discounted = await patch(client, tenant, deal, discount_percent="12.5")
    assert figures(discounted.json()) == ("lines", "12.50", "640.00", "560.00", "120.00")
    lines = (await client.get(f"/v1/opportunities/{deal['id']}/lines",
                              headers=tenant.admin)).json()["data"]
    changed = await client.patch(f"/v1/opportunities/{deal['id']}/lines/{lines[1]['id']}",
                                 json={"quantity": "3"}, headers=tenant.admin)
    assert changed.status_code == 200, changed.text
    # 540.00 + 3 x 100.00 = 840.00, less 12.5 % (105.00) = 735.00; costs 400.00 + 120.00
    now = await read(client, tenant, deal["id"])
    assert figures(now) == ("lines", "12.50", "840.00", "735.00", "215.00")
    assert now["weighted_amount"] == "73.50"
    event = (await read_events(client, tenant))[-1]
    assert event["data"]["changes"]["amount"] == {"from": "560.00", "to": "735.00"}
    assert event["data"]["changes"]["lines_total"] == {"from": "640.00", "to": "840.00"}
    no_cost = await client.post(f"/v1/opportunities/{deal['id']}/lines", headers=tenant.admin,
                                json={"name": "Support", "unit_price": "60"})
    assert no_cost.status_code == 201, no_cost.text
    assert (await read(client, tenant, deal["id"]))["margin_amount"] is None


async def _refused(client: AsyncClient, tenant: Tenant, deal: dict[str, Any],
                   response: Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await read(client, tenant, deal["id"]) == deal


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "5.00"}, "amount"), ({"margin_amount": "1.00"}, "margin_amount"),
    ({"margin_amount": None}, "margin_amount"),
    ({"amount_source": "lines", "amount": "640.00"}, "amount"),
])
async def test_amount_and_margin_cannot_be_written_on_lines(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any], body: dict[str, Any],
        field: str):
    if "amount_source" not in body:
        deal = (await patch(client, tenant, deal, amount_source="lines")).json()
    await _refused(client, tenant, deal, await patch(client, tenant, deal, **body), field)


async def test_switching_back_to_manual_keeps_the_last_amount_and_takes_writes_again(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any]):
    await patch(client, tenant, deal, amount_source="lines")
    back = await patch(client, tenant, deal, amount_source="manual")
    assert figures(back.json()) == ("manual", "0.00", "640.00", "640.00", "200.00")
    typed = await patch(client, tenant, deal, amount="700", discount_percent="50")
    assert figures(typed.json()) == ("manual", "50.00", "640.00", "700.00", "200.00")
    both = await patch(client, tenant, deal, amount_source="manual", amount="800")
    assert both.json()["amount"] == "800.00"


async def test_the_currency_cannot_change_while_there_are_lines(
        client: AsyncClient, tenant: Tenant, world: World, deal: dict[str, Any]):
    await _refused(client, tenant, deal, await patch(client, tenant, deal, currency="EUR"),
                   "currency")
    assert (await patch(client, tenant, deal, currency="NOK")).status_code == 200
    bare = await create_opportunity(client, tenant, world.customer_id)
    moved = await patch(client, tenant, bare, currency="EUR")
    assert moved.status_code == 200 and moved.json()["currency"] == "EUR"


@pytest.mark.parametrize("discount", ["100.01", "-1", "2.555", "lots"])
async def test_an_offer_discount_out_of_bounds_is_refused(
        client: AsyncClient, tenant: Tenant, deal: dict[str, Any], discount: str):
    await _refused(client, tenant, deal,
                   await patch(client, tenant, deal, discount_percent=discount),
                   "discount_percent")


async def test_a_new_opportunity_on_lines_starts_at_zero_and_refuses_an_amount(
        client: AsyncClient, tenant: Tenant, world: World):
    body = {"name": "Deal", "customer_id": world.customer_id, "amount_source": "lines"}
    made = await client.post("/v1/opportunities", headers=tenant.admin,
                             json={**body, "discount_percent": "5"})
    assert made.status_code == 201, made.text
    assert figures(made.json()) == ("lines", "5.00", "0.00", "0.00", "0.00")
    for field in ("amount", "margin_amount"):
        refused = await client.post("/v1/opportunities", headers=tenant.admin,
                                    json={**body, field: "10"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    upserted = await client.put("/v1/opportunities/by-external-id/erp-9", headers=tenant.admin,
                                json={**body, "amount": "10"})
    assert upserted.status_code == 422 and upserted.json()["errors"][0]["field"] == "amount"
