"""Win-loss, funnel, stage calibration, seller activity, the pipeline as of a past day and
the pipeline movement between two days (DOMAIN.md §8).

Rules chosen where the specs are silent:
- Days (`from`, `to`, `as_of`) are whole days in the organization's time zone, both ends
  included; a day ends at the next midnight there. A period spans at most 10 years and a
  grouped report answers at most 10,000 groups (domain/reports/bounds.py). Money is in
  the base currency at the rates of `fx_date` (default: today there); an opportunity in
  a currency without a rate is left out of every figure and listed under `unconverted`,
  in its own currency.
- Win-loss counts the opportunities closed (`closed_at`) in the period by their current
  state; department is the owner's department now.
- The pipeline as of a day is the last state of each opportunity before that day ended,
  from the history, split by seller with the shares held then (the seller history);
  department, sales region and sales group are the owner's now. It cannot be asked of a
  day after today; list filters the history does not keep (q, name, contact, external id,
  follow-up date, updated at) are refused with it.
- Funnel: an opportunity enters a stage with a history row whose stage differs from the
  row before (or with its first row); entering twice counts once in `entered` and twice
  in `stays`. Moving on means later entering an open or won stage positioned after it
  (a lost stage is not progress). A stay ends when the stage changes, the opportunity
  closes (an expired one keeps its stage) or is deleted; one still going is counted up to
  now. Days are not given for won and lost stages. Positions are the stages' present
  ones; stages removed since are left out.
- Stage calibration: an opportunity counts for every stage of the process it was ever in,
  by its latest state (a deleted one by its last); expired and open ones are not in the
  sample.
- Activity: every active user is listed, and anyone else with a figure; activities
  without an assignee come last under `seller: null`. Done = done_at in the period; open
  and overdue are as of now.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from salescore.domain.access.organization import Organization
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import InvalidInput, NotFound
from salescore.domain.listing import Condition
from salescore.domain.reports.bounds import check_group_count
from salescore.domain.reports.history import (
    AS_OF_FILTERS,
    WIN_LOSS_KEYS,
    ActivityReport,
    CalibrationStage,
    CloseWindow,
    FunnelReport,
    MovementReport,
    WinLossReport,
)
from salescore.domain.reports.pipeline import (
    Figures,
    GroupKey,
    Named,
    Report,
    check_period,
    parse_group_by,
    period_bounds,
)
from salescore.domain.sales.processes import SalesProcess
from salescore.repositories.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class _Context:
    organization: Organization
    now: datetime
    today: date


async def _context(uow: UnitOfWork, caller: Caller) -> _Context:
    require(caller, Scope.REPORTS_READ)
    organization = await uow.organizations.get(caller.organization_id)
    assert organization is not None
    now = datetime.now(UTC)
    return _Context(organization, now,
                    now.astimezone(ZoneInfo(organization.time_zone)).date())


def _end_of(day: date, context: _Context, field: str) -> datetime:
    """The instant `day` ends; a day after today has not ended, so it is refused."""
    if day > context.today:
        raise InvalidInput.of(field, "must not be after today")
    end = period_bounds(None, day, context.organization.time_zone)[1]
    assert end is not None
    return end


async def _process(uow: UnitOfWork, caller: Caller, process_id: int) -> SalesProcess:
    process = await uow.opportunities.pipeline(caller.organization_id, process_id)
    if process is None:
        raise NotFound("sales process", field="sales_process_id")
    return process


async def win_loss(uow: UnitOfWork, *, caller: Caller, start: date | None, end: date | None,
                   group_by: str | None, fx_date: date | None) -> WinLossReport:
    """Opportunities closed in the period: won, lost and expired, lost by reason, win rate,
    average won deal and sales cycle; grouped by owner, department, sales process,
    source, type or campaign."""
    check_period(start, end)
    keys = parse_group_by(group_by, WIN_LOSS_KEYS)
    async with uow:
        context = await _context(uow, caller)
        organization = context.organization
        starts, ends = period_bounds(start, end, organization.time_zone)
        groups, total, reasons, unconverted = await uow.report_history.win_loss(
            organization.id, base_currency=organization.base_currency,
            fx_date=fx_date or context.today, time_zone=organization.time_zone,
            starts=starts, ends=ends, keys=keys)
    check_group_count(len(groups))
    return WinLossReport(currency=organization.base_currency,
                         fx_date=fx_date or context.today, start=start, end=end,
                         group_by=keys, groups=groups, total=total, lost_by_reason=reasons,
                         unconverted=unconverted)


async def funnel(uow: UnitOfWork, *, caller: Caller, sales_process_id: int,
                 start: date | None, end: date | None) -> FunnelReport:
    """How many opportunities entered each stage of the process in the period, how many
    of them moved on and were won, and how long their stays in the stage lasted (a stay
    still going is counted up to now)."""
    check_period(start, end)
    async with uow:
        context = await _context(uow, caller)
        process = await _process(uow, caller, sales_process_id)
        starts, ends = period_bounds(start, end, context.organization.time_zone)
        stages = await uow.report_history.funnel(
            caller.organization_id, sales_process_id, starts=starts, ends=ends,
            now=context.now)
    return FunnelReport(sales_process=Named(process.id, process.name), start=start,
                        end=end, measured_at=context.now, stages=stages)


async def stage_calibration(uow: UnitOfWork, *, caller: Caller, sales_process_id: int,
                            ) -> tuple[Named, list[CalibrationStage]]:
    """Each stage's configured probability beside the share won of the opportunities that
    were in it and have closed as won or lost, with that sample's size."""
    require(caller, Scope.REPORTS_READ)
    async with uow:
        process = await _process(uow, caller, sales_process_id)
        stages = await uow.report_history.calibration(caller.organization_id,
                                                      sales_process_id)
    return Named(process.id, process.name), stages


