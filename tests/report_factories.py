"""Test data for the history reports: opportunities taken through their lives by the API,
whose history rows are then moved to chosen past times (the rows stay what the trigger
wrote; only `valid_from`/`valid_to` move, as if each change had happened then)."""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from tests.factories import Tenant
from tests.opportunity_factories import sql

OSLO = ZoneInfo("Europe/Oslo")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A moment of `day` in Oslo, the organizations' default time zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO)


def oslo_today() -> date:
    """Today where the organizations are by default: a report's `as_of` and an activity's
    due date are days of the organization's time zone, not of the machine running the
    tests (at 23:30 UTC it is already tomorrow in Oslo)."""
    return datetime.now(OSLO).date()


def jan(day: int, hour: int = 12) -> datetime:
    return at(date(2026, 1, day), hour)


async def act(client: AsyncClient, tenant: Tenant, opportunity_id: int, action: str,
              **body: Any) -> dict[str, Any]:
    """A lifecycle action (move, win, lose, expire, reopen) by the tenant's admin."""
    response = await client.post(f"/v1/opportunities/{opportunity_id}/{action}",
                                 headers=tenant.admin, json=body or None)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def change(client: AsyncClient, tenant: Tenant, opportunity_id: int,
                 **fields: Any) -> dict[str, Any]:
    response = await client.patch(f"/v1/opportunities/{opportunity_id}", json=fields,
                                  headers=tenant.admin)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def delete(client: AsyncClient, tenant: Tenant, opportunity_id: int) -> None:
    response = await client.delete(f"/v1/opportunities/{opportunity_id}",
                                   headers=tenant.admin)
    assert response.status_code == 204, response.text


async def retime(app: FastAPI, tenant: Tenant, opportunity_id: int, *times: datetime) -> None:
    """Give the opportunity's history rows, oldest first, these starting times; each row
    ends where the next begins. One time more than there are rows is when the last one
    ended (the opportunity was deleted then). The rows' created_at and closed_at follow,
    so that they read as the trigger would have written them then."""
    org = tenant.organization_id
    async with app.state.salescore.engine.begin() as connection:
        rows = (await connection.execute(text(
            "SELECT id, valid_to IS NULL AS current, status FROM opportunity_history"
            " WHERE organization_id = :org AND opportunity_id = :opp ORDER BY valid_from, id"),
            {"org": org, "opp": opportunity_id})).all()
        deleted = not rows[-1].current
        assert len(times) == len(rows) + (1 if deleted else 0), (len(times), len(rows))
        closed_since: datetime | None = None
        for number, row in enumerate(rows):
            if row.status == "open":
                closed_since = None
            elif closed_since is None:
                closed_since = times[number]
            await connection.execute(text(
                "UPDATE opportunity_history SET valid_from = :starts, valid_to = :ends,"
                " created_at = :created, closed_at = :closed"
                " WHERE organization_id = :org AND id = :id"),
                {"starts": times[number],
                 "ends": times[number + 1] if number + 1 < len(times) else None,
                 "created": times[0], "closed": closed_since, "org": org, "id": row.id})


async def retime_sellers(app: FastAPI, tenant: Tenant, opportunity_id: int,
                         *times: datetime) -> None:
    """Give each change of the opportunity's seller shares, oldest first, these times (a
    change closes the shares before it and opens its own at one instant)."""
    org = tenant.organization_id
    async with app.state.salescore.engine.begin() as connection:
        instants = list((await connection.execute(text(
            "SELECT DISTINCT valid_from FROM opportunity_seller_history WHERE organization_id"
            " = :org AND opportunity_id = :opp ORDER BY valid_from"),
            {"org": org, "opp": opportunity_id})).scalars())
        assert len(times) == len(instants), (len(times), len(instants))
        for instant, time in reversed(list(zip(instants, times, strict=True))):
            for column in ("valid_from", "valid_to"):
                await connection.execute(text(
                    f"UPDATE opportunity_seller_history SET {column} = :time"
                    f" WHERE organization_id = :org AND opportunity_id = :opp"
                    f" AND {column} = :instant"),
                    {"time": time, "org": org, "opp": opportunity_id, "instant": instant})


async def set_rate(app: FastAPI, tenant: Tenant, currency: str, rate: str,
                   valid_from: date = date(2020, 1, 1)) -> None:
    await sql(app, "INSERT INTO exchange_rates (organization_id, currency, rate, valid_from)"
                   " VALUES (:org, :currency, CAST(:rate AS numeric), :valid_from)",
              org=tenant.organization_id, currency=currency, rate=rate, valid_from=valid_from)
