"""GET /v1/reports/win-loss: what closed in a period, and how."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, make_unit, make_user
from tests.opportunity_factories import create_opportunity, make_list_item, make_world, sql
from tests.report_factories import OSLO, act, jan, set_rate

PERIOD = {"from": "2026-01-01", "to": "2026-01-31", "fx_date": "2026-01-31"}


async def closed(client: AsyncClient, app: FastAPI, tenant: Tenant, customer_id: int,
                 action: str | None, created: datetime, at: datetime | None,
                 **fields: Any) -> int:
    """An opportunity made at `created` and won, lost or expired at `at`."""
    made = await create_opportunity(client, tenant, customer_id, **fields)
    if action is not None:
        await act(client, tenant, made["id"], action)
    await sql(app, "UPDATE opportunities SET created_at = :created, closed_at = :at"
                   " WHERE organization_id = :org AND id = :id",
              created=created, at=at, org=tenant.organization_id, id=made["id"])
    return int(made["id"])


@pytest.fixture
async def january(client: AsyncClient, app: FastAPI, tenant: Tenant,
                  other_tenant: Tenant) -> dict[str, Any]:
    world = await make_world(app, tenant)
    customer = world.customer_id
    await set_rate(app, tenant, "EUR", "11.5")
    north = await make_unit(client, tenant, name="North")
    kari = (await make_user(client, tenant, department_id=north["id"]))["id"]
    ola = (await make_user(client, tenant))["id"]
    price = await make_list_item(app, tenant, "loss_reasons", "Price")

    async def lose(owner: int, amount: str, at: datetime, reason: int | None = None,
                   **fields: Any) -> None:
        made = await create_opportunity(client, tenant, customer, owner_id=owner,
                                        amount=amount, **fields)
        await act(client, tenant, made["id"], "lose",
                  **({"loss_reason_id": reason} if reason else {}))
        await sql(app, "UPDATE opportunities SET created_at = :created, closed_at = :at"
                       " WHERE organization_id = :org AND id = :id",
                  created=jan(1), at=at, org=tenant.organization_id, id=made["id"])

    await closed(client, app, tenant, customer, "win", datetime(2026, 1, 1, 10, tzinfo=OSLO),
                 datetime(2026, 1, 11, 9, tzinfo=OSLO), owner_id=kari, amount="1000.01")
    # made at 00:30 in Oslo, still 4 January in UTC: the cycle counts Oslo days, 3 not 4
    await closed(client, app, tenant, customer, "win", datetime(2026, 1, 5, 0, 30, tzinfo=OSLO),
                 jan(8), owner_id=kari, amount="500.00")
    await lose(ola, "300.00", jan(20), price)
    await lose(ola, "200.00", datetime(2026, 1, 31, 23, 30, tzinfo=OSLO))
    await lose(ola, "10.00", jan(25), price, currency="EUR")
    await closed(client, app, tenant, customer, "expire", jan(2), jan(15), owner_id=kari,
                 amount="100.00")
    await closed(client, app, tenant, customer, "win", jan(2),   # 1 February in Oslo
                 datetime(2026, 2, 1, 0, 30, tzinfo=OSLO), owner_id=kari, amount="999.00")
    await closed(client, app, tenant, customer, None, jan(2), None, owner_id=kari,
                 amount="5000.00")
    await closed(client, app, tenant, customer, "win", jan(10), jan(20), owner_id=kari,
                 amount="700.00", currency="SEK")
    rival = await make_world(app, other_tenant)
    await closed(client, app, other_tenant, rival.customer_id, "win", jan(2), jan(10),
                 amount="12345.00")
    return {"kari": kari, "ola": ola, "north": north["id"], "price": price}


async def win_loss(client: AsyncClient, tenant: Tenant, **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/win-loss", headers=tenant.key,
                                params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


KARI = {"won": {"count": 2, "amount": "1500.01"}, "lost": {"count": 0, "amount": "0.00"},
        "expired": {"count": 1, "amount": "100.00"}, "win_rate": "100.00",
        "average_won_amount": "750.00", "average_sales_cycle_days": "6.50"}
OLA = {"won": {"count": 0, "amount": "0.00"}, "lost": {"count": 3, "amount": "615.00"},
       "expired": {"count": 0, "amount": "0.00"}, "win_rate": "0.00",
       "average_won_amount": None, "average_sales_cycle_days": None}


async def test_the_period_s_closed_opportunities_by_outcome(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    body = await win_loss(client, tenant)
    # 1500.01 / 2 = 750.005: half-even to 750.00; (10 + 3) / 2 days
    assert body["total"] == {
        "won": {"count": 2, "amount": "1500.01"}, "lost": {"count": 3, "amount": "615.00"},
        "expired": {"count": 1, "amount": "100.00"}, "win_rate": "40.00",
        "average_won_amount": "750.00", "average_sales_cycle_days": "6.50"}
    assert body["lost_by_reason"] == [
        {"loss_reason": {"id": january["price"], "name": "Price"}, "count": 2,
         "amount": "415.00"},
        {"loss_reason": None, "count": 1, "amount": "200.00"}]
    assert body["groups"] == [] and body["group_by"] == []
    assert (body["currency"], body["from"], body["to"]) == ("NOK", "2026-01-01", "2026-01-31")
    assert body["unconverted"] == [{
        "currency": "SEK", "won": {"count": 1, "amount": "700.00"},
        "lost": {"count": 0, "amount": "0.00"}, "expired": {"count": 0, "amount": "0.00"},
        "win_rate": "100.00", "average_won_amount": "700.00",
        "average_sales_cycle_days": "10.00"}]


async def test_win_loss_groups_by_owner_and_by_the_owner_s_department(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    by_owner = await win_loss(client, tenant, group_by="owner")
    assert {g["key"]["owner"]["id"]: {k: v for k, v in g.items() if k != "key"}
            for g in by_owner["groups"]} == {january["kari"]: KARI, january["ola"]: OLA}
    by_department = await win_loss(client, tenant, group_by="department")
    assert [g["key"] for g in by_department["groups"]] == [
        {"department": {"id": january["north"], "name": "North"}}, {"department": None}]
    assert {k: v for k, v in by_department["groups"][0].items() if k != "key"} == KARI


async def test_the_won_figures_are_the_sum_over_the_listed_opportunities(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    response = await client.get("/v1/opportunities", headers=tenant.key, params={
        "status": "won", "closed_at[gte]": "2026-01-01T00:00:00+01:00",
        "closed_at[lte]": "2026-01-31T23:59:59.999999+01:00", "limit": 500})
    listed = [o for o in response.json()["data"] if o["currency"] == "NOK"]
    total = (await win_loss(client, tenant))["total"]["won"]
    assert total == {"count": len(listed),
                     "amount": str(sum(Decimal(o["amount"]) for o in listed))}


async def test_a_period_without_closed_opportunities_has_no_rates_or_averages(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    body = await win_loss(client, tenant, **{"from": "2025-01-01", "to": "2025-01-31"})
    assert body["total"]["win_rate"] is None
    assert body["total"]["average_won_amount"] is None
    assert body["lost_by_reason"] == [] and body["unconverted"] == []


async def test_another_organization_sees_only_its_own_closed_deals(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, january: dict[str, Any]):
    body = await win_loss(client, other_tenant, group_by="owner")
    assert body["total"]["won"] == {"count": 1, "amount": "12345.00"}
    assert [g["key"]["owner"]["id"] for g in body["groups"]] == [other_tenant.admin_id]
    assert body["lost_by_reason"] == [] and body["unconverted"] == []


@pytest.mark.parametrize(("params", "field"), [
    ({"group_by": "stage"}, "group_by"), ({"from": "2026-02-01"}, "to"),
    ({"owner_id": "1"}, "owner_id")])
async def test_win_loss_refuses_what_it_does_not_offer(
        client: AsyncClient, tenant: Tenant, params: dict[str, str], field: str):
    response = await client.get("/v1/reports/win-loss", headers=tenant.key,
                                params={**PERIOD, **params})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_win_loss_exports_as_csv_with_groups_total_and_reasons(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    response = await client.get("/v1/reports/win-loss", headers=tenant.key,
                                params={**PERIOD, "group_by": "department", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ("row,department_id,department,currency,loss_reason_id,loss_reason,"
                        "won_count,won_amount,lost_count,lost_amount,expired_count,"
                        "expired_amount,win_rate,average_won_amount,average_sales_cycle_days")
    assert lines[1] == (f"group,{january['north']},North,NOK,,,2,1500.01,0,0.00,1,100.00,"
                        "100.00,750.00,6.50")
    assert lines[3] == "total,,,NOK,,,2,1500.01,3,615.00,1,100.00,40.00,750.00,6.50"
    assert lines[-1] == "lost_by_reason,,,NOK,,,,,1,200.00,,,,,"
