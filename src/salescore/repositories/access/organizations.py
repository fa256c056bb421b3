"""Organizations: the tenants."""

from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.access.organization import Organization
from salescore.repositories.access.auth_notices import notify_auth_change
from salescore.repositories.access.models import organizations


def _to_domain(row: Any) -> Organization:
    return Organization(id=row.id, name=row.name, base_currency=row.base_currency,
                        time_zone=row.time_zone, created_at=row.created_at,
                        loss_reason_required=row.loss_reason_required,
                        reminder_task_enabled=row.reminder_task_enabled,
                        reminder_task_days=row.reminder_task_days,
                        stagnant_days=row.stagnant_days)


_LABEL = "organization__"
# The organization's columns, named apart, to select beside another table's (one round trip).
ORGANIZATION_COLUMNS = [c.label(_LABEL + c.key) for c in organizations.c]


def organization_of(row: Any) -> Organization:
    """The organization in a row selected with `ORGANIZATION_COLUMNS`."""
    return _to_domain(SimpleNamespace(**{
        name.removeprefix(_LABEL): value for name, value in row._mapping.items()
        if name.startswith(_LABEL)}))


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def notify_auth_change(self, organization_id: int) -> None:
        """On commit, every process forgets the callers it knows of this organization:
        its name and base currency are part of what `GET /v1/me` describes."""
        await notify_auth_change(self._session, organization_id)

    async def add(self, *, name: str, base_currency: str, time_zone: str) -> Organization:
        stmt = insert(organizations).values(
            name=name, base_currency=base_currency, time_zone=time_zone
        ).returning(*organizations.c)
        return _to_domain((await self._session.execute(stmt)).one())

    async def get(self, organization_id: int) -> Organization | None:
        stmt = select(organizations).where(organizations.c.id == organization_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _to_domain(row)

    async def lock(self, organization_id: int) -> None:
        """Hold the organization's row until the transaction ends (a lock that still lets
        other transactions insert rows referring to it)."""
        await self._session.execute(select(organizations.c.id).where(
            organizations.c.id == organization_id).with_for_update(key_share=True))

    async def update_settings(self, organization_id: int, values: dict[str, Any]) -> Organization:
        """Change the organization's settings (`loss_reason_required`)."""
        stmt = update(organizations).where(organizations.c.id == organization_id).values(
            **values).returning(*organizations.c)
        return _to_domain((await self._session.execute(stmt)).one())
