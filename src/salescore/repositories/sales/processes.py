"""Sales processes with their stages and default-for targets.

A process is read in one query with its stage count and use (correlated subqueries, so a
list can filter and sort by them), then its stages and targets for the whole page at once."""

from collections.abc import Collection, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.access.organization import UnitKind
from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.processes import (
    DefaultCandidate,
    DefaultFor,
    MovedOpportunity,
    ProcessView,
    SalesProcess,
    Stage,
    StageDraft,
    StageKind,
)
from salescore.repositories.access.models import users
from salescore.repositories.listing import fetch_page, where
from salescore.repositories.prepared import Prepared, fetch
from salescore.repositories.sales.models import opportunities, stages
from salescore.repositories.sales.models import sales_process_defaults as defaults
from salescore.repositories.sales.models import sales_processes as processes

_stage_count = select(func.count()).where(
    stages.c.organization_id == processes.c.organization_id,
    stages.c.sales_process_id == processes.c.id,
).scalar_subquery().label("stage_count")
_in_use = select(func.count()).where(
    opportunities.c.organization_id == processes.c.organization_id,
    opportunities.c.sales_process_id == processes.c.id,
).scalar_subquery().label("in_use")
_stage_in_use = select(func.count()).where(
    opportunities.c.organization_id == stages.c.organization_id,
    opportunities.c.sales_process_id == stages.c.sales_process_id,
    opportunities.c.stage_id == stages.c.id,
).scalar_subquery().label("in_use")
LIST_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": processes.c.id, "name": processes.c.name, "note": processes.c.note,
    "stage_count": _stage_count, "in_use": _in_use,
    "created_by": processes.c.created_by, "updated_by": processes.c.updated_by,
    "created_at": processes.c.created_at, "updated_at": processes.c.updated_at,
}
_TARGETS = {"default_user_id": defaults.c.user_id,
            "default_department_id": defaults.c.department_id,
            "default_sales_region_id": defaults.c.sales_region_id}


def stage_to_domain(row: Any) -> Stage:
    return Stage(id=row.id, sales_process_id=row.sales_process_id, name=row.name,
                 position=row.position, probability=row.probability, kind=StageKind(row.kind),
                 color=row.color, marks_quote_signed=row.marks_quote_signed,
                 in_use=getattr(row, "in_use", 0))


def _to_domain(row: Any, stage_rows: Sequence[Any], default_rows: Sequence[Any]) -> SalesProcess:
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
        updated_by=row.updated_by, version=row.version, in_use=row.in_use)


def _in_view(view: ProcessView, user_id: int | None) -> ColumnElement[bool]:
    """Mine: created or last saved by the caller, active or not; an API key has none."""
    mine = false() if user_id is None else or_(processes.c.created_by == user_id,
                                               processes.c.updated_by == user_id)
    return {ProcessView.ACTIVE: processes.c.active, ProcessView.INACTIVE: ~processes.c.active,
            ProcessView.ALL: true(), ProcessView.MINE: mine,
            ProcessView.NOT_MINE: ~mine if user_id is not None else true()}[view]


