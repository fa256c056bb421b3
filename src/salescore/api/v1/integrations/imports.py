"""Bulk imports: upload a file (202, run by a worker), follow its progress, read the rows
that failed (as JSON pages, or as the failed input rows with an `error` column), cancel.

Rules chosen where the contract is silent:
- The file is the raw request body; `format` defaults to the one the `Content-Type`
  names (`text/csv`, `application/x-ndjson`); another type, or a `format` that disagrees
  with it, is 415.
- `Idempotency-Key` on the upload: a retry with the same key gets the import the first
  request queued (202, `idempotent-replayed: true`) and its body is not read again.
- Uploading or cancelling needs `imports:write`, reading `imports:read`; and each also
  the write scope of the import's resource (`customers:write` for customers and
  contacts, `opportunities:write`, `activities:write`), since an import writes those.
- The errors file: `format=csv` gives the failed rows of a CSV import with the header it
  had and its delimiter (`;` stays `;`, the cells as they were sent), or of an NDJSON
  import with the keys of its failed rows as columns, plus `error` (each error as
  `field: message`, joined by `; `); `format=ndjson` gives each failed row's object with
  an `error` key. A column or key named `error` is ignored by an
  import, so the errors file can be fixed and sent back as it is."""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from enum import Enum, StrEnum
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.listing import Filter, ListRequest, PageOf, list_parameters, page_response
from salescore.api.routing import Router
from salescore.api.v1.integrations.import_schemas import (
    ImportErrorPage,
    ImportRead,
    ImportRowError,
)
from salescore.api.v1.schemas import Id
from salescore.domain.access.permissions import Caller
from salescore.domain.errors import InvalidInput
from salescore.domain.integrations.imports import (
    MEDIA_TYPES,
    FailedRow,
    Import,
    ImportFormat,
    ImportMode,
    ImportResource,
    ImportStatus,
)
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations import imports

router = Router(prefix="/v1")
IMPORTS: list[str | Enum] = ["imports"]
PATH = "/imports"
UPLOADS = "/v1" + PATH  # its bodies are streamed: they have limits of their own
ONE = PATH + "/{import_id}"
ERROR_PAGE_ROWS = 1000
_FORMAT_OF = {"text/csv": ImportFormat.CSV, "application/x-ndjson": ImportFormat.NDJSON}
ImportList = Annotated[ListRequest, Depends(list_parameters("imports", [
    Filter("id", int, ranges=True), Filter("resource", ImportResource),
    Filter("status", ImportStatus), Filter("mode", ImportMode),
    Filter("validate_only", bool), Filter("created_at", datetime, ranges=True),
], sorts=("id", "created_at")))]


class ErrorsFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    NDJSON = "ndjson"


_UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in MEDIA_TYPES.values()}}}


def _format_of(request: Request, given: ImportFormat | None) -> ImportFormat:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    named = _FORMAT_OF.get(media)
    if named is None:
        raise HTTPException(415, "send the file as the body with Content-Type: text/csv "
                                   "or application/x-ndjson")
    if given is not None and given is not named:
        raise HTTPException(415, f"format={given.value} disagrees with the Content-Type "
                                   f"{media}")
    return named


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for piece in request.stream():
        if piece:
            yield piece


def _located(job: Import, response: Response) -> ImportRead:
    response.headers["Location"] = f"/v1/imports/{job.id}"
    return ImportRead.of(job)


@router.post(PATH, response_model=ImportRead, status_code=status.HTTP_202_ACCEPTED,
             tags=IMPORTS, openapi_extra=_UPLOAD_BODY, responses=problem_responses(404, 415))
async def start_import(
        request: Request, caller: CallerDep, uow: UnitOfWorkDep, response: Response,
        resource: Annotated[ImportResource, Query(description="What the rows are.")],
        format: Annotated[ImportFormat | None, Query(
            description="Defaults to the Content-Type's.")] = None,
        mode: Annotated[ImportMode, Query(description=(
            "`per_row`: good rows are written, bad ones reported; `atomic`: one bad row "
            "and nothing is written."))] = ImportMode.PER_ROW,
        validate_only: Annotated[bool, Query(description=(
            "Run every check and rule, write nothing: the counts, errors and status are "
            "those a real run would give."))] = False,
        default_owner_id: Annotated[Id | None, Query(description=(
            "The owner of rows that name none (activities: their assignee); else the "
            "calling user."))] = None,
        idempotency_key: Annotated[str | None, Header(
            alias="Idempotency-Key", min_length=1, max_length=255)] = None,
) -> ImportRead:
    """Queue an import of the request body (CSV or NDJSON, streamed, at most
    SALESCORE_IMPORT_MAX_BYTES: past it 413 and nothing is queued). 202 with the import;
    follow it at `Location`."""
    fmt = _format_of(request, format)
    job, replayed = await imports.start_import(
        uow, caller=caller, resource=resource, fmt=fmt, mode=mode,
        validate_only=validate_only, default_owner_id=default_owner_id,
        idempotency_key=idempotency_key, body=_body(request))
    if replayed:
        response.headers["idempotent-replayed"] = "true"
    return _located(job, response)


@router.get(PATH, response_model=PageOf[ImportRead], tags=IMPORTS)
async def list_imports(caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
                       request: ImportList) -> Response:
    """The imports of the resources the caller may write (sort `-id` for the newest
    first)."""
    page = await imports.list_imports(uow, caller=caller, query=request.query)
    return page_response(state, request, page, ImportRead.of)


