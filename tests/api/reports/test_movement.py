"""GET /v1/reports/pipeline-movement: the waterfall between the ends of two days, on a
data set with every kind of movement (history moved to January 2026, Oslo time)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.domain.reports.history import Movement, MovementLine, balance
from tests.factories import Tenant
from tests.opportunity_factories import World, create_opportunity, make_world
from tests.report_factories import OSLO, act, change, delete, jan, retime, set_rate

Step = tuple[datetime, str, dict[str, Any]]


async def story(client: AsyncClient, app: FastAPI, tenant: Tenant, world: World,
                amount: str, *steps: Step, created: datetime | None = None,
                currency: str = "NOK", close: str | None = "2026-01-25") -> int:
    """An opportunity made at `created` (default 5 January), then each step at its time:
    `patch` with fields, `delete`, or a lifecycle action."""
    fields: dict[str, Any] = {"amount": amount, "currency": currency}
    if close is not None:
        fields["expected_close_date"] = close
    opportunity_id = int((await create_opportunity(
        client, tenant, world.customer_id, **fields))["id"])
    for _, what, body in steps:
        if what == "patch":
            await change(client, tenant, opportunity_id, **body)
        elif what == "delete":
            await delete(client, tenant, opportunity_id)
        else:
            await act(client, tenant, opportunity_id, what, **body)
    await retime(app, tenant, opportunity_id, created or jan(5), *(s[0] for s in steps))
    return opportunity_id


@pytest.fixture
async def january(client: AsyncClient, app: FastAPI, tenant: Tenant,
                  other_tenant: Tenant) -> None:
    """Between the end of 10 and the end of 20 January 2026: one opportunity per kind."""
    world = await make_world(app, tenant)
    await set_rate(app, tenant, "EUR", "11.5")

    async def made(amount: str, *steps: Step, **options: Any) -> None:
        await story(client, app, tenant, world, amount, *steps, **options)

    await made("1000.00")                                               # steady
    await made("2000.00", (jan(15), "patch", {"amount": "2500.00"}))    # increased
    await made("3000.00", (jan(15), "patch", {"amount": "2000.00"}))    # decreased
    await made("2000.00", (jan(12), "patch", {"amount": "2200.00"}),    # +200, won
               (jan(14), "win", {}))
    await made("1500.00", (jan(16), "lose", {}))
    await made("700.00", (jan(18), "expire", {}))
    await made("400.00", (jan(13), "delete", {}))
    await made("900.00", created=jan(12))                               # new
    await made("600.00", (jan(19), "win", {}), created=jan(11))         # new, then won
    await made("800.00", (jan(5), "lose", {}), (jan(15), "reopen", {}),
               created=jan(2))                                          # reopened
    await made("5000.00", (jan(3), "win", {}), created=jan(1))          # won before
    await made("100.00", created=jan(22))                               # made after
    await made("50.00", (jan(4), "delete", {}), created=jan(1))         # gone before
    await made("70.00", (jan(14), "delete", {}), created=jan(12))       # came and went
    await made("100.00", currency="EUR")                                # 1150.00
    await made("300.00", currency="SEK")                                # no rate
    await made("1200.00", (jan(17), "patch", {"expected_close_date": "2026-02-15"}))
    await made("1300.00", (jan(16), "patch", {"expected_close_date": "2026-01-28"}),
               close="2026-03-01")
    await made("1400.00", close=None)                                   # undated
    await made("250.00", (datetime(2026, 1, 11, tzinfo=OSLO), "patch",  # at midnight:
                          {"amount": "350.00"}))                        # the next day's
    rival = await make_world(app, other_tenant)
    await story(client, app, other_tenant, rival, "99999.00")


async def movement(client: AsyncClient, tenant: Tenant, **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/pipeline-movement", headers=tenant.key,
                                params={"from": "2026-01-10", "to": "2026-01-20", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def lines(body: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {line["line"]: (line["count"], line["amount"]) for line in body["lines"]}


def balances(body: dict[str, Any]) -> bool:
    """The closing pipeline is what the domain's `balance` makes of the opening and the
    lines, each line going the way the domain says (and the answer shows)."""
    lines = [MovementLine(Movement(line["line"]), line["count"], Decimal(line["amount"]))
             for line in body["lines"]]
    assert [line["direction"] for line in body["lines"]] == [
        "in" if line.sign > 0 else "out" for line in lines]
    return balance(Decimal(body["opening"]["amount"]), lines) == Decimal(
        body["closing"]["amount"])


@pytest.mark.usefixtures("january")
async def test_every_movement_lands_on_its_line_and_the_waterfall_balances(
        client: AsyncClient, tenant: Tenant):
    body = await movement(client, tenant, fx_date="2026-01-31")
    assert body["opening"] == {"count": 12, "amount": "15900.00"}
    assert lines(body) == {
        "new": (2, "1500.00"), "reopened": (1, "800.00"), "pulled_in": (0, "0.00"),
        "increased": (3, "800.00"), "decreased": (1, "1000.00"), "won": (2, "2800.00"),
        "lost": (1, "1500.00"), "expired": (1, "700.00"), "slipped": (0, "0.00"),
        "deleted": (1, "400.00")}
    assert body["closing"] == {"count": 10, "amount": "12600.00"}
    assert balances(body)
    assert body["unconverted"] == [{"currency": "SEK", "count": 1, "opening_amount": "300.00",
                                    "closing_amount": "300.00"}]
    assert [line["direction"] for line in body["lines"]] == ["in"] * 4 + ["out"] * 6


@pytest.mark.usefixtures("january")
async def test_moving_the_close_date_out_of_the_window_slips_and_into_it_pulls_in(
        client: AsyncClient, tenant: Tenant):
    body = await movement(client, tenant, close_from="2026-01-01", close_to="2026-01-31")
    assert body["opening"] == {"count": 10, "amount": "13200.00"}
    assert lines(body) == {
        "new": (2, "1500.00"), "reopened": (1, "800.00"), "pulled_in": (1, "1300.00"),
        "increased": (3, "800.00"), "decreased": (1, "1000.00"), "won": (2, "2800.00"),
        "lost": (1, "1500.00"), "expired": (1, "700.00"), "slipped": (1, "1200.00"),
        "deleted": (1, "400.00")}
    assert body["closing"] == {"count": 8, "amount": "10000.00"}
    assert balances(body)
    assert (body["close_from"], body["close_to"]) == ("2026-01-01", "2026-01-31")


@pytest.mark.usefixtures("january")
async def test_opening_and_closing_are_the_pipeline_as_of_each_day(
        client: AsyncClient, tenant: Tenant):
    body = await movement(client, tenant)
    for day, end in (("2026-01-10", "opening"), ("2026-01-20", "closing")):
        response = await client.get("/v1/reports/pipeline", headers=tenant.key,
                                    params={"as_of": day})
        total = response.json()["total"]
        assert (total["count"], total["amount"]) == (body[end]["count"],
                                                     body[end]["amount"])


async def test_each_opportunity_is_rounded_to_the_cent_so_the_lines_add_up(
        client: AsyncClient, app: FastAPI, tenant: Tenant):
    world = await make_world(app, tenant)
    await set_rate(app, tenant, "DKK", "1.2345678901")
    await story(client, app, tenant, world, "100.00", currency="DKK")
    await story(client, app, tenant, world, "10.01", (jan(15), "patch", {"amount": "10.03"}),
                currency="DKK")
    await story(client, app, tenant, world, "10.05", created=jan(12), currency="DKK")
    body = await movement(client, tenant)
    # 123.45678901 -> 123.46, 12.358024580 -> 12.36, 12.382716338 -> 12.38, 12.407407296
    assert body["opening"] == {"count": 2, "amount": "135.82"}
    assert lines(body)["increased"] == (1, "0.02")
    assert lines(body)["new"] == (1, "12.41")
    assert body["closing"] == {"count": 3, "amount": "148.25"}
    assert balances(body)


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-01-20", "to": "2026-01-10"}, "to"),
    ({"from": "2026-01-10", "to": "2999-01-01"}, "to"),
    ({"from": "2026-01-10", "to": "2026-01-20", "close_from": "2026-02-01",
      "close_to": "2026-01-01"}, "close_to"),
    ({"to": "2026-01-20"}, "from"),
    ({"from": "2026-01-10", "to": "2026-01-20", "group_by": "owner"}, "group_by"),
])
async def test_a_waterfall_needs_a_forward_period_that_has_ended(
        client: AsyncClient, tenant: Tenant, params: dict[str, str], field: str):
    response = await client.get("/v1/reports/pipeline-movement", headers=tenant.key,
                                params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_nothing_of_another_organization_moves_in_the_waterfall(
        client: AsyncClient, app: FastAPI, tenant: Tenant, other_tenant: Tenant):
    rival = await make_world(app, other_tenant)
    await story(client, app, other_tenant, rival, "99999.00",
                (jan(15), "patch", {"amount": "1.00"}))
    body = await movement(client, tenant)
    assert body["opening"] == body["closing"] == {"count": 0, "amount": "0.00"}
    assert all(line["count"] == 0 for line in body["lines"])


@pytest.mark.usefixtures("january")
async def test_the_waterfall_exports_line_by_line(client: AsyncClient, tenant: Tenant):
    response = await client.get("/v1/reports/pipeline-movement", headers={
        **tenant.key, "Accept": "text/csv"}, params={"from": "2026-01-10", "to": "2026-01-20"})
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[:3] == ["line,direction,currency,count,amount",
                         "opening,,NOK,12,15900.00", "new,in,NOK,2,1500.00"]
    assert lines[-3:] == ["closing,,NOK,10,12600.00", "unconverted_opening,,SEK,1,300.00",
                          "unconverted_closing,,SEK,1,300.00"]
    xlsx = await client.get("/v1/reports/pipeline-movement", headers=tenant.key, params={
        "from": "2026-01-10", "to": "2026-01-20", "format": "xlsx"})
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
