"""Exporting the opportunities list: every row the list's filters pick, in its sort, as
CSV (streamed), xlsx or PDF, with the names of what each refers to."""

import asyncio
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.api import exports
from salescore.api.exports import ExportFormat
from salescore.api.v1.sales.opportunity_schemas import OpportunityRead
from salescore.domain.listing import ListQuery, Sort
from salescore.domain.sales.opportunities import margin_percent
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.auth import user_identity
from salescore.services.sales.exports import export_opportunities
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
    make_customer,
    make_world,
    sql,
)
from tests.process_factories import problem_field

PATH = "/v1/opportunities/export"
NAMES = {"customer_id": "customer_name", "contact_id": "contact_name",
         "owner_id": "owner_name", "sales_process_id": "sales_process_name",
         "stage_id": "stage_name", "type_id": "type_name", "source_id": "source_name",
         "campaign_id": "campaign_name", "loss_reason_id": "loss_reason_name",
         "sellers": "seller_names"}
FORMULA = '=HYPERLINK("http://x")'


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await make_world(app, tenant)


async def _nordic_deals(client: AsyncClient, tenant: Tenant, world: World,
                        ) -> tuple[dict[str, Any], ...]:
    """Three opportunities: one owned by a user with a Nordic name, one whose name looks
    like a formula, one of another customer."""
    nordic = (await make_user(client, tenant, name=NORDIC, role="manager"))["id"]
    fleet = await create_opportunity(client, tenant, world.customer_id, name="Fleet renewal",
                                     amount="1250.00", margin_amount="250.00",
                                     owner_id=nordic, expected_close_date="2026-12-01")
    formula = await create_opportunity(client, tenant, world.customer_id, name=FORMULA,
                                       amount="300.00", margin_amount="-10.00")
    oslo = await make_customer(tenant.app, tenant, "Oslo Sør AS")
    big = await create_opportunity(client, tenant, oslo, name="Big one", amount="5000.00")
    return fleet, formula, big


def _second(time: str) -> str:
    """An RFC 3339 time of the JSON answers, to the second (as exports write it)."""
    return re.sub(r"\.\d+Z$", "Z", time)


async def test_csv_has_the_lists_fields_in_its_order_each_reference_with_its_name(
        client: AsyncClient, tenant: Tenant, world: World):
    fleet, _, _ = await _nordic_deals(client, tenant, world)
    response = await exported(client, PATH, tenant.admin)
    assert response.headers["content-disposition"] == 'attachment; filename="opportunities.csv"'
    assert "content-length" not in response.headers  # streamed
    header, rows = csv_of(response)
    assert header == with_names(list(OpportunityRead.model_fields), NAMES)
    row = rows[0]
    read = (await client.get(f"/v1/opportunities/{fleet['id']}", headers=tenant.admin)).json()
    for field, value in read.items():
        if field == "sellers":
            assert row["sellers"] == f"{read['owner_id']}:100.00"
        elif isinstance(value, str) and value.endswith("Z"):
            assert row[field] == _second(value), field
        else:
            assert row[field] == ("" if value is None else str(value)), field
    assert (row["amount"], row["margin_amount"], row["margin_percent"]) == (
        "1250.00", "250.00", "20.00")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["created_at"])
    assert row["expected_close_date"] == "2026-12-01"
    assert (row["customer_name"], row["owner_name"], row["stage_name"], row["seller_names"],
            row["contact_name"]) == ("Bergen Nord AS", NORDIC, "Lead", NORDIC, "")


async def test_the_sellers_come_earliest_added_first_with_their_names(
        client: AsyncClient, tenant: Tenant, world: World):
    fleet, _, _ = await _nordic_deals(client, tenant, world)
    other = await make_user(client, tenant, name="Ola Nordmann")
    added = await client.post(f"/v1/opportunities/{fleet['id']}/sellers", headers=tenant.admin,
                              json={"user_id": other["id"], "share": "40.00"})
    assert added.status_code == 200, added.text
    _, rows = csv_of(await exported(client, PATH, tenant.admin, q="fleet"))
    assert (rows[0]["sellers"], rows[0]["seller_names"]) == (
        f"{fleet['owner_id']}:60.00; {other['id']}:40.00", f"{NORDIC}; Ola Nordmann")
    _, sheet_rows = xlsx_of(await exported(client, PATH, tenant.admin, format="xlsx",
                                           seller_id=other["id"]))
    assert sheet_rows[0]["seller_names"] == f"{NORDIC}; Ola Nordmann"


