"""Activities through the API, the follow-up tasks opportunities create, notifications and
the stagnant report (issue 4)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, make_user, read_events
from tests.opportunity_factories import (
    World,
    create_opportunity,
    make_contact,
    make_customer,
    make_world,
    sql,
)


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def activities_of(client: AsyncClient, tenant: Tenant, opportunity_id: int,
                        **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/opportunities/{opportunity_id}/activities",
                                params=params, headers=tenant.admin)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def count_activities(app: FastAPI, tenant: Tenant) -> int:
    found: int = await sql(app, "SELECT count(*) FROM activities WHERE organization_id = :org",
                           org=tenant.organization_id)
    return found


async def test_a_new_opportunity_with_a_follow_up_date_gets_two_tasks(
        client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id,
                                       follow_up_date="2026-12-01", description="Fleet talk")
    tasks = await activities_of(client, tenant, created["id"], sort="id")
    assert [t["origin"] for t in tasks] == ["follow_up", "opportunity_created"]
    follow_up = tasks[0]
    assert follow_up["due_at"] == "2026-11-30T23:00:00Z"
    assert (follow_up["kind"], follow_up["text"], follow_up["assignee_id"],
            follow_up["customer_id"], follow_up["done"]) == (
        "task", "Fleet talk", tenant.admin_id, world.customer_id, False)
    events = await read_events(client, tenant, "activity.created")
    assert {e["aggregate_id"] for e in events} >= {t["id"] for t in tasks}


async def test_changing_the_follow_up_date_adds_a_task_and_keeps_the_previous_date(
        client: AsyncClient, tenant: Tenant, world: World):
    created = await create_opportunity(client, tenant, world.customer_id,
                                       follow_up_date="2026-12-01")
    path = f"/v1/opportunities/{created['id']}"
    await client.patch(path, headers=tenant.admin, json={"follow_up_date": "2026-12-01"})
    await client.patch(path, headers=tenant.admin, json={"follow_up_date": None})
    changed = (await client.patch(path, headers=tenant.admin,
                                  json={"follow_up_date": "2026-12-15"})).json()
    assert changed["previous_follow_up_date"] is None  # it was cleared in between
    origins = [t["origin"] for t in await activities_of(client, tenant, created["id"])]
    assert origins.count("follow_up") == 2


async def test_the_reminder_follows_the_organization_setting(
        client: AsyncClient, tenant: Tenant, world: World):
    await client.patch("/v1/settings", headers=tenant.admin,
                       json={"reminder_task_enabled": False})
    created = await create_opportunity(client, tenant, world.customer_id)
    assert await activities_of(client, tenant, created["id"]) == []


async def test_the_tasks_go_to_the_owner_on_the_organizations_day_and_delay(
        client: AsyncClient, tenant: Tenant, world: World):
    """Made by the admin for another owner, in an organization on New York time with
    reminders after three days; a change of owner and date gives the new owner the task."""
    settings = await client.patch("/v1/settings", headers=tenant.admin, json={
        "time_zone": "America/New_York", "reminder_task_days": 3})
    assert settings.status_code == 200, settings.text
    owner, heir = (await make_user(client, tenant))["id"], (await make_user(client, tenant))["id"]
    created = await create_opportunity(client, tenant, world.customer_id, owner_id=owner,
                                       follow_up_date="2026-12-01")
    tasks = {t["origin"]: t for t in await activities_of(client, tenant, created["id"])}
    assert tasks["follow_up"]["due_at"] == "2026-12-01T05:00:00Z"  # midnight, EST
    assert datetime.fromisoformat(tasks["opportunity_created"]["due_at"]) == (
        datetime.fromisoformat(created["created_at"]) + timedelta(days=3))
    assert {t["assignee_id"] for t in tasks.values()} == {owner}
    changed = await client.patch(f"/v1/opportunities/{created['id']}", headers=tenant.admin,
                                 json={"owner_id": heir, "follow_up_date": "2026-12-20"})
    assert changed.status_code == 200, changed.text
    latest = [t for t in await activities_of(client, tenant, created["id"], sort="id")
              if t["origin"] == "follow_up"][-1]
    assert (latest["assignee_id"], latest["due_at"]) == (heir, "2026-12-20T05:00:00Z")


async def test_an_activity_made_alone_is_listed_on_the_opportunity_it_is_linked_to_later(
        client: AsyncClient, tenant: Tenant, world: World):
    made = await client.post("/v1/activities", headers=tenant.admin,
                             json={"kind": "call", "subject": "Ring Kari"})
    assert made.status_code == 201, made.text
    deal = await create_opportunity(client, tenant, world.customer_id)
    assert made.json()["id"] not in [a["id"] for a in await activities_of(
        client, tenant, deal["id"])]
    linked = await client.patch(f"/v1/activities/{made.json()['id']}", headers=tenant.admin,
                                json={"opportunity_id": deal["id"]})
    assert linked.status_code == 200, linked.text
    assert made.json()["id"] in [a["id"] for a in await activities_of(
        client, tenant, deal["id"])]


async def test_an_activity_linked_to_an_opportunity_later_takes_its_customer(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    deal = await create_opportunity(client, tenant, world.customer_id)
    elsewhere = await make_customer(app, tenant)
    alone = (await client.post("/v1/activities", headers=tenant.admin,
                               json={"kind": "call", "subject": "Ring Kari"})).json()
    misfiled = (await client.post("/v1/activities", headers=tenant.admin, json={
        "kind": "note", "subject": "Met", "customer_id": elsewhere})).json()
    for activity in (alone, misfiled):
        linked = await client.patch(f"/v1/activities/{activity['id']}", headers=tenant.admin,
                                    json={"opportunity_id": deal["id"]})
        assert linked.status_code == 200, linked.text
        assert linked.json()["customer_id"] == world.customer_id
    named = (await client.post("/v1/activities", headers=tenant.admin,
                               json={"kind": "call", "subject": "Ring Ola"})).json()
    linked = await client.patch(f"/v1/activities/{named['id']}", headers=tenant.admin,
                                json={"opportunity_id": deal["id"], "customer_id": elsewhere})
    assert linked.json()["customer_id"] == elsewhere


async def test_an_upsert_schedules_follow_ups_too(client: AsyncClient, tenant: Tenant,
                                                  world: World):
    body = {"name": "Lead", "customer_id": world.customer_id, "owner_id": tenant.admin_id}
    created = (await client.put("/v1/opportunities/by-external-id/x-1", headers=tenant.key,
                                json=body)).json()
    await client.put("/v1/opportunities/by-external-id/x-1", headers=tenant.key,
                     json=body | {"follow_up_date": "2027-01-05"})
    origins = sorted(t["origin"] for t in await activities_of(client, tenant, created["id"]))
    assert origins == ["follow_up", "opportunity_created"]


async def test_completing_sets_done_at_and_undoing_clears_it(
        client: AsyncClient, tenant: Tenant):
    created = await client.post("/v1/activities", headers=tenant.admin,
                                json={"kind": "call", "subject": "Ring Kari"})
    assert created.status_code == 201, created.text
    assert created.json()["assignee_id"] == tenant.admin_id
    path = f"/v1/activities/{created.json()['id']}"
    done = (await client.patch(path, headers=tenant.admin, json={"done": True})).json()
    assert done["done"] is True and done["done_at"] is not None
    undone = (await client.patch(path, headers=tenant.admin, json={"done": False})).json()
    assert (undone["done"], undone["done_at"]) == (False, None)
    types = [e["type"] for e in await read_events(client, tenant) if e["aggregate_type"]
             == "activity"]
    assert types == ["activity.created", "activity.completed", "activity.updated"]
    assert (await client.delete(path, headers=tenant.admin)).status_code == 204
    assert (await read_events(client, tenant, "activity.deleted"))[-1]["aggregate_id"] == (
        created.json()["id"])


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "meeting", "subject": "x"}, "kind"),
    ({"kind": "appointment", "subject": "x", "starts_at": "2026-12-01T10:00:00Z"}, "ends_at"),
    ({"kind": "appointment", "subject": "x", "starts_at": "2026-12-01T10:00:00Z",
      "ends_at": "2026-12-01T09:00:00Z"}, "ends_at"),
    ({"kind": "task", "subject": "x", "due_at": "tomorrow"}, "due_at"),
    ({"kind": "task", "subject": "x", "due_at": "2026-12-01T10:00:00"}, "due_at"),
    ({"kind": "task", "subject": ""}, "subject"),
])
async def test_bad_activities_are_refused_and_nothing_is_written(
        app: FastAPI, client: AsyncClient, tenant: Tenant, body: dict[str, Any], field: str):
    response = await client.post("/v1/activities", headers=tenant.admin, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await count_activities(app, tenant) == 0


@pytest.mark.parametrize("field", ["opportunity_id", "customer_id", "contact_id",
                                   "assignee_id"])
async def test_another_organizations_records_cannot_be_linked(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant, field: str):
    theirs = await make_world(app, other_tenant)
    foreign = {
        "opportunity_id": (await create_opportunity(client, other_tenant,
                                                    theirs.customer_id))["id"],
        "customer_id": theirs.customer_id,
        "contact_id": await make_contact(app, other_tenant, theirs.customer_id),
        "assignee_id": other_tenant.admin_id,
    }
    before = await count_activities(app, tenant)
    response = await client.post("/v1/activities", headers=tenant.admin, json={
        "kind": "task", "subject": "x", field: foreign[field]})
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["field"] == field
    assert await count_activities(app, tenant) == before


async def test_another_organizations_activity_is_not_found(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant):
    created = (await client.post("/v1/activities", headers=tenant.admin,
                                 json={"kind": "note", "subject": "Secret"})).json()
    path = f"/v1/activities/{created['id']}"
    for method, body in (("GET", None), ("PATCH", {"done": True}), ("DELETE", None)):
        response = await client.request(method, path, json=body, headers=other_tenant.admin)
        assert response.status_code == 404
    listed = await client.get("/v1/activities", headers=other_tenant.admin)
    assert listed.json()["data"] == []


async def test_a_sellers_calendar_lists_a_month_across_kinds(
        app: FastAPI, client: AsyncClient, tenant: Tenant):
    seller = await make_user(client, tenant)
    customer = await make_customer(app, tenant)
    for day, kind in ((3, "appointment"), (10, "call"), (40, "appointment")):
        start = datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(days=day)
        response = await client.post("/v1/activities", headers=tenant.admin, json={
            "kind": kind, "subject": f"{kind} {day}", "assignee_id": seller["id"],
            "customer_id": customer, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat()})
        assert response.status_code == 201, response.text
    month = await client.get("/v1/activities", headers=tenant.admin, params={
        "assignee_id": seller["id"], "starts_at[gte]": "2026-12-01T00:00:00Z",
        "starts_at[lte]": "2026-12-31T23:59:59Z", "sort": "starts_at"})
    assert [a["subject"] for a in month.json()["data"]] == ["appointment 3", "call 10"]


async def test_people_are_notified_of_what_others_give_them(
        client: AsyncClient, tenant: Tenant, world: World):
    seller = await make_user(client, tenant)
    as_seller = tenant.token_for(seller["id"])
    created = await create_opportunity(client, tenant, world.customer_id)
    await client.patch(f"/v1/opportunities/{created['id']}", headers=tenant.admin,
                       json={"owner_id": seller["id"]})
    await client.post("/v1/activities", headers=tenant.admin,
                      json={"kind": "task", "subject": "Call", "assignee_id": seller["id"]})
    await client.post("/v1/activities", headers=as_seller,
                      json={"kind": "task", "subject": "Own"})
    inbox = (await client.get("/v1/notifications", params={"unread": "true"},
                              headers=as_seller)).json()["data"]
    assert sorted(n["type"] for n in inbox) == ["activity_assigned", "opportunity_assigned",
                                                "seller_share_given"]
    read = await client.post(f"/v1/notifications/{inbox[0]['id']}/read", headers=as_seller)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = (await client.get("/v1/notifications", params={"unread": "true"},
                               headers=as_seller)).json()["data"]
    assert [n["id"] for n in unread] == [n["id"] for n in inbox[1:]]
    others = await client.post(f"/v1/notifications/{inbox[1]['id']}/read",
                               headers=tenant.admin)
    assert others.status_code == 404
    assert (await client.get("/v1/notifications", headers=tenant.key)).status_code == 403


async def test_stagnant_lists_overdue_follow_ups_and_quiet_opportunities(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    await client.patch("/v1/settings", headers=tenant.admin,
                       json={"reminder_task_enabled": False})
    overdue = await create_opportunity(client, tenant, world.customer_id, name="Overdue",
                                       follow_up_date="2020-01-01")
    quiet = await create_opportunity(client, tenant, world.customer_id, name="Quiet")
    fresh = await create_opportunity(client, tenant, world.customer_id, name="Fresh")
    await sql(app, "UPDATE opportunities SET created_at = now() - interval '40 days' "
                   "WHERE organization_id = :org AND id = ANY(:ids)",
              org=tenant.organization_id, ids=[quiet["id"], fresh["id"]])
    await client.post("/v1/activities", headers=tenant.admin, json={
        "kind": "call", "subject": "Talked", "opportunity_id": fresh["id"]})
    report = (await client.get("/v1/reports/stagnant", params={"days": 30},
                               headers=tenant.admin)).json()
    assert report["days"] == 30
    assert [(r["name"], r["follow_up_overdue"], r["inactive"]) for r in report["data"]] == [
        ("Overdue", True, False), ("Quiet", False, True)]
    [task] = await activities_of(client, tenant, overdue["id"])
    await client.patch(f"/v1/activities/{task['id']}", headers=tenant.admin,
                       json={"done": True})
    again = (await client.get("/v1/reports/stagnant", params={"days": 30},
                              headers=tenant.admin)).json()
    assert [r["name"] for r in again["data"]] == ["Quiet"]


async def test_stagnant_leaves_closed_deals_out_and_takes_its_days_from_the_setting(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    await client.patch("/v1/settings", headers=tenant.admin,
                       json={"reminder_task_enabled": False, "stagnant_days": 50})
    closed = await create_opportunity(client, tenant, world.customer_id, name="Closed",
                                      follow_up_date="2020-01-01")
    won = await client.post(f"/v1/opportunities/{closed['id']}/win", headers=tenant.admin)
    assert won.status_code == 200, won.text
    quiet = await create_opportunity(client, tenant, world.customer_id, name="Quiet")

    async def quiet_for(days: int) -> dict[str, Any]:
        await sql(app, "UPDATE opportunities SET created_at = now() - make_interval("
                       "days => :days) WHERE organization_id = :org AND id = ANY(:ids)",
                  days=days, org=tenant.organization_id, ids=[quiet["id"], closed["id"]])
        response = await client.get("/v1/reports/stagnant", headers=tenant.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = await quiet_for(40)
    assert (first["days"], first["data"]) == (50, [])
    assert [r["name"] for r in (await quiet_for(60))["data"]] == ["Quiet"]


@pytest.mark.parametrize("value", ["soon", "2026-13-01", "2026-12-01T10:00:00Z", 20261201])
async def test_a_follow_up_date_must_be_a_date(app: FastAPI, client: AsyncClient,
                                               tenant: Tenant, world: World, value: object):
    response = await client.post("/v1/opportunities", headers=tenant.admin, json={
        "name": "Deal", "customer_id": world.customer_id, "follow_up_date": value})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "follow_up_date"
    assert await count_activities(app, tenant) == 0


async def test_the_stagnant_report_exports_as_csv_and_xlsx(client: AsyncClient,
                                                           tenant: Tenant, world: World):
    await create_opportunity(client, tenant, world.customer_id, name="Overdue",
                             follow_up_date="2020-01-01")
    csv = await client.get("/v1/reports/stagnant", params={"format": "csv"},
                           headers=tenant.admin)
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("opportunity_id,name,owner_id") and "Overdue" in lines[1]
    xlsx = await client.get("/v1/reports/stagnant", headers=tenant.admin | {
        "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_the_stagnant_file_holds_every_row_not_one_page(client: AsyncClient,
                                                              tenant: Tenant, world: World):
    for name in ("First", "Second", "Third"):
        await create_opportunity(client, tenant, world.customer_id, name=name,
                                 follow_up_date="2020-01-01")
    page = await client.get("/v1/reports/stagnant", params={"limit": 1},
                            headers=tenant.admin)
    assert [r["name"] for r in page.json()["data"]] == ["First"]
    csv = await client.get("/v1/reports/stagnant", params={"format": "csv", "limit": 1},
                           headers=tenant.admin)
    assert csv.status_code == 200, csv.text
    rows = csv.content.decode("utf-8-sig").splitlines()[1:]
    assert [row.split(",")[1] for row in rows] == ["First", "Second", "Third"]
