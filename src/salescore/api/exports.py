"""Exports of a filtered list as CSV, Excel (xlsx) or PDF (DESIGN.md: "Exports: CSV, xlsx
and PDF of any filtered list"). A list route's filters pick the rows; `format` picks the
file. Times are UTC. Text cells that a spreadsheet would take for a formula (`=`, `+`,
`-`, `@`, a tab or a carriage return first) get a leading apostrophe in CSV, and are
stored as text in xlsx.

Here: the formats and their bounds, and small tables built in memory (a report, the sales
processes). The lists of opportunities, customers and activities, of any size, are
streamed instead (export_streams.py).

Bounds (API.md): xlsx holds at most 1,048,575 data rows (a sheet's rows less the header)
and PDF at most 10,000; past those the export is refused (422 naming `format`, saying to
use CSV), which an export learns by asking for one row past the bound (`row_bound`). CSV
has no row limit."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fastapi import Response

from salescore.api.export_files import FONT, XlsxFile, unicode_pdf
from salescore.api.listing import ListRequest
from salescore.domain.errors import InvalidInput
from salescore.repositories.exports import FORMULA_STARTS

Cell = str | int | bool | Decimal | datetime | None


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PDF: "application/pdf",
}
MAX_ROWS = {ExportFormat.XLSX: 1_048_575, ExportFormat.PDF: 10_000}
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "The file.",
    "content": {media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES.values()}}}


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]


def take_format(request: ListRequest) -> tuple[ExportFormat, ListRequest]:
    """The `format` a list's export asks for (CSV unless told), and the list without it."""
    given = [c for c in request.query.conditions if c.field == "format"]
    rest = tuple(c for c in request.query.conditions if c.field != "format")
    fmt = ExportFormat(str(given[0].value)) if given else ExportFormat.CSV
    return fmt, replace(request, query=replace(request.query, conditions=rest))


def row_bound(fmt: ExportFormat) -> int | None:
    """How many rows to read for a file of `fmt`: one past its bound, to know it is
    passed; for CSV, every row (None)."""
    bound = MAX_ROWS.get(fmt)
    return None if bound is None else bound + 1


def check_rows(fmt: ExportFormat, count: int) -> None:
    """More rows than a file of `fmt` holds is refused, pointing to CSV."""
    bound = MAX_ROWS.get(fmt)
    if bound is not None and count > bound:
        raise InvalidInput.of("format", f"{fmt.value} holds at most {bound:,} rows and this "
                                        "export has more: use format=csv")


def export_response(table: Table, fmt: ExportFormat, filename: str) -> Response:
    """The table as a file of `fmt`, refused past the rows that format holds."""
    check_rows(fmt, len(table.rows))
    render = {ExportFormat.CSV: _csv, ExportFormat.XLSX: _xlsx, ExportFormat.PDF: _pdf}[fmt]
    return Response(render(table), media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{filename}.{fmt.value}"'})


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS)
                         else _text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM makes Excel read UTF-8


def _xlsx(table: Table) -> bytes:
    book = XlsxFile(table.title, table.columns)
    book.add(table.rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pdf(table: Table) -> bytes:
    """A small table, its cells wrapped to fit (a list of any length is drawn by
    export_files.PdfFile instead, a line a row)."""
    pdf = unicode_pdf()
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=12)
    pdf.cell(text=table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=7)
    with pdf.table(repeat_headings=1) as grid:
        for row in [table.columns, *table.rows]:
            line = grid.row()
            for value in row:
                line.cell(_text(value))
    return bytes(pdf.output())