@router.get(ONE, response_model=ImportRead, tags=IMPORTS, responses=problem_responses(404))
async def read_import(import_id: Id, caller: CallerDep, uow: UnitOfWorkDep) -> ImportRead:
    """One import: its status and row counts, which grow while it runs (poll this), and
    `error` when the file as a whole could not be read."""
    return ImportRead.of(await imports.get_import(uow, caller=caller, import_id=import_id))


@router.post(ONE + "/cancel", response_model=ImportRead, tags=IMPORTS,
             responses=problem_responses(404, 409))
async def cancel_import(import_id: Id, caller: CallerDep, uow: UnitOfWorkDep) -> ImportRead:
    """A queued import is cancelled at once; a running one stops after the batch in hand
    (`per_row` keeps what it wrote; `atomic` and `validate_only` write nothing). 409 once
    it has ended."""
    return ImportRead.of(await imports.cancel_import(uow, caller=caller,
                                                     import_id=import_id))


@router.get(ONE + "/errors", response_model=ImportErrorPage, tags=IMPORTS,
            responses={**problem_responses(404), 200: {"content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def list_import_errors(
        import_id: Id, caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
        format: Annotated[ErrorsFormat, Query(description=(
            "`json`: pages of errors; `csv` or `ndjson`: every failed input row with its "
            "`error`, ready to fix and send again."))] = ErrorsFormat.JSON,
        cursor: Annotated[str | None, Query(description="`next_cursor` of the previous "
                                                        "page.")] = None,
        limit: Annotated[int, Query(ge=1, le=ERROR_PAGE_ROWS,
                                    description="Failed rows per page.")] = 100,
) -> Response:
    """The rows that failed, in row order; a page holds the errors of up to `limit`
    rows."""
    if format is not ErrorsFormat.JSON:
        job = await imports.get_import(uow, caller=caller, import_id=import_id)
        return _failed_rows_file(job, format, caller=caller, sessions=state.sessions)
    after = 0
    if cursor is not None:
        [after] = state.cursors.decode(f"import-errors:{import_id}", cursor)
        if not isinstance(after, int):
            raise InvalidInput.of("cursor", "is not a cursor of these errors")
    failed = await imports.import_failures(uow, caller=caller, import_id=import_id,
                                              after_row=after, limit=limit + 1)
    more = len(failed) > limit
    failed = failed[:limit]
    page = ImportErrorPage(
        data=[e for f in failed for e in ImportRowError.all_of(f)],
        next_cursor=state.cursors.encode(f"import-errors:{import_id}", [failed[-1].row])
        if more else None)
    return Response(page.model_dump_json(), media_type="application/json")


def _error_text(failed: FailedRow) -> str:
    return "; ".join(f"{e.field}: {e.message}" if e.field else e.message
                     for e in failed.errors)


def _failed_rows_file(job: Import, fmt: ErrorsFormat, *, caller: Caller,
                      sessions: async_sessionmaker[AsyncSession]) -> StreamingResponse:
    async def pages() -> AsyncIterator[list[FailedRow]]:
        after = 0
        while True:
            failed = await imports.import_failures(
                UnitOfWork(sessions), caller=caller, import_id=job.id, after_row=after,
                limit=ERROR_PAGE_ROWS)
            if not failed:
                return
            yield failed
            after = failed[-1].row

    async def lines() -> AsyncIterator[str]:
        if fmt is ErrorsFormat.NDJSON:
            async for failed in pages():
                for f in failed:
                    yield json.dumps({**_as_object(job, f), "error": _error_text(f)},
                                     ensure_ascii=False, default=str) + "\n"
            return
        columns = await _columns(job, pages())
        delimiter = job.delimiter or ","
        yield _csv_line([*columns, "error"], delimiter)
        async for failed in pages():
            for f in failed:
                yield _csv_line([*_cells(job, f, columns), _error_text(f)], delimiter)

    media = "text/csv; charset=utf-8" if fmt is ErrorsFormat.CSV else "application/x-ndjson"
    return StreamingResponse(lines(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="import-{job.id}-errors.{fmt.value}"'})


def _as_object(job: Import, failed: FailedRow) -> dict[str, Any]:
    """A failed row as an object: an NDJSON line's own, a CSV row's cells by column."""
    if isinstance(failed.input, str):
        try:
            value = json.loads(failed.input)
        except ValueError:
            return {"line": failed.input}
        return value if isinstance(value, dict) else {"line": failed.input}
    if isinstance(failed.input, list) and job.columns is not None:
        return dict(zip(job.columns, failed.input, strict=False))
    return {}


async def _columns(job: Import, pages: AsyncIterator[list[FailedRow]]) -> list[str]:
    """A CSV import's header; for NDJSON, the keys of its failed rows in order of
    appearance (read in a first pass)."""
    if job.format is ImportFormat.CSV:
        return [c for c in job.columns or () if c != "error"]
    seen: dict[str, None] = {}
    async for failed in pages:
        for f in failed:
            seen.update(dict.fromkeys(k for k in _as_object(job, f) if k != "error"))
    return list(seen)


def _cells(job: Import, failed: FailedRow, columns: list[str]) -> list[str]:
    """The failed row's cells under `columns`; a CSV row whose cells the header did not
    match, as it was."""
    if isinstance(failed.input, list) and len(failed.input) != len(job.columns or ()):
        return [str(c) for c in failed.input]
    values = _as_object(job, failed)
    return [_cell(values.get(c)) for c in columns]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_line(cells: list[Any], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerow(cells)
    return out.getvalue()
