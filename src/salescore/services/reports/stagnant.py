"""Reports a sales manager trusts: computed by PostgreSQL, scoped to the organization."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.repositories.reports.stagnant import StagnantRow
from salescore.repositories.unit_of_work import UnitOfWork


async def stagnant_opportunities(uow: UnitOfWork, *, caller: Caller, days: int | None,
                                 owner_id: int | None, after_id: int | None,
                                 limit: int | None) -> tuple[int, list[StagnantRow]]:
    """Stagnant open opportunities (DOMAIN.md §5): the follow-up date has passed with no
    follow-up task done, or nothing happened for `days` days (default: the organization's
    setting). "Today" is the date in the organization's time zone."""
    require(caller, Scope.REPORTS_READ)
    now = datetime.now(UTC)
    async with uow:
        organization = await uow.organizations.get(caller.organization_id)
        assert organization is not None
        days = days or organization.stagnant_days
        today = now.astimezone(ZoneInfo(organization.time_zone)).date()
        rows = await uow.reports.stagnant(
            caller.organization_id, today=today, time_zone=organization.time_zone,
            quiet_since=now - timedelta(days=days), owner_id=owner_id, after_id=after_id,
            limit=limit)
    return days, rows
