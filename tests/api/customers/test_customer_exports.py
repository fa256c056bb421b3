"""Exporting the customers list: every row the list's filters pick, in its sort, as CSV
(streamed), xlsx or PDF, with the owner's name."""

import re
from typing import Any

import pytest
from httpx import AsyncClient

from salescore.api import exports
from salescore.api.exports import ExportFormat
from salescore.api.v1.customers.schemas import CustomerRead
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
from tests.customer_factories import make_customer
from tests.factories import Tenant, make_user
from tests.process_factories import problem_field

PATH = "/v1/customers/export"
FORMULA = "@SUM(A1:A9)"


async def _customers(client: AsyncClient, tenant: Tenant) -> tuple[dict[str, Any], ...]:
    owner = (await make_user(client, tenant, name=NORDIC))["id"]
    nordic = await make_customer(client, tenant, name="Ærlig Østbø Åsen AS",
                                 org_number="987654321", email="post@aasen.no", owner_id=owner)
    formula = await make_customer(client, tenant, name=FORMULA, status="prospect")
    bergen = await make_customer(client, tenant, name="Bergen Nord AS", phone="+47 55 00 00 00",
                                 status="inactive")
    return nordic, formula, bergen


async def test_csv_has_the_lists_fields_in_its_order_and_the_owners_name(
        client: AsyncClient, tenant: Tenant):
    nordic, _, bergen = await _customers(client, tenant)
    response = await exported(client, PATH, tenant.admin)
    assert response.headers["content-disposition"] == 'attachment; filename="customers.csv"'
    header, rows = csv_of(response)
    assert header == with_names(list(CustomerRead.model_fields), {"owner_id": "owner_name"})
    for made, row in ((nordic, rows[0]), (bergen, rows[2])):
        for field, value in made.items():
            if field == "phone":
                continue  # below
            expected = "" if value is None else str(value)
            if field.endswith("_at"):
                expected = re.sub(r"\.\d+Z$", "Z", value)
            assert row[field] == expected, field
    assert rows[0]["owner_name"] == NORDIC
    assert rows[2]["owner_name"] == ""
    assert rows[2]["phone"] == "'+47 55 00 00 00"  # a spreadsheet would compute it


async def test_every_row_the_lists_filters_pick_in_its_sort(client: AsyncClient,
                                                            tenant: Tenant):
    nordic, formula, bergen = await _customers(client, tenant)

    async def ids(**params: Any) -> list[int]:
        return [int(r["id"]) for r in csv_of(await exported(client, PATH, tenant.admin,
                                                            **params))[1]]

    assert await ids(sort="-name") == [nordic["id"], bergen["id"], formula["id"]]
    assert await ids(status="inactive") == [bergen["id"]]
    assert await ids(q="aasen") == [nordic["id"]]  # the email
    assert await ids(q="98765%") == [nordic["id"]]  # the organization number
    assert await ids(owner_id=nordic["owner_id"]) == [nordic["id"]]
    assert await ids(**{"id[gte]": formula["id"], "sort": "-id"}) == [bergen["id"],
                                                                     formula["id"]]


async def test_a_name_that_looks_like_a_formula_is_text(client: AsyncClient, tenant: Tenant):
    await _customers(client, tenant)
    _, rows = csv_of(await exported(client, PATH, tenant.admin, status="prospect"))
    assert rows[0]["name"] == "'" + FORMULA
    _, sheet_rows = xlsx_of(await exported(client, PATH, tenant.admin, format="xlsx",
                                               status="prospect"))
    assert sheet_rows[0]["name"] == FORMULA


async def test_xlsx_is_a_workbook_with_a_header_row(client: AsyncClient, tenant: Tenant):
    nordic, _, _ = await _customers(client, tenant)
    _, rows = xlsx_of(await exported(client, PATH, tenant.admin, format="xlsx"))
    assert list(rows[0]) == with_names(list(CustomerRead.model_fields),
                                       {"owner_id": "owner_name"})
    assert (rows[0]["id"], rows[0]["name"], rows[0]["owner_name"], rows[0]["org_number"]) == (
        nordic["id"], "Ærlig Østbø Åsen AS", NORDIC, "987654321")
    assert rows[0]["updated_at"].isoformat()[:19] == nordic["updated_at"][:19]
    assert len(rows) == 3


@needs_pdftotext
async def test_pdf_shows_the_nordic_letters(client: AsyncClient, tenant: Tenant):
    await _customers(client, tenant)
    text = pdf_text(await exported(client, PATH, tenant.admin, format="pdf"))
    for expected in ("Customers", "Ærlig Østbø Åsen AS", NORDIC, "post@aasen.no",
                     "Bergen Nord AS", "inactive"):
        assert expected in text, expected


@pytest.mark.parametrize("fmt", [ExportFormat.XLSX, ExportFormat.PDF])
async def test_past_the_rows_a_file_holds_is_422_naming_format(
        client: AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch,
        fmt: ExportFormat):
    await _customers(client, tenant)
    monkeypatch.setitem(exports.MAX_ROWS, fmt, 2)
    past = await client.get(PATH, params={"format": fmt.value}, headers=tenant.admin)
    assert past.status_code == 422
    assert problem_field(past) == "format"
    assert "use format=csv" in past.json()["errors"][0]["message"]
    assert (await exported(client, PATH, tenant.admin, format=fmt.value,
                           status="inactive")).content[:2] in (b"%P", b"PK")


async def test_another_organizations_customers_never_appear(client: AsyncClient,
                                                            tenant: Tenant,
                                                            other_tenant: Tenant):
    await _customers(client, tenant)
    theirs = await make_customer(client, other_tenant, name="Theirs AS")
    for fmt, read in (("csv", csv_of), ("xlsx", xlsx_of)):
        for params in ({}, {"q": "Theirs"}, {"id": theirs["id"]}):
            rows = read(await exported(client, PATH, tenant.admin, format=fmt, **params))[1]
            assert "Theirs AS" not in {r["name"] for r in rows}
    _, rows = csv_of(await exported(client, PATH, other_tenant.admin))
    assert [r["name"] for r in rows] == ["Theirs AS"]


async def test_without_the_lists_scope_an_export_is_403(client: AsyncClient, tenant: Tenant):
    narrow = await key_with(client, tenant, "opportunities:read")
    assert (await client.get(PATH, headers=narrow)).status_code == 403
    reader = await key_with(client, tenant, "customers:read")
    assert (await client.get(PATH, params={"format": "pdf"}, headers=reader)).status_code == 200


@pytest.mark.parametrize(("params", "field"), [
    ({"format": "json"}, "format"), ({"limit": "5"}, "limit"), ({"sort": "email"}, "sort"),
    ({"status": "gone"}, "status")])
async def test_what_an_export_does_not_take_is_refused(client: AsyncClient, tenant: Tenant,
                                                       params: dict[str, str], field: str):
    response = await client.get(PATH, params=params, headers=tenant.admin)
    assert response.status_code == 422
    assert problem_field(response) == field
