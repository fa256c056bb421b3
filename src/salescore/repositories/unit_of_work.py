"""The unit of work: one transaction per use case, committed only when asked.

Leaving the `async with` block without `commit()` rolls everything back. Events recorded
with `emit()` are written in the same transaction, just before it commits. A deadlock or
serialisation failure leaves it as the domain's `Contended` (the request may be sent
again), a foreign key broken by a concurrent request as a `Conflict`.

The transaction is the unit of work's own, not SQLAlchemy's: the session runs on an
autocommit connection, and the unit of work sends BEGIN itself as the session takes its
connection, and COMMIT or ROLLBACK when it ends. SQLAlchemy's asyncpg adapter would begin
its transaction only on the first statement it runs itself, so a use case whose first
statement is a hot one (repositories/prepared.py) cost an empty statement first: a round
trip less for every write."""

import contextlib
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast
from weakref import WeakKeyDictionary

from asyncpg import Connection as DriverConnection
from sqlalchemy import Connection, event, text
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from salescore.domain.access.organization import UnitKind
from salescore.domain.activities.notifications import notifications_for
from salescore.domain.events import DomainEvent
from salescore.domain.sales.lists import ListKind
from salescore.repositories.access.api_keys import ApiKeyRepository
from salescore.repositories.access.org_units import OrgUnitRepository
from salescore.repositories.access.organizations import OrganizationRepository
from salescore.repositories.access.users import UserRepository
from salescore.repositories.activities.activities import ActivityRepository
from salescore.repositories.activities.inbox import InboxRepository
from salescore.repositories.customers.customers import ContactRepository, CustomerRepository
from salescore.repositories.database import concurrent_failure
from salescore.repositories.exports import ExportRepository
from salescore.repositories.feed.events import EventRepository
from salescore.repositories.feed.idempotency import IdempotencyRepository
from salescore.repositories.integrations.deliveries import DeliveryRepository
from salescore.repositories.integrations.esign import EsignRepository
from salescore.repositories.integrations.imports import ImportRepository
from salescore.repositories.integrations.jobs import JobRepository
from salescore.repositories.integrations.queues import QueueRepository
from salescore.repositories.integrations.webhooks import WebhookRepository
from salescore.repositories.prepared import PooledReader, driver
from salescore.repositories.quotes.products import ProductRepository
from salescore.repositories.quotes.quotes import QuoteRepository
from salescore.repositories.quotes.templates import QuoteTemplateRepository
from salescore.repositories.references import ReferenceRepository
from salescore.repositories.reports.exchange_rates import ExchangeRateRepository
from salescore.repositories.reports.history import ReportHistoryRepository
from salescore.repositories.reports.pipeline import PipelineReportRepository
from salescore.repositories.reports.stagnant import ReportRepository
from salescore.repositories.sales.campaigns import CampaignRepository
from salescore.repositories.sales.lines import OpportunityLineRepository
from salescore.repositories.sales.lists import ListRepository
from salescore.repositories.sales.opportunities import OpportunityRepository
from salescore.repositories.sales.orders import OrderRepository
from salescore.repositories.sales.processes import SalesProcessRepository

R = TypeVar("R")
_AUTOCOMMIT: "WeakKeyDictionary[AsyncEngine, AsyncEngine]" = WeakKeyDictionary()
_BEGUN = "salescore.begun"
_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
# A step's savepoint is released as the next one is made, in one round trip.
_SAVEPOINT = "SAVEPOINT step"
_NEXT_SAVEPOINT = "RELEASE SAVEPOINT step; SAVEPOINT step"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT step"


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's pool, handing out connections that run without transactions."""
    if engine not in _AUTOCOMMIT:
        _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return _AUTOCOMMIT[engine]


class _WriteSession(Session):
    """The session of a unit of work that writes: on an autocommit connection, in the
    transaction the unit of work begins as the session takes the connection."""


