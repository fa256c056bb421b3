"""The pipeline / forecast, commission and campaign reports (DOMAIN.md §8), computed by
PostgreSQL and answered in the organization's base currency.

Amounts are converted at the rate of their currency valid on `fx_date` (default: today in
the organization's time zone); an opportunity in a currency without one is listed apart as
unconverted, never summed. Periods (`from`, `to`) are dates, both inclusive, in the
organization's time zone."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from salescore.domain.access.organization import Organization
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.listing import Condition
from salescore.domain.reports.bounds import check_group_count
from salescore.domain.reports.pipeline import (
    CampaignFigures,
    CommissionFigures,
    Figures,
    GroupKey,
    Report,
    check_period,
    period_bounds,
)
from salescore.repositories.unit_of_work import UnitOfWork


async def _organization(uow: UnitOfWork, caller: Caller) -> Organization:
    organization = await uow.organizations.get(caller.organization_id)
    assert organization is not None
    return organization


def _today(organization: Organization) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(organization.time_zone)).date()


async def pipeline_report(uow: UnitOfWork, *, caller: Caller, keys: Sequence[GroupKey],
                          conditions: Sequence[Condition],
                          fx_date: date | None = None) -> Report[Figures]:
    """Open opportunities passing the opportunity list's filters, grouped by `keys`:
    count, amount and weighted amount per group, with the total over them all; more
    groups than the bound is refused (bounds.py). A read without a transaction: the
    report is one statement, and the organization read before it only names its base
    currency and time zone."""
    require(caller, Scope.REPORTS_READ)
    async with uow.reading():
        organization = await _organization(uow, caller)
        report = await uow.report_pipeline.pipeline(
            caller.organization_id, base_currency=organization.base_currency,
            fx_date=fx_date or _today(organization), keys=keys, conditions=conditions)
    check_group_count(len(report.groups))
    return report


async def commission_report(uow: UnitOfWork, *, caller: Caller, start: date | None = None,
                            end: date | None = None,
                            fx_date: date | None = None) -> Report[CommissionFigures]:
    """Per seller: what they are credited of the deals won in the period (by `closed_at`),
    and the expected commission on every deal open now, whatever its close date."""
    require(caller, Scope.REPORTS_READ)
    check_period(start, end)
    async with uow:
        organization = await _organization(uow, caller)
        won_from, won_before = period_bounds(start, end, organization.time_zone)
        report = await uow.report_pipeline.commissions(
            caller.organization_id, base_currency=organization.base_currency,
            fx_date=fx_date or _today(organization), won_from=won_from,
            won_before=won_before)
    return replace(report, start=start, end=end)


async def campaign_report(uow: UnitOfWork, *, caller: Caller, key: GroupKey,
                          start: date | None = None, end: date | None = None,
                          fx_date: date | None = None) -> Report[CampaignFigures]:
    """Per campaign or source: the opportunities created in the period and what became of
    them (open pipeline, won, lost, expired, win rate)."""
    require(caller, Scope.REPORTS_READ)
    check_period(start, end)
    async with uow:
        organization = await _organization(uow, caller)
        created_from, created_before = period_bounds(start, end, organization.time_zone)
        report = await uow.report_pipeline.campaigns(
            caller.organization_id, base_currency=organization.base_currency,
            fx_date=fx_date or _today(organization), key=key, created_from=created_from,
            created_before=created_before)
    check_group_count(len(report.groups))
    return replace(report, start=start, end=end)
