"""GET /v1/reports/pipeline?as_of=: the open pipeline as it stood at the end of a past day,
rebuilt from the history (moved to January 2026, Oslo time)."""

from datetime import date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.domain.access.permissions import Caller, Role, scopes_of_role
from salescore.domain.errors import InvalidInput
from salescore.domain.listing import Condition, Op
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.reports.history import pipeline_as_of
from tests.factories import Tenant, make_user
from tests.opportunity_factories import create_opportunity, make_world
from tests.report_factories import (
    OSLO,
    act,
    change,
    delete,
    jan,
    retime,
    retime_sellers,
    set_rate,
)


async def as_of(client: AsyncClient, tenant: Tenant, day: str, **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/pipeline", headers=tenant.key,
                                params={"as_of": day, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def figures(group: dict[str, Any]) -> tuple[int, str, str]:
    return group["count"], group["amount"], group["weighted_amount"]


def by_owner(body: dict[str, Any]) -> dict[int, tuple[int, str, str]]:
    return {g["key"]["owner"]["id"]: figures(g) for g in body["groups"]}


@pytest.fixture
async def january(client: AsyncClient, app: FastAPI, tenant: Tenant) -> dict[str, Any]:
    world = await make_world(app, tenant)
    await set_rate(app, tenant, "EUR", "11.5")
    kari, ola = (await make_user(client, tenant))["id"], (await make_user(client, tenant))["id"]

    async def made(owner: int, amount: str, **fields: Any) -> int:
        created = await create_opportunity(client, tenant, world.customer_id, amount=amount,
                                           owner_id=owner, **fields)
        return int(created["id"])

    first = await made(kari, "1000.00", expected_close_date="2027-02-10")
    await change(client, tenant, first, amount="1500.00")
    await act(client, tenant, first, "move", stage_id=world.process.stages["Quote"])
    await act(client, tenant, first, "win")
    await retime(app, tenant, first, jan(1), jan(5), jan(10), jan(15))
    second = await made(kari, "2000.00", expected_close_date="2027-03-05")
    await change(client, tenant, second, owner_id=ola)
    await retime(app, tenant, second, jan(3), jan(8))
    third = await made(ola, "800.00", currency="EUR")
    await delete(client, tenant, third)
    await retime(app, tenant, third, jan(2), jan(12))
    fourth = await made(kari, "500.00")
    await change(client, tenant, fourth, amount="700.00")
    await retime(app, tenant, fourth, jan(4), datetime(2026, 1, 6, tzinfo=OSLO))
    await retime(app, tenant, await made(kari, "50.00"), jan(20))
    return {"world": world, "kari": kari, "ola": ola}


async def test_the_pipeline_is_each_opportunity_as_it_stood_when_the_day_ended(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    kari, ola = january["kari"], january["ola"]
    body = await as_of(client, tenant, "2026-01-04", group_by="owner", fx_date="2026-01-31")
    assert by_owner(body) == {kari: (3, "3500.00", "350.00"), ola: (1, "9200.00", "920.00")}
    assert figures(body["total"]) == (4, "12700.00", "1270.00")

    later = await as_of(client, tenant, "2026-01-10", group_by="owner,stage")
    assert {(g["key"]["owner"]["id"], g["key"]["stage"]["name"]): figures(g)
            for g in later["groups"]} == {
        (kari, "Lead"): (1, "700.00", "70.00"), (kari, "Quote"): (1, "1500.00", "750.00"),
        (ola, "Lead"): (2, "11200.00", "1120.00")}


async def test_a_change_at_midnight_belongs_to_the_next_day(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    kari = january["kari"]
    assert by_owner(await as_of(client, tenant, "2026-01-05", group_by="owner"))[kari] == (
        3, "4000.00", "400.00")
    assert by_owner(await as_of(client, tenant, "2026-01-06", group_by="owner"))[kari] == (
        3, "4200.00", "420.00")


async def test_a_deleted_opportunity_is_in_the_pipeline_until_its_deletion(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    assert by_owner(await as_of(client, tenant, "2026-01-11", group_by="owner"))[
        january["ola"]] == (2, "11200.00", "1120.00")
    assert by_owner(await as_of(client, tenant, "2026-01-12", group_by="owner"))[
        january["ola"]] == (1, "2000.00", "200.00")
    assert figures((await as_of(client, tenant, "2026-01-15"))["total"]) == (
        2, "2700.00", "270.00")


async def test_filters_apply_to_the_state_of_that_day(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    kari = str(january["kari"])
    assert figures((await as_of(client, tenant, "2026-01-05", owner_id=kari))["total"]) == (
        3, "4000.00", "400.00")
    assert figures((await as_of(client, tenant, "2026-01-08", owner_id=kari))["total"]) == (
        2, "2200.00", "220.00")
    quarter = await as_of(client, tenant, "2026-01-05", group_by="quarter",
                          **{"amount[gte]": "600"})
    assert [(g["key"]["quarter"], figures(g)) for g in quarter["groups"]] == [
        ("2027-Q1", (2, "3500.00", "350.00")), (None, (1, "9200.00", "920.00"))]


async def test_as_of_today_is_the_live_pipeline(client: AsyncClient, app: FastAPI,
                                                tenant: Tenant, other_tenant: Tenant):
    world = await make_world(app, tenant)
    await set_rate(app, tenant, "EUR", "11.4321")
    seller = (await make_user(client, tenant))["id"]
    for amount, fields in (("1000.00", {}), ("333.33", {"currency": "EUR"}),
                           ("10.00", {"currency": "SEK"}),
                           ("2500.55", {"owner_id": seller, "expected_close_date": "2027-01-09"}),
                           ("70.00", {"probability": "33.33"})):
        await create_opportunity(client, tenant, world.customer_id, amount=amount, **fields)
    moved = await create_opportunity(client, tenant, world.customer_id, amount="900.00")
    await act(client, tenant, moved["id"], "move", stage_id=world.process.stages["Quote"])
    lost = await create_opportunity(client, tenant, world.customer_id, amount="5.00")
    await act(client, tenant, lost["id"], "lose")
    rival = await make_world(app, other_tenant)
    await create_opportunity(client, other_tenant, rival.customer_id, amount="77.00")
    today = datetime.now(OSLO).date().isoformat()
    shared = await create_opportunity(client, tenant, world.customer_id, amount="100.01")
    added = await client.post(f"/v1/opportunities/{shared['id']}/sellers", headers=tenant.admin,
                              json={"user_id": seller, "share": "33.33"})
    assert added.status_code in (200, 201), added.text
    for params in ({"group_by": "owner,stage"}, {"group_by": "month"},
                   {"group_by": "department,quarter"}, {}, {"group_by": "seller"},
                   {"group_by": "seller,stage"}, {"seller_id": str(seller)},
                   {"group_by": "owner", "seller_id": str(seller)}):
        live = await client.get("/v1/reports/pipeline", headers=tenant.key, params=params)
        assert live.status_code == 200, live.text
        assert await as_of(client, tenant, today, **params) == live.json(), params
    everything = await as_of(client, tenant, today)
    assert everything["total"]["count"] == 6 and everything["unconverted"][0]["count"] == 1


@pytest.mark.parametrize(("params", "field"), [
    ({"as_of": "2999-01-01"}, "as_of"),
    ({"as_of": "2026-01-01", "group_by": "owner,owner"}, "group_by"),
    ({"as_of": "2026-01-01", "q": "Nord"}, "q"),
])
async def test_as_of_refuses_what_the_history_cannot_answer(
        client: AsyncClient, tenant: Tenant, params: dict[str, str], field: str):
    response = await client.get("/v1/reports/pipeline", headers=tenant.key,
                                params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_an_empty_organization_has_an_empty_pipeline(client: AsyncClient,
                                                           tenant: Tenant):
    for params in ({"group_by": "owner,month"}, {"group_by": "stage", "as_of": "2026-01-01"}):
        response = await client.get("/v1/reports/pipeline", headers=tenant.key, params=params)
        assert response.status_code == 200, response.text
        assert response.json()["groups"] == []
        assert response.json()["total"]["count"] == 0


async def test_as_of_refuses_list_filters_the_history_does_not_keep(app: FastAPI,
                                                                    tenant: Tenant):
    caller = Caller(tenant.organization_id, Role.ADMIN, scopes_of_role(Role.ADMIN),
                    user_id=tenant.admin_id)
    with pytest.raises(InvalidInput) as refused:
        await pipeline_as_of(UnitOfWork(app.state.salescore.sessions), caller=caller,
                             as_of=date(2026, 1, 1), keys=(),
                             conditions=(Condition("contact_id", Op.EQ, 1),))
    assert refused.value.errors[0].field == "contact_id"


async def test_the_past_pipeline_is_split_by_the_shares_held_then(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    kari, ola = (await make_user(client, tenant))["id"], (await make_user(client, tenant))["id"]
    deal = await create_opportunity(client, tenant, world.customer_id, amount="1000.00",
                                    owner_id=kari)
    added = await client.post(f"/v1/opportunities/{deal['id']}/sellers", headers=tenant.admin,
                              json={"user_id": ola, "share": "40"})
    assert added.status_code in (200, 201), added.text
    await retime(app, tenant, deal["id"], jan(1))
    await retime_sellers(app, tenant, deal["id"], jan(1), jan(5))

    def by_seller(body: dict[str, Any]) -> dict[int, tuple[int, str, str]]:
        return {g["key"]["seller"]["id"]: figures(g) for g in body["groups"]}

    before = await as_of(client, tenant, "2026-01-03", group_by="seller")
    assert by_seller(before) == {kari: (1, "1000.00", "100.00")}
    after = await as_of(client, tenant, "2026-01-06", group_by="seller")
    assert by_seller(after) == {kari: (1, "600.00", "60.00"), ola: (1, "400.00", "40.00")}
    assert figures(after["total"]) == (1, "1000.00", "100.00")
    assert (await as_of(client, tenant, "2026-01-03", seller_id=str(ola)))["total"][
        "count"] == 0
    assert (await as_of(client, tenant, "2026-01-06", seller_id=str(ola)))["total"][
        "count"] == 1


async def test_another_organizations_past_pipeline_never_shows(
        client: AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant,
        january: dict[str, Any]):
    rival = await make_world(app, other_tenant)
    theirs = await create_opportunity(client, other_tenant, rival.customer_id, amount="1.00")
    await retime(app, other_tenant, theirs["id"], jan(3))
    assert figures((await as_of(client, other_tenant, "2026-01-10"))["total"]) == (
        1, "1.00", "0.10")
    assert figures((await as_of(client, tenant, "2026-01-10"))["total"]) == (
        4, "13400.00", "1940.00")


async def test_the_past_pipeline_exports_like_the_live_one(
        client: AsyncClient, tenant: Tenant, january: dict[str, Any]):
    response = await client.get("/v1/reports/pipeline", headers=tenant.key, params={
        "as_of": "2026-01-04", "group_by": "quarter", "format": "csv"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "quarter,currency,count,amount,weighted_amount"
    assert lines[1:] == ["2027-Q1,NOK,2,3000.00,300.00", ",NOK,2,9700.00,970.00"]
