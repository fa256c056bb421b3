"""The campaign report: what the opportunities created in a period became, per campaign or
source; win rate, conversion, exports, tenants."""

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

MAY = {"from": "2026-05-01", "to": "2026-05-31"}


@pytest.fixture
async def sales(app: FastAPI, client: AsyncClient, tenant: Tenant) -> Sales:
    """make_sales with the campaign's deals created in May 2026 (fleet, euro, won) and
    January (lost); the others are created today."""
    made = await make_sales(app, client, tenant)
    for name, created in (("fleet", "2026-05-01T00:30:00+02:00"),
                          ("euro", "2026-05-20T12:00:00Z"), ("won", "2026-05-31T21:00:00Z"),
                          ("lost", "2026-01-10T12:00:00Z")):
        await set_column(app, tenant, made.deals[name]["id"], "created_at", created)
    return made


async def report(client: AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    return await read_report(client, tenant, "campaigns", **params)


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["created_count"], row["open_count"], row["pipeline_amount"],
            row["weighted_amount"], row["won_count"], row["won_amount"], row["lost_count"],
            row["expired_count"], row["win_rate"])


def groups(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    key = body["group_by"]
    return [(g["key"][key] and g["key"][key]["name"], *figures(g)) for g in body["groups"]]


async def test_per_campaign_the_deals_created_and_what_became_of_them(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant)
    assert (body["currency"], body["group_by"], body["from"], body["to"]) == (
        "NOK", "campaign", None, None)
    assert groups(body) == [
        ("Spring fair", 4, 2, "2150.00", "675.00", 1, "2000.00", 1, 0, "50.00"),
        (None, 3, 3, "3000.50", "300.25", 0, "0.00", 0, 0, None)]
    assert figures(body["total"]) == (7, 5, "5150.50", "975.25", 1, "2000.00", 1, 0, "50.00")
    assert [(u["currency"], *figures(u)) for u in body["unconverted"]] == [
        ("SEK", 1, 1, "500.00", "50.00", 0, "0.00", 0, 0, None)]


async def test_only_deals_created_in_the_period_count(client: AsyncClient, tenant: Tenant,
                                                      sales: Sales):
    body = await report(client, tenant, **MAY)
    assert groups(body) == [
        ("Spring fair", 3, 2, "2150.00", "675.00", 1, "2000.00", 0, 0, "100.00")]
    assert body["unconverted"] == []
    january = await report(client, tenant, **{"to": "2026-01-31"})
    assert groups(january) == [("Spring fair", 1, 0, "0.00", "0.00", 0, "0.00", 1, 0, "0.00")]


async def test_per_source(client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant, group_by="source")
    assert groups(body) == [
        ("Web", 2, 2, "4000.00", "400.00", 0, "0.00", 0, 0, None),
        (None, 5, 3, "1150.50", "575.25", 1, "2000.00", 1, 0, "50.00")]


async def test_totals_equal_the_sums_over_the_opportunities_the_list_gives(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant, **MAY)
    found = await listed(client, tenant, campaign_id=sales.campaign["id"],
                         **{"created_at[gte]": "2026-04-30T22:00:00Z",
                            "created_at[lte]": "2026-05-31T21:59:59.999999Z"})
    rated = [(d, rate_on(d["currency"], FX)) for d in found]

    def total(status: str, weighted: bool = False) -> str:
        return money(sum((Decimal(d["amount"]) * r
                          * (Decimal(d["probability"]) / 100 if weighted else 1)
                          for d, r in rated if r and d["status"] == status), Decimal(0)))

    assert figures(body["total"])[:6] == (
        len(found), sum(d["status"] == "open" for d in found), total("open"),
        total("open", weighted=True), sum(d["status"] == "won" for d in found), total("won"))


async def test_the_report_exports_with_the_win_rate(client: AsyncClient, tenant: Tenant,
                                                    sales: Sales):
    response = await client.get("/v1/reports/campaigns", headers=tenant.admin,
                                params={**MAY, "fx_date": FX, "format": "csv"})
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table == [
        ["campaign_id", "campaign", "currency", "created_count", "open_count",
         "pipeline_amount", "weighted_amount", "won_count", "won_amount", "lost_count",
         "expired_count", "win_rate"],
        [str(sales.campaign["id"]), "Spring fair", "NOK", "3", "2", "2150.00", "675.00",
         "1", "2000.00", "0", "0", "100.00"]]


async def test_another_organizations_deals_never_count(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant,
        sales: Sales):
    theirs = await make_world(app, other_tenant)
    await create_opportunity(client, other_tenant, theirs.customer_id, amount="999.00")
    body = await report(client, tenant)
    assert figures(body["total"])[:3] == (7, 5, "5150.50")
    assert groups(await report(client, other_tenant)) == [
        (None, 1, 1, "999.00", "99.90", 0, "0.00", 0, 0, None)]


@pytest.mark.parametrize(("params", "field"), [
    ({"group_by": "owner"}, "group_by"), ({"group_by": "campaign,source"}, "group_by"),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "to"), ({"q": "x"}, "q")])
async def test_bad_parameters_are_refused_naming_them(client: AsyncClient, tenant: Tenant,
                                                      params: dict[str, str], field: str):
    response = await client.get("/v1/reports/campaigns", headers=tenant.admin, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
