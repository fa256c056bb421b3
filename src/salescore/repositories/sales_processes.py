"""Sales processes with their stages and default-for targets."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.pipeline import DefaultCandidate, DefaultFor, SalesProcess, Stage, StageKind
from salescore.repositories.models import users
from salescore.repositories.sales_models import opportunities, stages
from salescore.repositories.sales_models import sales_process_defaults as defaults
from salescore.repositories.sales_models import sales_processes as processes


def stage_to_domain(row: Any) -> Stage:
    return Stage(id=row.id, sales_process_id=row.sales_process_id, name=row.name,
                 position=row.position, probability=row.probability, kind=StageKind(row.kind),
                 color=row.color, marks_quote_signed=row.marks_quote_signed)


def _to_domain(row: Any, stage_rows: Sequence[Any], default_rows: Sequence[Any],
               in_use: int) -> SalesProcess:
    return SalesProcess(
        id=row.id, organization_id=row.organization_id, name=row.name, active=row.active,
        note=row.note,
        default_for=DefaultFor(
            all=row.default_for_all,
            user_ids=tuple(sorted(d.user_id for d in default_rows if d.user_id)),
            department_ids=tuple(sorted(d.department_id for d in default_rows
                                        if d.department_id)),
            sales_region_ids=tuple(sorted(d.sales_region_id for d in default_rows
                                          if d.sales_region_id))),
        stages=tuple(stage_to_domain(s) for s in stage_rows),
        created_at=row.created_at, created_by=row.created_by, updated_at=row.updated_at,
        updated_by=row.updated_by, version=row.version, in_use=in_use)


class SalesProcessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, organization_id: int, process_id: int) -> SalesProcess | None:
        """The process with its stages in order, its default-for targets and its use."""
        row = (await self._session.execute(select(processes).where(
            processes.c.organization_id == organization_id, processes.c.id == process_id,
        ))).one_or_none()
        if row is None:
            return None
        stage_rows = (await self._session.execute(select(stages).where(
            stages.c.organization_id == organization_id,
            stages.c.sales_process_id == process_id,
        ).order_by(stages.c.position))).all()
        default_rows = (await self._session.execute(select(defaults).where(
            defaults.c.organization_id == organization_id,
            defaults.c.sales_process_id == process_id))).all()
        in_use = (await self._session.execute(select(func.count()).where(
            opportunities.c.organization_id == organization_id,
            opportunities.c.sales_process_id == process_id))).scalar_one()
        return _to_domain(row, stage_rows, default_rows, in_use)

    async def process_of_stage(self, organization_id: int, stage_id: int) -> int | None:
        """The id of the process `stage_id` belongs to, if it is the organization's."""
        stmt = select(stages.c.sales_process_id).where(
            stages.c.organization_id == organization_id, stages.c.id == stage_id)
        process_id: int | None = (await self._session.execute(stmt)).scalar_one_or_none()
        return process_id

    async def default_candidates(self, organization_id: int,
                                 user_id: int | None) -> list[DefaultCandidate]:
        """Every active process, with whether it is marked default for the user, the user's
        sales region, the user's department, or all."""
        user = select(users.c.department_id, users.c.sales_region_id).where(
            users.c.organization_id == organization_id, users.c.id == user_id
        ).subquery()

        def marked(condition: Any) -> Any:
            return exists().where(defaults.c.organization_id == organization_id,
                                  defaults.c.sales_process_id == processes.c.id, condition)

        stmt = select(
            processes.c.id,
            marked(defaults.c.user_id == user_id).label("for_user"),
            marked(defaults.c.sales_region_id == select(user.c.sales_region_id)
                   .scalar_subquery()).label("for_region"),
            marked(defaults.c.department_id == select(user.c.department_id)
                   .scalar_subquery()).label("for_department"),
            processes.c.default_for_all,
        ).where(processes.c.organization_id == organization_id, processes.c.active,
                exists().where(stages.c.organization_id == organization_id,
                               stages.c.sales_process_id == processes.c.id,
                               stages.c.kind == StageKind.OPEN.value))
        rows = (await self._session.execute(stmt)).all()
        return [DefaultCandidate(r.id, r.for_user, r.for_region, r.for_department,
                                 r.default_for_all) for r in rows]

