"""The lifecycle actions: move, win, lose, expire, reopen (DOMAIN.md §2)."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, read_events
from tests.opportunity_factories import (
    World,
    create_opportunity,
    make_list_item,
    make_process,
    make_world,
    sql,
)


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def act(client: AsyncClient, tenant: Tenant, opportunity_id: int, action: str,
              **body: object) -> dict[str, object]:
    response = await client.post(f"/v1/opportunities/{opportunity_id}/{action}",
                                 headers=tenant.admin, json=body or None)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def test_winning_closes_at_one_hundred_percent_in_the_first_won_stage(
        client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id, amount="500")
    won = await act(client, tenant, created["id"], "win")
    assert (won["status"], won["probability"], won["weighted_amount"]) == (
        "won", "100.00", "500.00")
    assert won["stage_id"] == world.process.stages["Won"] and won["closed_at"]
    event = (await read_events(client, tenant, "opportunity.won"))[-1]
    assert event["data"]["changes"]["status"] == {"from": "open", "to": "won"}


async def test_moving_to_a_lost_stage_loses_at_zero(client: AsyncClient, tenant: Tenant,
                                                    world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    lost = await act(client, tenant, created["id"], "move",
                     stage_id=world.process.stages["Lost"])
    assert (lost["status"], lost["probability"]) == ("lost", "0.00")
    assert lost["closed_at"] is not None


async def test_a_closed_opportunity_must_be_reopened_before_it_moves(
        client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    await act(client, tenant, created["id"], "win")
    path = f"/v1/opportunities/{created['id']}"
    for action, body in (("move", {"stage_id": world.process.stages["Quote"]}),
                         ("lose", {}), ("expire", {})):
        response = await client.post(f"{path}/{action}", headers=tenant.admin, json=body)
        assert response.status_code == 409, action
    patched = await client.patch(path, headers=tenant.admin,
                                 json={"stage_id": world.process.stages["Quote"]})
    assert patched.status_code == 409
    amount = await client.patch(path, headers=tenant.admin, json={"amount": "99"})
    assert amount.status_code == 200 and amount.json()["status"] == "won"
    recorded = (await client.get(f"{path}/history", headers=tenant.admin)).json()["data"][-1]
    assert recorded["changes"]["amount"] == {"from": "1000.00", "to": "99.00"}


async def test_reopening_returns_to_the_last_open_stage(client: AsyncClient, tenant: Tenant,
                                                        world: World):
    created = await create_opportunity(client, tenant, world.customer_id,
                                       stage_id=world.process.stages["Quote"])
    await act(client, tenant, created["id"], "lose", loss_note="too dear")
    reopened = await act(client, tenant, created["id"], "reopen")
    assert (reopened["status"], reopened["stage_id"], reopened["probability"]) == (
        "open", world.process.stages["Quote"], "50.00")
    assert reopened["closed_at"] is None and reopened["loss_note"] is None
    assert (await read_events(client, tenant, "opportunity.reopened"))[-1][
        "aggregate_id"] == created["id"]
    assert (await client.post(f"/v1/opportunities/{created['id']}/reopen",
                              headers=tenant.admin)).status_code == 409


async def test_reopening_in_a_named_stage_needs_an_open_one(
        client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    await act(client, tenant, created["id"], "expire")
    path = f"/v1/opportunities/{created['id']}/reopen"
    wrong = await client.post(path, headers=tenant.admin,
                              json={"stage_id": world.process.stages["Won"]})
    assert wrong.status_code == 422
    reopened = await act(client, tenant, created["id"], "reopen",
                         stage_id=world.process.stages["Qualified"])
    assert reopened["probability"] == "25.00"


async def test_expiring_is_final_and_keeps_the_stage(client: AsyncClient, tenant: Tenant,
                                                     world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    expired = await act(client, tenant, created["id"], "expire")
    assert (expired["status"], expired["stage_id"]) == ("expired", created["stage_id"])
    assert expired["closed_at"] is not None


async def test_losing_takes_a_reason_from_the_list(app: FastAPI, client: AsyncClient,
                                                   tenant: Tenant, other_tenant: Tenant,
                                                   world: World):
    reason = await make_list_item(app, tenant, "loss_reasons", "Price")
    foreign = await make_list_item(app, other_tenant, "loss_reasons", "Price")
    created = await create_opportunity(client, tenant, world.customer_id)
    path = f"/v1/opportunities/{created['id']}/lose"
    refused = await client.post(path, headers=tenant.admin, json={"loss_reason_id": foreign})
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["field"] == "loss_reason_id"
    lost = await act(client, tenant, created["id"], "lose", loss_reason_id=reason)
    assert lost["loss_reason_id"] == reason


async def test_the_organization_can_require_a_loss_reason(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    await sql(app, "UPDATE organizations SET loss_reason_required = true WHERE id = :org",
              org=tenant.organization_id)
    created = await create_opportunity(client, tenant, world.customer_id)
    response = await client.post(f"/v1/opportunities/{created['id']}/lose",
                                 headers=tenant.admin, json={"loss_note": "silence"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "loss_reason_id"
    still = await client.get(f"/v1/opportunities/{created['id']}", headers=tenant.admin)
    assert still.json()["status"] == "open"


async def test_moving_to_a_stage_of_another_process_changes_the_process(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    other = await make_process(app, tenant)
    created = await create_opportunity(client, tenant, world.customer_id)
    moved = await act(client, tenant, created["id"], "move", stage_id=other.stages["Quote"])
    assert (moved["sales_process_id"], moved["stage_id"], moved["probability"]) == (
        other.id, other.stages["Quote"], "50.00")
    event = (await read_events(client, tenant, "opportunity.stage_changed"))[-1]
    assert set(event["data"]["changes"]) >= {"stage_id", "sales_process_id", "probability"}


async def test_a_stage_of_another_organization_is_not_found(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant, world: World):
    theirs = await make_process(app, other_tenant)
    created = await create_opportunity(client, tenant, world.customer_id)
    response = await client.post(f"/v1/opportunities/{created['id']}/move",
                                 headers=tenant.admin, json={"stage_id": theirs.stages["Quote"]})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "stage_id"


async def test_a_won_stage_is_needed_to_win_in(client: AsyncClient, tenant: Tenant,
                                               world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    response = await client.post(f"/v1/opportunities/{created['id']}/win",
                                 headers=tenant.admin,
                                 json={"stage_id": world.process.stages["Quote"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stage_id"


async def test_actions_honour_if_match(client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    response = await client.post(f"/v1/opportunities/{created['id']}/win",
                                 headers=tenant.admin | {"If-Match": '"7"'})
    assert response.status_code == 412


async def test_the_database_keeps_each_forecast_state_with_its_period(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id, amount="100")
    await act(client, tenant, created["id"], "move", stage_id=world.process.stages["Quote"])
    await client.patch(f"/v1/opportunities/{created['id']}", headers=tenant.admin,
                       json={"name": "Renamed"})  # not a forecast change: no new state
    await act(client, tenant, created["id"], "win")
    states = await sql(app, """
        SELECT json_agg(json_build_array(status, probability::text, weighted_amount::text,
                                         valid_to IS NULL) ORDER BY id)
        FROM opportunity_history WHERE organization_id = :org AND opportunity_id = :id""",
                       org=tenant.organization_id, id=created["id"])
    assert states == [["open", "10.00", "10.00", False], ["open", "50.00", "50.00", False],
                      ["won", "100.00", "100.00", True]]
    await client.delete(f"/v1/opportunities/{created['id']}", headers=tenant.admin)
    current = await sql(app, "SELECT count(*) FROM opportunity_history WHERE "
                             "organization_id = :org AND valid_to IS NULL",
                        org=tenant.organization_id)
    assert current == 0


async def test_an_inactive_process_takes_no_opportunity_by_a_move(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    closed = await make_process(app, tenant, active=False)
    created = await create_opportunity(client, tenant, world.customer_id)
    response = await client.post(f"/v1/opportunities/{created['id']}/move",
                                 headers=tenant.admin, json={"stage_id": closed.stages["Quote"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stage_id"
    still = (await client.get(f"/v1/opportunities/{created['id']}", headers=tenant.admin)).json()
    assert still["sales_process_id"] == world.process.id
