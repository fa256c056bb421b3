"""Loss reasons on every way into a lost stage (DOMAIN.md §2, API.md): `/lose`, `/move`,
PATCH, create and the upsert all take `loss_reason_id` and `loss_note`, refuse a missing
reason when the organization requires one, and refuse an inactive one."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.factories import Tenant
from tests.opportunity_factories import (
    World,
    count_opportunities,
    create_opportunity,
    make_list_item,
    make_world,
    sql,
)

Way = Callable[[AsyncClient, Tenant, World, dict[str, Any]], Awaitable[Response]]


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def _open_one(client: AsyncClient, tenant: Tenant, world: World) -> str:
    created = await create_opportunity(client, tenant, world.customer_id, external_id="erp-1")
    return f"/v1/opportunities/{created['id']}"


async def _lose(client: AsyncClient, tenant: Tenant, world: World,
                loss: dict[str, Any]) -> Response:
    path = await _open_one(client, tenant, world)
    return await client.post(f"{path}/lose", headers=tenant.admin, json=loss)


async def _move(client: AsyncClient, tenant: Tenant, world: World,
                loss: dict[str, Any]) -> Response:
    path = await _open_one(client, tenant, world)
    return await client.post(f"{path}/move", headers=tenant.admin,
                             json={"stage_id": world.process.stages["Lost"], **loss})


async def _patch(client: AsyncClient, tenant: Tenant, world: World,
                 loss: dict[str, Any]) -> Response:
    path = await _open_one(client, tenant, world)
    return await client.patch(path, headers=tenant.admin,
                              json={"stage_id": world.process.stages["Lost"], **loss})


async def _create(client: AsyncClient, tenant: Tenant, world: World,
                  loss: dict[str, Any]) -> Response:
    return await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Lost at once", "customer_id": world.customer_id,
        "stage_id": world.process.stages["Lost"], **loss})


async def _upsert_new(client: AsyncClient, tenant: Tenant, world: World,
                      loss: dict[str, Any]) -> Response:
    return await client.put("/v1/opportunities/by-external-id/erp-1", headers=tenant.admin,
                            json={"name": "Lost at once", "customer_id": world.customer_id,
                                  "stage_id": world.process.stages["Lost"], **loss})


async def _upsert_existing(client: AsyncClient, tenant: Tenant, world: World,
                           loss: dict[str, Any]) -> Response:
    await _open_one(client, tenant, world)
    return await _upsert_new(client, tenant, world, loss)


WAYS: dict[str, Way] = {"lose": _lose, "move": _move, "patch": _patch, "create": _create,
                        "upsert_new": _upsert_new, "upsert_existing": _upsert_existing}
CREATING = {"create", "upsert_new"}


async def _require_reasons(client: AsyncClient, tenant: Tenant) -> None:
    response = await client.patch("/v1/settings", headers=tenant.admin,
                                  json={"loss_reason_required": True})
    assert response.status_code == 200, response.text


async def _assert_nothing_lost(app: FastAPI, client: AsyncClient, tenant: Tenant,
                               way: str) -> None:
    if way in CREATING:
        assert await count_opportunities(app, tenant) == 0
        return
    listed = (await client.get("/v1/opportunities", headers=tenant.admin)).json()["data"]
    assert [(o["status"], o["version"]) for o in listed] == [("open", 1)]


@pytest.mark.parametrize("way", WAYS)
async def test_every_way_into_a_lost_stage_needs_a_reason_when_the_organization_requires_one(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, way: str):
    await _require_reasons(client, tenant)
    refused = await WAYS[way](client, tenant, world, {"loss_note": "went quiet"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "loss_reason_id"
    await _assert_nothing_lost(app, client, tenant, way)


@pytest.mark.parametrize("way", WAYS)
async def test_every_way_into_a_lost_stage_records_the_reason_and_note(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, way: str):
    await _require_reasons(client, tenant)
    reason = await make_list_item(app, tenant, "loss_reasons", "Price")
    lost = await WAYS[way](client, tenant, world,
                           {"loss_reason_id": reason, "loss_note": "too dear"})
    assert lost.status_code in (200, 201), lost.text
    assert (lost.json()["status"], lost.json()["loss_reason_id"], lost.json()["loss_note"]) == (
        "lost", reason, "too dear")


@pytest.mark.parametrize("way", WAYS)
async def test_every_way_into_a_lost_stage_refuses_an_inactive_reason(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, way: str):
    retired = await make_list_item(app, tenant, "loss_reasons", "Retired")
    await sql(app, "UPDATE loss_reasons SET active = false WHERE id = :id", id=retired)
    refused = await WAYS[way](client, tenant, world, {"loss_reason_id": retired})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "loss_reason_id"
    await _assert_nothing_lost(app, client, tenant, way)


@pytest.mark.parametrize("field", ["loss_reason_id", "loss_note"])
async def test_only_a_lost_opportunity_takes_a_loss_reason_or_note(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, field: str):
    reason = await make_list_item(app, tenant, "loss_reasons", "Price")
    value = {"loss_reason_id": reason, "loss_note": "too dear"}[field]
    path = await _open_one(client, tenant, world)
    for response in (
            await client.patch(path, headers=tenant.admin, json={field: value}),
            await client.post(f"{path}/move", headers=tenant.admin, json={
                "stage_id": world.process.stages["Quote"], field: value})):
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    await _assert_nothing_lost(app, client, tenant, "patch")


async def test_a_lost_opportunity_keeps_its_reason_once_retired_or_once_reasons_are_required(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    """Editing a lost deal (its amount, its note) leaves its reason be: the reason it was
    lost with stays valid when it is deactivated later, and one lost without a reason is
    not refused once reasons become required. A new reason is checked as on losing."""
    kept = await make_list_item(app, tenant, "loss_reasons", "Price")
    path = await _open_one(client, tenant, world)
    await client.post(f"{path}/lose", headers=tenant.admin, json={"loss_reason_id": kept})
    await sql(app, "UPDATE loss_reasons SET active = false WHERE id = :id", id=kept)
    edited = await client.patch(path, headers=tenant.admin,
                                json={"amount": "5", "loss_reason_id": kept, "loss_note": "x"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["loss_reason_id"], edited.json()["loss_note"]) == (kept, "x")
    await _require_reasons(client, tenant)
    cleared = await client.patch(path, headers=tenant.admin, json={"loss_reason_id": None})
    assert cleared.status_code == 422
    assert cleared.json()["errors"][0]["field"] == "loss_reason_id"
    bare = await create_opportunity(client, tenant, world.customer_id)
    await sql(app, "UPDATE organizations SET loss_reason_required = false WHERE id = :org",
              org=tenant.organization_id)
    await client.post(f"/v1/opportunities/{bare['id']}/lose", headers=tenant.admin)
    await _require_reasons(client, tenant)
    amount = await client.patch(f"/v1/opportunities/{bare['id']}", headers=tenant.admin,
                                json={"amount": "7"})
    assert amount.status_code == 200, amount.text


async def test_a_lost_opportunitys_reason_can_be_corrected(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    first = await make_list_item(app, tenant, "loss_reasons", "Price")
    second = await make_list_item(app, tenant, "loss_reasons", "Timing")
    path = await _open_one(client, tenant, world)
    await client.post(f"{path}/lose", headers=tenant.admin, json={"loss_reason_id": first})
    corrected = await client.patch(path, headers=tenant.admin,
                                   json={"loss_reason_id": second})
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["loss_reason_id"], corrected.json()["version"]) == (second, 3)
