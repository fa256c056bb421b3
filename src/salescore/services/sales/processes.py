"""Sales processes (pipelines): create with stages, read, list, change, delete (DOMAIN.md §4).

Events: `sales_process.created` (with its stages), `.updated` (changed fields), `.deleted`.
Stage actions are in `process_stages`; they save the process too, so its version and
updated at/by move with every change of its stages."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from salescore.domain.access.organization import UnitKind
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.processes import (
    CENT,
    DefaultFor,
    ProcessView,
    SalesProcess,
    Stage,
    StageDraft,
    check_name,
    check_new_stages,
)
from salescore.repositories.unit_of_work import UnitOfWork

PROCESS = "sales process"
EXPORT_PAGE = 500


def _public(process: SalesProcess) -> dict[str, Any]:
    d = process.default_for
    return {"name": process.name, "active": process.active, "note": process.note,
            "default_for": {"all": d.all, "user_ids": list(d.user_ids),
                            "department_ids": list(d.department_ids),
                            "sales_region_ids": list(d.sales_region_ids)}}


def process_updated(before: SalesProcess, after: SalesProcess) -> DomainEvent:
    return DomainEvent("sales_process.updated", "sales_process", after.id,
                       {"changes": changes(_public(before), _public(after))})


def stage_public(stage: Stage) -> dict[str, Any]:
    return {"name": stage.name, "position": stage.position,
            "probability": str(stage.probability.quantize(CENT)), "kind": stage.kind.value,
            "color": stage.color, "marks_quote_signed": stage.marks_quote_signed}


async def _check_targets(uow: UnitOfWork, organization_id: int, targets: DefaultFor) -> None:
    """Whom a process is the default for must be the organization's own."""
    if targets.user_ids and await uow.sales_processes.missing_users(organization_id,
                                                                    targets.user_ids):
        raise NotFound("user", field="default_for.user_ids")
    for ids, kind, field in ((targets.department_ids, UnitKind.DEPARTMENT, "department_ids"),
                             (targets.sales_region_ids, UnitKind.SALES_REGION,
                              "sales_region_ids")):
        if ids and await uow.org_units(kind).missing(organization_id, ids):
            raise NotFound(kind.value.replace("_", " "), field=f"default_for.{field}")


async def saved_process(uow: UnitOfWork, caller: Caller, process_id: int) -> SalesProcess:
    process = await uow.sales_processes.get(caller.organization_id, process_id)
    assert process is not None
    return process


async def locked_process(uow: UnitOfWork, caller: Caller, process_id: int,
                  if_match: int | None) -> SalesProcess:
    await uow.sales_processes.lock(caller.organization_id, process_id)
    process = await uow.sales_processes.get(caller.organization_id, process_id)
    if process is None:
        raise NotFound(PROCESS)
    check_version(process.version, if_match)
    return process


async def create_process(uow: UnitOfWork, *, caller: Caller, name: str,
                         stages: Sequence[StageDraft], active: bool = True,
                         note: str | None = None,
                         default_for: DefaultFor = DefaultFor()) -> SalesProcess:
    """A new process with its stages in the order given: at least one open stage, at
    most one marking a signed quote."""
    require(caller, Scope.SALES_SETUP_WRITE)
    async with uow:
        process = await add_process(uow, caller=caller, name=name, stages=stages,
                                    active=active, note=note, default_for=default_for)
        await uow.commit()
    return process


