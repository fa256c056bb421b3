"""GET /v1/reports/stage-calibration: configured against observed stage probabilities."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world
from tests.report_factories import act, delete


async def calibration(client: AsyncClient, tenant: Tenant, process_id: int) -> dict[str, Any]:
    response = await client.get("/v1/reports/stage-calibration",
                                params={"sales_process_id": process_id}, headers=tenant.key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def live(client: AsyncClient, tenant: Tenant, world: World, *path: str) -> int:
    """An opportunity taken through `path`: stage names to move to, or win/lose/expire/
    reopen:<stage>/delete."""
    opportunity = await create_opportunity(client, tenant, world.customer_id)
    stages = world.process.stages
    for step in path:
        if step in ("win", "lose", "expire"):
            await act(client, tenant, opportunity["id"], step)
        elif step.startswith("reopen:"):
            await act(client, tenant, opportunity["id"], "reopen",
                      stage_id=stages[step.removeprefix("reopen:")])
        elif step == "delete":
            await delete(client, tenant, opportunity["id"])
        else:
            await act(client, tenant, opportunity["id"], "move", stage_id=stages[step])
    return int(opportunity["id"])


def row(body: dict[str, Any], stage: str) -> tuple[Any, ...]:
    found = next(s for s in body["stages"] if s["stage"]["name"] == stage)
    return (found["configured_probability"], found["entered"], found["won"], found["lost"],
            found["sample_size"], found["observed_probability"])


async def test_observed_probability_is_the_share_won_of_those_closed_after_the_stage(
        client: AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant):
    world = await make_world(app, tenant)
    await live(client, tenant, world, "Qualified", "Quote", "win")      # A
    await live(client, tenant, world, "Qualified", "lose")              # B
    await live(client, tenant, world, "lose")                           # C
    await live(client, tenant, world, "Quote", "win")                   # D
    await live(client, tenant, world, "Qualified")                      # E, still open
    await live(client, tenant, world, "expire")                         # F, not in sample
    await live(client, tenant, world, "Qualified", "lose", "reopen:Qualified", "win")  # G
    await live(client, tenant, world, "win", "delete")                  # H, won then deleted
    rival = await make_world(app, other_tenant)
    await live(client, other_tenant, rival, "lose")

    body = await calibration(client, tenant, world.process.id)

    assert body["sales_process"]["id"] == world.process.id
    assert [s["stage"]["name"] for s in body["stages"]] == [
        "Lead", "Qualified", "Quote", "Won", "Lost"]
    assert row(body, "Lead") == ("10.00", 8, 4, 2, 6, "66.67")
    assert row(body, "Qualified") == ("25.00", 4, 2, 1, 3, "66.67")
    assert row(body, "Quote") == ("50.00", 2, 2, 0, 2, "100.00")
    assert row(body, "Won") == ("100.00", 4, 4, 0, 4, "100.00")
    assert row(body, "Lost") == ("0.00", 3, 1, 2, 3, "33.33")


async def test_a_stage_nobody_closed_from_has_no_observed_probability(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    await live(client, tenant, world, "Qualified")
    body = await calibration(client, tenant, world.process.id)
    assert row(body, "Qualified") == ("25.00", 1, 0, 0, 0, None)
    assert row(body, "Quote") == ("50.00", 0, 0, 0, 0, None)


async def test_another_organizations_process_is_not_found(
        client: AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant):
    rival = await make_world(app, other_tenant)
    response = await client.get("/v1/reports/stage-calibration",
                                params={"sales_process_id": rival.process.id},
                                headers=tenant.key)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "sales_process_id"


async def test_calibration_refuses_unknown_parameters(client: AsyncClient, app: FastAPI,
                                                      tenant: Tenant):
    world = await make_world(app, tenant)
    response = await client.get("/v1/reports/stage-calibration", headers=tenant.key,
                                params={"sales_process_id": world.process.id, "from": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "from"


async def test_calibration_exports_a_row_per_stage(client: AsyncClient, app: FastAPI,
                                                   tenant: Tenant):
    world = await make_world(app, tenant)
    await live(client, tenant, world, "Qualified", "win")
    response = await client.get("/v1/reports/stage-calibration", headers=tenant.key,
                                params={"sales_process_id": world.process.id, "format": "csv"})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ("stage_id,stage,position,kind,configured_probability,entered,won,lost,"
                        "sample_size,observed_probability")
    assert lines[2].endswith(",Qualified,2,open,25.00,1,1,0,1,100.00")
