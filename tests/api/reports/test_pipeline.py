"""The pipeline / forecast report: groups, totals to the cent, currency conversion, the
opportunity list's filters, exports, and tenants (data: tests/pipeline_report_data.py)."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.factories import Tenant
from tests.opportunity_factories import create_opportunity, make_world
from tests.pipeline_report_data import (
    FX,
    Sales,
    add_rate,
    listed,
    make_sales,
    money,
    rate_on,
    read_report,
)


@pytest.fixture
async def sales(app: FastAPI, client: AsyncClient, tenant: Tenant) -> Sales:
    return await make_sales(app, client, tenant)


async def report(client: AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    return await read_report(client, tenant, "pipeline", **params)


def figures(row: dict[str, Any]) -> tuple[int, str, str]:
    return row["count"], row["amount"], row["weighted_amount"]


def rows(body: dict[str, Any], key: str) -> list[tuple[Any, int, str, str]]:
    def label(value: Any) -> Any:
        return value["name"] if isinstance(value, dict) else value
    return [(label(g["key"][key]), *figures(g)) for g in body["groups"]]


async def test_totals_are_converted_and_weighted_sums_round_once(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant)
    assert (body["currency"], body["fx_date"], body["group_by"], body["groups"]) == (
        "NOK", FX, [], [])
    # 1000 + 100 EUR * 11.5 + 0.25 + 0.25 + 3000; weighted 100 + 575 + 0.125 * 2 + 300:
    # the two 0.125 would round to 0.12 each, but the exact sum is rounded, once.
    assert figures(body["total"]) == (5, "5150.50", "975.25")
    assert body["unconverted"] == [{"currency": "SEK", "count": 1, "amount": "500.00",
                                    "weighted_amount": "50.00"}]


async def test_the_rate_is_the_one_valid_on_fx_date(client: AsyncClient, tenant: Tenant,
                                                   sales: Sales):
    march = await report(client, tenant, fx_date="2026-03-01")
    assert figures(march["total"]) == (5, "5100.50", "950.25")
    before_any = await report(client, tenant, fx_date="2025-12-31")
    assert figures(before_any["total"]) == (4, "4000.50", "400.25")
    assert [(u["currency"], *figures(u)) for u in before_any["unconverted"]] == [
        ("EUR", 1, "100.00", "50.00"), ("SEK", 1, "500.00", "50.00")]


async def test_by_owner_and_month_undated_ones_fall_in_the_null_month(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant, group_by="owner,month")
    assert [(g["key"]["owner"], g["key"]["month"], *figures(g)) for g in body["groups"]] == [
        ({"id": sales.ada["id"], "name": "Ada"}, "2027-01", 2, "2150.00", "675.00"),
        ({"id": sales.ada["id"], "name": "Ada"}, "2027-03", 1, "3000.00", "300.00"),
        ({"id": sales.bo["id"], "name": "Bo"}, None, 2, "0.50", "0.25")]
    assert figures(body["total"]) == (5, "5150.50", "975.25")


async def test_by_quarter(client: AsyncClient, tenant: Tenant, sales: Sales):
    assert rows(await report(client, tenant, group_by="quarter"), "quarter") == [
        ("2027-Q1", 3, "5150.00", "975.00"), (None, 2, "0.50", "0.25")]


async def test_by_seller_splits_by_share_and_adds_up_to_the_total(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    body = await report(client, tenant, group_by="seller")
    # "Shared" (3000 at 10 %) is Ada's 60 % and Bo's 40 %.
    assert rows(body, "seller") == [("Ada", 3, "3950.00", "855.00"),
                                    ("Bo", 3, "1200.50", "120.25")]
    assert figures(body["total"]) == (5, "5150.50", "975.25")
    assert sum(Decimal(g["amount"]) for g in body["groups"]) == Decimal(body["total"]["amount"])


async def test_the_owners_units_group_and_a_user_counts_in_each_of_their_sales_groups(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    ada, bo = (3, "5150.00", "975.00"), (2, "0.50", "0.25")
    assert rows(await report(client, tenant, group_by="sales_group"), "sales_group") == [
        ("Alpha", *ada), ("Beta", *ada), (None, *bo)]
    assert rows(await report(client, tenant, group_by="department"), "department") == [
        ("North", *ada), (None, *bo)]
    assert rows(await report(client, tenant, group_by="sales_region"), "sales_region") == [
        ("West", *ada), (None, *bo)]


async def test_by_stage_process_campaign_source_and_type(client: AsyncClient, tenant: Tenant,
                                                         sales: Sales):
    assert rows(await report(client, tenant, group_by="stage"), "stage") == [
        ("Lead", 4, "4000.50", "400.25"), ("Quote", 1, "1150.00", "575.00")]
    process = await report(client, tenant, group_by="sales_process")
    assert [(g["key"]["sales_process"]["id"], *figures(g)) for g in process["groups"]] == [
        (sales.world.process.id, 5, "5150.50", "975.25")]
    assert rows(await report(client, tenant, group_by="campaign"), "campaign") == [
        ("Spring fair", 2, "2150.00", "675.00"), (None, 3, "3000.50", "300.25")]
    assert rows(await report(client, tenant, group_by="source"), "source") == [
        ("Web", 2, "4000.00", "400.00"), (None, 3, "1150.50", "575.25")]
    assert rows(await report(client, tenant, group_by="type"), "type") == [
        (None, 5, "5150.50", "975.25")]


@pytest.mark.parametrize("filters", [
    {}, {"owner_id": "ada"}, {"seller_id": "bo"}, {"q": "deal"}, {"q": "Tiny%"},
    {"name": "%deal"}, {"expected_close_date[gte]": "2027-01-16"}, {"amount[lte]": "1000"},
    {"probability[ne]": "10"}, {"campaign_id": "campaign"}, {"source_id": "source"},
    {"owner_id": "bo", "amount[gte]": "0.25", "q": "%two"}])
async def test_totals_equal_the_sums_over_the_opportunities_the_list_gives(
        client: AsyncClient, tenant: Tenant, sales: Sales, filters: dict[str, str]):
    ids = {"ada": sales.ada["id"], "bo": sales.bo["id"], "campaign": sales.campaign["id"],
           "source": sales.source["id"]}
    params = {k: ids.get(v, v) for k, v in filters.items()}
    found = await listed(client, tenant, status="open", **params)
    converted = [(o, rate_on(o["currency"], FX)) for o in found]
    amount = sum((Decimal(o["amount"]) * r for o, r in converted if r), Decimal(0))
    weighted = sum((Decimal(o["amount"]) * Decimal(o["probability"]) / 100 * r
                    for o, r in converted if r), Decimal(0))
    body = await report(client, tenant, group_by="owner", **params)
    assert figures(body["total"]) == (sum(1 for _, r in converted if r), money(amount),
                                      money(weighted))
    assert sum(g["count"] for g in body["groups"]) == body["total"]["count"]
    assert {u["currency"] for u in body["unconverted"]} == {
        o["currency"] for o, r in converted if r is None}


async def test_a_currency_without_a_rate_is_only_in_unconverted(client: AsyncClient,
                                                                tenant: Tenant, sales: Sales):
    body = await report(client, tenant, group_by="owner")
    assert tenant.admin_id not in [g["key"]["owner"]["id"] for g in body["groups"]]
    assert sum(g["count"] for g in body["groups"]) == body["total"]["count"] == 5
    await add_rate(client, tenant, "SEK", "1.0125", "2026-01-01")
    rated = await report(client, tenant)
    assert rated["unconverted"] == []
    assert figures(rated["total"]) == (6, "5656.75", "1025.88")  # 500 * 1.0125 = 506.25


async def test_another_organizations_data_and_rates_never_appear(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant,
        sales: Sales):
    theirs = await make_world(app, other_tenant)
    await create_opportunity(client, other_tenant, theirs.customer_id, amount="999.00")
    await add_rate(client, other_tenant, "SEK", "1.00", "2026-01-01")
    body = await report(client, tenant)
    assert figures(body["total"]) == (5, "5150.50", "975.25")
    assert [u["currency"] for u in body["unconverted"]] == ["SEK"]
    assert figures((await report(client, other_tenant))["total"]) == (1, "999.00", "99.90")
    foreign = await report(client, tenant, owner_id=other_tenant.admin_id)
    assert (figures(foreign["total"]), foreign["groups"]) == ((0, "0.00", "0.00"), [])


async def test_the_report_exports_as_csv_and_xlsx(client: AsyncClient, tenant: Tenant,
                                                  sales: Sales):
    response = await client.get("/v1/reports/pipeline", headers=tenant.admin, params={
        "fx_date": FX, "group_by": "owner,month", "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["owner_id", "owner", "month", "currency", "count", "amount",
                        "weighted_amount"]
    assert table[1] == [str(sales.ada["id"]), "Ada", "2027-01", "NOK", "2", "2150.00",
                        "675.00"]
    assert table[3] == [str(sales.bo["id"]), "Bo", "", "NOK", "2", "0.50", "0.25"]
    assert table[4] == ["", "", "", "SEK", "1", "500.00", "50.00"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    asked = await client.get("/v1/reports/pipeline", params={"fx_date": FX,
                                                             "group_by": "stage"},
                             headers={**tenant.admin, "Accept": xlsx})
    assert asked.headers["content-type"] == xlsx
    sheet = load_workbook(io.BytesIO(asked.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["stage_id", "stage", "currency", "count", "amount",
                         "weighted_amount"]
    assert values[1][1:] == ["Lead", "NOK", 4, Decimal("4000.50"), Decimal("400.25")]


@pytest.mark.parametrize(("params", "field"), [
    ({"group_by": "colour"}, "group_by"), ({"group_by": "owner,owner"}, "group_by"),
    ({"status": "won"}, "status"), ({"fx_date": "someday"}, "fx_date"),
    ({"amount[gte]": "x"}, "amount[gte]"), ({"format": "pdf"}, "format")])
async def test_bad_parameters_are_refused_naming_them(client: AsyncClient, tenant: Tenant,
                                                      params: dict[str, str], field: str):
    response = await client.get("/v1/reports/pipeline", headers=tenant.admin, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_any_keys_combine_and_groups_add_up_unless_they_split_or_repeat(
        client: AsyncClient, tenant: Tenant, sales: Sales):
    keys = ["owner", "seller", "department", "sales_region", "sales_group", "sales_process",
            "stage", "month", "quarter", "campaign", "source", "type"]
    for first in keys:
        for second in keys:
            if first == second:
                continue
            body = await report(client, tenant, group_by=f"{first},{second}")
            assert body["group_by"] == [first, second]
            assert all(set(g["key"]) == {first, second} for g in body["groups"])
            assert figures(body["total"]) == (5, "5150.50", "975.25")
            amounts = sum(Decimal(g["amount"]) for g in body["groups"])
            if "sales_group" in (first, second):
                assert amounts > Decimal(body["total"]["amount"])  # Ada is in two groups
            else:
                assert amounts == Decimal(body["total"]["amount"]), (first, second)


@pytest.mark.parametrize(("accept", "params", "media"), [
    ("text/csv", {}, "text/csv; charset=utf-8"),
    ("application/json, text/csv", {}, "application/json"),
    ("text/html, */*", {}, "application/json"),
    ("text/csv", {"format": "json"}, "application/json"),
    ("application/json", {"format": "csv"}, "text/csv; charset=utf-8")])
async def test_format_wins_over_accept_and_accept_is_read_in_order(
        client: AsyncClient, tenant: Tenant, accept: str, params: dict[str, str],
        media: str):
    response = await client.get("/v1/reports/pipeline", params=params,
                                headers={**tenant.admin, "Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media
