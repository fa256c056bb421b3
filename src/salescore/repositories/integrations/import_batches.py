"""The unit of work of an import's batch written set-wise (DESIGN.md, "Bulk").

The rows of a batch still go one by one through the same service functions as the API's
create and upsert: those compute each record, its history, events and follow-up tasks.
While `deferring`, though, the repositories those functions use answer their reads from
what the batch read once and keep their inserts, which `write()` then stores in one
statement a table for the whole batch:

- the records the rows name by id (customers, contacts, users, lists) are read in one
  query a table before the rows run (`preload`), and each row is checked against them as
  `ReferenceRepository` checks it; an id the batch did not preload is read as usual;
- a sales process with its stages, the default-process candidates of an owner and a loss
  reason are read once a batch: the placing lock (taken before the batch) keeps processes
  and stages as they are until the transaction ends;
- a new opportunity's external id is looked up among the batch's (`existing`), read with
  the batch's references, instead of locked and read again: two writers of one new
  external id meet at its unique key when `write()` inserts;
- new opportunities (with their sellers) and activities take ids reserved from their
  sequences, a few hundred at a time, and wait for `write()` (repositories/bulk.py).

A deferred row writes nothing until `write()`: a row whose use case fails leaves nothing to
undo but what it kept, which `drop_row()` forgets. Whatever `write()` meets in the
database (a taken external id, a reference deleted meanwhile) fails the whole batch: its
caller rolls back to `begin()`'s savepoint (`undo()`) and writes the batch row by row."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salescore.domain.access.organization import Organization
from salescore.domain.activities.activities import Activity
from salescore.domain.sales.lists import ListItem, ListKind
from salescore.domain.sales.opportunities import Opportunity
from salescore.domain.sales.processes import DefaultCandidate, SalesProcess
from salescore.repositories.activities.activities import ActivityRepository
from salescore.repositories.customers.models import contacts
from salescore.repositories.prepared import driver
from salescore.repositories.references import (
    TABLE_OF_FIELD,
    ReferenceRepository,
    checked_fields,
)
from salescore.repositories.sales.lists import ListRepository
from salescore.repositories.sales.opportunities import OpportunityRepository
from salescore.repositories.sales.processes import SalesProcessRepository
from salescore.repositories.unit_of_work import BatchUnitOfWork

R = TypeVar("R")
_SAVEPOINT = "SAVEPOINT batch"
_RELEASE = "RELEASE SAVEPOINT batch"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT batch"
# Ids reserved at a time: a new opportunity takes one, and up to two tasks.
_RESERVED = 500


@dataclass
class _Reserve:
    """Ids reserved from one table's sequence, handed out in order."""

    ids: list[int] = field(default_factory=list)
    at: int = 0

    def take(self, count: int) -> list[int] | None:
        if self.at + count > len(self.ids):
            return None
        taken = self.ids[self.at:self.at + count]
        self.at += count
        return taken


@dataclass
class _Batch:
    """What the deferring repositories of one batch share."""

    organization_id: int
    organization: Organization | None = None
    existing: dict[str, int] = field(default_factory=dict)
    asked: dict[str, set[int]] = field(default_factory=dict)
    found: dict[str, set[int]] = field(default_factory=dict)
    customer_of_contact: dict[int, int] = field(default_factory=dict)
    pipelines: dict[int, SalesProcess | None] = field(default_factory=dict)
    process_of_stage: dict[int, int | None] = field(default_factory=dict)
    candidates: dict[int | None, list[DefaultCandidate]] = field(default_factory=dict)
    list_items: dict[tuple[ListKind, int], ListItem | None] = field(default_factory=dict)
    opportunity_ids: _Reserve = field(default_factory=_Reserve)
    activity_ids: _Reserve = field(default_factory=_Reserve)
    # New records with the ids they take (a record's own id is not yet set).
    opportunities: list[tuple[int, Opportunity]] = field(default_factory=list)
    activities: list[tuple[int, Activity]] = field(default_factory=list)
    kept: tuple[int, int] = (0, 0)
    events_kept: int = 0


