"""Exporting the activities list: every row the list's filters pick, in its sort, as CSV
(streamed), xlsx or PDF, with the names of the assignee, customer, contact and
opportunity."""

import re
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api import exports
from salescore.api.exports import ExportFormat
from salescore.api.v1.activities.schemas import ActivityRead
from tests.api.export_support import (
    NORDIC,
    csv_of,
    exported,
    key_with,
    needs_pdftotext,
    pdf_text,
    with_names,
    xlsx_of,
)
from tests.factories import Tenant, make_user
from tests.opportunity_factories import (
    World,
    create_opportunity,
    make_contact,
    make_world,
)
from tests.process_factories import problem_field

PATH = "/v1/activities/export"
NAMES = {"assignee_id": "assignee_name", "customer_id": "customer_name",
         "contact_id": "contact_name", "opportunity_id": "opportunity_name"}
MANUAL = {"origin": "manual"}  # not the tasks an opportunity makes itself


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def _activity(client: AsyncClient, tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/activities", headers=tenant.admin, json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def _activities(app: FastAPI, client: AsyncClient, tenant: Tenant,
                      world: World) -> tuple[dict[str, Any], ...]:
    nordic = (await make_user(client, tenant, name=NORDIC))["id"]
    deal = await create_opportunity(client, tenant, world.customer_id, name="Fleet renewal")
    contact = await make_contact(app, tenant, world.customer_id)
    call = await _activity(client, tenant, kind="call", subject="Ring Åsen om rammeavtalen",
                           due_at="2026-12-01T09:30:00Z", assignee_id=nordic,
                           opportunity_id=deal["id"], contact_id=contact)
    meeting = await _activity(client, tenant, kind="appointment", subject="-Demo hos kunden",
                              starts_at="2026-11-20T10:00:00+01:00",
                              ends_at="2026-11-20T11:00:00+01:00", done=True)
    note = await _activity(client, tenant, kind="note", subject="Kunden vil ha tilbud",
                           customer_id=world.customer_id)
    return call, meeting, note


