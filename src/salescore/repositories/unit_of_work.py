"""The unit of work: one transaction per use case, committed only when asked.

Leaving the `async with` block without `commit()` rolls everything back. Events recorded
with `emit()` are written in the same transaction, just before it commits."""

from types import TracebackType
from typing import Any, Self
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from salescore.domain.events import DomainEvent
from salescore.domain.lists import ListKind
from salescore.domain.notifications import notifications_for
from salescore.domain.organization import UnitKind
from salescore.repositories.activities import ActivityRepository
from salescore.repositories.api_keys import ApiKeyRepository
from salescore.repositories.campaigns import CampaignRepository
from salescore.repositories.customers import ContactRepository, CustomerRepository
from salescore.repositories.events import EventRepository
from salescore.repositories.exchange_rates import ExchangeRateRepository
from salescore.repositories.idempotency import IdempotencyRepository
from salescore.repositories.inbox import InboxRepository
from salescore.repositories.lists import ListRepository
from salescore.repositories.opportunities import OpportunityRepository
from salescore.repositories.org_units import OrgUnitRepository
from salescore.repositories.organizations import OrganizationRepository
from salescore.repositories.references import ReferenceRepository
from salescore.repositories.report_history import ReportHistoryRepository
from salescore.repositories.report_pipeline import PipelineReportRepository
from salescore.repositories.reports import ReportRepository
from salescore.repositories.sales_processes import SalesProcessRepository
from salescore.repositories.users import UserRepository

_AUTOCOMMIT: "WeakKeyDictionary[AsyncEngine, AsyncEngine]" = WeakKeyDictionary()


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's pool, handing out connections that run without transactions."""
    if engine not in _AUTOCOMMIT:
        _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return _AUTOCOMMIT[engine]


class UnitOfWork:
    organizations: OrganizationRepository
    users: UserRepository
    api_keys: ApiKeyRepository
    events: EventRepository
    idempotency: IdempotencyRepository
    campaigns: CampaignRepository
    customers: CustomerRepository
    contacts: ContactRepository
    sales_processes: SalesProcessRepository
    opportunities: OpportunityRepository
    activities: ActivityRepository
    inbox: InboxRepository
    references: ReferenceRepository
    reports: ReportRepository
    exchange_rates: ExchangeRateRepository
    report_pipeline: PipelineReportRepository
    report_history: ReportHistoryRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[int, dict[str, Any], DomainEvent]] = []

    def reading(self) -> Self:
        """For a use case that only reads: its statements run without a transaction around
        them (each sees committed data), which spares the BEGIN and ROLLBACK round trips.
        Only for reads that are one statement, or that need no snapshot across statements."""
        self._read_only = True
        return self

    async def __aenter__(self) -> Self:
        if getattr(self, "_read_only", False):
            self._read_only = False
            self.session = self._sessions(bind=_autocommit(self._sessions.kw["bind"]))
        else:
            self.session = self._sessions()
        self.organizations = OrganizationRepository(self.session)
        self.users = UserRepository(self.session)
        self.api_keys = ApiKeyRepository(self.session)
        self.events = EventRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)
        self.campaigns = CampaignRepository(self.session)
        self.customers = CustomerRepository(self.session)
        self.contacts = ContactRepository(self.session)
        self.sales_processes = SalesProcessRepository(self.session)
        self.opportunities = OpportunityRepository(self.session)
        self.activities = ActivityRepository(self.session)
        self.inbox = InboxRepository(self.session)
        self.references = ReferenceRepository(self.session)
        self.reports = ReportRepository(self.session)
        self.exchange_rates = ExchangeRateRepository(self.session)
        self.report_pipeline = PipelineReportRepository(self.session)
        self.report_history = ReportHistoryRepository(self.session)
        self._pending = []
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

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
        await self.session.commit()
