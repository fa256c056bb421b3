"""Imports (migration 0011): the import and its progress, the file in chunks, the failed
rows; and the lookups that turn a row's references (external ids, emails, names) into ids.

Claims go across organizations (the imports table is a queue, DESIGN.md `workers/`); all
else is scoped by the organization."""

import builtins
import json
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.errors import FieldError
from salescore.domain.integrations.imports import (
    Counts,
    FailedRow,
    Import,
    ImportFormat,
    ImportMode,
    ImportResource,
    ImportStatus,
)
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.database import unique_or_conflict
from salescore.repositories.integrations.models import imports
from salescore.repositories.listing import fetch_page

IMPORTS_CHANNEL = "salescore_imports"
_COLUMNS = """organization_id, id, resource, format, mode, validate_only, status, caller,
    default_owner_id, bytes, columns, delimiter, rows_total, rows_processed, rows_created,
    rows_updated, rows_unchanged, rows_failed, error, cancel_requested, created_at,
    created_by, started_at, finished_at"""
_ADD = text(f"""
INSERT INTO imports (organization_id, resource, format, mode, validate_only, caller,
                     default_owner_id, idempotency_key, created_by)
VALUES (:organization_id, :resource, :format, :mode, :validate_only, CAST(:caller AS jsonb),
        :default_owner_id, :idempotency_key, :created_by)
RETURNING {_COLUMNS}""")
_GET = text(f"SELECT {_COLUMNS} FROM imports WHERE organization_id = :org AND id = :id")
_BY_KEY = text(f"""SELECT {_COLUMNS} FROM imports
WHERE organization_id = :org AND idempotency_key = :key""")
IMPORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    name: imports.c[name] for name in (
        "id", "resource", "format", "mode", "validate_only", "status", "created_at",
        "finished_at")}
_CHUNK = text("""INSERT INTO import_chunks (organization_id, import_id, seq, data)
VALUES (:org, :id, :seq, :data)""")
_UPLOADED = text("""UPDATE imports SET bytes = :bytes, rows_total = :rows_total
WHERE organization_id = :org AND id = :id""")
_COLUMNS_READ = text("""UPDATE imports SET columns = :columns, delimiter = :delimiter
WHERE organization_id = :org AND id = :id""")
_READ_CHUNK = text("""SELECT data FROM import_chunks
WHERE organization_id = :org AND import_id = :id AND seq = :seq""")
# The oldest import that is queued, or running under a lease that has run out (its worker
# died), taken for `lease`: its counts start again from what was committed.
_CLAIM = text(f"""
UPDATE imports SET status = 'running', started_at = coalesce(started_at, now()),
       leased_until = now() + CAST(:lease AS interval)
WHERE (organization_id, id) = (
    SELECT organization_id, id FROM imports
    WHERE status = 'queued' OR (status = 'running' AND leased_until < now())
    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING {_COLUMNS}""")
_PROGRESS = text("""
UPDATE imports SET rows_processed = :processed, rows_created = :created,
       rows_updated = :updated, rows_unchanged = :unchanged, rows_failed = :failed,
       leased_until = now() + CAST(:lease AS interval)
WHERE organization_id = :org AND id = :id
RETURNING cancel_requested""")
_FINISH = text("""
UPDATE imports SET status = :status, rows_processed = :processed, rows_created = :created,
       rows_updated = :updated, rows_unchanged = :unchanged, rows_failed = :failed,
       rows_total = coalesce(:rows_total, rows_total), error = CAST(:error AS jsonb),
       leased_until = NULL, finished_at = now()
WHERE organization_id = :org AND id = :id""")
_DROP_CHUNKS = text("DELETE FROM import_chunks WHERE organization_id = :org AND import_id = :id")
_RELEASE = text("""UPDATE imports SET status = 'queued', leased_until = NULL
WHERE organization_id = :org AND id = :id AND status = 'running'""")
_CANCEL = text(f"""
UPDATE imports SET
    status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
    finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
    cancel_requested = true
WHERE organization_id = :org AND id = :id AND status IN ('queued', 'running')
RETURNING {_COLUMNS}""")
_FAILURES = text("""
INSERT INTO import_failures (organization_id, import_id, row_number, external_id, errors,
                             input)
SELECT :org, :id, f.row_number, f.external_id, f.errors, f.input
FROM jsonb_to_recordset(CAST(:rows AS jsonb))
     AS f(row_number bigint, external_id text, errors jsonb, input jsonb)""")
