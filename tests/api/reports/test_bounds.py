"""The bounds of reports and their files (OWASP API4): a period spans at most ten years, a
grouped report answers at most MAX_GROUPS groups, an xlsx file at most 1,048,575 rows;
past a bound the request is refused with 422 naming the parameter, at it answered."""

import io
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from openpyxl import load_workbook  # type: ignore[import-untyped]

from salescore.api import exports
from salescore.api.exports import ExportFormat
from salescore.domain.errors import InvalidInput
from salescore.domain.reports import bounds
from salescore.domain.reports.bounds import check_period_length, years_after
from salescore.repositories.reports.stagnant import ReportRepository
from tests.factories import Tenant, make_user
from tests.opportunity_factories import (
    World,
    create_opportunity,
    make_list_item,
    make_world,
    sql,
)
from tests.report_factories import act, oslo_today

TEN_YEARS = {"from": "2016-01-01", "to": "2026-01-01"}
A_DAY_MORE = {"from": "2015-12-31", "to": "2026-01-01"}
PERIOD_REPORTS = ["win-loss", "commissions", "campaigns", "activity", "pipeline-movement",
                  "funnel"]


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


def refused_naming(response: Response, field: str) -> str:
    """The message of a 422 problem whose first error names `field`."""
    assert response.status_code == 422, response.text
    error: dict[str, str] = response.json()["errors"][0]
    assert error["field"] == field, response.text
    return error["message"]


async def _report(client: AsyncClient, tenant: Tenant, name: str,
                  **params: Any) -> Response:
    return await client.get(f"/v1/reports/{name}", params=params, headers=tenant.admin)


@pytest.mark.parametrize("name", PERIOD_REPORTS)
async def test_a_period_of_more_than_ten_years_is_refused_naming_to(
        client: AsyncClient, tenant: Tenant, world: World, name: str):
    extra = {"sales_process_id": world.process.id} if name == "funnel" else {}
    past = await _report(client, tenant, name, **A_DAY_MORE, **extra)
    assert "at most 10 years after from" in refused_naming(past, "to")
    at = await _report(client, tenant, name, **TEN_YEARS, **extra)
    assert at.status_code == 200, at.text


def test_ten_years_from_a_leap_day_end_on_the_28th_of_february():
    assert years_after(date(2024, 2, 29), 10) == date(2034, 2, 28)
    check_period_length(date(2024, 2, 29), date(2034, 2, 28))
    with pytest.raises(InvalidInput):
        check_period_length(date(2024, 2, 29), date(2034, 3, 1))
    check_period_length(date(9995, 1, 1), date(9999, 12, 31))
    check_period_length(None, date(9999, 12, 31))


async def _three_owners(client: AsyncClient, tenant: Tenant, world: World,
                        action: str | None = None) -> None:
    for _ in range(3):
        owner = (await make_user(client, tenant))["id"]
        made = await create_opportunity(client, tenant, world.customer_id, owner_id=owner)
        if action is not None:
            await act(client, tenant, made["id"], action)


@pytest.mark.parametrize("params", [{"group_by": "owner"}, {"group_by": "owner,stage"},
                                    {"group_by": "seller"}, {"group_by": "month"},
                                    {"group_by": "owner", "as_of": "today"}])
async def test_a_pipeline_of_more_groups_than_the_bound_is_refused_naming_group_by(
        client: AsyncClient, tenant: Tenant, world: World, monkeypatch: pytest.MonkeyPatch,
        params: dict[str, str]):
    for month in ("2027-01-15", "2027-02-15", "2027-03-15"):
        owner = (await make_user(client, tenant))["id"]
        await create_opportunity(client, tenant, world.customer_id, owner_id=owner,
                                 expected_close_date=month)
    if params.get("as_of") == "today":
        params = {**params, "as_of": oslo_today().isoformat()}
    monkeypatch.setattr(bounds, "MAX_GROUPS", 2)
    past = await _report(client, tenant, "pipeline", **params)
    assert "filter the report or group by fewer keys" in refused_naming(past, "group_by")
    monkeypatch.setattr(bounds, "MAX_GROUPS", 3)
    at = await _report(client, tenant, "pipeline", **params)
    assert at.status_code == 200, at.text
    assert len(at.json()["groups"]) == 3
    as_file = await _report(client, tenant, "pipeline", **params, format="xlsx")
    assert as_file.status_code == 200, as_file.text


