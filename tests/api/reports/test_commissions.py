"""The commission report: per seller from shares, won in a period of the organization's
days, expected on open deals; totals, conversion, exports, tenants."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant
from tests.opportunity_factories import create_opportunity, make_world
from tests.pipeline_report_data import (
    FX,
    Sales,
    listed,
    make_sales,
    money,
    rate_on,
    read_report,
    set_column,
)

APRIL = {"from": "2026-04-01", "to": "2026-04-30"}
# Just after midnight on 1 April in Oslo (summer time, UTC+2), still 31 March in UTC.
FIRST_OF_APRIL_IN_OSLO = "2026-03-31T22:30:00Z"


@pytest.fixture
async def sales(app: FastAPI, client: AsyncClient, tenant: Tenant) -> Sales:
    """make_sales, and more closed deals: "won" (Ada's 2000 NOK) closed just inside
    April in Oslo; a EUR 300 deal of Ada and Bo, half each, won in mid-April; a SEK deal
    won in April; a deal won in March."""
    made = await make_sales(app, client, tenant)
    await set_column(app, tenant, made.deals["won"]["id"], "closed_at",
                     FIRST_OF_APRIL_IN_OSLO)

    async def won(closed_at: str, **fields: Any) -> dict[str, Any]:
        deal = await create_opportunity(client, tenant, made.world.customer_id,
                                        owner_id=made.ada["id"], **fields)
        if fields.get("currency") == "EUR":
            await client.post(f"/v1/opportunities/{deal['id']}/sellers",
                              headers=tenant.admin, json={"user_id": made.bo["id"],
                                                          "share": "50"})
        answer = await client.post(f"/v1/opportunities/{deal['id']}/win",
                                   headers=tenant.admin)
        assert answer.status_code == 200, answer.text
        await set_column(app, tenant, deal["id"], "closed_at", closed_at)
        return deal

    made.deals["euro_won"] = await won("2026-04-15T10:00:00Z", currency="EUR",
                                       amount="300.00")
    made.deals["krona_won"] = await won("2026-04-20T10:00:00Z", currency="SEK",
                                        amount="80.00")
    made.deals["march_won"] = await won("2026-03-31T21:59:59Z", amount="5000.00")
    return made


async def report(client: AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    return await read_report(client, tenant, "commissions", **params)


def figures(row: dict[str, Any]) -> tuple[int, str, int, str]:
    return row["won_count"], row["won_amount"], row["open_count"], row["expected_amount"]


async def test_each_seller_is_credited_their_share_of_won_and_expected_deals(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant, **APRIL)
    assert (body["currency"], body["fx_date"], body["from"], body["to"]) == (
        "NOK", FX, "2026-04-01", "2026-04-30")
    # Ada: 2000 + half of 300 EUR * 11.5; open 1000 @ 10 %, 1150 @ 50 %, 60 % of 3000 @ 10 %.
    # Bo: half of 3450; open 0.25 @ 50 % twice, 40 % of 3000 @ 10 %.
    assert [(s["seller"], *figures(s)) for s in body["sellers"]] == [
        ({"id": sales.ada["id"], "name": "Ada"}, 2, "3725.00", 3, "855.00"),
        ({"id": sales.bo["id"], "name": "Bo"}, 1, "1725.00", 3, "120.25")]
    assert figures(body["total"]) == (2, "5450.00", 5, "975.25")  # each deal counted once
    assert [(u["currency"], *figures(u)) for u in body["unconverted"]] == [
        ("SEK", 1, "80.00", 1, "50.00")]


async def test_the_period_is_of_days_in_the_organizations_time_zone(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    march = await report(client, tenant, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert [(s["seller"]["name"], *figures(s)) for s in march["sellers"]] == [
        ("Ada", 1, "5000.00", 3, "855.00"), ("Bo", 0, "0.00", 3, "120.25")]
    first_day = await report(client, tenant, **{"from": "2026-04-01", "to": "2026-04-01"})
    assert figures(first_day["total"])[:2] == (1, "2000.00")
    open_ended = await report(client, tenant, **{"from": "2026-04-02"})
    assert figures(open_ended["total"])[:2] == (1, "3450.00")
    everything = await report(client, tenant)
    assert (everything["from"], everything["to"]) == (None, None)
    assert figures(everything["total"])[:2] == (3, "10450.00")


async def test_totals_equal_the_sums_over_the_opportunities_the_list_gives(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant, **APRIL)
    won = await listed(client, tenant, status="won",
                       **{"closed_at[gte]": "2026-03-31T22:00:00Z",
                          "closed_at[lte]": "2026-04-30T21:59:59.999999Z"})
    opened = await listed(client, tenant, status="open")
    for seller in body["sellers"]:
        user = seller["seller"]["id"]

        def credit(deal: dict[str, Any], weight: Decimal, user: int = user) -> Decimal:
            share = next((Decimal(s["share"]) for s in deal["sellers"]
                          if s["user_id"] == user), Decimal(0))
            rate = rate_on(deal["currency"], FX) or Decimal(0)
            return Decimal(deal["amount"]) * share / 100 * weight * rate

        assert seller["won_amount"] == money(sum((credit(d, Decimal(1)) for d in won),
                                                 Decimal(0)))
        assert seller["expected_amount"] == money(sum(
            (credit(d, Decimal(d["probability"]) / 100) for d in opened), Decimal(0)))
    converted = [d for d in won if rate_on(d["currency"], FX)]
    assert body["total"]["won_count"] == len(converted)


async def test_the_report_exports_one_row_per_seller(client: AsyncClient, tenant: Tenant,
                                                     sales: Sales):
    response = await client.get("/v1/reports/commissions", params={**APRIL, "fx_date": FX},
                                headers={**tenant.admin, "Accept": "text/csv"})
    assert response.status_code == 200, response.text
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table == [
        ["seller_id", "seller", "currency", "won_count", "won_amount", "open_count",
         "expected_amount"],
        [str(sales.ada["id"]), "Ada", "NOK", "2", "3725.00", "3", "855.00"],
        [str(sales.bo["id"]), "Bo", "NOK", "1", "1725.00", "3", "120.25"],
        ["", "", "SEK", "1", "80.00", "1", "50.00"]]
    xlsx = await client.get("/v1/reports/commissions", headers=tenant.admin,
                            params={**APRIL, "format": "xlsx"})
    assert xlsx.headers["content-disposition"] == 'attachment; filename="commissions.xlsx"'


async def test_another_organizations_deals_never_count(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant,
        sales: Sales):
    theirs = await make_world(app, other_tenant)
    deal = await create_opportunity(client, other_tenant, theirs.customer_id,
                                    amount="999.00")
    await client.post(f"/v1/opportunities/{deal['id']}/win", headers=other_tenant.admin)
    body = await report(client, tenant)
    assert other_tenant.admin_id not in [s["seller"]["id"] for s in body["sellers"]]
    assert figures(body["total"])[:2] == (3, "10450.00")
    assert figures((await report(client, other_tenant))["total"]) == (1, "999.00", 0, "0.00")


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-05-01", "to": "2026-04-30"}, "to"), ({"from": "May"}, "from"),
    ({"owner_id": "1"}, "owner_id")])
async def test_bad_parameters_are_refused_naming_them(client: AsyncClient, tenant: Tenant,
                                                      params: dict[str, str], field: str):
    response = await client.get("/v1/reports/commissions", headers=tenant.admin,
                                params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(("path", "param"), [
    ("commissions", "group_by"), ("commissions", "as_of"), ("campaigns", "as_of")])
async def test_a_report_refuses_a_parameter_it_does_not_have(
        client: AsyncClient, tenant: Tenant, path: str, param: str):
    response = await client.get(f"/v1/reports/{path}", params={param: "seller"},
                                headers=tenant.admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == param
