"""Bulk imports (DOMAIN.md §6b; the rules of a run are in domain/integrations/imports.py).

Uploading (`start_import`) streams the request body into the import's chunks, one
transaction: the import is queued, whole, or not at all. A worker then runs it
(`run_import`), reading the chunks one at a time.

Every row goes through the API's own rules: its references are turned into ids (below),
then the API's request schema for the resource validates it (`RowRules`, given by the API
layer), and the same service function the API's create or upsert calls writes it, inside
a savepoint of the batch's transaction (`BatchUnitOfWork`): defaults, the first seller,
history, events, follow-up and reminder tasks, and "unchanged writes nothing" are theirs.

- A row with `external_id` upserts as the API's PUT by external id does (customers and
  contacts: the row is the whole record; opportunities: the fields given change);
  without, it creates. Activities have no external id: they are created.
- The same `external_id` twice in one file is an error on the later row.
- References by other keys: `customer_external_id`, `contact_external_id`,
  `opportunity_external_id` (turned into the `_id` field), `owner_email`,
  `assignee_email` (a user of the organization, case-insensitively), and by name
  (case-insensitive): `sales_process`, `stage` (within the row's sales process when it
  names one, else the one stage of that name in the organization), `type`, `source`,
  `campaign`, `loss_reason`. An id and another key for the same reference is an error; so
  is a name that several records share.
- Owners: a row without `owner_id` or `owner_email` takes the import's
  `default_owner_id`, else the uploading user (an API key with neither leaves customers
  without an owner and fails the opportunity rows, as the API would). An opportunity
  that exists already keeps its owner. Activities take the default owner as their
  assignee.
- The rows are written as the uploading caller, with the scopes it had when it uploaded."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from asyncpg import PostgresError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salescore.domain.access.permissions import Caller, Role, Scope, require
from salescore.domain.errors import (
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from salescore.domain.integrations.import_files import (
    WHOLE_ROW,
    CsvReader,
    InputRow,
    NdjsonReader,
    RecordCounter,
    Unreadable,
    reader_of,
)
from salescore.domain.integrations.imports import (
    BATCH_ROWS,
    Counts,
    FailedRow,
    Import,
    ImportFormat,
    ImportMode,
    ImportResource,
    ImportStatus,
    Outcome,
    check_cancellable,
    final_status,
)
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.integrations.import_batches import ImportBatchUnitOfWork
from salescore.repositories.unit_of_work import BatchUnitOfWork, UnitOfWork
from salescore.services.activities.activities import create_activity
from salescore.services.customers.contacts import create_contact, upsert_contact
from salescore.services.customers.customers import create_customer, upsert_customer
from salescore.services.sales.opportunities import create_opportunity, upsert_opportunity

log = logging.getLogger("salescore.imports")
CHUNK_BYTES = 1 << 20
LEASE = timedelta(minutes=5)
WRITE_SCOPE = {ImportResource.CUSTOMERS: Scope.CUSTOMERS_WRITE,
               ImportResource.CONTACTS: Scope.CUSTOMERS_WRITE,
               ImportResource.OPPORTUNITIES: Scope.OPPORTUNITIES_WRITE,
               ImportResource.ACTIVITIES: Scope.ACTIVITIES_WRITE}
# The reference columns each resource takes beside its fields, and the field each fills.
REFERENCES: dict[ImportResource, dict[str, str]] = {
    ImportResource.CUSTOMERS: {"owner_email": "owner_id"},
    ImportResource.CONTACTS: {"customer_external_id": "customer_id"},
    ImportResource.OPPORTUNITIES: {
        "customer_external_id": "customer_id", "contact_external_id": "contact_id",
        "owner_email": "owner_id", "sales_process": "sales_process_id",
        "stage": "stage_id", "type": "type_id", "source": "source_id",
        "campaign": "campaign_id", "loss_reason": "loss_reason_id"},
    ImportResource.ACTIVITIES: {
        "customer_external_id": "customer_id", "contact_external_id": "contact_id",
        "opportunity_external_id": "opportunity_id", "assignee_email": "assignee_id"},
}
# Columns a CSV header must have: each entry is met by any one of its columns.
REQUIRED: dict[ImportResource, tuple[tuple[str, ...], ...]] = {
    ImportResource.CUSTOMERS: (("name",),),
    ImportResource.CONTACTS: (("name",), ("customer_id", "customer_external_id")),
    ImportResource.OPPORTUNITIES: (("name",), ("customer_id", "customer_external_id")),
    ImportResource.ACTIVITIES: (("kind",), ("subject",)),
}
# The resources whose new records a batch stores set-wise (the others: row by row).
_SET_WISE = frozenset({ImportResource.OPPORTUNITIES})
# A column an import leaves aside: the errors file's, so that it can be sent back as it is.
IGNORED = "error"
# Tables whose records a row names by `name`.
_NAMED = frozenset({"sales_processes", "opportunity_types", "sources", "campaigns",
                    "loss_reasons"})
# How each reference column is looked up: table, column, compared lower-cased.
_LOOKUPS: dict[str, tuple[str, str, bool, str]] = {
    "customer_external_id": ("customers", "external_id", False, "customer"),
    "contact_external_id": ("contacts", "external_id", False, "contact"),
    "opportunity_external_id": ("opportunities", "external_id", False, "opportunity"),
    "owner_email": ("users", "email", True, "user"),
    "assignee_email": ("users", "email", True, "user"),
    "sales_process": ("sales_processes", "name", True, "sales process"),
    "type": ("opportunity_types", "name", True, "type"),
    "source": ("sources", "name", True, "source"),
    "campaign": ("campaigns", "name", True, "campaign"),
    "loss_reason": ("loss_reasons", "name", True, "loss reason"),
}


class RowRules(Protocol):
    """The API's request schemas, as the API layer gives them (services do not know
    pydantic models)."""

    def fields(self, resource: ImportResource) -> frozenset[str]:
        """The resource's create fields (`external_id` among them where it has one)."""
        ...

    def values(self, resource: ImportResource, row: dict[str, Any], *, upsert: bool,
               from_text: bool, decimal_comma: bool) -> dict[str, Any]:
        """The row as the API's create (or, with `upsert`, upsert) route hands it to its
        service; InvalidInput naming each bad field. `from_text`: the values are CSV
        cells (text); `decimal_comma`: `1234,50` is a number."""
        ...


