"""Reports."""

from typing import Annotated

from fastapi import Query, Response

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.exports import (
    MAX_ROWS,
    ExportFormat,
    Table,
    export_response,
    row_bound,
)
from salescore.api.routing import Router
from salescore.api.v1.activities.schemas import StagnantRead, StagnantReport
from salescore.api.v1.reports.pipeline import (
    REPORT_RESPONSES,
    AcceptHeader,
    ReportFormat,
    file_format,
)
from salescore.services.reports import stagnant as service

router = Router(prefix="/v1/reports", tags=["reports"])


@router.get("/stagnant", response_model=StagnantReport, responses=REPORT_RESPONSES)
async def read_stagnant_report(
        caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
        days: Annotated[int | None, Query(ge=1, le=3650, description=(
            "No activity for this many days; default: the organization's setting."))] = None,
        owner_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query()] = None,
        format: Annotated[ReportFormat | None, Query(description=(
            "`csv` or `xlsx` for a file of every row; default JSON, or what `Accept` asks "
            f"for. xlsx holds at most {MAX_ROWS[ExportFormat.XLSX]:,} rows (past it, 422: "
            "use csv, which has no limit)."))] = None,
        accept: AcceptHeader = None) -> StagnantReport | Response:
    """Open opportunities whose follow-up date has passed with no follow-up task done, or
    with no activity for `days` days (DOMAIN.md §5), by id. With `format=csv|xlsx` (or
    `Accept`), every one of them (from `cursor` on, `limit` aside) as a file: xlsx at most
    1,048,575 rows (past it 422 naming `format`: use CSV); CSV every row, one per open
    opportunity of the organization."""
    scope = f"stagnant:{days}:{owner_id}"
    after_id = None if cursor is None else state.cursors.decode(scope, cursor)[0]
    wanted = file_format(format, accept)
    used, rows = await service.stagnant_opportunities(
        uow, caller=caller, days=days, owner_id=owner_id, after_id=after_id,
        limit=limit + 1 if wanted is None else row_bound(wanted))
    if wanted is not None:
        columns = list(StagnantRead.model_fields)
        table = Table(f"Stagnant opportunities ({used} days)", columns,
                      [[getattr(row, name) for name in columns] for row in rows])
        return export_response(table, wanted, "stagnant")
    more = len(rows) > limit
    rows = rows[:limit]
    return StagnantReport(days=used, data=[StagnantRead.of(r) for r in rows],
                          next_cursor=state.cursors.encode(scope, [rows[-1].opportunity_id])
                          if more else None)
