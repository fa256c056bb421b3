"""The files an export is drawn as in Python, a batch of rows at a time: an Excel
workbook (openpyxl's write-only mode, whose rows go to a temporary file as they come, not
to memory) and a PDF table (fpdf2, DejaVu Sans embedded, so any letter it has shows).

Both are CPU work: callers run `add` in a worker thread, off the event loop."""

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import IO, Any

from fpdf import FPDF
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from salescore.services.quotes.pdf_layout import FONTS

XLSX_TIME = 'yyyy-mm-dd"T"hh:mm:ss"Z"'
XLSX_DATE = "yyyy-mm-dd"
XLSX_TEXT_MAX = 32_767  # characters a cell holds
_SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")
FONT = "DejaVuSans"
_SIZE = 7.0
_ROW = 4.2
_PAD = 1.0
_SPACES = re.compile(r"[\t\r\n]+")


class XlsxFile:
    """One sheet: a bold header row, frozen, then the rows as they are added. Numbers stay
    numbers (decimals shown with their places), times are UTC shown as RFC 3339, and text
    is text, even where it starts like a formula."""

    def __init__(self, title: str, columns: Sequence[str]) -> None:
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(_SHEET_TITLE.sub(" ", title)[:31] or "Export")
        self._sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for name in columns:
            cell = WriteOnlyCell(self._sheet, name)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        cell = self._cell
        for row in rows:
            self._sheet.append([cell(value) for value in row])

    def save(self, out: IO[bytes]) -> None:
        """Write the workbook to `out` (once: the rows are gone after)."""
        self._book.save(out)

    def _cell(self, value: Any) -> Any:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_TEXT_MAX]
            if not value.startswith("="):
                return value
            cell = WriteOnlyCell(self._sheet, value)
            cell.data_type = "s"
            return cell
        if isinstance(value, datetime):
            return self._formatted(
                value.astimezone(UTC).replace(tzinfo=None, microsecond=0), XLSX_TIME)
        if isinstance(value, date):
            return self._formatted(value, XLSX_DATE)
        if isinstance(value, Decimal):
            return self._formatted(value, _places(value))
        return value

    def _formatted(self, value: Any, number_format: str) -> Any:
        cell = WriteOnlyCell(self._sheet, value)
        cell.number_format = number_format
        return cell


def _places(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    return _decimal_format(-exponent if isinstance(exponent, int) and exponent < 0 else 0)


@cache
def _decimal_format(places: int) -> str:
    return "0." + "0" * places if places else "0"


def unicode_pdf() -> FPDF:
    """A landscape A4 document with DejaVu Sans (regular and bold) as `FONT`."""
    pdf = FPDF(orientation="landscape", format="A4", unit="mm")
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_creator("salescore")
    return pdf


class PdfFile(FPDF):
    """A table on landscape A4 pages: the title and the column names atop every page,
    then the rows, each value on one line cut to its column's width (with "…"). `widths`
    are scaled to fill the page (equal without them)."""

    def __init__(self, title: str, columns: Sequence[str],
                 widths: Sequence[float] | None = None) -> None:
        super().__init__(orientation="landscape", format="A4", unit="mm")
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_title(title)
        self.set_creator("salescore")
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(False)
        self.table_title = title
        self.columns = tuple(columns)
        weights = widths or [1.0] * len(self.columns)
        scale = self.epw / sum(weights)
        self.widths = tuple(w * scale for w in weights)
        self.add_page()

    def header(self) -> None:
        self.set_font(FONT, "B", 10)
        self.text(self.l_margin, self.t_margin + 4, self.table_title)
        self.set_font(FONT, "B", _SIZE)
        self.set_y(self.t_margin + 7)
        self._line(self.columns)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_font(FONT, "", _SIZE)

    def footer(self) -> None:
        self.set_font(FONT, "", _SIZE)
        self.text(self.l_margin, self.h - 5, f"{self.table_title} · page {self.page_no()}")

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        bottom = self.h - 10
        for row in rows:
            if self.get_y() + _ROW > bottom:
                self.add_page()
            self._line(["" if v is None else str(v) for v in row])

    def output_bytes(self) -> bytes:
        return bytes(self.output())

    def _line(self, values: Sequence[str]) -> None:
        x, y = self.l_margin, self.get_y()
        for width, value in zip(self.widths, values, strict=True):
            self.text(x + _PAD / 2, y + _ROW * 0.75, self._fit(value, width - _PAD))
            x += width
        self.set_y(y + _ROW)

    def _fit(self, value: str, width: float) -> str:
        text = _SPACES.sub(" ", value)
        if self.get_string_width(text) <= width:
            return text
        low, high = 0, len(text)  # the longest cut that fits with its ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            if self.get_string_width(text[:middle] + "…") <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low] + "…"
