"""Exports of a list of any size, streamed: `GET /v1/<list>/export?format=csv|xlsx|pdf`
with the list's filters and `sort` (no page: every row).

- CSV is written by PostgreSQL (COPY) and passed on as it comes, after a byte order mark
  (so that Excel reads UTF-8): no row limit, and the server holds a few pieces of it at
  most, whatever the row count. A client that goes away stops the database's work.
- xlsx is drawn row by row into a temporary file (openpyxl's write-only mode), then sent
  from it; more rows than a sheet holds are refused before any is drawn.
- PDF holds at most 10,000 rows (MAX_ROWS), drawn in memory, in the columns that fit a
  landscape page (each list names them); past that, 422.

Refusals (scope, parameters, bounds) come before the answer begins, as problems. A failure
after the answer has begun cuts it short: the client sees an incomplete body."""

import inspect
import tempfile
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import IO, Annotated, Any

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from salescore.api.deps import AppStateDep, CallerDep
from salescore.api.export_files import PdfFile, XlsxFile
from salescore.api.exports import MAX_ROWS, MEDIA_TYPES, ExportFormat, check_rows
from salescore.api.listing import (
    Filter,
    filter_parameters,
    read_sort,
    refuse_unknown,
    sort_parameter,
)
from salescore.domain.listing import ListQuery
from salescore.services.exports import Export

BOM = "\ufeff".encode()
FILE_PIECE = 1 << 16


@dataclass(frozen=True, slots=True)
class ExportRequest:
    query: ListQuery
    format: ExportFormat


@dataclass(frozen=True, slots=True)
class ExportLayout:
    """How a list is exported: its file's name and title, and the columns of its PDF with
    their widths in mm (on a landscape A4 page's 277; a time takes 31)."""

    filename: str
    title: str
    pdf_columns: Sequence[tuple[str, float]]


def export_parameters(filters: Sequence[Filter], sorts: Sequence[str]) -> Callable[..., Any]:
    """A dependency that reads an export's parameters into an ExportRequest: `format`,
    `sort` and the list's filters, as the list reads them; anything else is refused."""
    read = filter_parameters(filters)
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", keyword, annotation=Request),
        inspect.Parameter("state", keyword, annotation=AppStateDep),
        inspect.Parameter("caller", keyword, annotation=CallerDep),
        inspect.Parameter("format", keyword, annotation=Annotated[ExportFormat, Query(
            description="`csv` (no row limit), `xlsx` (at most 1,048,575 rows) or `pdf` "
                        "(at most 10,000 rows).")], default=ExportFormat.CSV),
        sort_parameter(sorts),
        *read.parameters,
    ]
    known = read.names | {"format", "sort"}

    async def dependency(**kwargs: Any) -> ExportRequest:
        refuse_unknown(kwargs.pop("request"), known, "export")
        state, caller = kwargs.pop("state"), kwargs.pop("caller")
        wanted = ExportFormat(kwargs.pop("format"))
        sort = read_sort(kwargs.pop("sort"), sorts)
        conditions = await read.conditions(kwargs, state=state, caller=caller)
        return ExportRequest(ListQuery(conditions, sort), wanted)

    dependency.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return dependency


async def export_answer(export: Export, wanted: ExportFormat, layout: ExportLayout) -> Response:
    """The export as a file of the format `wanted` (see the module)."""
    headers = {"Content-Disposition":
               f'attachment; filename="{layout.filename}.{wanted.value}"'}
    media_type = MEDIA_TYPES[wanted]
    if wanted is ExportFormat.CSV:
        return ClosingStream(await _csv(export), media_type=media_type, headers=headers)
    if wanted is ExportFormat.XLSX:
        return ClosingStream(_pieces(await _xlsx(export, layout.title)),
                             media_type=media_type, headers=headers)
    return Response(await _pdf(export, layout), media_type=media_type, headers=headers)


class ClosingStream(StreamingResponse):
    """A streamed answer that closes its pieces' iterator however it ends, at once, not
    when the collector finds it: a client gone mid-way frees the export's resources."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                await close()


async def _csv(export: Export) -> AsyncGenerator[bytes, None]:
    """The CSV's pieces, its first already read (with the header line, or an error
    raised while the answer can still be a problem)."""
    pieces = export.csv()
    try:
        first = await anext(pieces, b"")
    except BaseException:
        await pieces.aclose()
        raise
    return _after(BOM + first, pieces)


async def _after(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
    async with aclosing(rest):
        yield first
        async for piece in rest:
            yield piece


async def _xlsx(export: Export, title: str) -> IO[bytes]:
    """The workbook in a temporary file (gone once closed), at its start."""
    bound = MAX_ROWS[ExportFormat.XLSX]
    check_rows(ExportFormat.XLSX, await export.count(at_most=bound + 1))
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the answer closes it, once sent)
    try:
        book = XlsxFile(title, export.columns)
        drawn = 0
        async with aclosing(export.rows(at_most=bound + 1)) as batches:
            async for batch in batches:
                drawn += len(batch)  # rows may have come since the count
                check_rows(ExportFormat.XLSX, drawn)
                await run_in_threadpool(book.add, batch)
        await run_in_threadpool(book.save, out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


async def _pieces(file: IO[bytes]) -> AsyncGenerator[bytes, None]:
    with file:
        while piece := await run_in_threadpool(file.read, FILE_PIECE):
            yield piece


async def _pdf(export: Export, layout: ExportLayout) -> bytes:
    bound = MAX_ROWS[ExportFormat.PDF]
    names = [name for name, _ in layout.pdf_columns]
    rows: list[Sequence[Any]] = []
    async with aclosing(export.rows(at_most=bound + 1, as_text=True,
                                    columns=names)) as batches:
        async for batch in batches:
            rows.extend(batch)
    check_rows(ExportFormat.PDF, len(rows))

    def draw() -> bytes:
        pdf = PdfFile(layout.title, names, [width for _, width in layout.pdf_columns])
        pdf.add(rows)
        return pdf.output_bytes()

    return await run_in_threadpool(draw)