def file_problem(detail: str) -> dict[str, Any]:
    """`error` of an import whose file cannot be read, as an RFC 9457 problem."""
    return {"type": "urn:salescore:problem:unreadable-file",
            "title": "The file cannot be read", "detail": detail}


def caller_record(caller: Caller) -> dict[str, Any]:
    return {"role": caller.role.value, "scopes": sorted(s.value for s in caller.scopes),
            "user_id": caller.user_id, "api_key_id": caller.api_key_id}


def caller_of(job: Import) -> Caller:
    record = job.caller
    return Caller(organization_id=job.organization_id, role=Role(record["role"]),
                  scopes=frozenset(s for s in Scope if s.value in record["scopes"]),
                  user_id=record["user_id"], api_key_id=record["api_key_id"])


def _readable(caller: Caller) -> list[ImportResource]:
    return [r for r, scope in WRITE_SCOPE.items() if scope in caller.scopes]


async def start_import(uow: UnitOfWork, *, caller: Caller, resource: ImportResource,
                       fmt: ImportFormat, mode: ImportMode, validate_only: bool,
                       default_owner_id: int | None, idempotency_key: str | None,
                       body: AsyncIterator[bytes]) -> tuple[Import, bool]:
    """Queue an import of the file `body` yields; True when `idempotency_key` named one
    queued before (that one is returned, and the body is not read)."""
    require(caller, Scope.IMPORTS_WRITE)
    require(caller, WRITE_SCOPE[resource])
    org = caller.organization_id
    async with uow:
        if idempotency_key is not None:
            known = await uow.imports.by_idempotency_key(org, idempotency_key)
            if known is not None:
                return known, True
        if default_owner_id is not None and await uow.users.get(org,
                                                               default_owner_id) is None:
            raise NotFound("user", field="default_owner_id")
        job = await uow.imports.add(org, {
            "resource": resource.value, "format": fmt.value, "mode": mode.value,
            "validate_only": validate_only, "caller": caller_record(caller),
            "default_owner_id": default_owner_id, "idempotency_key": idempotency_key,
            "created_by": caller.user_id})
        counter = RecordCounter(fmt)
        size = seq = 0
        pending = bytearray()
        async for piece in body:
            counter.feed(piece)
            size += len(piece)
            pending += piece
            if len(pending) >= CHUNK_BYTES:
                await uow.imports.add_chunk(org, job.id, seq, bytes(pending))
                seq += 1
                pending.clear()
        if pending:
            await uow.imports.add_chunk(org, job.id, seq, bytes(pending))
        await uow.imports.uploaded(org, job.id, size=size, rows_total=counter.rows)
        await uow.commit()
    return replace(job, bytes=size, rows_total=counter.rows), False


