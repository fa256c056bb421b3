"""The unit of work: one transaction per use case, committed only when asked.

Leaving the `async with` block without `commit()` rolls everything back. Events recorded
with `emit()` are written in the same transaction, just before it commits."""

from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salescore.domain.events import DomainEvent
from salescore.domain.lists import ListKind
from salescore.domain.notifications import notifications_for
from salescore.domain.organization import UnitKind
from salescore.repositories.activities import ActivityRepository
from salescore.repositories.api_keys import ApiKeyRepository
from salescore.repositories.campaigns import CampaignRepository
from salescore.repositories.customers import ContactRepository, CustomerRepository
from salescore.repositories.events import EventRepository
from salescore.repositories.idempotency import IdempotencyRepository
from salescore.repositories.inbox import InboxRepository
from salescore.repositories.lists import ListRepository
from salescore.repositories.opportunities import OpportunityRepository
from salescore.repositories.org_units import OrgUnitRepository
from salescore.repositories.organizations import OrganizationRepository
from salescore.repositories.references import ReferenceRepository
from salescore.repositories.reports import ReportRepository
from salescore.repositories.sales_processes import SalesProcessRepository
from salescore.repositories.users import UserRepository


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

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: list[tuple[int, dict[str, Any], DomainEvent]] = []

    async def __aenter__(self) -> Self:
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
            for organization_id, actor, event in self._pending:
                await self.inbox.add(organization_id, notifications_for(event, actor))
            self._pending = []
        await self.session.commit()
