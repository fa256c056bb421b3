"""The win-loss, funnel, stage-calibration, activity, pipeline-as-of and pipeline-movement
reports. Unknown parameters are refused, as on the lists."""

from typing import Annotated

from fastapi import Depends, Query, Response

from salescore.api.deps import CallerDep, UnitOfWorkDep
from salescore.api.errors import problem_responses
from salescore.api.exports import Table, export_response
from salescore.api.routing import Router
from salescore.api.v1.reports.history_exports import (
    activity_table,
    calibration_table,
    funnel_table,
    movement_table,
    win_loss_table,
)
from salescore.api.v1.reports.history_schemas import (
    ActivityReportRead,
    CalibrationReportRead,
    CalibrationStageRead,
    FunnelReportRead,
    MovementReportRead,
    WinLossReportRead,
)
from salescore.api.v1.reports.pipeline import (
    GROUPS_BOUND,
    REPORT_RESPONSES,
    TO_BOUND,
    AcceptHeader,
    FormatParam,
    FxDate,
    ReportFormat,
    file_format,
    report_filters,
)
from salescore.api.v1.reports.pipeline import From as OptionalFrom
from salescore.api.v1.reports.pipeline import To as OptionalTo
from salescore.api.v1.reports.schemas import NamedRead
from salescore.api.v1.schemas import DateIn, Id
from salescore.domain.reports.history import WIN_LOSS_KEYS, CloseWindow
from salescore.services.reports import history as reports

router = Router(prefix="/v1/reports", tags=["reports"])


def _only(*names: str) -> object:
    return Depends(report_filters([], {*names, "format"}))


def _file(table: Table, fmt: ReportFormat | None, accept: str | None,
          name: str) -> Response | None:
    """The report as a file when `format` or `Accept` asks for one."""
    wanted = file_format(fmt, accept)
    return None if wanted is None else export_response(table, wanted, name)


NOT_FOUND_OR_FILE = {**REPORT_RESPONSES, **problem_responses(404)}


def _keys(keys: tuple[object, ...]) -> str:
    return "Comma-separated: " + ", ".join(str(k) for k in keys) + "." + GROUPS_BOUND


ProcessId = Annotated[Id, Query(description="The sales process whose stages to report.")]
From = Annotated[DateIn, Query(alias="from", description="First day, inclusive.")]
To = Annotated[DateIn, Query(description=TO_BOUND)]


@router.get("/win-loss", response_model=WinLossReportRead, responses=REPORT_RESPONSES)
async def read_win_loss_report(
        caller: CallerDep, uow: UnitOfWorkDep,
        _: Annotated[object, _only("from", "to", "group_by", "fx_date")],
        start: OptionalFrom = None, to: OptionalTo = None,
        group_by: Annotated[str | None, Query(description=_keys(WIN_LOSS_KEYS))] = None,
        fx_date: FxDate = None, format: FormatParam = None,
        accept: AcceptHeader = None) -> WinLossReportRead | Response:
    """Opportunities closed from `from` to `to` (by closing day in the organization's time
    zone), as they are now: won, lost and expired counts and amounts, lost by loss reason,
    win rate = won / (won + lost), average won deal and average sales cycle in days
    (created to won); in groups when `group_by` names keys."""
    report = await reports.win_loss(uow, caller=caller, start=start, end=to,
                                    group_by=group_by, fx_date=fx_date)
    return (_file(win_loss_table(report), format, accept, "win-loss")
            or WinLossReportRead.of(report))


@router.get("/funnel", response_model=FunnelReportRead, responses=NOT_FOUND_OR_FILE)
async def read_funnel_report(
        caller: CallerDep, uow: UnitOfWorkDep,
        _: Annotated[object, _only("sales_process_id", "from", "to")],
        sales_process_id: ProcessId, start: OptionalFrom = None, to: OptionalTo = None,
        format: FormatParam = None, accept: AcceptHeader = None) -> FunnelReportRead | Response:
    """From the stage history, per stage in process order: the opportunities that entered
    it in the period (its stage differed from the state before, or it began there), how
    many of them later entered an open or won stage further on (`conversion_to_next`) and
    were won (`conversion_to_won`), and the median and mean days of those stays — until
    the stage changed or the opportunity closed; stays still going count up to now."""
    report = await reports.funnel(uow, caller=caller, sales_process_id=sales_process_id,
                                  start=start, end=to)
    return _file(funnel_table(report), format, accept, "funnel") or FunnelReportRead.of(report)


@router.get("/stage-calibration", response_model=CalibrationReportRead,
            responses=NOT_FOUND_OR_FILE)
async def read_stage_calibration_report(
        caller: CallerDep, uow: UnitOfWorkDep,
        _: Annotated[object, _only("sales_process_id")], sales_process_id: ProcessId,
        format: FormatParam = None,
        accept: AcceptHeader = None) -> CalibrationReportRead | Response:
    """Per stage: its configured probability beside the observed one — of the
    opportunities that were ever in the stage and have since been won or lost, the share
    won — with that sample's size, to set probabilities from evidence."""
    process, stages = await reports.stage_calibration(uow, caller=caller,
                                                      sales_process_id=sales_process_id)
    return (_file(calibration_table(process, stages), format, accept, "stage-calibration")
            or CalibrationReportRead(sales_process=NamedRead(id=process.id, name=process.name),
                                     stages=[CalibrationStageRead.of(s) for s in stages]))


@router.get("/activity", response_model=ActivityReportRead, responses=REPORT_RESPONSES)
async def read_activity_report(caller: CallerDep, uow: UnitOfWorkDep,
                               _: Annotated[object, _only("from", "to")],
                               start: OptionalFrom = None, to: OptionalTo = None,
                               format: FormatParam = None,
                               accept: AcceptHeader = None) -> ActivityReportRead | Response:
    """Per seller (assignee): activities done from `from` to `to` and open now, by kind;
    follow-up tasks overdue now; open opportunities owned. Every active user is listed;
    activities without an assignee come last, under `seller: null`."""
    report = await reports.activity(uow, caller=caller, start=start, end=to)
    return (_file(activity_table(report), format, accept, "activity")
            or ActivityReportRead.of(report))


@router.get("/pipeline-movement", response_model=MovementReportRead,
            responses=REPORT_RESPONSES)
async def read_pipeline_movement_report(
        caller: CallerDep, uow: UnitOfWorkDep,
        _: Annotated[object, _only("from", "to", "close_from", "close_to", "fx_date")],
        start: From, to: To,
        close_from: Annotated[DateIn | None, Query(description=(
            "Count as pipeline only opportunities expected to close on or after this "
            "day."))] = None,
        close_to: Annotated[DateIn | None, Query(description=(
            "... and on or before this day; moving out of the window is `slipped`, "
            "into it `pulled_in`."))] = None,
        fx_date: FxDate = None, format: FormatParam = None,
        accept: AcceptHeader = None) -> MovementReportRead | Response:
    """The waterfall from the open pipeline at the end of `from` to the one at the end of
    `to`: opening, + new, + reopened, + pulled in, + increased, - decreased, - won,
    - lost, - expired, - slipped, - deleted, = closing; counts and amounts in the base
    currency, each opportunity's amount rounded to the cent so that the lines add up
    exactly. Amount changes of opportunities that left the pipeline are in increased or
    decreased; they leave with their amount at the end."""
    report = await reports.pipeline_movement(uow, caller=caller, start=start, end=to,
                                             window=CloseWindow(close_from, close_to),
                                             fx_date=fx_date)
    return (_file(movement_table(report), format, accept, "pipeline-movement")
            or MovementReportRead.of(report))