@event.listens_for(_WriteSession, "after_begin")
def _begin(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    adapted = cast(AdaptedConnection, connection.connection.dbapi_connection)
    adapted.run_async(lambda driver: driver.execute(_BEGIN))
    session.info[_BEGUN] = adapted.driver_connection


class _Repository(Generic[R]):
    """A repository of the unit of work, made on first use in each `async with` block:
    most use cases need one or two of them."""

    def __init__(self, kind: Callable[[AsyncSession], R]) -> None:
        self._kind = kind

    def __set_name__(self, owner: type["UnitOfWork"], name: str) -> None:
        self._name = name
        owner.REPOSITORIES = (*owner.REPOSITORIES, name)

    def __get__(self, uow: "UnitOfWork", owner: type | None = None) -> R:
        made = self._kind(uow.session)
        uow.__dict__[self._name] = made  # found before this descriptor from now on
        return made


class UnitOfWork:
    REPOSITORIES: tuple[str, ...] = ()
    organizations = _Repository(OrganizationRepository)
    users = _Repository(UserRepository)
    api_keys = _Repository(ApiKeyRepository)
    events = _Repository(EventRepository)
    idempotency = _Repository(IdempotencyRepository)
    campaigns = _Repository(CampaignRepository)
    customers = _Repository(CustomerRepository)
    contacts = _Repository(ContactRepository)
    sales_processes = _Repository(SalesProcessRepository)
    opportunities = _Repository(OpportunityRepository)
    opportunity_lines = _Repository(OpportunityLineRepository)
    activities = _Repository(ActivityRepository)
    inbox = _Repository(InboxRepository)
    references = _Repository(ReferenceRepository)
    reports = _Repository(ReportRepository)
    exchange_rates = _Repository(ExchangeRateRepository)
    report_pipeline = _Repository(PipelineReportRepository)
    report_history = _Repository(ReportHistoryRepository)
    orders = _Repository(OrderRepository)
    quotes = _Repository(QuoteRepository)
    esign = _Repository(EsignRepository)
    webhooks = _Repository(WebhookRepository)
    deliveries = _Repository(DeliveryRepository)
    queues = _Repository(QueueRepository)
    jobs = _Repository(JobRepository)
    imports = _Repository(ImportRepository)
    products = _Repository(ProductRepository)
    quote_templates = _Repository(QuoteTemplateRepository)
    exports = _Repository(ExportRepository)

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """`sessions` bound to an engine, or to its autocommit copy for a unit of work
        whose statements each run on their own, with no transaction around them."""
        self._sessions = sessions
        self._pending: list[tuple[int, dict[str, Any], DomainEvent]] = []
        self._read_only = False
        self._reader: PooledReader | None = None

    def reading(self) -> Self:
        """For a use case that only reads: its statements run without a transaction around
        them (each sees committed data), which spares the BEGIN and ROLLBACK round trips.
        Only for reads that are one statement, or that need no snapshot across statements.

        Hot statements (repositories/prepared.py) run on a pool connection of their own
        unless the session already has one: a read that needs the session should use it
        first, so as to hold one connection, not two (`__aexit__` checks)."""
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        for name in self.REPOSITORIES:
            self.__dict__.pop(name, None)
        self._pending = []
        engine = self._sessions.kw["bind"]
        if not self._read_only:
            if engine.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                self.session = self._sessions()  # made to run each statement on its own
            else:
                self.session = self._sessions(bind=_autocommit(engine),
                                              sync_session_class=_WriteSession)
            return self
        self._read_only = False
        self.session = self._sessions(bind=_autocommit(engine))
        self._reader = PooledReader(engine)
        self._reader.serve(self.session)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        reader, self._reader = self._reader, None
        touched = self.session.in_transaction()
        held_two = reader is not None and reader.used and touched
        if reader is not None:
            await reader.release()
        if reader is None or touched:  # a read whose session ran nothing holds nothing
            try:
                await _end(self.session, "ROLLBACK")
                await self.session.rollback()
            finally:
                await self.session.close()
        if held_two:
            raise RuntimeError("a read used two connections: the session's after the "
                               "reader's (see UnitOfWork.reading)")
        meant = concurrent_failure(exc)
        if meant is not None:
            raise meant from exc

    def org_units(self, kind: UnitKind) -> OrgUnitRepository:
        return OrgUnitRepository(self.session, kind)

    def lists(self, kind: ListKind) -> ListRepository:
        return ListRepository(self.session, kind)

    def emit(self, organization_id: int, actor: dict[str, Any], *events: DomainEvent) -> None:
        """Record events to be written with this transaction's state."""
        self._pending.extend((organization_id, actor, event) for event in events)

    async def commit(self) -> None:
        """Write the pending events, and the notifications they give, then commit."""
        if self._pending:
            await self.events.append(self._pending)
            await self.inbox.add([(organization_id, notification)
                                  for organization_id, actor, event in self._pending
                                  for notification in notifications_for(event, actor)])
            self._pending = []
        await _end(self.session, "COMMIT")
        await self.session.commit()


async def _end(session: AsyncSession, how: str) -> None:
    """End the transaction the unit of work began (see the module's docstring), if it is
    still open. A connection that cannot roll back, or failed to commit and is still in
    its transaction, is invalidated, not pooled."""
    begun: DriverConnection | None = session.info.pop(_BEGUN, None)
    if begun is None or not begun.is_in_transaction():
        return
    try:
        await begun.execute(how)
    except BaseException as error:
        if how == "ROLLBACK" or begun.is_in_transaction():
            await session.invalidate()
        if how == "COMMIT" or not isinstance(error, Exception):
            raise  # a failed rollback hides nothing: the connection is gone


class BatchUnitOfWork(UnitOfWork):
    """Many use cases in one transaction, each in a savepoint of its own (a bulk import's
    batch): `open()` begins the transaction and `close(commit=...)` ends it. Meanwhile
    each use case's `async with uow:` enters `step()`'s savepoint, and its `commit()`
    keeps its events for `flush()`, which writes those of every step so far (and their
    notifications) in two statements; `step()` rolls back to its savepoint, the step's
    events dropped, when the use case raised (the next step releases it as it makes its
    own), so that one bad row leaves the others as they were. `emitted` counts the events
    of the last step: a use case that changed nothing emitted none."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(sessions)
        self._open = False
        self.emitted = 0
        self._kept: list[tuple[int, dict[str, Any], DomainEvent]] = []
        self._stepped = False  # whether a step's savepoint is there to release

    async def open(self) -> None:
        await super().__aenter__()
        self._open = True
        self._stepped = False
        await self.session.execute(text("SELECT 1"))  # takes the connection: BEGIN

    async def flush(self, *, store: bool = True) -> None:
        """Write the events the steps kept, and the notifications they give; or, not to
        `store` them (a run that will roll back), forget them."""
        kept, self._kept = self._kept, []
        if kept and store:
            await self.events.append(kept)
            await self.inbox.add([(organization_id, notification)
                                  for organization_id, actor, event in kept
                                  for notification in notifications_for(event, actor)])

    async def close(self, *, commit: bool) -> None:
        if commit:
            await self.flush()
        self._kept = []
        self._open = False
        if commit:
            await _end(self.session, "COMMIT")
            await self.session.commit()
        await super().__aexit__(None, None, None)

    async def __aenter__(self) -> Self:
        if not self._open:
            return await super().__aenter__()
        self._pending = []
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._open:
            await super().__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if not self._open:
            await super().commit()
            return
        self.emitted += len(self._pending)
        self._kept.extend(self._pending)
        self._pending = []

    @property
    def kept_events(self) -> int:
        """How many events the steps so far kept for `flush()`."""
        return len(self._kept)

    def restart_steps(self, *, drop_events_after: int | None = None) -> None:
        """The steps' savepoint is gone (an enclosing savepoint was released or rolled
        back): the next step makes a new one. `drop_events_after`: the events kept past
        that many were rolled back too."""
        self._stepped = False
        if drop_events_after is not None:
            del self._kept[drop_events_after:]

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[None]:
        """A savepoint around one use case (see the class)."""
        self.emitted = 0
        kept = len(self._kept)
        connection = await driver(self.session)
        await connection.execute(_NEXT_SAVEPOINT if self._stepped else _SAVEPOINT)
        self._stepped = True
        try:
            yield
        except BaseException:
            self._pending = []
            del self._kept[kept:]
            await connection.execute(_ROLLBACK_TO)
            raise