async def get_import(uow: UnitOfWork, *, caller: Caller, import_id: int) -> Import:
    require(caller, Scope.IMPORTS_READ)
    async with uow.reading():
        job = await uow.imports.get(caller.organization_id, import_id)
    if job is None or job.resource not in _readable(caller):
        raise NotFound("import")
    return job


async def list_imports(uow: UnitOfWork, *, caller: Caller,
                       query: ListQuery) -> Page[Import]:
    """The imports of the resources the caller may write."""
    require(caller, Scope.IMPORTS_READ)
    resources = _readable(caller)
    if not resources:
        raise Forbidden("listing imports needs the write scope of a resource they import")
    async with uow.reading():
        return await uow.imports.list(caller.organization_id, resources, query)


async def import_failures(uow: UnitOfWork, *, caller: Caller, import_id: int,
                          after_row: int, limit: int) -> list[FailedRow]:
    """The import's failed rows past `after_row`, in row order, up to `limit`."""
    require(caller, Scope.IMPORTS_READ)
    async with uow.reading():
        job = await uow.imports.get(caller.organization_id, import_id)
        if job is None or job.resource not in _readable(caller):
            raise NotFound("import")
        return await uow.imports.failures(caller.organization_id, import_id, after_row,
                                          limit)


async def cancel_import(uow: UnitOfWork, *, caller: Caller, import_id: int) -> Import:
    require(caller, Scope.IMPORTS_WRITE)
    job = await get_import(uow, caller=caller, import_id=import_id)
    async with uow:
        cancelled = await uow.imports.cancel(caller.organization_id, import_id)
        if cancelled is None:
            check_cancellable(job.status)
            check_cancellable(ImportStatus.SUCCEEDED)  # ended meanwhile
        await uow.commit()
    assert cancelled is not None
    return cancelled


async def claim_import(uow: UnitOfWork) -> Import | None:
    """The next import to run, across organizations, leased to this worker."""
    async with uow:
        job = await uow.imports.claim(LEASE)
        await uow.commit()
    return job


async def release_import(uow: UnitOfWork, job: Import) -> None:
    """Put an import a stopping worker was running back in the queue, to be taken up at
    once by another (`per_row` goes on after the batches it committed)."""
    async with uow:
        await uow.imports.release(job.organization_id, job.id)
        await uow.commit()


async def fail_import(uow: UnitOfWork, job: Import) -> None:
    """End an import that an unexpected error stopped (`per_row` keeps what it wrote)."""
    async with uow:
        current = await uow.imports.get(job.organization_id, job.id)
        counts = job.counts if current is None else current.counts
        await uow.imports.finish(job.organization_id, job.id, ImportStatus.FAILED, counts,
                                 None, {"type": "urn:salescore:problem:import-stopped",
                                        "title": "The import stopped",
                                        "detail": "an unexpected error stopped the import; "
                                                  "send the file again"})
        await uow.commit()


# --- running an import ------------------------------------------------------------------

Sessions = async_sessionmaker[AsyncSession]


