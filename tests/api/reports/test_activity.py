"""GET /v1/reports/activity: per seller, activities done and open, overdue follow-ups and
active opportunities."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import Tenant, make_user
from tests.opportunity_factories import create_opportunity, make_world, sql
from tests.report_factories import act, jan, oslo_today

KINDS = ("task", "appointment", "call", "note")


def by_kind(**counts: int) -> dict[str, int]:
    return {kind: counts.get(kind, 0) for kind in KINDS}


async def activity(client: AsyncClient, tenant: Tenant, headers: dict[str, str] | None = None,
                   done_at: datetime | None = None, **body: Any) -> int:
    """An activity made through the API; done at `done_at` when given."""
    if body["kind"] == "appointment":
        body |= {"starts_at": "2027-01-05T09:00:00Z", "ends_at": "2027-01-05T10:00:00Z"}
    response = await client.post("/v1/activities", headers=headers or tenant.admin,
                                 json={"subject": "Do it", **body,
                                       **({"done": True} if done_at else {})})
    assert response.status_code == 201, response.text
    activity_id = int(response.json()["id"])
    if done_at is not None:
        await sql(tenant.app, "UPDATE activities SET done_at = :at"
                              " WHERE organization_id = :org AND id = :id",
                  at=done_at, org=tenant.organization_id, id=activity_id)
    return activity_id


@pytest.fixture
async def people(client: AsyncClient, app: FastAPI, tenant: Tenant,
                 other_tenant: Tenant) -> dict[str, int]:
    response = await client.patch("/v1/settings", json={"reminder_task_enabled": False},
                                  headers=tenant.admin)
    assert response.status_code == 200, response.text
    world = await make_world(app, tenant)
    kari, ola, per, eva = [(await make_user(client, tenant))["id"] for _ in range(4)]
    today = oslo_today()
    yesterday, later = today - timedelta(days=1), today + timedelta(days=30)
    for amount, follow_up in (("100.00", yesterday), ("200.00", later), ("300.00", yesterday)):
        await create_opportunity(client, tenant, world.customer_id, owner_id=kari,
                                 amount=amount, follow_up_date=follow_up.isoformat())
    await sql(app, "UPDATE activities SET done = true, done_at = now()"
                   " WHERE organization_id = :org AND id = (SELECT max(id) FROM activities"
                   " WHERE organization_id = :org AND origin = 'follow_up')",
              org=tenant.organization_id)
    won = await create_opportunity(client, tenant, world.customer_id, owner_id=kari)
    await act(client, tenant, won["id"], "win")
    await create_opportunity(client, tenant, world.customer_id, owner_id=ola)

    await activity(client, tenant, kind="task", assignee_id=kari, done_at=jan(10))
    await activity(client, tenant, kind="call", assignee_id=kari, done_at=jan(15))
    await activity(client, tenant, kind="call", assignee_id=kari,
                   done_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC))  # 1 Feb in Oslo
    await activity(client, tenant, kind="note", assignee_id=kari, done_at=jan(20))
    await activity(client, tenant, kind="task", assignee_id=kari)
    await activity(client, tenant, kind="appointment", assignee_id=kari)
    await activity(client, tenant, kind="task", assignee_id=ola, done_at=jan(5))
    await activity(client, tenant, kind="call", assignee_id=ola)
    await activity(client, tenant, kind="task", assignee_id=per)
    await activity(client, tenant, tenant.key, kind="task")  # by an API key: no assignee
    for gone in (per, eva):
        response = await client.patch(f"/v1/users/{gone}", json={"active": False},
                                      headers=tenant.admin)
        assert response.status_code == 200, response.text
    await activity(client, other_tenant, kind="task", done_at=jan(10))
    return {"kari": kari, "ola": ola, "per": per, "eva": eva, "admin": tenant.admin_id}


async def report(client: AsyncClient, tenant: Tenant, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/reports/activity", headers=tenant.key, params=params)
    assert response.status_code == 200, response.text
    sellers: list[dict[str, Any]] = response.json()["sellers"]
    return sellers


def figures(seller: dict[str, Any]) -> tuple[Any, ...]:
    return (seller["done"], seller["open"], seller["overdue_follow_ups"],
            seller["active_opportunities"])


async def test_each_seller_s_activities_done_in_the_period_and_open_now(
        client: AsyncClient, tenant: Tenant, people: dict[str, int]):
    sellers = await report(client, tenant, **{"from": "2026-01-01", "to": "2026-01-31"})
    found = {s["seller"]["id"] if s["seller"] else None: figures(s) for s in sellers}
    assert found == {
        people["kari"]: (by_kind(task=1, call=1, note=1), by_kind(task=3, appointment=1),
                         1, 3),
        people["ola"]: (by_kind(task=1), by_kind(call=1), 0, 1),
        people["per"]: (by_kind(), by_kind(task=1), 0, 0),
        people["admin"]: (by_kind(), by_kind(), 0, 0),
        None: (by_kind(), by_kind(task=1), 0, 0)}
    assert sellers[-1]["seller"] is None


async def test_without_a_period_every_done_activity_counts(
        client: AsyncClient, tenant: Tenant, people: dict[str, int]):
    sellers = await report(client, tenant)
    kari = next(s for s in sellers if s["seller"] and s["seller"]["id"] == people["kari"])
    assert kari["done"] == by_kind(task=2, call=2, note=1)


async def test_another_organization_s_people_and_activities_never_show(
        client: AsyncClient, tenant: Tenant, other_tenant: Tenant, people: dict[str, int]):
    sellers = await report(client, other_tenant, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert [(s["seller"]["id"], s["done"]["task"]) for s in sellers] == [
        (other_tenant.admin_id, 1)]


async def test_the_activity_report_refuses_a_backward_period_and_unknown_parameters(
        client: AsyncClient, tenant: Tenant):
    for params, field in (({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
                          ({"assignee_id": "1"}, "assignee_id")):
        response = await client.get("/v1/reports/activity", headers=tenant.key, params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


async def test_the_activity_report_exports_a_row_per_seller(
        client: AsyncClient, tenant: Tenant, people: dict[str, int]):
    response = await client.get("/v1/reports/activity", headers=tenant.key, params={
        "from": "2026-01-01", "to": "2026-01-31", "format": "csv"})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ("seller_id,seller,done_task,done_appointment,done_call,done_note,"
                        "open_task,open_appointment,open_call,open_note,overdue_follow_ups,"
                        "active_opportunities")
    assert any(line.startswith(f"{people['kari']},") and line.endswith(",1,0,1,1,3,1,0,0,1,3")
               for line in lines)
    assert lines[-1] == ",,0,0,0,0,1,0,0,0,0,0"