_CLEAR_FAILURES = text(
    "DELETE FROM import_failures WHERE organization_id = :org AND import_id = :id")
_READ_FAILURES = text("""
SELECT row_number, external_id, errors, input FROM import_failures
WHERE organization_id = :org AND import_id = :id AND row_number > :after
ORDER BY row_number LIMIT :limit""")


def _to_domain(row: Any) -> Import:
    return Import(
        organization_id=row.organization_id, id=row.id,
        resource=ImportResource(row.resource), format=ImportFormat(row.format),
        mode=ImportMode(row.mode), validate_only=row.validate_only,
        status=ImportStatus(row.status), caller=row.caller,
        default_owner_id=row.default_owner_id, bytes=row.bytes,
        columns=None if row.columns is None else tuple(row.columns),
        delimiter=row.delimiter, rows_total=row.rows_total,
        counts=Counts(processed=row.rows_processed, created=row.rows_created,
                      updated=row.rows_updated, unchanged=row.rows_unchanged,
                      failed=row.rows_failed),
        error=row.error, cancel_requested=row.cancel_requested, created_at=row.created_at,
        created_by=row.created_by, started_at=row.started_at, finished_at=row.finished_at)


def _counts(counts: Counts) -> dict[str, int]:
    return {"processed": counts.processed, "created": counts.created,
            "updated": counts.updated, "unchanged": counts.unchanged,
            "failed": counts.failed}


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, organization_id: int, values: dict[str, Any]) -> Import:
        async with unique_or_conflict("an upload with this Idempotency-Key is still "
                                      "running; send it again shortly"):
            row = (await self._session.execute(_ADD, {
                **values, "organization_id": organization_id,
                "caller": json.dumps(values["caller"])})).one()
        return _to_domain(row)

    async def get(self, organization_id: int, import_id: int) -> Import | None:
        row = (await self._session.execute(_GET, {"org": organization_id,
                                                  "id": import_id})).first()
        return None if row is None else _to_domain(row)

    async def by_idempotency_key(self, organization_id: int, key: str) -> Import | None:
        row = (await self._session.execute(_BY_KEY, {"org": organization_id,
                                                     "key": key})).first()
        return None if row is None else _to_domain(row)

    async def list(self, organization_id: int, resources: Collection[ImportResource],
                   query: ListQuery) -> Page[Import]:
        """The imports of `resources`, filtered and sorted as `query` says."""
        stmt = select(imports).where(imports.c.organization_id == organization_id,
                                     imports.c.resource.in_([r.value for r in resources]))
        return await fetch_page(self._session, stmt, query, IMPORT_COLUMNS, imports.c.id,
                                _to_domain)

    async def add_chunk(self, organization_id: int, import_id: int, seq: int,
                        data: bytes) -> None:
        await self._session.execute(_CHUNK, {"org": organization_id, "id": import_id,
                                             "seq": seq, "data": data})

    async def uploaded(self, organization_id: int, import_id: int, *, size: int,
                       rows_total: int) -> None:
        await self._session.execute(_UPLOADED, {"org": organization_id, "id": import_id,
                                                "bytes": size, "rows_total": rows_total})
        await self._session.execute(text(f"NOTIFY {IMPORTS_CHANNEL}"))

    async def set_columns(self, organization_id: int, import_id: int,
                          columns: Sequence[str], delimiter: str | None) -> None:
        """The file's header, once read, and a CSV file's delimiter."""
        await self._session.execute(_COLUMNS_READ, {"org": organization_id, "id": import_id,
                                                    "columns": list(columns),
                                                    "delimiter": delimiter})

    async def chunk(self, organization_id: int, import_id: int, seq: int) -> bytes | None:
        """The file's `seq`-th chunk (from 0), None past its end."""
        data = (await self._session.execute(_READ_CHUNK, {
            "org": organization_id, "id": import_id, "seq": seq})).scalar()
        return None if data is None else bytes(data)

    async def claim(self, lease: timedelta) -> Import | None:
        row = (await self._session.execute(_CLAIM, {"lease": lease})).first()
        return None if row is None else _to_domain(row)

    async def progress(self, organization_id: int, import_id: int, counts: Counts,
                       lease: timedelta) -> bool:
        """Record the counts and hold the lease for `lease` more; whether a cancel was
        asked for."""
        return bool((await self._session.execute(_PROGRESS, {
            "org": organization_id, "id": import_id, "lease": lease,
            **_counts(counts)})).scalar())

    async def finish(self, organization_id: int, import_id: int, status: ImportStatus,
                     counts: Counts, rows_total: int | None,
                     error: dict[str, Any] | None) -> None:
        """End the import; its file is no longer needed (the failed rows keep their
        input)."""
        await self._session.execute(_FINISH, {
            "org": organization_id, "id": import_id, "status": status.value,
            "rows_total": rows_total, "error": None if error is None else json.dumps(error),
            **_counts(counts)})
        await self._session.execute(_DROP_CHUNKS, {"org": organization_id, "id": import_id})

    async def release(self, organization_id: int, import_id: int) -> None:
        """A running import back in the queue (its worker is stopping)."""
        await self._session.execute(_RELEASE, {"org": organization_id, "id": import_id})
        await self._session.execute(text(f"NOTIFY {IMPORTS_CHANNEL}"))

    async def cancel(self, organization_id: int, import_id: int) -> Import | None:
        """Cancel a queued import, or ask a running one to stop; None if it has ended."""
        row = (await self._session.execute(_CANCEL, {"org": organization_id,
                                                     "id": import_id})).first()
        return None if row is None else _to_domain(row)

    async def add_failures(self, organization_id: int, import_id: int,
                           failed: Sequence[FailedRow]) -> None:
        if not failed:
            return
        rows = [{"row_number": f.row, "external_id": f.external_id, "input": f.input,
                 "errors": [{"field": e.field, "message": e.message} for e in f.errors]}
                for f in failed]
        await self._session.execute(_FAILURES, {"org": organization_id, "id": import_id,
                                                "rows": json.dumps(rows, default=str)})

    async def clear_failures(self, organization_id: int, import_id: int) -> None:
        await self._session.execute(_CLEAR_FAILURES, {"org": organization_id,
                                                      "id": import_id})

    async def failures(self, organization_id: int, import_id: int, after_row: int,
                       limit: int) -> builtins.list[FailedRow]:
        rows = (await self._session.execute(_READ_FAILURES, {
            "org": organization_id, "id": import_id, "after": after_row,
            "limit": limit})).all()
        return [FailedRow(row=r.row_number, external_id=r.external_id, input=r.input,
                          errors=tuple(FieldError(e["field"], e["message"])
                                       for e in r.errors)) for r in rows]

    async def ids_by(self, organization_id: int, table: str, column: str,
                     keys: Collection[str], *, folded: bool = False,
                     within: tuple[str, int] | None = None) -> dict[str, "builtins.list[int]"]:
        """The ids of `table`'s rows whose `column` is one of `keys` (compared lower-cased
        when `folded`; only rows whose column `within[0]` is `within[1]` when given), by
        key; a key several rows share has them all."""
        if not keys:
            return {}
        value = f"lower({column})" if folded else column
        scope = f" AND {within[0]} = :within" if within is not None else ""
        stmt = text(f"SELECT {value} AS key, id FROM {table} "
                    f"WHERE organization_id = :org AND {value} = ANY(:keys){scope} "
                    "ORDER BY id")
        found: dict[str, builtins.list[int]] = {}
        params: dict[str, Any] = {"org": organization_id, "keys": list(keys)}
        if within is not None:
            params["within"] = within[1]
        for row in (await self._session.execute(stmt, params)).all():
            found.setdefault(row.key, []).append(row.id)
        return found

    async def names_of(self, organization_id: int, table: str, *,
                       within: tuple[str, int] | None = None) -> dict[str, "builtins.list[int]"]:
        """Every row of a short list (`table`: sales processes, stages, types, sources,
        campaigns, loss reasons) by its name lower-cased, as `ids_by` gives them."""
        scope = f" AND {within[0]} = :within" if within is not None else ""
        stmt = text(f"SELECT lower(name) AS key, id FROM {table} "
                    f"WHERE organization_id = :org{scope} ORDER BY id")
        params: dict[str, Any] = {"org": organization_id}
        if within is not None:
            params["within"] = within[1]
        found: dict[str, builtins.list[int]] = {}
        for row in (await self._session.execute(stmt, params)).all():
            found.setdefault(row.key, []).append(row.id)
        return found
