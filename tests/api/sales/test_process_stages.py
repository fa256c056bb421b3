"""Stages of a sales process: add, change, re-order, remove (moving the opportunities that
use a removed stage), with the rules a process keeps and the events they leave."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from salescore.domain.sales import processes
from salescore.repositories.sales.processes import placing_lock
from tests.customer_factories import make_customer
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
STAGE_TYPES = "stage.created,stage.updated,stage.deleted,stages.reordered"


def _names(process: dict[str, Any]) -> list[str]:
    return [s["name"] for s in process["stages"]]


async def test_stages_are_listed_and_read_with_the_process_etag(client: AsyncClient,
                                                                tenant: Tenant):
    process = await make_process(client, tenant)
    listed = await client.get(f"{PATH}/{process['id']}/stages", headers=tenant.admin)
    assert listed.status_code == 200
    assert listed.headers["etag"] == '"1"'
    assert listed.json() == {"data": process["stages"], "next_cursor": None}
    stage = process["stages"][2]
    read = await client.get(f"{PATH}/{process['id']}/stages/{stage['id']}", headers=tenant.key)
    assert (read.status_code, read.headers["etag"], read.json()) == (200, '"1"', stage)


async def test_a_stage_of_another_process_is_not_found_under_this_one(client: AsyncClient,
                                                                      tenant: Tenant):
    process, other = await make_process(client, tenant), await make_process(client, tenant)
    foreign = other["stages"][0]["id"]
    url = f"{PATH}/{process['id']}/stages/{foreign}"
    assert (await client.get(url, headers=tenant.admin)).status_code == 404
    assert (await client.patch(url, json={"name": "X"}, headers=tenant.admin)
            ).status_code == 404
    assert (await client.delete(url, headers=tenant.admin)).status_code == 404
    assert await read_process(client, tenant, other["id"]) == other


async def test_a_new_stage_goes_last_and_saves_the_process(client: AsyncClient,
                                                           tenant: Tenant):
    process = await make_process(client, tenant)
    manager = await make_user(client, tenant, role="manager")
    response = await client.post(f"{PATH}/{process['id']}/stages",
                                 headers=tenant.token_for(manager["id"]),
                                 json={"name": "Parked", "probability": "5", "kind": "lost"})
    assert response.status_code == 201, response.text
    stage = response.json()
    assert response.headers["location"] == f"{PATH}/{process['id']}/stages/{stage['id']}"
    assert response.headers["etag"] == '"2"'
    assert (stage["name"], stage["position"], stage["probability"], stage["kind"]) == (
        "Parked", 6, "5.00", "lost")
    after = await read_process(client, tenant, process["id"])
    assert (after["version"], after["stage_count"], after["updated_by"]) == (
        2, 6, manager["id"])
    assert after["stages"][-1] == stage


async def test_a_stage_added_at_a_position_moves_the_others_down(client: AsyncClient,
                                                                 tenant: Tenant):
    process = await make_process(client, tenant)
    response = await client.post(f"{PATH}/{process['id']}/stages", headers=tenant.admin,
                                 json={"name": "Meeting", "probability": "30", "position": 2})
    assert response.json()["position"] == 2
    after = await read_process(client, tenant, process["id"])
    assert _names(after) == ["First contact", "Meeting", "Quote sent", "Verbal yes", "Won",
                             "Lost"]
    assert [s["position"] for s in after["stages"]] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "probability": "10", "position": 7}, "position"),
    ({"name": "X", "probability": "10", "position": 0}, "position"),
    ({"name": "X", "probability": "100.5"}, "probability"),
    ({"name": "X", "probability": "1.001"}, "probability"),
    ({"name": " ", "probability": "10"}, "name"),
    ({"name": "X"}, "probability"),
    ({"name": "X", "probability": "10", "sales_process_id": 1}, "sales_process_id")])
async def test_a_bad_new_stage_is_refused_and_nothing_is_written(
        client: AsyncClient, tenant: Tenant, body: dict[str, Any], field: str):
    process = await make_process(client, tenant)
    response = await client.post(f"{PATH}/{process['id']}/stages", json=body,
                                 headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == field
    assert await read_process(client, tenant, process["id"]) == process
    assert await read_events(client, tenant, STAGE_TYPES) == []


async def test_a_process_holds_no_more_stages_than_it_may_be_created_with(
        client: AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(processes, "MAX_STAGES", 6)
    process = await make_process(client, tenant)
    url = f"{PATH}/{process['id']}/stages"
    added = await client.post(url, json={"name": "Sixth", "probability": "5"},
                              headers=tenant.admin)
    assert added.status_code == 201, added.text
    before = await read_process(client, tenant, process["id"])
    refused = await client.post(url, json={"name": "Seventh", "probability": "5"},
                                headers=tenant.admin)
    assert refused.status_code == 422
    assert problem_field(refused) == "stages"
    assert await read_process(client, tenant, process["id"]) == before


async def test_a_new_stage_marking_a_signed_quote_takes_the_mark(client: AsyncClient,
                                                                 tenant: Tenant):
    process = await make_process(client, tenant)
    response = await client.post(f"{PATH}/{process['id']}/stages", headers=tenant.admin,
                                 json={"name": "Signed", "probability": "90",
                                       "marks_quote_signed": True, "position": 4})
    assert response.json()["marks_quote_signed"] is True
    after = await read_process(client, tenant, process["id"])
    assert [s["name"] for s in after["stages"] if s["marks_quote_signed"]] == ["Signed"]


async def test_a_stage_is_renamed_recoloured_and_given_a_new_probability_and_kind(
        client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    stage = stage_named(process, "Quote sent")
    url = f"{PATH}/{process['id']}/stages/{stage['id']}"
    response = await client.patch(url, headers=tenant.admin, json={
        "name": "Offer sent", "color": "#ff0000", "probability": "45.5", "kind": "lost"})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    changed = response.json()
    assert (changed["name"], changed["color"], changed["probability"], changed["kind"],
            changed["position"]) == ("Offer sent", "#ff0000", "45.50", "lost", 2)
    cleared = await client.patch(url, headers=tenant.admin, json={"color": None})
    assert cleared.json()["color"] is None
    assert (await read_process(client, tenant, process["id"]))["version"] == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"name": None}, "name"), ({"name": ""}, "name"), ({"probability": "-1"}, "probability"),
    ({"probability": "50.123"}, "probability"), ({"kind": "closed"}, "kind"),
    ({"kind": None}, "kind"), ({"color": "#12345"}, "color"), ({"position": 1}, "position"),
    ({"sales_process_id": 2}, "sales_process_id")])
async def test_a_bad_stage_change_is_refused_and_changes_nothing(
        client: AsyncClient, tenant: Tenant, body: dict[str, Any], field: str):
    process = await make_process(client, tenant)
    stage = process["stages"][1]
    response = await client.patch(f"{PATH}/{process['id']}/stages/{stage['id']}", json=body,
                                  headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == field
    assert await read_process(client, tenant, process["id"]) == process


async def test_the_kind_of_a_stage_in_use_cannot_change(client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    stage = stage_named(process, "Quote sent")
    opportunity = await insert_opportunity(tenant, stage, probability="50.00")
    url = f"{PATH}/{process['id']}/stages/{stage['id']}"
    refused = await client.patch(url, json={"kind": "won"}, headers=tenant.admin)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    unchanged = await read_process(client, tenant, process["id"])
    assert (unchanged["version"], stage_named(unchanged, "Quote sent")["kind"]) == (1, "open")
    same = await client.patch(url, json={"kind": "open", "probability": "60"},
                              headers=tenant.admin)
    assert same.status_code == 200
    assert (await opportunity_row(tenant, opportunity))["probability"] == 50


async def test_the_last_open_stage_stays_open(client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant, stages=[
        {"name": "Only", "probability": "10"}, {"name": "Won", "probability": "100",
                                              "kind": "won"}])
    only = process["stages"][0]
    url = f"{PATH}/{process['id']}/stages/{only['id']}"
    response = await client.patch(url, json={"kind": "won"}, headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == "kind"
    removed = await client.delete(url, headers=tenant.admin)
    assert removed.status_code == 422
    assert problem_field(removed) == "stage_id"
    assert await read_process(client, tenant, process["id"]) == process


async def test_marking_another_stage_moves_the_signed_quote_mark(client: AsyncClient,
                                                                 tenant: Tenant):
    process = await make_process(client, tenant)
    holder, won = stage_named(process, "Verbal yes"), stage_named(process, "Won")
    url = f"{PATH}/{process['id']}/stages"
    response = await client.patch(f"{url}/{won['id']}", json={"marks_quote_signed": True},
                                  headers=tenant.admin)
    assert response.status_code == 200, response.text
    after = await read_process(client, tenant, process["id"])
    assert [s["name"] for s in after["stages"] if s["marks_quote_signed"]] == ["Won"]
    events = await read_events(client, tenant, "stage.updated")
    assert [(e["aggregate_id"], e["data"]) for e in events] == [
        (holder["id"], {"sales_process_id": process["id"], "changes": {
            "marks_quote_signed": {"from": True, "to": False}}}),
        (won["id"], {"sales_process_id": process["id"], "changes": {
            "marks_quote_signed": {"from": False, "to": True}}})]
    await client.patch(f"{url}/{won['id']}", json={"marks_quote_signed": False},
                       headers=tenant.admin)
    assert not any(s["marks_quote_signed"]
                   for s in (await read_process(client, tenant, process["id"]))["stages"])


async def test_stages_are_reordered_by_giving_the_full_order(client: AsyncClient,
                                                             tenant: Tenant):
    process = await make_process(client, tenant)
    ids = [s["id"] for s in process["stages"]]
    order = [ids[2], ids[0], ids[1], ids[4], ids[3]]
    url = f"{PATH}/{process['id']}/stages/order"
    response = await client.put(url, json={"stage_ids": order}, headers=tenant.admin)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert [s["id"] for s in response.json()["data"]] == order
    after = await read_process(client, tenant, process["id"])
    assert [(s["id"], s["position"]) for s in after["stages"]] == [
        (stage_id, n) for n, stage_id in enumerate(order, start=1)]
    again = await client.put(url, json={"stage_ids": order}, headers=tenant.admin)
    assert (again.status_code, again.headers["etag"]) == (200, '"2"')
    events = await read_events(client, tenant, "stages.reordered")
    assert [(e["aggregate_type"], e["aggregate_id"], e["data"]) for e in events] == [
        ("sales_process", process["id"], {"changes": {"stage_ids": {"from": ids,
                                                                     "to": order}}})]


@pytest.mark.parametrize("order", ["missing", "twice", "foreign", "unknown", "empty"])
async def test_an_order_that_does_not_name_every_stage_once_is_refused(
        client: AsyncClient, tenant: Tenant, order: str):
    process, other = await make_process(client, tenant), await make_process(client, tenant)
    ids = [s["id"] for s in process["stages"]]
    stage_ids = {"missing": ids[1:], "twice": [*ids, ids[0]],
                 "foreign": [*ids[1:], other["stages"][0]["id"]],
                 "unknown": [*ids[1:], 10**12], "empty": []}[order]
    response = await client.put(f"{PATH}/{process['id']}/stages/order",
                                json={"stage_ids": stage_ids}, headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == "stage_ids"
    assert await read_process(client, tenant, process["id"]) == process


async def test_a_stale_if_match_on_a_stage_write_is_412_and_changes_nothing(
        client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    await client.patch(f"{PATH}/{process['id']}", json={"note": "v2"}, headers=tenant.admin)
    url = f"{PATH}/{process['id']}/stages"
    stage = process["stages"][1]
    stale = tenant.admin | {"If-Match": '"1"'}
    calls = [client.post(url, json={"name": "X", "probability": "1"}, headers=stale),
             client.patch(f"{url}/{stage['id']}", json={"name": "X"}, headers=stale),
             client.put(f"{url}/order", json={"stage_ids": [
                 s["id"] for s in reversed(process["stages"])]}, headers=stale),
             client.delete(f"{url}/{stage['id']}", headers=stale)]
    for call in calls:
        assert (await call).status_code == 412
    after = await read_process(client, tenant, process["id"])
    assert (after["stages"], after["version"]) == (process["stages"], 2)
    fresh = await client.patch(f"{url}/{stage['id']}", json={"name": "Y"},
                               headers=tenant.admin | {"If-Match": '"2"'})
    assert fresh.status_code == 200


async def test_stage_changes_show_in_the_change_feed(client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    url = f"{PATH}/{process['id']}/stages"
    added = (await client.post(url, headers=tenant.admin, json={
        "name": "Demo", "probability": "40", "color": "#ABCDEF"})).json()
    await client.patch(f"{url}/{added['id']}", json={"name": "Demo given", "probability": "45"},
                       headers=tenant.admin)
    await client.delete(f"{url}/{added['id']}", headers=tenant.admin)
    events = await read_events(client, tenant, STAGE_TYPES)
    shown = {"name": "Demo", "position": 6, "probability": "40.00", "kind": "open",
             "color": "#ABCDEF", "marks_quote_signed": False}
    pid = {"sales_process_id": process["id"]}
    assert [(e["type"], e["aggregate_type"], e["aggregate_id"], e["data"]) for e in events] == [
        ("stage.created", "stage", added["id"], pid | shown),
        ("stage.updated", "stage", added["id"], pid | {"changes": {
            "name": {"from": "Demo", "to": "Demo given"},
            "probability": {"from": "40.00", "to": "45.00"}}}),
        ("stage.deleted", "stage", added["id"], pid | shown | {
            "name": "Demo given", "probability": "45.00"})]


async def test_concurrent_stage_writes_keep_positions_whole_and_lose_no_update(
        client: AsyncClient, tenant: Tenant):
    process = await make_process(client, tenant)
    url = f"{PATH}/{process['id']}/stages"
    added = await asyncio.gather(*[
        client.post(url, json={"name": f"Extra {n}", "probability": str(n)}, headers=tenant.admin)
        for n in range(4)])
    assert [r.status_code for r in added] == [201] * 4
    after = await read_process(client, tenant, process["id"])
    assert [s["position"] for s in after["stages"]] == list(range(1, 10))
    assert after["version"] == 5
    renames = await asyncio.gather(*[
        client.patch(f"{url}/{process['stages'][0]['id']}", json={"name": f"Writer {n}"},
                     headers=tenant.admin | {"If-Match": '"5"'}) for n in range(3)])
    assert sorted(r.status_code for r in renames) == [200, 412, 412]


async def test_an_opportunity_placed_while_its_stage_changes_kind_follows_the_new_kind(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """The change of kind as `update_stage` makes it (the process locked first), not yet
    committed when the opportunity is created; the creation waits for it, then reads the
    stage as changed, so no open opportunity ends up on a won stage."""
    process = await make_process(client, tenant)
    stage = stage_named(process, "Quote sent")
    customer = await make_customer(client, tenant)
    keys = {"org": tenant.organization_id, "process": process["id"], "stage": stage["id"]}
    async with app.state.salescore.engine.connect() as change:
        await change.execute(placing_lock(keys["org"], shared=False))
        await change.execute(text("UPDATE stages SET kind = 'won' WHERE organization_id ="
                                  " :org AND id = :stage"), keys)
        placing = await waiting_for_a_lock(app, client.post(
            "/v1/opportunities", headers=tenant.admin,
            json={"name": "Raced", "customer_id": customer["id"], "stage_id": stage["id"]}))
        assert not placing.done()
        await change.commit()
    created = await placing
    assert created.status_code == 201, created.text
    assert (created.json()["stage_id"], created.json()["status"]) == (stage["id"], "won")


async def test_a_request_the_database_breaks_a_deadlock_of_is_503_and_writes_nothing(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    """A stage change that moves opportunities (process locked, then the opportunity)
    meets a move (the opportunity locked, then the process): PostgreSQL breaks the
    deadlock by failing the move, which answers 503 with Retry-After and writes nothing."""
    process = await make_process(client, tenant)
    customer = await make_customer(client, tenant)
    made = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deadlocked", "customer_id": customer["id"],
        "stage_id": stage_named(process, "First contact")["id"]})
    assert made.status_code == 201, made.text
    keys = {"org": tenant.organization_id, "process": process["id"], "id": made.json()["id"]}
    async with app.state.salescore.engine.connect() as change:
        await change.execute(text("SET LOCAL deadlock_timeout = '10s'"))  # the move detects
        await change.execute(placing_lock(keys["org"], shared=False))
        moving = await waiting_for_a_lock(app, client.post(
            f"/v1/opportunities/{keys['id']}/move", headers=tenant.admin,
            json={"stage_id": stage_named(process, "Quote sent")["id"]}))
        await change.execute(text("UPDATE opportunities SET name = name WHERE"
                                  " organization_id = :org AND id = :id"), keys)
        await change.rollback()
    moved = await moving
    assert moved.status_code == 503, moved.text
    assert moved.headers["content-type"] == "application/problem+json"
    assert moved.headers["retry-after"] == "1"
    read = await client.get(f"/v1/opportunities/{keys['id']}", headers=tenant.admin)
    assert read.json() == made.json()
