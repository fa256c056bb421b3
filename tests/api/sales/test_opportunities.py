"""Opportunities: creating with defaults, reading, changing, upserting, deleting, history,
permissions, and bad input that changes nothing."""

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import (
    World,
    count_opportunities,
    create_opportunity,
    make_contact,
    make_customer,
    make_list_item,
    make_process,
    make_world,
    sql,
)


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def test_a_new_opportunity_takes_every_default(client: AsyncClient, tenant: Tenant,
                                                     world: World):
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Fleet renewal", "customer_id": world.customer_id, "amount": "1250.50"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["owner_id"] == tenant.admin_id
    assert body["sales_process_id"] == world.process.id
    assert body["stage_id"] == world.process.stages["Lead"]
    assert (body["status"], body["probability"], body["probability_source"]) == (
        "open", "10.00", "stage")
    assert body["currency"] == "NOK"
    assert body["weighted_amount"] == "125.05"
    assert body["sellers"] == [{"user_id": tenant.admin_id, "share": "100.00"}]
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/opportunities/{body['id']}"
    events = await read_events(client, tenant, "opportunity.created")
    assert events[-1]["aggregate_id"] == body["id"]
    assert events[-1]["data"]["changes"]["amount"] == {"from": None, "to": "1250.50"}


async def test_weighted_amount_rounds_half_even_to_the_cent(
        client: AsyncClient, tenant: Tenant, world: World):
    low = await create_opportunity(client, tenant, world.customer_id, amount="0.25",
                                   probability="50")
    high = await create_opportunity(client, tenant, world.customer_id, amount="0.27",
                                    probability="50")
    assert (low["weighted_amount"], high["weighted_amount"]) == ("0.12", "0.14")


