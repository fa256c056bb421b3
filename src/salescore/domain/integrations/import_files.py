"""Reading an import file as it arrives, chunk by chunk, without holding it whole.

CSV: UTF-8 with or without a byte-order mark; the delimiter is `,` or `;`, whichever the
header line has more of (outside quotes); RFC 4180 quoting (`""` inside a quoted field,
line breaks inside quotes); lines end in LF or CRLF. The header names the columns
(trimmed; none empty, none twice); blank lines are skipped and not counted. A row with
more or fewer cells than the header is a row error. An empty cell is a value not given.

NDJSON: one JSON object per line; numbers are read as exact decimals; blank lines are
skipped but counted, so that `row` is the line number.

`row` counts data rows from 1: the CSV header is not a row.

A file that is not UTF-8, or whose CSV quoting is broken (a quote left open at its end),
cannot be read: `Unreadable`, raised when that part arrives."""

import codecs
import csv
import json
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from salescore.domain.errors import FieldError
from salescore.domain.integrations.imports import ImportFormat

# The row as a whole, not one field of it (a cell count that differs from the header's).
WHOLE_ROW = ""
csv.field_size_limit(sys.maxsize)  # a long cell is the row's error, not the reader's


class Unreadable(Exception):
    """The file as a whole cannot be read; the message says why and where."""


@dataclass(frozen=True, slots=True)
class InputRow:
    """A data row: its number, its values by column (None for an empty CSV cell), or the
    errors that kept it from being read; `input` is what the file held, for the file of
    failed rows (a CSV row's cells in the header's order, an NDJSON line's text)."""

    row: int
    values: dict[str, Any]
    input: list[str] | str
    errors: tuple[FieldError, ...] = ()