class _References(ReferenceRepository):
    def __init__(self, session: AsyncSession, batch: _Batch) -> None:
        super().__init__(session)
        self.batch = batch

    def _answer(self, values: dict[str, Any]) -> tuple[bool, str | None]:
        """(whether the preloaded records answer for `values`, the first missing field)."""
        batch = self.batch
        for name in checked_fields(values):
            value = values[name]
            if value not in batch.asked.get(name, ()):
                return False, None
            if name == "contact_id":
                customer = batch.customer_of_contact.get(value)
                given = values.get("customer_id")
                if customer is None or (given is not None and customer != given):
                    return True, name
            elif value not in batch.found[name]:
                return True, name
        return True, None

    async def missing(self, organization_id: int, values: dict[str, Any]) -> str | None:
        answered, missing = self._answer(values)
        if organization_id != self.batch.organization_id or not answered:
            return await super().missing(organization_id, values)
        return missing

    async def organization_and_missing(self, organization_id: int, values: dict[str, Any],
                                       ) -> tuple[Organization | None, str | None]:
        answered, missing = self._answer(values)
        organization = self.batch.organization
        if organization_id != self.batch.organization_id or not answered or (
                organization is None):
            return await super().organization_and_missing(organization_id, values)
        return organization, missing


class _Opportunities(OpportunityRepository):
    def __init__(self, session: AsyncSession, batch: _Batch) -> None:
        super().__init__(session)
        self.batch = batch

    async def pipeline(self, organization_id: int, process_id: int, *,
                       locked: bool = False) -> SalesProcess | None:
        pipelines = self.batch.pipelines
        if organization_id != self.batch.organization_id:
            return await super().pipeline(organization_id, process_id, locked=locked)
        if process_id not in pipelines:
            pipelines[process_id] = await super().pipeline(organization_id, process_id,
                                                           locked=locked)
        return pipelines[process_id]

    async def pipeline_of_stage(self, organization_id: int, stage_id: int, *,
                                locked: bool = False) -> SalesProcess | None:
        batch = self.batch
        if organization_id != batch.organization_id:
            return await super().pipeline_of_stage(organization_id, stage_id, locked=locked)
        if stage_id not in batch.process_of_stage:
            process = await super().pipeline_of_stage(organization_id, stage_id,
                                                      locked=locked)
            batch.process_of_stage[stage_id] = None if process is None else process.id
            if process is not None:
                batch.pipelines[process.id] = process
        process_id = batch.process_of_stage[stage_id]
        return None if process_id is None else batch.pipelines[process_id]

    async def id_by_external_id(self, organization_id: int, external_id: str) -> int | None:
        if organization_id != self.batch.organization_id:
            return await super().id_by_external_id(organization_id, external_id)
        return self.batch.existing.get(external_id)

    async def lock_external_id(self, organization_id: int, external_id: str) -> None:
        if organization_id != self.batch.organization_id:
            await super().lock_external_id(organization_id, external_id)

    async def add(self, opportunity: Opportunity) -> int:
        batch = self.batch
        taken = batch.opportunity_ids.take(1)
        if taken is None:
            batch.opportunity_ids = _Reserve(await self.reserve_ids(_RESERVED))
            taken = batch.opportunity_ids.take(1)
            assert taken is not None
        batch.opportunities.append((taken[0], opportunity))
        return taken[0]


class _Activities(ActivityRepository):
    def __init__(self, session: AsyncSession, batch: _Batch) -> None:
        super().__init__(session)
        self.batch = batch

    async def add(self, new: Sequence[Activity]) -> list[int]:
        batch = self.batch
        taken = batch.activity_ids.take(len(new))
        if taken is None:
            batch.activity_ids = _Reserve(await self.reserve_ids(max(_RESERVED, len(new))))
            taken = batch.activity_ids.take(len(new))
            assert taken is not None
        batch.activities.extend(zip(taken, new, strict=True))
        return taken


class _Processes(SalesProcessRepository):
    def __init__(self, session: AsyncSession, batch: _Batch) -> None:
        super().__init__(session)
        self.batch = batch

    async def default_candidates(self, organization_id: int,
                                 user_id: int | None) -> list[DefaultCandidate]:
        candidates = self.batch.candidates
        if organization_id != self.batch.organization_id:
            return await super().default_candidates(organization_id, user_id)
        if user_id not in candidates:
            candidates[user_id] = await super().default_candidates(organization_id, user_id)
        return candidates[user_id]


class _ListItems(ListRepository):
    def __init__(self, session: AsyncSession, kind: ListKind, batch: _Batch) -> None:
        super().__init__(session, kind)
        self.batch = batch

    async def get(self, organization_id: int, item_id: int) -> ListItem | None:
        items, key = self.batch.list_items, (self._kind, item_id)
        if organization_id != self.batch.organization_id:
            return await super().get(organization_id, item_id)
        if key not in items:
            items[key] = await super().get(organization_id, item_id)
        return items[key]


