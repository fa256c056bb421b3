"""Reading exports back in tests: the CSV (with its byte order mark), the workbook, the
PDF's text (poppler's `pdftotext`), and keys without a read scope."""

import csv
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.factories import Tenant

NORDIC = "Ærlig Østbø Åsen"
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                     reason="pdftotext is missing: apt-get install poppler-utils")


async def exported(client: AsyncClient, path: str, headers: dict[str, str],
                   **params: Any) -> Response:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def csv_of(response: Response) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows (by column) of a CSV export."""
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = lines[0]
    return header, [dict(zip(header, line, strict=True)) for line in lines[1:]]


def xlsx_of(response: Response) -> tuple[Any, list[dict[str, Any]]]:
    """The sheet and its rows (by column) of an xlsx export."""
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    return sheet, [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]


def pdf_text(response: Response) -> str:
    assert response.headers["content-type"] == "application/pdf"
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.pdf"
        path.write_bytes(response.content)
        return subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
                              check=True, capture_output=True, text=True).stdout


def with_names(fields: list[str], names: dict[str, str]) -> list[str]:
    """The columns an export has for a list of these fields: each reference in `names`
    followed by its name column."""
    columns = []
    for field in fields:
        columns.append(field)
        if field in names:
            columns.append(names[field])
    return columns


async def key_with(client: AsyncClient, tenant: Tenant, *scopes: str) -> dict[str, str]:
    """Headers with a new API key of only these scopes."""
    response = await client.post("/v1/api-keys", headers=tenant.admin,
                                 json={"name": "narrow", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['secret']}"}