def default_candidates_select() -> Select[Any]:
    """`default_candidates` as a statement, with the parameters `organization_id` and
    `user_id`."""
    organization_id: BindParameter[int] = bindparam("organization_id")
    user_id: BindParameter[int] = bindparam("user_id")
    user = select(users.c.department_id, users.c.sales_region_id).where(
        users.c.organization_id == organization_id, users.c.id == user_id
    ).subquery()

    def marked(condition: Any) -> Any:
        return exists().where(defaults.c.organization_id == organization_id,
                              defaults.c.sales_process_id == processes.c.id, condition)

    return select(
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


_DEFAULT_CANDIDATES = Prepared.of(default_candidates_select())


def placing_lock(organization_id: Any, *, shared: bool) -> Select[Any]:
    """The organization's transaction-level advisory lock on where opportunities may be
    placed: shared by every write that places an opportunity in a stage, exclusive for a
    change of a process or of its stages. Placings do not wait for one another; a change
    waits for the placings under way and they for it; and since a statement sees what was
    committed before it began, a placing that reads the stages after taking the lock
    reads them as the change left them (a stage in use keeps its kind). No row is locked:
    concurrent placings would otherwise each rewrite the process's and its stages' rows
    with a new MultiXact. One lock for the whole organization, so that a create can take
    it before it knows its process, as the first statement of its transaction; changes
    of processes are rare, and hold it for milliseconds."""
    take = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    return select(take(placing_key(organization_id)))


def placing_key(organization_id: Any) -> ColumnElement[int]:
    """The key of the organization's placing lock (see `placing_lock`)."""
    return func.hashtextextended(func.concat("stages:", cast(organization_id, BigInteger)), 0)


class SalesProcessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _select(self, organization_id: int) -> Any:
        return select(processes, _stage_count, _in_use).where(
            processes.c.organization_id == organization_id)

    async def _assemble(self, organization_id: int, rows: Sequence[Any]) -> list[SalesProcess]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        stage_rows = (await self._session.execute(select(stages, _stage_in_use).where(
            stages.c.organization_id == organization_id, stages.c.sales_process_id.in_(ids),
        ).order_by(stages.c.position, stages.c.id))).all()
        default_rows = (await self._session.execute(select(defaults).where(
            defaults.c.organization_id == organization_id,
            defaults.c.sales_process_id.in_(ids)))).all()
        return [_to_domain(r, [s for s in stage_rows if s.sales_process_id == r.id],
                           [d for d in default_rows if d.sales_process_id == r.id])
                for r in rows]

    async def get(self, organization_id: int, process_id: int) -> SalesProcess | None:
        """The process with its stages in order, its default-for targets and its use."""
        row = (await self._session.execute(
            self._select(organization_id).where(processes.c.id == process_id))).one_or_none()
        return None if row is None else (await self._assemble(organization_id, [row]))[0]

    async def lock(self, organization_id: int, process_id: int) -> None:
        """Hold the process until the transaction ends: no other change of a process of
        the organization runs, and no opportunity is placed in a stage meanwhile (see
        `placing_lock`), so that the use counted afterwards is the use there is."""
        await self._session.execute(placing_lock(organization_id, shared=False))

    async def process_of_stage(self, organization_id: int, stage_id: int) -> int | None:
        """The id of the process `stage_id` belongs to, if it is the organization's."""
        stmt = select(stages.c.sales_process_id).where(
            stages.c.organization_id == organization_id, stages.c.id == stage_id)
        process_id: int | None = (await self._session.execute(stmt)).scalar_one_or_none()
        return process_id

    async def missing_users(self, organization_id: int, ids: Collection[int]) -> set[int]:
        """Which of `ids` are not users of the organization."""
        stmt = select(users.c.id).where(users.c.organization_id == organization_id,
                                        users.c.id.in_(ids))
        return set(ids) - set((await self._session.execute(stmt)).scalars())

    async def add(self, organization_id: int, values: dict[str, Any],
                  drafts: Sequence[StageDraft]) -> int:
        stmt = insert(processes).values(organization_id=organization_id, **values).returning(
            processes.c.id)
        process_id: int = (await self._session.execute(stmt)).scalar_one()
        await self._session.execute(insert(stages), [
            _stage_values(organization_id, process_id, draft, position)
            for position, draft in enumerate(drafts, start=1)])
        return process_id

    async def update(self, organization_id: int, process_id: int, values: dict[str, Any],
                     *, user_id: int | None) -> None:
        """Save the process (with `values`, or none when only its stages changed)."""
        await self._session.execute(update(processes).where(
            processes.c.organization_id == organization_id, processes.c.id == process_id,
        ).values(**values, version=processes.c.version + 1, updated_at=func.now(),
                 updated_by=user_id))

    async def defaulting_to(self, organization_id: int, kind: UnitKind,
                            unit_id: int) -> list[int]:
        """The processes whose default-for names the department or sales region, by id
        (a default-for names no sales group)."""
        column = {UnitKind.DEPARTMENT: defaults.c.department_id,
                  UnitKind.SALES_REGION: defaults.c.sales_region_id}.get(kind)
        if column is None:
            return []
        stmt = (select(defaults.c.sales_process_id).distinct()
                .where(defaults.c.organization_id == organization_id, column == unit_id)
                .order_by(defaults.c.sales_process_id))
        return list((await self._session.execute(stmt)).scalars())

    async def set_default_for(self, organization_id: int, process_id: int,
                              targets: DefaultFor) -> None:
        await self._session.execute(delete(defaults).where(
            defaults.c.organization_id == organization_id,
            defaults.c.sales_process_id == process_id))
        rows = [{"user_id": i} for i in dict.fromkeys(targets.user_ids)] + [
            {"department_id": i} for i in dict.fromkeys(targets.department_ids)] + [
            {"sales_region_id": i} for i in dict.fromkeys(targets.sales_region_ids)]
        if rows:
            await self._session.execute(insert(defaults), [
                {"organization_id": organization_id, "sales_process_id": process_id,
                 "user_id": None, "department_id": None, "sales_region_id": None, **row}
                for row in rows])

    async def delete(self, organization_id: int, process_id: int) -> None:
        await self._session.execute(delete(processes).where(
            processes.c.organization_id == organization_id, processes.c.id == process_id))

    async def add_stage(self, organization_id: int, process_id: int, draft: StageDraft,
                        position: int) -> int:
        """Insert at `position`, moving the stages at or after it one down."""
        await self._session.execute(update(stages).where(
            stages.c.organization_id == organization_id,
            stages.c.sales_process_id == process_id, stages.c.position >= position,
        ).values(position=stages.c.position + 1))
        stmt = insert(stages).values(
            _stage_values(organization_id, process_id, draft, position)).returning(stages.c.id)
        stage_id: int = (await self._session.execute(stmt)).scalar_one()
        return stage_id

    async def update_stage(self, organization_id: int, stage_id: int,
                           values: dict[str, Any]) -> None:
        await self._session.execute(update(stages).where(
            stages.c.organization_id == organization_id, stages.c.id == stage_id,
        ).values(**values, updated_at=func.now()))

    async def reorder(self, organization_id: int, process_id: int,
                      stage_ids: Sequence[int]) -> None:
        """Positions 1..n in the order given (the unique position is checked at commit)."""
        await self._session.execute(update(stages).where(
            stages.c.organization_id == organization_id,
            stages.c.sales_process_id == process_id,
        ).values(position=case({s: n for n, s in enumerate(stage_ids, start=1)},
                               value=stages.c.id), updated_at=func.now()))

    async def remove_stage(self, organization_id: int, stage: Stage) -> None:
        """Delete the stage and close the gap in the positions after it."""
        await self._session.execute(delete(stages).where(
            stages.c.organization_id == organization_id, stages.c.id == stage.id))
        await self._session.execute(update(stages).where(
            stages.c.organization_id == organization_id,
            stages.c.sales_process_id == stage.sales_process_id,
            stages.c.position > stage.position,
        ).values(position=stages.c.position - 1))

    async def lock_opportunities_of_stage(self, organization_id: int, stage_id: int) -> None:
        """Hold, until the transaction ends, the opportunities a stage's removal changes:
        those on it and those that last stood open on it."""
        o = opportunities.c
        await self._session.execute(
            select(o.id).where(o.organization_id == organization_id,
                               or_(o.stage_id == stage_id, o.last_open_stage_id == stage_id))
            .order_by(o.id).with_for_update())

    async def forget_last_open_stage(self, organization_id: int, stage_id: int,
                                     instead: int | None) -> None:
        """Closed opportunities that last stood open on `stage_id` remember `instead`."""
        await self._session.execute(update(opportunities).where(
            opportunities.c.organization_id == organization_id,
            opportunities.c.last_open_stage_id == stage_id,
        ).values(last_open_stage_id=instead))

    async def move_opportunities(self, organization_id: int, from_stage_id: int,
                                 to_stage_id: int, probability: Decimal, *,
                                 user_id: int | None) -> list[MovedOpportunity]:
        """Put the opportunities of one stage on another of the same process, with the
        probability it gives them; returns them as they were."""
        o = opportunities.c
        of_stage = (o.organization_id == organization_id, o.stage_id == from_stage_id)
        rows = (await self._session.execute(select(o.id, o.probability, o.probability_source)
                                            .where(*of_stage).order_by(o.id)
                                            .with_for_update())).all()
        if rows:
            await self._session.execute(update(opportunities).where(*of_stage).values(
                stage_id=to_stage_id, probability=probability, probability_source="stage",
                version=o.version + 1, updated_at=func.now(), updated_by=user_id))
        return [MovedOpportunity(r.id, r.probability, r.probability_source) for r in rows]

    async def default_candidates(self, organization_id: int,
                                 user_id: int | None) -> list[DefaultCandidate]:
        """Every active process, with whether it is marked default for the user, the user's
        sales region, the user's department, or all."""
        rows = await fetch(self._session, _DEFAULT_CANDIDATES,
                           organization_id=organization_id, user_id=user_id)
        return [DefaultCandidate(r["id"], r["for_user"], r["for_region"], r["for_department"],
                                 r["default_for_all"]) for r in rows]


    async def list(self, organization_id: int, query: ListQuery, *, view: ProcessView,
                   user_id: int | None) -> Page[SalesProcess]:
        stmt = self._select(organization_id).where(_in_view(view, user_id))
        plain = []
        for condition in query.conditions:
            if condition.field == "q":
                stmt = stmt.where(or_(where(condition, processes.c.name),
                                      where(condition, processes.c.note)))
            elif condition.field in _TARGETS:
                stmt = stmt.where(exists().where(
                    defaults.c.organization_id == organization_id,
                    defaults.c.sales_process_id == processes.c.id,
                    where(condition, _TARGETS[condition.field])))
            else:
                plain.append(condition)
        page = await fetch_page(self._session, stmt, replace(query, conditions=tuple(plain)),
                                LIST_COLUMNS, processes.c.id, lambda row: row)
        return Page(await self._assemble(organization_id, page.items), page.next)

def _stage_values(organization_id: int, process_id: int, draft: StageDraft,
                  position: int) -> dict[str, Any]:
    return {"organization_id": organization_id, "sales_process_id": process_id,
            "name": draft.name, "position": position, "probability": draft.probability,
            "kind": draft.kind.value, "color": draft.color,
            "marks_quote_signed": draft.marks_quote_signed}
