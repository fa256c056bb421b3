"""Response bodies of imports and their failed rows."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from salescore.domain.integrations.imports import (
    FailedRow,
    Import,
    ImportFormat,
    ImportMode,
    ImportResource,
    ImportStatus,
)


class ImportRead(BaseModel):
    id: int
    resource: ImportResource
    format: ImportFormat
    mode: ImportMode
    validate_only: bool
    status: ImportStatus
    default_owner_id: int | None
    bytes: int = Field(description="The size of the file as it was received.")
    rows_total: int | None = Field(description=(
        "The data rows the file holds: counted as it arrived (its records less the "
        "header, blank lines included), then exact once the import has ended."))
    rows_processed: int
    rows_created: int
    rows_updated: int
    rows_unchanged: int = Field(description="Rows equal to the record there is: nothing "
                                            "was written for them.")
    rows_failed: int
    error: dict[str, Any] | None = Field(description=(
        "Why the file as a whole could not be read (an RFC 9457 problem); null otherwise. "
        "Errors of single rows are at /errors."))
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Import) -> "ImportRead":
        c = job.counts
        return cls(id=job.id, resource=job.resource, format=job.format, mode=job.mode,
                   validate_only=job.validate_only, status=job.status,
                   default_owner_id=job.default_owner_id, bytes=job.bytes,
                   rows_total=job.rows_total, rows_processed=c.processed,
                   rows_created=c.created, rows_updated=c.updated,
                   rows_unchanged=c.unchanged, rows_failed=c.failed, error=job.error,
                   created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at)


class ImportRowError(BaseModel):
    row: int = Field(description="The data row, from 1 (a CSV header is not a row; in "
                                 "NDJSON, the line).")
    field: str | None = Field(description="The column at fault; null for the row as a "
                                          "whole (its number of cells, say).")
    message: str
    external_id: str | None

    @classmethod
    def all_of(cls, failed: FailedRow) -> list["ImportRowError"]:
        return [cls(row=failed.row, field=e.field or None, message=e.message,
                    external_id=failed.external_id) for e in failed.errors]


class ImportErrorPage(BaseModel):
    data: list[ImportRowError]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null "
                                                "on the last.")
