"""A known data set for the pipeline, commission and campaign reports, built through the
API: users in departments and sales groups, opportunities in two currencies with a rate
change, one currency without a rate, undated ones, shared ones, closed ones."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.customer_factories import make_campaign, make_list_item
from tests.factories import Tenant, make_unit, make_user
from tests.opportunity_factories import World, create_opportunity, make_world, sql

# EUR is worth 11 NOK from 2026-01-01 and 11.5 NOK from 2026-06-01; SEK has no rate.
EUR_RATES = (("2026-01-01", "11.00"), ("2026-06-01", "11.5"))


@dataclass(frozen=True)
class Sales:
    world: World
    ada: dict[str, Any]  # department North, region West, sales groups Alpha and Beta
    bo: dict[str, Any]  # no department, region or group
    department: dict[str, Any]
    region: dict[str, Any]
    alpha: dict[str, Any]
    beta: dict[str, Any]
    campaign: dict[str, Any]
    source: dict[str, Any]
    deals: dict[str, dict[str, Any]]


FX = "2026-07-01"  # the rate date of the report tests: EUR at 11.5


async def read_report(client: AsyncClient, tenant: Tenant, report: str, /,
                      **params: Any) -> dict[str, Any]:
    """`GET /v1/reports/<report>` as the admin, priced on `FX` unless `fx_date` is given
    (`params` may hold any filter, `name` too)."""
    response = await client.get(f"/v1/reports/{report}", headers=tenant.admin,
                                params={"fx_date": FX, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_rate(client: AsyncClient, tenant: Tenant, currency: str, rate: str,
                   valid_from: str) -> dict[str, Any]:
    response = await client.post("/v1/exchange-rates", headers=tenant.admin, json={
        "currency": currency, "rate": rate, "valid_from": valid_from})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def make_sales(app: FastAPI, client: AsyncClient, tenant: Tenant) -> Sales:
    world = await make_world(app, tenant)
    department = await make_unit(client, tenant, "departments", name="North")
    region = await make_unit(client, tenant, "sales-regions", name="West")
    alpha = await make_unit(client, tenant, "sales-groups", name="Alpha")
    beta = await make_unit(client, tenant, "sales-groups", name="Beta")
    ada = await make_user(client, tenant, name="Ada", department_id=department["id"],
                          sales_region_id=region["id"],
                          sales_group_ids=[alpha["id"], beta["id"]])
    bo = await make_user(client, tenant, name="Bo")
    campaign = await make_campaign(client, tenant, name="Spring fair")
    source = await make_list_item(client, tenant, "sources", name="Web")
    for valid_from, rate in EUR_RATES:
        await add_rate(client, tenant, "EUR", rate, valid_from)
    stages = world.process.stages

    async def deal(name: str, owner: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return await create_opportunity(client, tenant, world.customer_id, name=name,
                                        owner_id=owner["id"], **fields)

    deals = {
        "fleet": await deal("Fleet", ada, amount="1000.00", expected_close_date="2027-01-15",
                            campaign_id=campaign["id"], source_id=source["id"]),
        "euro": await deal("Euro deal", ada, currency="EUR", amount="100.00",
                           stage_id=stages["Quote"], expected_close_date="2027-01-20",
                           campaign_id=campaign["id"]),
        "tiny1": await deal("Tiny one", bo, amount="0.25", probability="50"),
        "tiny2": await deal("Tiny two", bo, amount="0.25", probability="50"),
        "krona": await deal("Krona deal", {"id": tenant.admin_id}, currency="SEK",
                            amount="500.00", expected_close_date="2027-02-01"),
        "shared": await deal("Shared", ada, amount="3000.00",
                             expected_close_date="2027-03-31", source_id=source["id"]),
        "won": await deal("Won deal", ada, amount="2000.00", campaign_id=campaign["id"]),
        "lost": await deal("Lost deal", bo, amount="700.00", campaign_id=campaign["id"]),
    }
    added = await client.post(f"/v1/opportunities/{deals['shared']['id']}/sellers",
                              headers=tenant.admin, json={"user_id": bo["id"], "share": "40"})
    assert added.status_code == 200, added.text
    for name, action in (("won", "win"), ("lost", "lose")):
        closed = await client.post(f"/v1/opportunities/{deals[name]['id']}/{action}",
                                   headers=tenant.admin)
        assert closed.status_code == 200, closed.text
        deals[name] = closed.json()
    return Sales(world, ada, bo, department, region, alpha, beta, campaign, source, deals)


async def set_column(app: FastAPI, tenant: Tenant, opportunity_id: int, column: str,
                     value: str) -> None:
    """Put a time the API does not let clients write (closed_at, created_at)."""
    await sql(app, f"UPDATE opportunities SET {column} = :value "
                   "WHERE organization_id = :org AND id = :id",
              value=datetime.fromisoformat(value), org=tenant.organization_id,
              id=opportunity_id)


def rate_on(currency: str, fx_date: str) -> Decimal | None:
    """The test's own reading of the EUR rates: the latest valid on `fx_date`."""
    if currency == "NOK":
        return Decimal(1)
    if currency != "EUR":
        return None
    valid = [Decimal(rate) for since, rate in EUR_RATES if since <= fx_date]
    return valid[-1] if valid else None


async def listed(client: AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    """Every opportunity `/v1/opportunities` lists with these filters."""
    response = await client.get("/v1/opportunities", headers=tenant.admin,
                                params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