@dataclass
class _Run:
    """One run of an import: its reader, the references looked up so far, the external
    ids met, and the counts."""

    job: Import
    rules: RowRules
    caller: Caller
    counts: Counts
    names: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    stage_names: dict[int | None, dict[str, list[int]]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    reader: CsvReader | NdjsonReader = field(init=False)

    def __post_init__(self) -> None:
        self.reader = reader_of(self.job.format)


async def run_import(sessions: Sessions, rules: RowRules, job: Import) -> ImportStatus:
    """Run a claimed import to its end (see the module and domain/integrations/imports.py);
    its final status. `per_row` writes and commits batch by batch and, taken up again
    after a worker died, goes on after the rows it had committed; `atomic` and
    `validate_only` run in one transaction, from the first row."""
    caller = caller_of(job)
    resumes = job.mode is ImportMode.PER_ROW and not job.validate_only
    run = _Run(job=job, rules=rules, caller=caller,
               counts=job.counts if resumes else Counts())
    if not resumes:
        async with UnitOfWork(sessions) as uow:
            await uow.imports.clear_failures(job.organization_id, job.id)
            await uow.commit()
    one_transaction = not resumes
    whole = ImportBatchUnitOfWork(sessions) if one_transaction else None
    status: ImportStatus | None = None
    error: dict[str, Any] | None = None
    rows_total: int | None = None
    if whole is not None:
        await whole.open()
    try:
        async for batch, last in _batches(sessions, run, skip=run.counts.processed):
            if await _run_batch(sessions, run, batch, whole):
                status = ImportStatus.CANCELLED
                break
            if last:
                rows_total = run.counts.processed
    except Unreadable as unreadable:
        status, error = ImportStatus.FAILED, file_problem(str(unreadable))
    finally:
        if status is None and rows_total is not None:
            status = final_status(job.mode, run.counts)
        if whole is not None:
            await whole.close(commit=status is ImportStatus.SUCCEEDED
                              and not job.validate_only)
    assert status is not None
    async with UnitOfWork(sessions) as uow:
        await uow.imports.finish(job.organization_id, job.id, status, run.counts,
                                 rows_total, error)
        await uow.commit()
    return status


async def _batches(sessions: Sessions, run: _Run, *,
                   skip: int) -> AsyncIterator[tuple[list[InputRow], bool]]:
    """The file's data rows in batches of BATCH_ROWS (the first `skip` left out), each
    with whether it is the last; the chunks are read one at a time."""
    job, reader = run.job, run.reader
    batch: list[InputRow] = []
    seq = 0
    checked = False
    while True:
        async with UnitOfWork(sessions).reading() as uow:
            chunk = await uow.imports.chunk(job.organization_id, job.id, seq)
        rows = reader.finish() if chunk is None else reader.feed(chunk)
        if not checked and reader.columns is not None:
            _check_header(job.resource, reader.columns, run.rules.fields(job.resource))
            async with UnitOfWork(sessions) as uow:
                await uow.imports.set_columns(
                    job.organization_id, job.id, reader.columns,
                    reader.delimiter if job.format is ImportFormat.CSV else None)
                await uow.commit()
            checked = True
        for row in rows:
            if skip:
                skip -= 1
                continue
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                yield batch, False
                batch = []
        if chunk is None:
            yield batch, True
            return
        seq += 1


def _check_header(resource: ImportResource, columns: Sequence[str],
                  fields: frozenset[str]) -> None:
    known = fields | REFERENCES[resource].keys() | {IGNORED}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise Unreadable(f"the header names columns {resource.value} do not have: "
                         f"{', '.join(unknown)} (the columns are {', '.join(sorted(known))})")
    for needed in REQUIRED[resource]:
        if not set(needed) & set(columns):
            raise Unreadable(f"the header lacks the column {' or '.join(needed)}")


async def _run_batch(sessions: Sessions, run: _Run, batch: list[InputRow],
                     whole: ImportBatchUnitOfWork | None) -> bool:
    """Write a batch (in `whole`'s transaction, or in one of its own that commits with
    the progress), set-wise where the resource allows, else row by row; whether a cancel
    was asked for."""
    uow = whole or ImportBatchUnitOfWork(sessions)
    if whole is None:
        await uow.open()
    committed = False
    try:
        resolved = await _references(uow, run, batch)
        outcomes = None
        if run.job.resource in _SET_WISE:
            outcomes = await _write_set_wise(uow, run, batch, resolved)
        if outcomes is None:
            outcomes = [await _write_row(uow, run, row, resolved) for row in batch]
        failed = [outcome for outcome in outcomes if isinstance(outcome, FailedRow)]
        for outcome in outcomes:
            run.counts = run.counts.add(Outcome.FAILED if isinstance(outcome, FailedRow)
                                        else outcome)
        # Events check nothing: a run that will roll back (validate_only, or atomic with a
        # row failed already) leaves them out.
        await uow.flush(store=not (run.job.validate_only or (
            run.job.mode is ImportMode.ATOMIC and run.counts.failed)))
        org, job_id = run.job.organization_id, run.job.id
        if whole is None:
            await uow.imports.add_failures(org, job_id, failed)
            stop = await uow.imports.progress(org, job_id, run.counts, LEASE)
            await uow.close(commit=True)
            committed = True
            return stop
        async with UnitOfWork(sessions) as side:
            await side.imports.add_failures(org, job_id, failed)
            stop = await side.imports.progress(org, job_id, run.counts, LEASE)
            await side.commit()
        return stop
    finally:
        if whole is None and not committed:
            await uow.close(commit=False)


async def _write_set_wise(uow: ImportBatchUnitOfWork, run: _Run, batch: list[InputRow],
                          resolved: "Resolved") -> "list[Outcome | FailedRow] | None":
    """The batch through the same service functions, its new records stored set-wise
    (repositories/integrations/import_batches.py), a row that changes a record there is
    in a step of its own as `_write_row` writes it; None when storing the set failed in
    the database (the batch is rolled back, to be written row by row)."""
    job = run.job
    parsed = [await _parse_row(uow, run, row, resolved) for row in batch]
    existing = {key: ids[0] for key, ids in resolved.get("existing", {}).items()}
    await uow.begin(job.organization_id,
                    [item[0] for item in parsed if not isinstance(item, FailedRow)],
                    owners=(job.default_owner_id, run.caller.user_id), existing=existing)
    outcomes: list[Outcome | FailedRow] = []
    try:
        for row, item in zip(batch, parsed, strict=True):
            if isinstance(item, FailedRow):
                outcomes.append(item)
            elif item[1] is not None and item[1] in existing:
                uow.deferring = False
                outcomes.append(await _store_row(uow, run, row, *item))
            else:
                uow.deferring = True
                outcomes.append(await _defer_row(uow, run, row, *item))
        await uow.write()
    except (DomainError, DBAPIError, PostgresError) as error:
        log.info("import %s: a batch could not be stored set-wise (%r); it is written row "
                 "by row", job.id, error)
        await uow.undo()
        return None
    return outcomes


async def _defer_row(uow: ImportBatchUnitOfWork, run: _Run, row: InputRow,
                     values: dict[str, Any], external_id: str | None) -> Outcome | FailedRow:
    try:
        created = await _WRITERS[run.job.resource](uow, run.caller, values, external_id)
    except DomainError as error:
        uow.drop_row()
        return FailedRow(row.row, _errors_of(error), external_id, row.input)
    uow.keep_row()
    return Outcome.CREATED if created else Outcome.UPDATED


Resolved = dict[str, dict[str, list[int]]]


async def _references(uow: UnitOfWork, run: _Run, batch: list[InputRow]) -> Resolved:
    """The batch's external ids and emails looked up set-wise (one query per kind), and
    the names the run has not met yet (each list once per run)."""
    org = run.job.organization_id
    columns = REFERENCES[run.job.resource]
    wanted: dict[str, set[str]] = {}
    for row in batch:
        for column in columns:
            value = row.values.get(column)
            if isinstance(value, str) and column in _LOOKUPS:
                wanted.setdefault(column, set()).add(_key(column, value))
    found: Resolved = {}
    for column, keys in wanted.items():
        table, key_column, folded, _ = _LOOKUPS[column]
        if table in _NAMED:  # a short list: read whole, once a run
            if column not in run.names:
                run.names[column] = await uow.imports.names_of(org, table)
            found[column] = run.names[column]
        else:
            found[column] = await uow.imports.ids_by(org, table, key_column, keys,
                                                     folded=folded)
    if run.job.resource is ImportResource.OPPORTUNITIES:
        external = {row.values["external_id"] for row in batch
                    if isinstance(row.values.get("external_id"), str)}
        found["existing"] = await uow.imports.ids_by(org, "opportunities", "external_id",
                                                     external)
    return found


def _key(column: str, value: str) -> str:
    return value.strip().lower() if _LOOKUPS[column][2] else value


async def _stage_ids(uow: UnitOfWork, run: _Run, process_id: int | None,
                     name: str) -> list[int]:
    """The stages of this name (case-insensitive) in the process, or in any process."""
    if process_id not in run.stage_names:
        within = None if process_id is None else ("sales_process_id", process_id)
        run.stage_names[process_id] = await uow.imports.names_of(
            run.job.organization_id, "stages", within=within)
    return run.stage_names[process_id].get(name.strip().lower(), [])


def _resolve(run: _Run, row: InputRow, resolved: Resolved) -> dict[str, Any]:
    """The row with its reference columns turned into the fields they name (the stage
    is left to `_resolve_stage`, as it may need the sales process)."""
    values = dict(row.values)
    values.pop(IGNORED, None)
    errors: list[FieldError] = []
    for column, target in REFERENCES[run.job.resource].items():
        if column not in values:
            continue
        value = values.pop(column)
        if value is None or column == "stage":
            if column == "stage":
                values["stage"] = value
            continue
        if values.get(target) is not None:
            errors.append(FieldError(column, f"give {target} or {column}, not both"))
            continue
        if not isinstance(value, str):
            errors.append(FieldError(column, "must be text"))
            continue
        ids = resolved.get(column, {}).get(_key(column, value), [])
        what = _LOOKUPS[column][3]
        if not ids:
            errors.append(FieldError(column, f"no {what} has this {_LOOKUPS[column][1]}"
                                             .replace("external_id", "external id")))
        elif len(ids) > 1:
            errors.append(FieldError(column, f"several records of {what} have this "
                                             "name: give the id instead"))
        else:
            values[target] = ids[0]
    if errors:
        raise InvalidInput(*errors)
    return values


async def _resolve_stage(uow: UnitOfWork, run: _Run, values: dict[str, Any]) -> None:
    name = values.pop("stage", None)
    if name is None:
        return
    if values.get("stage_id") is not None:
        raise InvalidInput.of("stage", "give stage_id or stage, not both")
    if not isinstance(name, str):
        raise InvalidInput.of("stage", "must be text")
    process_id = values.get("sales_process_id")
    ids = await _stage_ids(uow, run, process_id if isinstance(process_id, int) else None,
                           name)
    if not ids:
        raise InvalidInput.of("stage", "no stage has this name"
                              + (" in the sales process" if process_id else ""))
    if len(ids) > 1:
        raise InvalidInput.of("stage", "several sales processes have a stage of this "
                                       "name: give sales_process too")
    values["stage_id"] = ids[0]


def _default_owner(run: _Run, values: dict[str, Any], resolved: Resolved) -> None:
    resource, owner = run.job.resource, run.job.default_owner_id or run.caller.user_id
    if resource is ImportResource.ACTIVITIES:
        if values.get("assignee_id") is None and run.job.default_owner_id is not None:
            values["assignee_id"] = run.job.default_owner_id
        return
    if resource is ImportResource.CONTACTS or values.get("owner_id") is not None:
        return
    existing = resolved.get("existing", {})
    if resource is ImportResource.OPPORTUNITIES and values.get("external_id") in existing:
        return  # an opportunity there is keeps its owner
    if owner is not None:
        values["owner_id"] = owner


async def _write_row(uow: BatchUnitOfWork, run: _Run, row: InputRow,
                     resolved: Resolved) -> Outcome | FailedRow:
    parsed = await _parse_row(uow, run, row, resolved)
    if isinstance(parsed, FailedRow):
        return parsed
    return await _store_row(uow, run, row, *parsed)


async def _parse_row(uow: UnitOfWork, run: _Run, row: InputRow,
                     resolved: Resolved) -> FailedRow | tuple[dict[str, Any], str | None]:
    """The row's values as the API's route hands them to its service, and its external
    id; or why it fails before any service sees it."""
    external_id = row.values.get("external_id")
    external_id = external_id if isinstance(external_id, str) else None
    if row.errors:
        return FailedRow(row.row, row.errors, external_id, row.input)
    if external_id is not None:
        earlier = run.seen.setdefault(external_id, row.row)
        if earlier != row.row:
            return FailedRow(row.row, (FieldError(
                "external_id", f"is that of row {earlier} already: an external id may "
                               "appear once in a file"),), external_id, row.input)
    job = run.job
    try:
        values = _resolve(run, row, resolved)
        await _resolve_stage(uow, run, values)
        _default_owner(run, values, resolved)
        return run.rules.values(job.resource, values, upsert=external_id is not None,
                                from_text=job.format is ImportFormat.CSV,
                                decimal_comma=run.reader.delimiter == ";"), external_id
    except DomainError as error:
        return FailedRow(row.row, _errors_of(error), external_id, row.input)


async def _store_row(uow: BatchUnitOfWork, run: _Run, row: InputRow, values: dict[str, Any],
                     external_id: str | None) -> Outcome | FailedRow:
    """The row written by its service in a savepoint of its own."""
    job = run.job
    try:
        async with uow.step():
            created = await _WRITERS[job.resource](uow, run.caller, values, external_id)
    except DomainError as error:
        return FailedRow(row.row, _errors_of(error), external_id, row.input)
    except (DBAPIError, PostgresError) as error:
        log.warning("import %s row %s could not be stored: %r", job.id, row.row, error)
        return FailedRow(row.row, (FieldError(WHOLE_ROW, "could not be stored: "
                                              + _brief(error)),), external_id, row.input)
    if created:
        return Outcome.CREATED
    return Outcome.UPDATED if uow.emitted else Outcome.UNCHANGED


def _brief(error: Exception) -> str:
    original = getattr(error, "orig", error)
    return str(original).splitlines()[0][:200] if str(original) else type(error).__name__


def _errors_of(error: DomainError) -> tuple[FieldError, ...]:
    if isinstance(error, InvalidInput):
        return error.errors
    if isinstance(error, NotFound):
        return (FieldError(error.field or WHOLE_ROW, f"no such {error.resource}"),)
    return (FieldError(WHOLE_ROW, error.detail),)


Writer = Callable[[UnitOfWork, Caller, dict[str, Any], str | None], Awaitable[bool]]


async def _customer(uow: UnitOfWork, caller: Caller, values: dict[str, Any],
                    external_id: str | None) -> bool:
    if external_id is None:
        await create_customer(uow, caller=caller, **values)
        return True
    return (await upsert_customer(uow, caller=caller, external_id=external_id,
                                  values=values))[1]


async def _contact(uow: UnitOfWork, caller: Caller, values: dict[str, Any],
                   external_id: str | None) -> bool:
    customer_id = values.pop("customer_id")
    if external_id is None:
        await create_contact(uow, caller=caller, customer_id=customer_id, **values)
        return True
    return (await upsert_contact(uow, caller=caller, customer_id=customer_id,
                                 external_id=external_id, values=values))[1]


async def _opportunity(uow: UnitOfWork, caller: Caller, values: dict[str, Any],
                       external_id: str | None) -> bool:
    if external_id is None:
        await create_opportunity(uow, caller=caller, values=values)
        return True
    return (await upsert_opportunity(uow, caller=caller, external_id=external_id,
                                     values=values))[1]


async def _activity(uow: UnitOfWork, caller: Caller, values: dict[str, Any],
                    external_id: str | None) -> bool:
    await create_activity(uow, caller=caller, values=values)
    return True


_WRITERS: dict[ImportResource, Writer] = {
    ImportResource.CUSTOMERS: _customer, ImportResource.CONTACTS: _contact,
    ImportResource.OPPORTUNITIES: _opportunity, ImportResource.ACTIVITIES: _activity}