async def activity(uow: UnitOfWork, *, caller: Caller, start: date | None,
                   end: date | None) -> ActivityReport:
    """Per seller: activities done in the period and open now by kind, follow-ups overdue
    now, open opportunities owned now."""
    check_period(start, end)
    async with uow:
        context = await _context(uow, caller)
        starts, ends = period_bounds(start, end, context.organization.time_zone)
        sellers = await uow.report_history.activity(
            caller.organization_id, starts=starts, ends=ends, now=context.now)
    return ActivityReport(start=start, end=end, measured_at=context.now, sellers=sellers)


def check_as_of_filters(conditions: Sequence[Condition]) -> None:
    """Only what the history keeps can filter the pipeline of a past day."""
    for condition in conditions:
        if condition.field not in AS_OF_FILTERS:
            raise InvalidInput.of(condition.field,
                                  "cannot be combined with as_of: the history does not keep it")


async def pipeline_as_of(uow: UnitOfWork, *, caller: Caller, as_of: date,
                         keys: Sequence[GroupKey], conditions: Sequence[Condition] = (),
                         fx_date: date | None = None) -> Report[Figures]:
    """The open pipeline exactly as it stood at the end of `as_of`, in the shape of the
    live pipeline report, with the list filters the history can answer applied first."""
    check_as_of_filters(conditions)
    async with uow:
        context = await _context(uow, caller)
        organization = context.organization
        report = await uow.report_history.pipeline_as_of(
            organization.id, base_currency=organization.base_currency,
            fx_date=fx_date or context.today, moment=_end_of(as_of, context, "as_of"),
            keys=keys, conditions=conditions)
    check_group_count(len(report.groups))
    return report


async def pipeline_movement(uow: UnitOfWork, *, caller: Caller, start: date, end: date,
                            window: CloseWindow, fx_date: date | None) -> MovementReport:
    """The waterfall from the pipeline at the end of `start` to the one at the end of
    `end` (see domain Movement for the lines)."""
    check_period(start, end)
    async with uow:
        context = await _context(uow, caller)
        organization = context.organization
        opening, lines, closing, unconverted = await uow.report_history.movement(
            organization.id, base_currency=organization.base_currency,
            fx_date=fx_date or context.today,
            opening_at=_end_of(start, context, "from"),
            closing_at=_end_of(end, context, "to"), window=window)
    return MovementReport(currency=organization.base_currency,
                          fx_date=fx_date or context.today, start=start, end=end,
                          window=window, opening=opening, lines=lines, closing=closing,
                          unconverted=unconverted)