class _Deferring(Generic[R]):
    """A repository of the unit of work: the batch's deferring kind while the unit of work
    is `deferring` in a batch, else the plain one (made anew on each use: repositories
    hold only the session)."""

    def __init__(self, plain: Callable[[AsyncSession], R],
                 deferring: Callable[[AsyncSession, _Batch], R]) -> None:
        self._plain, self._deferring = plain, deferring

    def __get__(self, uow: "ImportBatchUnitOfWork", owner: type | None = None) -> R:
        if uow.deferring and uow.batch is not None:
            return self._deferring(uow.session, uow.batch)
        return self._plain(uow.session)


class ImportBatchUnitOfWork(BatchUnitOfWork):
    """A `BatchUnitOfWork` whose batches may be written set-wise (see the module):
    `begin()`, then each row's use case with `deferring` set (or, for a row that must
    change a record there is, unset, in a `step()` as before), then `write()`; or
    `undo()`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)
        self.deferring = False
        self.batch: _Batch | None = None  # while a set-wise batch is written

    # The repositories a deferred create uses; the others are the unit of work's own.
    references = _Deferring(ReferenceRepository, _References)
    opportunities = _Deferring(OpportunityRepository, _Opportunities)
    activities = _Deferring(ActivityRepository, _Activities)
    sales_processes = _Deferring(SalesProcessRepository, _Processes)

    def lists(self, kind: ListKind) -> ListRepository:
        if self.deferring and self.batch is not None:
            return _ListItems(self.session, kind, self.batch)
        return super().lists(kind)

    async def begin(self, organization_id: int, rows: Iterable[dict[str, Any]], *,
                    owners: Iterable[int | None], existing: dict[str, int]) -> None:
        """Start a set-wise batch: the placing lock (before the savepoint, so that
        `undo()` keeps it), the savepoint, the organization, and the records the `rows`
        (as the services will get them) and `owners` name."""
        await OpportunityRepository(self.session).hold_stages(organization_id)
        connection = await driver(self.session)
        await connection.execute(_SAVEPOINT)
        self.restart_steps()
        batch = _Batch(organization_id, existing=existing, events_kept=self.kept_events)
        batch.organization = await self.organizations.get(organization_id)
        wanted: dict[str, set[int]] = {}
        for values in rows:
            for name in checked_fields(values):
                wanted.setdefault(name, set()).add(values[name])
        wanted.setdefault("owner_id", set()).update(o for o in owners if o is not None)
        for name, ids in wanted.items():
            batch.asked[name] = ids
            if name == "contact_id":
                found = await self.session.execute(
                    select(contacts.c.id, contacts.c.customer_id).where(
                        contacts.c.organization_id == organization_id,
                        contacts.c.id.in_(ids)))
                batch.customer_of_contact = {r.id: r.customer_id for r in found}
                continue
            table = TABLE_OF_FIELD[name]
            rows_found = await self.session.execute(select(table.c.id).where(
                table.c.organization_id == organization_id, table.c.id.in_(ids)))
            batch.found[name] = {r.id for r in rows_found}
        self.batch = batch

    def keep_row(self) -> None:
        """The row's use case ended well: what it deferred stays for `write()`."""
        assert self.batch is not None
        self.batch.kept = (len(self.batch.opportunities), len(self.batch.activities))

    def drop_row(self) -> None:
        """The row's use case failed: forget what it deferred."""
        batch = self.batch
        assert batch is not None
        del batch.opportunities[batch.kept[0]:]
        del batch.activities[batch.kept[1]:]

    async def write(self) -> None:
        """Store what the batch's rows deferred, and release the batch's savepoint."""
        batch = self.batch
        assert batch is not None
        self.deferring = False
        await self.opportunities.add_many(batch.opportunities)
        await self.activities.add_many(batch.activities)
        await (await driver(self.session)).execute(_RELEASE)
        self.batch = None
        self.restart_steps()

    async def undo(self) -> None:
        """Roll the batch back to `begin()`, its events dropped with it."""
        batch, self.batch = self.batch, None
        self.deferring = False
        await (await driver(self.session)).execute(_ROLLBACK_TO)
        self.restart_steps(drop_events_after=None if batch is None else batch.events_kept)