async def test_csv_has_the_lists_fields_in_its_order_each_reference_with_its_name(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    call, meeting, _ = await _activities(app, client, tenant, world)
    response = await exported(client, PATH, tenant.admin, **MANUAL)
    assert response.headers["content-disposition"] == 'attachment; filename="activities.csv"'
    header, rows = csv_of(response)
    assert header == with_names(list(ActivityRead.model_fields), NAMES)
    for made, row in ((call, rows[0]), (meeting, rows[1])):
        read = (await client.get(f"/v1/activities/{made['id']}", headers=tenant.admin)).json()
        for field, value in read.items():
            if isinstance(value, bool):
                expected = str(value).lower()
            elif isinstance(value, str) and field.endswith("_at"):
                expected = re.sub(r"\.\d+Z$", "Z", value)
            else:
                expected = "" if value is None else str(value)
            if field == "subject" and value.startswith("-"):
                expected = "'" + value
            assert row[field] == expected, field
    assert (rows[0]["due_at"], rows[1]["starts_at"], rows[1]["done"]) == (
        "2026-12-01T09:30:00Z", "2026-11-20T09:00:00Z", "true")
    assert (rows[0]["assignee_name"], rows[0]["customer_name"], rows[0]["contact_name"],
            rows[0]["opportunity_name"]) == (NORDIC, "Bergen Nord AS", "Kari Nordmann",
                                             "Fleet renewal")


async def test_every_row_the_lists_filters_pick_in_its_sort(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    call, meeting, note = await _activities(app, client, tenant, world)

    async def ids(**params: Any) -> list[int]:
        return [int(r["id"]) for r in csv_of(await exported(client, PATH, tenant.admin,
                                                            **MANUAL, **params))[1]]

    assert await ids(sort="-id") == [note["id"], meeting["id"], call["id"]]
    assert await ids(kind="note") == [note["id"]]
    assert await ids(done="true") == [meeting["id"]]
    assert await ids(opportunity_id=call["opportunity_id"]) == [call["id"]]
    assert await ids(**{"starts_at[gte]": "2026-11-20T08:00:00Z"}) == [meeting["id"]]
    assert await ids(subject="%tilbud") == [note["id"]]
    assert await ids(assignee_id=call["assignee_id"]) == [call["id"]]


async def test_xlsx_keeps_times_and_booleans_typed(app: FastAPI, client: AsyncClient,
                                                   tenant: Tenant, world: World):
    await _activities(app, client, tenant, world)
    sheet, rows = xlsx_of(await exported(client, PATH, tenant.admin, format="xlsx", **MANUAL))
    assert list(rows[0]) == with_names(list(ActivityRead.model_fields), NAMES)
    assert rows[0]["due_at"] == datetime(2026, 12, 1, 9, 30)
    assert sheet.cell(row=2, column=list(rows[0]).index("due_at") + 1).number_format == (
        'yyyy-mm-dd"T"hh:mm:ss"Z"')
    assert (rows[1]["done"], rows[1]["subject"], rows[0]["assignee_name"]) == (
        True, "-Demo hos kunden", NORDIC)


@needs_pdftotext
async def test_pdf_shows_the_nordic_letters(app: FastAPI, client: AsyncClient,
                                            tenant: Tenant, world: World):
    await _activities(app, client, tenant, world)
    text = pdf_text(await exported(client, PATH, tenant.admin, format="pdf", **MANUAL))
    for expected in ("Activities", "Ring Åsen om rammeavtalen", NORDIC, "Fleet renewal",
                     "2026-12-01T09:30:00Z", "Bergen Nord AS"):
        assert expected in text, expected


@pytest.mark.parametrize("fmt", [ExportFormat.XLSX, ExportFormat.PDF])
async def test_past_the_rows_a_file_holds_is_422_naming_format(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World,
        monkeypatch: pytest.MonkeyPatch, fmt: ExportFormat):
    await _activities(app, client, tenant, world)
    monkeypatch.setitem(exports.MAX_ROWS, fmt, 2)
    past = await client.get(PATH, params={"format": fmt.value, **MANUAL},
                            headers=tenant.admin)
    assert past.status_code == 422
    assert problem_field(past) == "format"
    assert "use format=csv" in past.json()["errors"][0]["message"]
    assert len(csv_of(await exported(client, PATH, tenant.admin, **MANUAL))[1]) == 3


async def test_another_organizations_activities_never_appear(
        app: FastAPI, client: AsyncClient, tenant: Tenant, other_tenant: Tenant, world: World):
    await _activities(app, client, tenant, world)
    theirs = await _activity(client, other_tenant, kind="note", subject="Theirs")
    for fmt, read in (("csv", csv_of), ("xlsx", xlsx_of)):
        for params in ({}, {"subject": "Theirs"}, {"id": theirs["id"]}):
            rows = read(await exported(client, PATH, tenant.admin, format=fmt, **params))[1]
            assert "Theirs" not in {r["subject"] for r in rows}
    _, rows = csv_of(await exported(client, PATH, other_tenant.admin))
    assert [r["subject"] for r in rows] == ["Theirs"]


async def test_without_the_lists_scope_an_export_is_403(client: AsyncClient, tenant: Tenant):
    narrow = await key_with(client, tenant, "opportunities:read")
    assert (await client.get(PATH, params={"format": "xlsx"}, headers=narrow)).status_code == 403
    reader = await key_with(client, tenant, "activities:read")
    assert (await client.get(PATH, headers=reader)).status_code == 200


@pytest.mark.parametrize(("params", "field"), [
    ({"format": "ods"}, "format"), ({"cursor": "x"}, "cursor"), ({"sort": "subject"}, "sort"),
    ({"done": "maybe"}, "done")])
async def test_what_an_export_does_not_take_is_refused(client: AsyncClient, tenant: Tenant,
                                                       params: dict[str, str], field: str):
    response = await client.get(PATH, params=params, headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == field