async def test_margin_percent_is_the_domains(client: AsyncClient, tenant: Tenant, world: World):
    for amount, margin in (("3.00", "1.00"), ("8.00", "0.01"), ("0.00", "5.00"),
                           ("200.00", "0.25")):
        await create_opportunity(client, tenant, world.customer_id, amount=amount,
                                 margin_amount=margin)
    _, rows = csv_of(await exported(client, PATH, tenant.admin))
    for row in rows:
        expected = margin_percent(Decimal(row["amount"]), Decimal(row["margin_amount"]))
        assert row["margin_percent"] == ("" if expected is None else str(expected))


async def test_every_row_the_lists_filters_pick_in_its_sort(client: AsyncClient,
                                                            tenant: Tenant, world: World):
    fleet, formula, big = await _nordic_deals(client, tenant, world)

    async def ids(**params: Any) -> list[int]:
        _, rows = csv_of(await exported(client, PATH, tenant.admin, **params))
        return [int(r["id"]) for r in rows]

    assert await ids() == [fleet["id"], formula["id"], big["id"]]
    assert await ids(sort="-amount") == [big["id"], fleet["id"], formula["id"]]
    assert await ids(**{"amount[gte]": "1000", "sort": "amount"}) == [fleet["id"], big["id"]]
    assert await ids(q="fleet") == [fleet["id"]]
    assert await ids(q="sør") == [big["id"]]  # in the customer's name
    assert await ids(seller_id=fleet["owner_id"]) == [fleet["id"]]
    assert await ids(customer_id=world.customer_id, sort="-id") == [formula["id"], fleet["id"]]
    assert await ids(has_order="true") == []


async def test_a_value_that_looks_like_a_formula_is_text(client: AsyncClient, tenant: Tenant,
                                                         world: World):
    _, formula, _ = await _nordic_deals(client, tenant, world)
    _, rows = csv_of(await exported(client, PATH, tenant.admin, sort="-id"))
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[formula["id"]]["name"] == "'" + FORMULA
    assert by_id[formula["id"]]["margin_amount"] == "-10.00"  # numbers are not quoted
    sheet, _ = xlsx_of(await exported(client, PATH, tenant.admin, format="xlsx", sort="-id",
                                      name=FORMULA))
    cell = sheet.cell(row=2, column=2)
    assert (cell.value, cell.data_type) == (FORMULA, "s")


async def test_xlsx_is_a_workbook_with_typed_cells(client: AsyncClient, tenant: Tenant,
                                                   world: World):
    fleet, _, _ = await _nordic_deals(client, tenant, world)
    response = await exported(client, PATH, tenant.admin, format="xlsx", q="fleet")
    assert response.headers["content-disposition"].endswith('opportunities.xlsx"')
    sheet, rows = xlsx_of(response)
    assert list(rows[0]) == with_names(list(OpportunityRead.model_fields), NAMES)
    assert sheet.freeze_panes == "A2"
    row = rows[0]
    assert (row["id"], row["name"], row["owner_name"], row["amount"]) == (
        fleet["id"], "Fleet renewal", NORDIC, 1250)
    assert sheet.cell(row=2, column=list(row).index("amount") + 1).number_format == "0.00"
    assert row["created_at"].isoformat() == _second(fleet["created_at"]).removesuffix("Z")
    assert row["contact_id"] is None


@needs_pdftotext
async def test_pdf_shows_the_main_columns_in_any_letters(client: AsyncClient, tenant: Tenant,
                                                         world: World):
    await _nordic_deals(client, tenant, world)
    response = await exported(client, PATH, tenant.admin, format="pdf", sort="-amount")
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response)
    for expected in ("Opportunities", "customer_name", NORDIC, "Fleet renewal", "Bergen Nord AS",
                     "Oslo Sør AS", "1250.00", "5000.00", "2026-12-01", "page 1"):
        assert expected in text, expected
    assert text.index("Big one") < text.index("Fleet renewal")


@pytest.mark.parametrize("fmt", [ExportFormat.XLSX, ExportFormat.PDF])
async def test_past_the_rows_a_file_holds_is_422_naming_format(
        client: AsyncClient, tenant: Tenant, world: World, monkeypatch: pytest.MonkeyPatch,
        fmt: ExportFormat):
    await _nordic_deals(client, tenant, world)
    monkeypatch.setitem(exports.MAX_ROWS, fmt, 2)
    past = await client.get(PATH, params={"format": fmt.value}, headers=tenant.admin)
    assert past.status_code == 422
    assert problem_field(past) == "format"
    assert "use format=csv" in past.json()["errors"][0]["message"]
    assert len(csv_of(await exported(client, PATH, tenant.admin))[1]) == 3
    narrowed = await exported(client, PATH, tenant.admin, format=fmt.value,
                              **{"amount[lte]": "1250.00"})
    assert narrowed.content.startswith(b"%PDF" if fmt is ExportFormat.PDF else b"PK")


