"""GET /v1/reports/funnel: stage entries, conversions and time in stage, from the history
(moved to January 2026, Oslo time)."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world
from tests.report_factories import act, jan, retime


async def walk(client: AsyncClient, app: FastAPI, tenant: Tenant, world: World,
               created: datetime, *steps: tuple[datetime, str]) -> int:
    """An opportunity made in the first stage at `created`, then moved to each named stage
    (or won, lost, expired) at its time."""
    opportunity = await create_opportunity(client, tenant, world.customer_id)
    for _, step in steps:
        if step in ("win", "lose", "expire"):
            await act(client, tenant, opportunity["id"], step)
        else:
            await act(client, tenant, opportunity["id"], "move",
                      stage_id=world.process.stages[step])
    await retime(app, tenant, opportunity["id"], created, *(moment for moment, _ in steps))
    return int(opportunity["id"])


@pytest.fixture
async def world(client: AsyncClient, app: FastAPI, tenant: Tenant) -> World:
    world = await make_world(app, tenant)
    await walk(client, app, tenant, world, jan(1),
               (jan(3), "Qualified"), (jan(6), "Quote"), (jan(10), "win"))
    await walk(client, app, tenant, world, jan(2), (jan(4), "Qualified"), (jan(5), "lose"))
    await walk(client, app, tenant, world, jan(2), (jan(6, 0), "expire"))  # 3.5 days
    await walk(client, app, tenant, world, jan(3), (jan(4), "Quote"))      # still there
    return world


async def funnel(client: AsyncClient, tenant: Tenant, process_id: int,
                 **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/funnel", headers=tenant.key,
                                params={"sales_process_id": process_id, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stage(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["stages"] if s["stage"]["name"] == name)
    return found


FIGURES = ("entered", "moved_on", "won", "conversion_to_next", "conversion_to_won", "stays",
           "still_in_stage", "median_days", "mean_days")


def figures(body: dict[str, Any], name: str) -> tuple[Any, ...]:
    return tuple(stage(body, name)[f] for f in FIGURES)


async def test_each_stage_counts_entries_conversions_and_days_in_it(
        client: AsyncClient, tenant: Tenant, world: World):
    body = await funnel(client, tenant, world.process.id, **{"from": "2026-01-01",
                                                             "to": "2026-01-31"})
    assert [s["stage"]["name"] for s in body["stages"]] == [
        "Lead", "Qualified", "Quote", "Won", "Lost"]
    # days in Lead: 2, 2, 3.5 (until it expired), 1: median 2, mean 2.125 -> 2.12
    assert figures(body, "Lead") == (4, 3, 1, "75.00", "25.00", 4, 0, "2.00", "2.12")
    assert figures(body, "Qualified") == (2, 1, 1, "50.00", "50.00", 2, 0, "2.00", "2.00")
    assert figures(body, "Won") == (1, 0, 1, None, "100.00", 1, 0, None, None)
    assert figures(body, "Lost") == (1, 0, 0, None, "0.00", 1, 0, None, None)
    assert figures(body, "Quote")[:7] == (2, 1, 1, "50.00", "50.00", 2, 1)


async def test_a_stay_still_going_counts_up_to_now(client: AsyncClient, tenant: Tenant,
                                                  world: World):
    body = await funnel(client, tenant, world.process.id)
    measured = datetime.fromisoformat(body["measured_at"])
    ongoing = Decimal((measured - jan(4)) / timedelta(days=1))
    expected = (Decimal(4) + ongoing) / 2  # two stays: 4 days, and the one still going
    quote = stage(body, "Quote")
    assert abs(Decimal(quote["mean_days"]) - expected) <= Decimal("0.01")
    assert quote["median_days"] == quote["mean_days"]


async def test_the_period_picks_the_entries_made_in_it(client: AsyncClient, tenant: Tenant,
                                                       world: World):
    body = await funnel(client, tenant, world.process.id, **{"from": "2026-01-03",
                                                             "to": "2026-01-03"})
    assert figures(body, "Lead")[:6] == (1, 1, 0, "100.00", "0.00", 1)
    assert figures(body, "Qualified")[:3] == (1, 1, 1)
    assert figures(body, "Quote")[:2] == (0, 0)
    assert stage(body, "Quote")["conversion_to_next"] is None


async def test_coming_back_to_a_stage_counts_the_opportunity_once_and_each_stay(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    await walk(client, app, tenant, world, jan(1), (jan(2), "Qualified"), (jan(4), "Lead"),
               (jan(7), "Qualified"), (jan(8), "win"))
    body = await funnel(client, tenant, world.process.id)
    # Lead: 1 day, then 3; Qualified: 2 days, then 1
    assert figures(body, "Lead") == (1, 1, 1, "100.00", "100.00", 2, 0, "2.00", "2.00")
    assert figures(body, "Qualified") == (1, 1, 1, "100.00", "100.00", 2, 0, "1.50", "1.50")


async def test_another_organizations_process_is_not_found(
        client: AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant,
        world: World):
    rival = await make_world(app, other_tenant)
    await walk(client, app, other_tenant, rival, jan(2), (jan(3), "Qualified"))
    response = await client.get("/v1/reports/funnel", headers=tenant.key,
                                params={"sales_process_id": rival.process.id})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "sales_process_id"
    body = await funnel(client, tenant, world.process.id)
    assert figures(body, "Lead")[0] == 4


async def test_the_funnel_needs_a_process_and_a_forward_period(client: AsyncClient,
                                                               tenant: Tenant, world: World):
    for params, field in (({}, "sales_process_id"),
                          ({"sales_process_id": world.process.id, "from": "2026-02-01",
                            "to": "2026-01-01"}, "to")):
        response = await client.get("/v1/reports/funnel", headers=tenant.key, params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


async def test_the_funnel_exports_a_row_per_stage(client: AsyncClient, tenant: Tenant,
                                                  world: World):
    response = await client.get("/v1/reports/funnel", headers=tenant.key, params={
        "sales_process_id": world.process.id, "from": "2026-01-01", "to": "2026-01-31",
        "format": "csv"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 6 and lines[0].startswith("stage_id,stage,position,kind,entered")
    assert lines[1].endswith(",Lead,1,open,4,3,1,75.00,25.00,4,0,2.00,2.12")