async def add_process(uow: UnitOfWork, *, caller: Caller, name: str,
                      stages: Sequence[StageDraft], active: bool = True,
                      note: str | None = None,
                      default_for: DefaultFor = DefaultFor()) -> SalesProcess:
    """`create_process` inside a transaction the caller of this function holds and commits
    (a new organization's starter process is made in the organization's own)."""
    check_name(name)
    check_new_stages(stages)
    org = caller.organization_id
    await _check_targets(uow, org, default_for)
    process_id = await uow.sales_processes.add(org, {
        "name": name, "active": active, "note": note, "default_for_all": default_for.all,
        "created_by": caller.user_id, "updated_by": caller.user_id}, stages)
    await uow.sales_processes.set_default_for(org, process_id, default_for)
    process = await saved_process(uow, caller, process_id)
    uow.emit(org, caller.actor, DomainEvent(
        "sales_process.created", "sales_process", process_id,
        _public(process) | {"stages": [stage_public(s) for s in process.stages]}))
    return process


async def get_process(uow: UnitOfWork, *, caller: Caller, process_id: int) -> SalesProcess:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow:
        process = await uow.sales_processes.get(caller.organization_id, process_id)
    if process is None:
        raise NotFound(PROCESS)
    return process


def _view_of(query: ListQuery) -> tuple[ProcessView, ListQuery]:
    """`view` (default: active) is not a column: it picks the processes to list."""
    views = [c for c in query.conditions if c.field == "view"]
    view = ProcessView(str(views[0].value)) if views else ProcessView.ACTIVE
    return view, replace(query, conditions=tuple(c for c in query.conditions
                                                 if c.field != "view"))


async def list_processes(uow: UnitOfWork, *, caller: Caller,
                         query: ListQuery) -> Page[SalesProcess]:
    require(caller, Scope.OPPORTUNITIES_READ)
    view, query = _view_of(query)
    async with uow:
        return await uow.sales_processes.list(caller.organization_id, query, view=view,
                                              user_id=caller.user_id)


async def export_processes(uow: UnitOfWork, *, caller: Caller, query: ListQuery,
                           at_most: int | None = None) -> list[SalesProcess]:
    """Every process the list's filters pick, in its order: all pages, for an export;
    with `at_most`, the pages read stop once that many are found."""
    require(caller, Scope.OPPORTUNITIES_READ)
    view, query = _view_of(query)
    query = replace(query, limit=EXPORT_PAGE, after=None)
    found: list[SalesProcess] = []
    async with uow:
        while True:
            page = await uow.sales_processes.list(caller.organization_id, query, view=view,
                                                  user_id=caller.user_id)
            found += page.items
            if page.next is None or (at_most is not None and len(found) >= at_most):
                return found
            query = replace(query, after=page.next)


async def update_process(uow: UnitOfWork, *, caller: Caller, process_id: int,
                         changes_: dict[str, Any], if_match: int | None = None) -> SalesProcess:
    """Change name, active, note or default-for (the targets given replace the old)."""
    require(caller, Scope.SALES_SETUP_WRITE)
    values = dict(changes_)
    targets: DefaultFor | None = values.pop("default_for", None)
    if "name" in values:
        check_name(values["name"])
    if targets is not None:
        values["default_for_all"] = targets.all
    async with uow:
        org = caller.organization_id
        before = await locked_process(uow, caller, process_id, if_match)
        if targets is not None:
            await _check_targets(uow, org, targets)
            await uow.sales_processes.set_default_for(org, process_id, targets)
        await uow.sales_processes.update(org, process_id, values, user_id=caller.user_id)
        after = await saved_process(uow, caller, process_id)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, process_updated(before, after))
        await uow.commit()
    return after


async def delete_process(uow: UnitOfWork, *, caller: Caller, process_id: int,
                         if_match: int | None = None) -> None:
    """Remove a process and its stages; refused while opportunities use it."""
    require(caller, Scope.SALES_SETUP_WRITE)
    async with uow:
        process = await locked_process(uow, caller, process_id, if_match)
        if process.in_use:
            raise Conflict(f"the sales process is used by {process.in_use} opportunities")
        await uow.sales_processes.delete(caller.organization_id, process_id)
        uow.emit(caller.organization_id, caller.actor, DomainEvent(
            "sales_process.deleted", "sales_process", process_id, _public(process)))
        await uow.commit()
