"""Reports."""

from typing import Annotated

from fastapi import APIRouter, Query

from salescore.api.deps import AppStateDep, CallerDep, UnitOfWorkDep
from salescore.api.v1.activity_schemas import StagnantRead, StagnantReport
from salescore.services import reports

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/stagnant", response_model=StagnantReport)
async def stagnant(
        caller: CallerDep, uow: UnitOfWorkDep, state: AppStateDep,
        days: Annotated[int | None, Query(ge=1, le=3650, description=(
            "No activity for this many days; default: the organization's setting."))] = None,
        owner_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query()] = None) -> StagnantReport:
    """Open opportunities whose follow-up date has passed with no follow-up task done, or
    with no activity for `days` days (DOMAIN.md §5), by id."""
    scope = f"stagnant:{days}:{owner_id}"
    after_id = None if cursor is None else state.cursors.decode(scope, cursor)[0]
    used, rows = await reports.stagnant_opportunities(
        uow, caller=caller, days=days, owner_id=owner_id, after_id=after_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return StagnantReport(days=used, data=[StagnantRead.of(r) for r in rows],
                          next_cursor=state.cursors.encode(scope, [rows[-1].opportunity_id])
                          if more else None)
