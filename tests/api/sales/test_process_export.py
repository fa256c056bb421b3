"""Exporting the list of sales processes as CSV, Excel and PDF, with the list's filters."""

import csv
import io
from typing import Any

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook  # type: ignore[import-untyped]

from salescore.api import exports
from salescore.api.exports import ExportFormat
from salescore.repositories.sales.processes import SalesProcessRepository
from salescore.services.sales import processes as process_service
from tests.factories import Tenant, make_user
from tests.process_factories import insert_opportunity, make_process, problem_field

PATH = "/v1/sales-processes/export"


async def _export(client: AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get(PATH, params=params, headers=tenant.admin)
    assert response.status_code == 200, response.text
    return response


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_csv_export_takes_the_lists_filters_and_sort(client: AsyncClient,
                                                           tenant: Tenant,
                                                           other_tenant: Tenant):
    alpha = await make_process(client, tenant, name="Alpha Øst", note="første")
    beta = await make_process(client, tenant, name="Beta")
    await make_process(client, tenant, name="Gamma", active=False)
    await make_process(client, other_tenant, name="Theirs")
    await insert_opportunity(tenant, beta["stages"][0])
    response = await _export(client, tenant, sort="-name")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="sales-processes.csv"')
    rows = _csv_rows(response.content)
    assert [(r["id"], r["name"], r["in_use"], r["active"]) for r in rows] == [
        (str(beta["id"]), "Beta", "1", "yes"), (str(alpha["id"]), "Alpha Øst", "0", "yes")]
    assert rows[1]["stages"] == "First contact > Quote sent > Verbal yes > Won > Lost"
    assert rows[1]["note"] == "første"
    assert rows[1]["created_by"] == str(tenant.admin_id)
    only = _csv_rows((await _export(client, tenant, view="inactive")).content)
    assert [r["name"] for r in only] == ["Gamma"]
    used = _csv_rows((await _export(client, tenant, **{"in_use[gte]": 1})).content)
    assert [r["name"] for r in used] == ["Beta"]


async def test_an_export_holds_every_row_not_just_one_page(client: AsyncClient,
                                                           tenant: Tenant):
    made = [await make_process(client, tenant) for _ in range(5)]
    rows = _csv_rows((await _export(client, tenant, limit=2)).content)
    assert [int(r["id"]) for r in rows] == [p["id"] for p in made]


async def test_a_name_that_looks_like_a_formula_is_exported_as_text(client: AsyncClient,
                                                                    tenant: Tenant):
    await make_process(client, tenant, name="=HYPERLINK(\"http://x\")")
    rows = _csv_rows((await _export(client, tenant)).content)
    assert rows[0]["name"] == "'=HYPERLINK(\"http://x\")"
    book = load_workbook(io.BytesIO((await _export(client, tenant, format="xlsx")).content))
    cell = book.active.cell(row=2, column=2)
    assert (cell.value, cell.data_type) == ("=HYPERLINK(\"http://x\")", "s")


async def test_xlsx_export_is_a_workbook_with_a_header_row(client: AsyncClient,
                                                           tenant: Tenant):
    process = await make_process(client, tenant, name="Nordic", default_for={"all": True})
    response = await _export(client, tenant, format="xlsx")
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["content-disposition"].endswith('sales-processes.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("id", "name", "active")
    row = dict(zip(header, rows[1], strict=True))
    assert (row["id"], row["name"], row["active"], row["stage_count"],
            row["default_for_all"]) == (process["id"], "Nordic", True, 5, True)
    assert row["created_at"].isoformat()[:19] == process["created_at"][:19]


async def test_pdf_export_is_a_pdf_even_with_letters_beyond_latin_1(client: AsyncClient,
                                                                    tenant: Tenant):
    await make_process(client, tenant, name="Salg \u2013 Øst \u2603")
    response = await _export(client, tenant, format="pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


async def test_sellers_may_export(client: AsyncClient, tenant: Tenant):
    await make_process(client, tenant)
    seller = tenant.token_for((await make_user(client, tenant, role="seller"))["id"])
    response = await client.get(PATH, headers=seller)
    assert response.status_code == 200
    assert len(_csv_rows(response.content)) == 1


@pytest.mark.parametrize(("params", "field"), [
    ({"format": "docx"}, "format"), ({"colour": "red"}, "colour"), ({"sort": "note"}, "sort")])
async def test_what_an_export_does_not_understand_is_refused(client: AsyncClient,
                                                             tenant: Tenant,
                                                             params: dict[str, str],
                                                             field: str):
    response = await client.get(PATH, params=params, headers=tenant.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("fmt", [ExportFormat.XLSX, ExportFormat.PDF])
async def test_an_xlsx_or_pdf_of_more_rows_than_it_holds_is_refused_naming_format(
        client: AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch,
        fmt: ExportFormat):
    for _ in range(3):
        await make_process(client, tenant)
    monkeypatch.setitem(exports.MAX_ROWS, fmt, 2)
    past = await client.get(PATH, params={"format": fmt.value}, headers=tenant.admin)
    assert problem_field(past) == "format"
    assert "use format=csv" in past.json()["errors"][0]["message"]
    assert len(_csv_rows((await _export(client, tenant, format="csv")).content)) == 3
    monkeypatch.setitem(exports.MAX_ROWS, fmt, 3)
    at = await _export(client, tenant, format=fmt.value)
    assert at.content.startswith(b"%PDF" if fmt is ExportFormat.PDF else b"PK")


async def test_an_export_past_its_bound_reads_one_row_past_it_not_every_page(
        client: AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch):
    for _ in range(5):
        await make_process(client, tenant)
    monkeypatch.setitem(exports.MAX_ROWS, ExportFormat.PDF, 1)
    monkeypatch.setattr(process_service, "EXPORT_PAGE", 1)
    pages = 0
    listed = SalesProcessRepository.list

    async def counted(self: SalesProcessRepository, *args: Any, **kwargs: Any) -> Any:
        nonlocal pages
        pages += 1
        return await listed(self, *args, **kwargs)

    monkeypatch.setattr(SalesProcessRepository, "list", counted)
    past = await client.get(PATH, params={"format": "pdf"}, headers=tenant.admin)
    assert problem_field(past) == "format"
    assert pages == 2
    assert len(_csv_rows((await _export(client, tenant)).content)) == 5