async def test_the_default_process_is_the_users_before_the_one_for_all(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    own = await make_process(app, tenant, default_user_id=seller["id"])
    created = await create_opportunity(client, tenant, world.customer_id,
                                       headers=tenant.token_for(seller["id"]))
    assert created["sales_process_id"] == own.id
    assert created["stage_id"] == own.stages["Lead"]


async def test_a_stage_named_alone_brings_its_process(app: FastAPI, client: AsyncClient,
                                                      tenant: Tenant, world: World):
    other = await make_process(app, tenant)
    created = await create_opportunity(client, tenant, world.customer_id,
                                       stage_id=other.stages["Quote"])
    assert (created["sales_process_id"], created["probability"]) == (other.id, "50.00")


async def test_an_api_key_must_name_the_owner(app: FastAPI, client: AsyncClient,
                                              tenant: Tenant, world: World):
    response = await client.post("/v1/opportunities", headers=tenant.key, json={
        "name": "Lead", "customer_id": world.customer_id})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner_id"
    created = await create_opportunity(client, tenant, world.customer_id, headers=tenant.key,
                                       owner_id=tenant.admin_id)
    assert created["created_by"] is None and created["owner_id"] == tenant.admin_id


@pytest.mark.parametrize(("field", "value"), [
    ("probability", "100.01"), ("probability", "-1"), ("amount", "-0.01"),
    ("amount", "12.345"), ("currency", "XYZ"), ("currency", "nok"), ("name", ""),
])
async def test_bad_values_are_refused_naming_the_field(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World, field: str,
        value: str):
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": world.customer_id, field: value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await count_opportunities(app, tenant) == 0


@pytest.mark.parametrize("field", ["customer_id", "contact_id", "owner_id", "campaign_id",
                                   "type_id", "source_id", "stage_id", "sales_process_id"])
async def test_another_organizations_records_are_not_found(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant, world: World,
        field: str):
    theirs = await make_world(app, other_tenant)
    foreign = {
        "customer_id": theirs.customer_id,
        "contact_id": await make_contact(app, other_tenant, theirs.customer_id),
        "owner_id": other_tenant.admin_id,
        "campaign_id": await make_list_item(app, other_tenant, "campaigns"),
        "type_id": await make_list_item(app, other_tenant, "opportunity_types"),
        "source_id": await make_list_item(app, other_tenant, "sources"),
        "stage_id": theirs.process.stages["Lead"],
        "sales_process_id": theirs.process.id,
    }
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": world.customer_id, field: foreign[field]})
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await count_opportunities(app, tenant) == 0


async def test_a_contact_of_another_customer_is_not_found(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    elsewhere = await make_contact(app, tenant, await make_customer(app, tenant))
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": world.customer_id, "contact_id": elsewhere})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "contact_id"


async def test_another_organizations_opportunity_is_not_found(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant, world: World):
    mine = await create_opportunity(client, tenant, world.customer_id)
    path = f"/v1/opportunities/{mine['id']}"
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        response = await client.request(method, path, json=body, headers=other_tenant.admin)
        assert response.status_code == 404, (method, response.text)
    for action in ("win", "lose", "expire", "reopen", "history", "sellers"):
        method = "GET" if action in {"history", "sellers"} else "POST"
        response = await client.request(method, f"{path}/{action}", headers=other_tenant.admin)
        assert response.status_code == 404, (action, response.text)
    listed = await client.get("/v1/opportunities", headers=other_tenant.admin)
    assert listed.json()["data"] == []


async def test_a_new_stage_brings_its_probability_unless_one_is_given(
        client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    path = f"/v1/opportunities/{created['id']}"
    moved = (await client.patch(path, headers=tenant.admin, json={
        "stage_id": world.process.stages["Quote"]})).json()
    assert (moved["probability"], moved["probability_source"]) == ("50.00", "stage")
    manual = (await client.patch(path, headers=tenant.admin, json={
        "stage_id": world.process.stages["Qualified"], "probability": "40"})).json()
    assert (manual["probability"], manual["probability_source"]) == ("40.00", "manual")
    by_hand = (await client.patch(path, headers=tenant.admin, json={"probability": "5.5"}))
    assert by_hand.json()["probability"] == "5.50"
    assert by_hand.json()["version"] == 4


async def test_changing_the_process_needs_a_stage_of_it(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    other = await make_process(app, tenant)
    path = f"/v1/opportunities/{created['id']}"
    response = await client.patch(path, headers=tenant.admin,
                                  json={"sales_process_id": other.id})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stage_id"
    wrong = await client.patch(path, headers=tenant.admin, json={
        "sales_process_id": other.id, "stage_id": world.process.stages["Quote"]})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "stage_id"
    right = await client.patch(path, headers=tenant.admin, json={
        "sales_process_id": other.id, "stage_id": other.stages["Quote"]})
    assert (right.json()["sales_process_id"], right.json()["stage_id"]) == (
        other.id, other.stages["Quote"])
    assert (await client.get(path, headers=tenant.admin)).json()["version"] == 2


async def test_a_stale_if_match_changes_nothing(client: AsyncClient, tenant: Tenant,
                                                world: World):
    created = await create_opportunity(client, tenant, world.customer_id)
    path = f"/v1/opportunities/{created['id']}"
    assert (await client.patch(path, headers=tenant.admin | {"If-Match": '"1"'},
                               json={"name": "First"})).status_code == 200
    stale = await client.patch(path, headers=tenant.admin | {"If-Match": '"1"'},
                               json={"name": "Second"})
    assert stale.status_code == 412
    assert (await client.get(path, headers=tenant.admin)).json()["name"] == "First"


async def test_changing_the_sole_sellers_owner_moves_the_seller(
        client: AsyncClient, tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    created = await create_opportunity(client, tenant, world.customer_id)
    changed = (await client.patch(f"/v1/opportunities/{created['id']}", headers=tenant.admin,
                                  json={"owner_id": seller["id"]})).json()
    assert changed["sellers"] == [{"user_id": seller["id"], "share": "100.00"}]


async def test_a_new_follow_up_date_keeps_the_previous(client: AsyncClient, tenant: Tenant,
                                                       world: World):
    created = await create_opportunity(client, tenant, world.customer_id,
                                       follow_up_date="2026-12-01")
    changed = (await client.patch(f"/v1/opportunities/{created['id']}", headers=tenant.admin,
                                  json={"follow_up_date": "2026-12-15"})).json()
    assert (changed["follow_up_date"], changed["previous_follow_up_date"]) == (
        "2026-12-15", "2026-12-01")


async def test_margin_percent_is_derived_from_the_margin(client: AsyncClient, tenant: Tenant,
                                                         world: World):
    created = await create_opportunity(client, tenant, world.customer_id, amount="3000",
                                       margin_amount="1000")
    assert (created["margin_amount"], created["margin_percent"]) == ("1000.00", "33.33")
    refused = await client.patch(f"/v1/opportunities/{created['id']}", headers=tenant.admin,
                                 json={"weighted_amount": "1"})
    assert refused.status_code == 422


async def test_history_tells_who_changed_what_from_what(client: AsyncClient, tenant: Tenant,
                                                        world: World):
    created = await create_opportunity(client, tenant, world.customer_id, amount="100")
    path = f"/v1/opportunities/{created['id']}"
    await client.patch(path, headers=tenant.admin, json={"amount": "250"})
    await client.patch(path, headers=tenant.admin, json={"amount": "250"})  # no change
    history = (await client.get(f"{path}/history", headers=tenant.admin)).json()
    assert [e["type"] for e in history["data"]] == ["opportunity.created",
                                                    "opportunity.updated"]
    change = history["data"][1]
    assert change["changes"]["amount"] == {"from": "100.00", "to": "250.00"}
    assert change["changes"]["weighted_amount"] == {"from": "10.00", "to": "25.00"}
    assert change["actor"] == {"type": "user", "id": tenant.admin_id}
    first = (await client.get(f"{path}/history", params={"limit": 1},
                              headers=tenant.admin)).json()
    rest = (await client.get(f"{path}/history", params={"cursor": first["next_cursor"]},
                             headers=tenant.admin)).json()
    assert [e["event_id"] for e in first["data"] + rest["data"]] == [
        e["event_id"] for e in history["data"]]


async def test_deleting_leaves_a_tombstone_in_the_feed(client: AsyncClient, tenant: Tenant,
                                                       world: World):
    created = await create_opportunity(client, tenant, world.customer_id, external_id="crm-1")
    path = f"/v1/opportunities/{created['id']}"
    assert (await client.delete(path, headers=tenant.admin)).status_code == 204
    assert (await client.get(path, headers=tenant.admin)).status_code == 404
    tombstone = (await read_events(client, tenant, "opportunity.deleted"))[-1]
    assert tombstone["aggregate_id"] == created["id"]
    assert tombstone["data"]["external_id"] == "crm-1"


async def test_sellers_read_all_but_change_only_their_own(
        client: AsyncClient, tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    manager = await make_user(client, tenant, role="manager")
    theirs = await create_opportunity(client, tenant, world.customer_id)
    own = await create_opportunity(client, tenant, world.customer_id,
                                   owner_id=seller["id"])
    as_seller = tenant.token_for(seller["id"])
    path = f"/v1/opportunities/{theirs['id']}"
    assert (await client.get(path, headers=as_seller)).status_code == 200
    refused = await client.patch(path, headers=as_seller, json={"name": "Mine now"})
    assert refused.status_code == 403
    assert (await client.post(f"{path}/win", headers=as_seller)).status_code == 403
    assert (await client.patch(f"/v1/opportunities/{own['id']}", headers=as_seller,
                               json={"name": "Mine"})).status_code == 200
    await client.post(f"{path}/sellers", headers=tenant.admin,
                      json={"user_id": seller["id"], "share": "50"})
    assert (await client.patch(path, headers=as_seller,
                               json={"name": "Shared"})).status_code == 200
    assert (await client.patch(f"/v1/opportunities/{own['id']}",
                               headers=tenant.token_for(manager["id"]),
                               json={"name": "Managed"})).status_code == 200


async def test_bulk_delete_is_all_or_nothing(app: FastAPI, client: AsyncClient,
                                             tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    own = [await create_opportunity(client, tenant, world.customer_id, owner_id=seller["id"])
           for _ in range(2)]
    theirs = await create_opportunity(client, tenant, world.customer_id)
    as_seller = tenant.token_for(seller["id"])
    ids = [own[0]["id"], theirs["id"], own[1]["id"]]
    refused = await client.post("/v1/opportunities/bulk-delete", headers=as_seller,
                                json={"ids": ids})
    assert refused.status_code == 403
    missing = await client.post("/v1/opportunities/bulk-delete", headers=tenant.admin,
                                json={"ids": [own[0]["id"], 999_999_999]})
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "ids[1]"
    assert await count_opportunities(app, tenant) == 3
    done = await client.post("/v1/opportunities/bulk-delete", headers=as_seller,
                             json={"ids": [o["id"] for o in own]})
    assert done.json() == {"deleted": 2}
    assert await count_opportunities(app, tenant) == 1


async def test_upsert_by_external_id_creates_then_changes(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    path = "/v1/opportunities/by-external-id/hubspot-42"
    body: dict[str, Any] = {"name": "Inbound", "customer_id": world.customer_id,
                            "owner_id": tenant.admin_id, "amount": "10"}
    created = await client.put(path, headers=tenant.key, json=body)
    assert created.status_code == 201, created.text
    changed = await client.put(path, headers=tenant.key, json=body | {"amount": "20"})
    assert changed.status_code == 200
    assert changed.json()["id"] == created.json()["id"]
    assert (changed.json()["amount"], changed.json()["external_id"]) == ("20.00", "hubspot-42")
    assert await count_opportunities(app, tenant) == 1


async def test_concurrent_upserts_of_one_external_id_make_one_record(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    body = {"name": "Race", "customer_id": world.customer_id, "owner_id": tenant.admin_id}
    answers = await asyncio.gather(*(client.put(
        "/v1/opportunities/by-external-id/race-1", headers=tenant.key, json=body)
        for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert await count_opportunities(app, tenant) == 1


async def test_a_taken_external_id_is_a_conflict(client: AsyncClient, tenant: Tenant,
                                                 world: World):
    await create_opportunity(client, tenant, world.customer_id, external_id="dup")
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Again", "customer_id": world.customer_id, "external_id": "dup"})
    assert response.status_code == 409


async def test_an_inactive_process_receives_no_opportunities(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    closed = await make_process(app, tenant, active=False)
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": world.customer_id, "sales_process_id": closed.id})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sales_process_id"
    await sql(app, "UPDATE sales_processes SET active = false WHERE organization_id = :org",
              org=tenant.organization_id)
    none_left = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": world.customer_id})
    assert none_left.status_code == 422


async def test_a_new_opportunity_starts_in_the_first_open_stage_in_the_organizations_currency(
        client: AsyncClient, tenant: Tenant, world: World):
    """The first stage by position may be a closed one; the first open one is taken. The
    currency is the organization's base currency, whatever it is."""
    made = await client.post("/v1/sales-processes", headers=tenant.admin, json={
        "name": "Closed first", "stages": [
            {"name": "Won early", "probability": "100", "kind": "won"},
            {"name": "Lost early", "probability": "0", "kind": "lost"},
            {"name": "Talk", "probability": "20"}, {"name": "Offer", "probability": "60"}]})
    assert made.status_code == 201, made.text
    process = made.json()
    settings = await client.patch("/v1/settings", headers=tenant.admin,
                                  json={"base_currency": "SEK"})
    assert settings.status_code == 200, settings.text
    created = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Fleet", "customer_id": world.customer_id, "sales_process_id": process["id"]})
    assert created.status_code == 201, created.text
    talk = next(s["id"] for s in process["stages"] if s["name"] == "Talk")
    assert (created.json()["stage_id"], created.json()["status"], created.json()["currency"],
            created.json()["probability"]) == (talk, "open", "SEK", "20.00")


async def test_an_external_id_is_unique_within_an_organization_only(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant, world: World):
    theirs = await make_world(app, other_tenant)
    mine = await create_opportunity(client, tenant, world.customer_id, external_id="crm-7")
    other = await create_opportunity(client, other_tenant, theirs.customer_id,
                                     external_id="crm-7")
    assert mine["external_id"] == other["external_id"] == "crm-7"
    again = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Twin", "customer_id": world.customer_id, "external_id": "crm-7"})
    assert again.status_code == 409, again.text