async def test_a_win_loss_report_of_more_groups_than_the_bound_is_refused_naming_group_by(
        client: AsyncClient, tenant: Tenant, world: World, monkeypatch: pytest.MonkeyPatch):
    await _three_owners(client, tenant, world, "win")
    monkeypatch.setattr(bounds, "MAX_GROUPS", 2)
    refused_naming(await _report(client, tenant, "win-loss", group_by="owner"), "group_by")
    monkeypatch.setattr(bounds, "MAX_GROUPS", 3)
    at = await _report(client, tenant, "win-loss", group_by="owner")
    assert at.status_code == 200, at.text
    assert len(at.json()["groups"]) == 3


async def test_a_campaign_report_of_more_groups_than_the_bound_is_refused_naming_group_by(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        monkeypatch: pytest.MonkeyPatch):
    for name in ("Fair", "Web", "Phone"):
        source = await make_list_item(app, tenant, "sources", name)
        await create_opportunity(client, tenant, world.customer_id, source_id=source)
    monkeypatch.setattr(bounds, "MAX_GROUPS", 2)
    refused_naming(await _report(client, tenant, "campaigns", group_by="source"), "group_by")
    monkeypatch.setattr(bounds, "MAX_GROUPS", 3)
    at = await _report(client, tenant, "campaigns", group_by="source")
    assert at.status_code == 200, at.text
    assert len(at.json()["groups"]) == 3


async def _three_stagnant(app: FastAPI, client: AsyncClient, tenant: Tenant,
                          world: World) -> None:
    await client.patch("/v1/settings", headers=tenant.admin,
                       json={"reminder_task_enabled": False})
    for _ in range(3):
        await create_opportunity(client, tenant, world.customer_id,
                                 follow_up_date="2020-01-01")


async def test_a_stagnant_xlsx_of_more_rows_than_a_sheet_holds_is_refused_naming_format(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        monkeypatch: pytest.MonkeyPatch):
    await _three_stagnant(app, client, tenant, world)
    monkeypatch.setitem(exports.MAX_ROWS, ExportFormat.XLSX, 2)
    past = await _report(client, tenant, "stagnant", format="xlsx")
    assert "use format=csv" in refused_naming(past, "format")
    as_csv = await _report(client, tenant, "stagnant", format="csv")
    assert as_csv.status_code == 200
    assert len(as_csv.content.decode("utf-8-sig").splitlines()) == 1 + 3
    monkeypatch.setitem(exports.MAX_ROWS, ExportFormat.XLSX, 3)
    at = await _report(client, tenant, "stagnant", format="xlsx")
    assert at.status_code == 200, at.text
    sheet = load_workbook(io.BytesIO(at.content)).active
    assert sheet.max_row == 1 + 3


async def test_a_stagnant_xlsx_reads_one_row_past_the_bound_not_every_row(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        monkeypatch: pytest.MonkeyPatch):
    await _three_stagnant(app, client, tenant, world)
    monkeypatch.setitem(exports.MAX_ROWS, ExportFormat.XLSX, 1)
    asked: list[int | None] = []
    stagnant = ReportRepository.stagnant

    async def counted(self: ReportRepository, *args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["limit"])
        return await stagnant(self, *args, **kwargs)

    monkeypatch.setattr(ReportRepository, "stagnant", counted)
    refused_naming(await _report(client, tenant, "stagnant", format="xlsx"), "format")
    assert asked == [2]
    assert await sql(app, "SELECT count(*) FROM opportunities WHERE organization_id = :org",
                     org=tenant.organization_id) == 3
