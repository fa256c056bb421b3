"""Bulk imports (DOMAIN.md §6b): what an import is, how it runs and how it ends.

- `per_row` (the default): every good row is written, every bad one reported with its row
  number, field and message; the import `succeeded` once the file was read, even with
  failed rows. `atomic`: one bad row and nothing is written; the import `failed` then,
  with every bad row reported as `per_row` would report it.
- `validate_only` runs exactly the checks and service rules a real run of the same mode
  runs, inside a transaction that is rolled back: the counts (`rows_created`,
  `rows_updated`, `rows_unchanged`, `rows_failed`), the error report and the final status
  are those a real run would give.
- A file that cannot be read at all (not UTF-8, an unknown or missing column, a broken
  quote) ends the import `failed` with `error` saying why; in `per_row` the batches
  written before stay written.
- A row that changes nothing (an upsert equal to what is stored) writes nothing and is
  counted `rows_unchanged`.
- `cancel` stops a running import between batches (`cancelled`; in `per_row` what was
  written stays); a queued one is cancelled at once; one that has ended is a conflict."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from salescore.domain.errors import Conflict, FieldError


class ImportResource(StrEnum):
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    OPPORTUNITIES = "opportunities"
    ACTIVITIES = "activities"


class ImportFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


class ImportMode(StrEnum):
    ATOMIC = "atomic"
    PER_ROW = "per_row"


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ENDED = frozenset({ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.CANCELLED})
MEDIA_TYPES = {ImportFormat.CSV: "text/csv", ImportFormat.NDJSON: "application/x-ndjson"}
# Rows written in one transaction in `per_row` mode (and between progress reports).
BATCH_ROWS = 2000


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Counts:
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> "Counts":
        return Counts(processed=self.processed + 1,
                      created=self.created + (outcome is Outcome.CREATED),
                      updated=self.updated + (outcome is Outcome.UPDATED),
                      unchanged=self.unchanged + (outcome is Outcome.UNCHANGED),
                      failed=self.failed + (outcome is Outcome.FAILED))


@dataclass(frozen=True, slots=True)
class Import:
    organization_id: int
    id: int
    resource: ImportResource
    format: ImportFormat
    mode: ImportMode
    validate_only: bool
    status: ImportStatus
    caller: dict[str, Any]
    default_owner_id: int | None
    bytes: int
    columns: tuple[str, ...] | None
    delimiter: str | None  # a CSV file's, once its header is read
    rows_total: int | None
    counts: Counts
    error: dict[str, Any] | None
    cancel_requested: bool
    created_at: datetime
    created_by: int | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class FailedRow:
    """An input row that was not written: its number (data rows from 1), its errors, the
    external id it carried, and the input as read (a CSV row's cells by column, or an
    NDJSON line's object), for the file of failed rows."""

    row: int
    errors: tuple[FieldError, ...]
    external_id: str | None
    input: dict[str, Any] | list[Any] | str = field(default_factory=dict)


def final_status(mode: ImportMode, counts: Counts) -> ImportStatus:
    """How a file that was read to its end ends: `atomic` with a bad row has failed."""
    if mode is ImportMode.ATOMIC and counts.failed:
        return ImportStatus.FAILED
    return ImportStatus.SUCCEEDED


def check_cancellable(status: ImportStatus) -> None:
    if status in ENDED:
        raise Conflict(f"the import has ended ({status.value}): there is nothing to cancel")
