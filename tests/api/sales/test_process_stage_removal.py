"""Removing a stage: an unused one simply goes, one in use only with `move_to` naming a
stage of the same process and kind, where its opportunities go with that stage's
probability, each leaving an `opportunity.stage_changed` event."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from salescore.repositories.sales.processes import placing_lock
from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import waiting_for_a_lock
from tests.process_factories import (
    insert_opportunity,
    make_process,
    opportunity_row,
    problem_field,
    read_process,
    stage_named,
)

PATH = "/v1/sales-processes"


def _names(process: dict[str, Any]) -> list[str]:
    return [s["name"] for s in process["stages"]]


async def test_an_unused_stage_is_removed_and_the_positions_close_up(client: AsyncClient,
                                                                     tenant: Tenant):
    process = await make_process(client, tenant)
    stage = stage_named(process, "Quote sent")
    response = await client.delete(f"{PATH}/{process['id']}/stages/{stage['id']}",
                                   headers=tenant.admin)
    assert response.status_code == 204
    after = await read_process(client, tenant, process["id"])
    assert _names(after) == ["First contact", "Verbal yes", "Won", "Lost"]
    assert [s["position"] for s in after["stages"]] == [1, 2, 3, 4]
    assert after["version"] == 2


async def test_a_stage_in_use_is_not_removed_without_move_to(client: AsyncClient,
                                                             tenant: Tenant):
    process = await make_process(client, tenant)
    stage = stage_named(process, "Quote sent")
    opportunity = await insert_opportunity(tenant, stage)
    response = await client.delete(f"{PATH}/{process['id']}/stages/{stage['id']}",
                                   headers=tenant.admin)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await read_process(client, tenant, process["id"]))["stage_count"] == 5
    assert (await opportunity_row(tenant, opportunity))["stage_id"] == stage["id"]


async def test_removing_a_stage_moves_its_opportunities_with_the_new_probability(
        client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    removed, target = stage_named(process, "Quote sent"), stage_named(process, "Verbal yes")
    manager = await make_user(client, tenant, role="manager")
    moved = [await insert_opportunity(tenant, removed, probability="33.00"),
             await insert_opportunity(tenant, removed, probability="50.00",
                                      probability_source="stage")]
    bystander = await insert_opportunity(tenant, stage_named(process, "First contact"))
    closed = await insert_opportunity(tenant, stage_named(process, "Lost"),
                                      last_open_stage_id=removed["id"], probability="0")
    before = [await opportunity_row(tenant, o) for o in moved]
    response = await client.delete(
        f"{PATH}/{process['id']}/stages/{removed['id']}",
        params={"move_to": target["id"]}, headers=tenant.token_for(manager["id"]))
    assert response.status_code == 204, response.text
    for opportunity, was in zip(moved, before, strict=True):
        now = await opportunity_row(tenant, opportunity)
        assert (now["stage_id"], now["probability"], now["probability_source"]) == (
            target["id"], 75, "stage")
        assert (now["version"], now["updated_by"]) == (was["version"] + 1, manager["id"])
        assert now["updated_at"] > was["updated_at"]
        assert now["status"] == "open"
    assert (await opportunity_row(tenant, bystander))["version"] == 1
    assert (await opportunity_row(tenant, closed))["last_open_stage_id"] == target["id"]
    after = await read_process(client, tenant, process["id"])
    assert stage_named(after, "Verbal yes")["in_use"] == 2
    assert "Quote sent" not in _names(after)
    events = await read_events(client, tenant, "opportunity.stage_changed")
    assert [(e["aggregate_type"], e["aggregate_id"], e["actor"], e["data"]) for e in events] == [
        ("opportunity", moved[0], {"type": "user", "id": manager["id"]}, {
            "reason": "stage_removed", "changes": {
                "stage_id": {"from": removed["id"], "to": target["id"]},
                "probability": {"from": "33.00", "to": "75.00"},
                "probability_source": {"from": "manual", "to": "stage"}}}),
        ("opportunity", moved[1], {"type": "user", "id": manager["id"]}, {
            "reason": "stage_removed", "changes": {
                "stage_id": {"from": removed["id"], "to": target["id"]},
                "probability": {"from": "50.00", "to": "75.00"}}})]


async def test_won_opportunities_move_to_another_won_stage_and_stay_won(client: AsyncClient,
                                                                        tenant: Tenant):
    process = await make_process(client, tenant)
    url = f"{PATH}/{process['id']}/stages"
    signed = (await client.post(url, headers=tenant.admin, json={
        "name": "Signed", "probability": "100", "kind": "won"})).json()
    won = await insert_opportunity(tenant, stage_named(process, "Won"), probability="100")
    response = await client.delete(f"{url}/{stage_named(process, 'Won')['id']}",
                                   params={"move_to": signed["id"]}, headers=tenant.admin)
    assert response.status_code == 204, response.text
    row = await opportunity_row(tenant, won)
    assert (row["stage_id"], row["status"], row["probability"]) == (signed["id"], "won", 100)


@pytest.mark.parametrize(("target", "status"), [
    ("other kind", 422), ("itself", 422), ("other process", 422), ("other tenant", 404),
    ("unknown", 404)])
async def test_move_to_must_be_another_stage_of_the_same_process_and_kind(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, target: str, status: int):
    process, other = await make_process(client, tenant), await make_process(client, tenant)
    theirs = await make_process(client, other_tenant)
    removed = stage_named(process, "Quote sent")
    opportunity = await insert_opportunity(tenant, removed)
    move_to = {"other kind": stage_named(process, "Won")["id"], "itself": removed["id"],
               "other process": stage_named(other, "Verbal yes")["id"],
               "other tenant": stage_named(theirs, "Verbal yes")["id"],
               "unknown": 10**12}[target]
    response = await client.delete(f"{PATH}/{process['id']}/stages/{removed['id']}",
                                   params={"move_to": move_to}, headers=tenant.admin)
    assert response.status_code == status, response.text
    assert problem_field(response) == "move_to"
    assert await read_process(client, tenant, process["id"]) == (
        process | {"in_use": 1, "stages": [s | {"in_use": int(s["id"] == removed["id"])}
                                           for s in process["stages"]]})
    assert (await opportunity_row(tenant, opportunity))["stage_id"] == removed["id"]
    assert await read_events(client, tenant, "opportunity.stage_changed,stage.deleted") == []


async def test_a_removal_waits_for_a_write_to_one_of_its_opportunities_without_deadlock(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """A write to an opportunity locks it, then its process (to place it); the removal
    takes the stage's opportunities before the process, so the two queue, never deadlock."""
    process = await make_process(client, tenant)
    removed, target = stage_named(process, "Quote sent"), stage_named(process, "Verbal yes")
    busy = await insert_opportunity(tenant, removed)
    keys = {"org": tenant.organization_id, "process": process["id"], "id": busy}
    async with app.state.salescore.engine.connect() as write:
        await write.execute(text("SET LOCAL lock_timeout = '5s'"))
        await write.execute(text("SELECT id FROM opportunities WHERE organization_id = :org"
                                 " AND id = :id FOR UPDATE"), keys)
        removing = await waiting_for_a_lock(app, client.delete(
            f"{PATH}/{process['id']}/stages/{removed['id']}",
            params={"move_to": target["id"]}, headers=tenant.admin))
        await write.execute(placing_lock(keys["org"], shared=True))
        await write.commit()
    response = await removing
    assert response.status_code == 204, response.text
    assert (await opportunity_row(tenant, busy))["stage_id"] == target["id"]