async def _many(app: FastAPI, tenant: Tenant, world: World, count: int) -> None:
    await sql(app, "INSERT INTO opportunities (organization_id, name, customer_id, owner_id, "
                   "sales_process_id, stage_id, currency, probability, amount) "
                   "SELECT :org, 'Bulk ' || n, :customer, :owner, :process, :stage, 'NOK', 10, "
                   "n FROM generate_series(1, :count) AS n",
              org=tenant.organization_id, customer=world.customer_id, owner=tenant.admin_id,
              process=world.process.id, stage=world.process.stages["Lead"], count=count)


async def test_a_pdf_of_10001_rows_is_refused_and_their_csv_is_not(
        app: FastAPI, client: AsyncClient, tenant: Tenant, world: World):
    await _many(app, tenant, world, 10_001)
    past = await client.get(PATH, params={"format": "pdf"}, headers=tenant.admin)
    assert past.status_code == 422
    assert problem_field(past) == "format"
    assert "pdf holds at most 10,000 rows" in past.json()["errors"][0]["message"]
    _, rows = csv_of(await exported(client, PATH, tenant.admin))
    assert len(rows) == 10_001
    assert rows[-1]["name"] == "Bulk 10001"


async def test_another_organizations_rows_never_appear(client: AsyncClient, tenant: Tenant,
                                                       other_tenant: Tenant, world: World,
                                                       app: FastAPI):
    await _nordic_deals(client, tenant, world)
    theirs = await make_world(app, other_tenant)
    mine = {r["name"] for r in csv_of(await exported(client, PATH, tenant.admin))[1]}
    await create_opportunity(client, other_tenant, theirs.customer_id, name="Theirs")
    for params in ({}, {"q": "Theirs"}, {"customer_id": theirs.customer_id}):
        _, rows = csv_of(await exported(client, PATH, tenant.admin, **params))
        assert "Theirs" not in {r["name"] for r in rows}
        _, sheet_rows = xlsx_of(await exported(client, PATH, tenant.admin, format="xlsx",
                                               **params))
        assert "Theirs" not in {r["name"] for r in sheet_rows}
    _, rows = csv_of(await exported(client, PATH, other_tenant.admin))
    assert [r["name"] for r in rows] == ["Theirs"]
    assert not mine & {r["name"] for r in rows}


async def test_without_the_lists_scope_an_export_is_403(client: AsyncClient, tenant: Tenant,
                                                        world: World):
    narrow = await key_with(client, tenant, "customers:read")
    for fmt in ("csv", "xlsx", "pdf"):
        refused = await client.get(PATH, params={"format": fmt}, headers=narrow)
        assert refused.status_code == 403
    reader = await key_with(client, tenant, "opportunities:read")
    assert (await client.get(PATH, headers=reader)).status_code == 200


@pytest.mark.parametrize(("params", "field"), [
    ({"format": "docx"}, "format"), ({"limit": "10"}, "limit"), ({"cursor": "x"}, "cursor"),
    ({"sort": "description"}, "sort"), ({"amount[gte]": "x"}, "amount[gte]"),
    ({"colour": "red"}, "colour")])
async def test_what_an_export_does_not_take_is_refused(client: AsyncClient, tenant: Tenant,
                                                       params: dict[str, str], field: str):
    response = await client.get(PATH, params=params, headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == field


async def test_an_export_waits_for_its_reader_and_stops_when_given_up(
        app: FastAPI, tenant: Tenant, world: World):
    await _many(app, tenant, world, 30_000)
    state = app.state.salescore
    caller = (await user_identity(UnitOfWork(state.reads), organization_id=tenant.organization_id,
                                  user_id=tenant.admin_id)).caller
    pool = state.engine.pool
    before = pool.checkedout()
    pieces = export_opportunities(UnitOfWork(state.sessions), caller=caller,
                                  query=ListQuery(sort=Sort("id"))).csv()
    assert (await anext(pieces)).startswith(b"id,name,")
    await asyncio.sleep(0.3)
    if not await _over_tcp(app):  # loopback TCP buffers tens of MB: the whole file here
        assert await _copying(app) == 1  # held back by the reader, not read into memory
    await pieces.aclose()
    for _ in range(100):
        if not await _copying(app) and pool.checkedout() == before:
            break
        await asyncio.sleep(0.02)
    assert (await _copying(app), pool.checkedout()) == (0, before)


async def _over_tcp(app: FastAPI) -> bool:
    """Whether the test database is reached over TCP (an external server) rather than a
    Unix socket (the embedded one)."""
    address = await sql(app, "SELECT inet_client_addr()")
    return address is not None


async def _copying(app: FastAPI) -> int:
    found: int = await sql(app, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                                " AND query LIKE 'COPY (SELECT opportunities.id%'")
    return found