class _Decoder:
    """Bytes to text, strictly UTF-8, a leading byte-order mark dropped."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._offset = 0
        self._first = True

    def decode(self, chunk: bytes, final: bool = False) -> str:
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            raise Unreadable(f"the file is not UTF-8: byte {self._offset + error.start + 1} "
                             f"cannot be read (save it as UTF-8 and send it again)") from None
        self._offset += len(chunk)
        if self._first and text:
            self._first = False
            text = text.removeprefix("\ufeff")
        return text


class _Lines:
    """Bytes to whole lines (without their line feed), the text after the last line
    break held until more arrives or the file ends."""

    def __init__(self) -> None:
        self._decoder = _Decoder()
        self._partial = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> list[str]:
        lines = (self._partial + self._decoder.decode(chunk, final)).split("\n")
        self._partial = lines.pop()
        if final and self._partial:
            lines.append(self._partial)
            self._partial = ""
        return lines


class CsvReader:
    """Feed the file's chunks in order (`feed`), then `finish()`; each gives the rows it
    completed. `columns` is known once the header has arrived."""

    def __init__(self) -> None:
        self._lines = _Lines()
        self._record: list[str] = []  # the lines of a record left open by a quote
        self._quoted = False
        self._records: deque[str] = deque()
        self._reader: Iterator[list[str]] | None = None
        self.columns: tuple[str, ...] | None = None
        self.delimiter = ","
        self._row = 0

    def feed(self, chunk: bytes) -> list[InputRow]:
        return self._rows(self._lines.feed(chunk))

    def finish(self) -> list[InputRow]:
        rows = self._rows(self._lines.feed(b"", final=True))
        if self._quoted:
            raise Unreadable(f"a quoted field opened in data row {self._row + 1} is never "
                             "closed: the file ends inside it")
        if self.columns is None:
            raise Unreadable("the file is empty: it needs a header line naming the columns")
        return rows

    def _rows(self, lines: list[str]) -> list[InputRow]:
        for line in lines:
            self._line(line + "\n")
        return self._drain()

    def _line(self, line: str) -> None:
        self._record.append(line)
        if line.count('"') % 2:
            self._quoted = not self._quoted
        if not self._quoted:
            self._records.append("".join(self._record))
            self._record = []

    def _drain(self) -> list[InputRow]:
        rows = []
        while self._records:
            if self._reader is None:
                self._start(self._records[0])
            assert self._reader is not None
            try:
                cells = next(self._reader)
            except csv.Error as error:
                raise Unreadable(f"data row {self._row + 1} cannot be read as CSV: "
                                 f"{error}") from None
            if not cells:  # a blank line
                continue
            if self.columns is None:
                self._header(cells)
                continue
            self._row += 1
            rows.append(self._data_row(cells))
        return rows

    def _start(self, header: str) -> None:
        outside = header.split('"')[::2]
        commas = sum(part.count(",") for part in outside)
        semicolons = sum(part.count(";") for part in outside)
        self.delimiter = ";" if semicolons > commas else ","
        self._reader = csv.reader(_popping(self._records), delimiter=self.delimiter,
                                  strict=True)

    def _header(self, cells: list[str]) -> None:
        columns = tuple(cell.strip() for cell in cells)
        if "" in columns:
            raise Unreadable(f"the header's column {columns.index('') + 1} has no name")
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise Unreadable(f"the header names {', '.join(repeated)} more than once")
        self.columns = columns

    def _data_row(self, cells: list[str]) -> InputRow:
        assert self.columns is not None
        if len(cells) != len(self.columns):
            return InputRow(self._row, {}, cells, (FieldError(
                WHOLE_ROW, f"has {len(cells)} fields where the header has "
                           f"{len(self.columns)}"),))
        values = {column: cell if cell != "" else None
                  for column, cell in zip(self.columns, cells, strict=True)}
        return InputRow(self._row, values, cells)


def _popping(records: deque[str]) -> Iterator[str]:
    """The records as the CSV reader asks for them: it is asked only while one is queued,
    and each is a whole record, so it never asks past the end."""
    while True:
        yield records.popleft()


class NdjsonReader:
    """As CsvReader, for one JSON object per line."""

    columns: tuple[str, ...] | None = None
    delimiter = ","

    def __init__(self) -> None:
        self._lines = _Lines()
        self._row = 0

    def feed(self, chunk: bytes) -> list[InputRow]:
        return self._rows(self._lines.feed(chunk))

    def finish(self) -> list[InputRow]:
        return self._rows(self._lines.feed(b"", final=True))

    def _rows(self, lines: list[str]) -> list[InputRow]:
        return [row for row in map(self._line, lines) if row is not None]

    def _line(self, line: str) -> InputRow | None:
        self._row += 1
        text = line.rstrip("\r")
        if not text.strip():
            return None
        try:
            value = json.loads(text, parse_float=Decimal)
        except ValueError as error:
            return InputRow(self._row, {}, text,
                            (FieldError(WHOLE_ROW, f"is not JSON: {error}"),))
        if not isinstance(value, dict):
            return InputRow(self._row, {}, text,
                            (FieldError(WHOLE_ROW, "is not a JSON object"),))
        return InputRow(self._row, value, text)


def reader_of(fmt: ImportFormat) -> CsvReader | NdjsonReader:
    return CsvReader() if fmt is ImportFormat.CSV else NdjsonReader()


class RecordCounter:
    """Counts the records of a file as its bytes go by (for `rows_total` while it runs):
    line breaks outside quotes for CSV, less the header; lines for NDJSON. Blank lines
    count too, so it is the most the file holds."""

    def __init__(self, fmt: ImportFormat) -> None:
        self._csv = fmt is ImportFormat.CSV
        self._quoted = False
        self._breaks = 0
        self._last = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._last = chunk[-1:]
        if not self._csv:
            self._breaks += chunk.count(b"\n")
            return
        parts = chunk.split(b'"')
        outside = parts[1::2] if self._quoted else parts[::2]
        self._breaks += sum(part.count(b"\n") for part in outside)
        if (len(parts) - 1) % 2:
            self._quoted = not self._quoted

    @property
    def rows(self) -> int:
        records = self._breaks + (1 if self._last not in (b"", b"\n") else 0)
        return max(records - 1, 0) if self._csv else records
