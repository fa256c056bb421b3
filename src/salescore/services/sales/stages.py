"""Stages of a sales process: add, change, re-order, remove (DOMAIN.md §4).

The process is the aggregate: a stage has no version of its own, so a stage write takes
`If-Match` with the process's ETag, locks the process with its stages, and saves the process
(version + 1, updated at/by). Events: `stage.created/.updated/.deleted` (aggregate `stage`,
data naming `sales_process_id`) and `stages.reordered` (aggregate `sales_process`).
Removing a stage in use moves its opportunities to `move_to`, each with an
`opportunity.stage_changed` event (reason `stage_removed`)."""

from collections.abc import Mapping, Sequence
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import NotFound
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.sales.processes import (
    SalesProcess,
    Stage,
    StageDraft,
    StageKind,
    check_kind_change,
    check_name,
    check_order,
    check_probability,
    check_removal,
    check_room_for_a_stage,
    insert_position,
    probability_at,
    quote_mark_holder,
    stage_removed_event,
)
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.sales.processes import (
    get_process,
    locked_process,
    saved_process,
    stage_public,
)


def _stage_event(kind: str, stage: Stage, data: Mapping[str, Any]) -> DomainEvent:
    return DomainEvent(f"stage.{kind}", "stage", stage.id,
                       {"sales_process_id": stage.sales_process_id, **data})


def _stage_of(process: SalesProcess, stage_id: int) -> Stage:
    stage = process.stage(stage_id)
    if stage is None:
        raise NotFound("stage")
    return stage


async def get_stage(uow: UnitOfWork, *, caller: Caller, process_id: int,
                    stage_id: int) -> tuple[SalesProcess, Stage]:
    process = await get_process(uow, caller=caller, process_id=process_id)
    return process, _stage_of(process, stage_id)


async def _move_quote_mark(uow: UnitOfWork, caller: Caller, process: SalesProcess,
                           stage_id: int | None) -> None:
    holder = quote_mark_holder(process, stage_id)
    if holder is not None:
        await uow.sales_processes.update_stage(caller.organization_id, holder.id,
                                               {"marks_quote_signed": False})
        uow.emit(caller.organization_id, caller.actor, _stage_event("updated", holder, {
            "changes": {"marks_quote_signed": {"from": True, "to": False}}}))


async def add_stage(uow: UnitOfWork, *, caller: Caller, process_id: int, stage: StageDraft,
                    position: int | None = None,
                    if_match: int | None = None) -> tuple[SalesProcess, Stage]:
    """A new stage, last or at `position` (the stages from there move one down); marking
    it as the signed-quote stage takes the mark from the stage that had it."""
    require(caller, Scope.SALES_SETUP_WRITE)
    check_name(stage.name)
    check_probability(stage.probability)
    async with uow:
        org = caller.organization_id
        process = await locked_process(uow, caller, process_id, if_match)
        check_room_for_a_stage(process)
        at = insert_position(process, position)
        if stage.marks_quote_signed:
            await _move_quote_mark(uow, caller, process, None)
        stage_id = await uow.sales_processes.add_stage(org, process_id, stage, at)
        await uow.sales_processes.update(org, process_id, {}, user_id=caller.user_id)
        after = await saved_process(uow, caller, process_id)
        added = _stage_of(after, stage_id)
        uow.emit(org, caller.actor, _stage_event("created", added, stage_public(added)))
        await uow.commit()
    return after, added


async def update_stage(uow: UnitOfWork, *, caller: Caller, process_id: int, stage_id: int,
                       changes_: dict[str, Any],
                       if_match: int | None = None) -> tuple[SalesProcess, Stage]:
    """Rename, re-colour, change the default probability (opportunities already on the
    stage keep theirs) or the kind (not while opportunities use the stage, and not of the
    last open stage); marking it as the signed-quote stage moves the mark to it."""
    require(caller, Scope.SALES_SETUP_WRITE)
    values = dict(changes_)
    if "name" in values:
        check_name(values["name"])
    if "probability" in values:
        check_probability(values["probability"])
    async with uow:
        org = caller.organization_id
        process = await locked_process(uow, caller, process_id, if_match)
        before = _stage_of(process, stage_id)
        if "kind" in values:
            check_kind_change(process, before, StageKind(values["kind"]))
            values["kind"] = StageKind(values["kind"]).value
        if values.get("marks_quote_signed"):
            await _move_quote_mark(uow, caller, process, stage_id)
        await uow.sales_processes.update_stage(org, stage_id, values)
        await uow.sales_processes.update(org, process_id, {}, user_id=caller.user_id)
        after = await saved_process(uow, caller, process_id)
        if unchanged(process, after):
            return process, before  # nothing to keep: leaving uncommitted rolls the version back
        stage = _stage_of(after, stage_id)
        uow.emit(org, caller.actor, _stage_event("updated", stage, {
            "changes": changes(stage_public(before), stage_public(stage))}))
        await uow.commit()
    return after, stage


async def reorder_stages(uow: UnitOfWork, *, caller: Caller, process_id: int,
                         stage_ids: Sequence[int],
                         if_match: int | None = None) -> SalesProcess:
    """Put the stages in the order given, which names each of them exactly once; the same
    order again changes nothing."""
    require(caller, Scope.SALES_SETUP_WRITE)
    async with uow:
        org = caller.organization_id
        process = await locked_process(uow, caller, process_id, if_match)
        order = check_order(process, stage_ids)
        current = tuple(s.id for s in process.stages)
        if order == current:
            return process
        await uow.sales_processes.reorder(org, process_id, order)
        await uow.sales_processes.update(org, process_id, {}, user_id=caller.user_id)
        after = await saved_process(uow, caller, process_id)
        uow.emit(org, caller.actor, DomainEvent("stages.reordered", "sales_process", process_id,
                                                {"changes": {"stage_ids": {
                                                    "from": list(current),
                                                    "to": list(order)}}}))
        await uow.commit()
    return after


async def remove_stage(uow: UnitOfWork, *, caller: Caller, process_id: int, stage_id: int,
                       move_to: int | None = None, if_match: int | None = None) -> None:
    """Remove a stage. Its opportunities, if any, go to `move_to` (a stage of the same
    process and kind), taking the probability it gives; without them it simply goes."""
    require(caller, Scope.SALES_SETUP_WRITE)
    async with uow:
        org = caller.organization_id
        repo = uow.sales_processes
        # The opportunities before the process: a write to one of them locks it, then the
        # process (to place it), so taking them the other way round could deadlock.
        await repo.lock_opportunities_of_stage(org, stage_id)
        process = await locked_process(uow, caller, process_id, if_match)
        stage = _stage_of(process, stage_id)
        if move_to is not None and move_to not in process.stage_ids and (
                await repo.process_of_stage(org, move_to)) is None:
            raise NotFound("stage", field="move_to")
        target = check_removal(process, stage, move_to)
        await repo.forget_last_open_stage(org, stage_id, None if target is None else target.id)
        if target is not None:
            moved = await repo.move_opportunities(org, stage_id, target.id,
                                                  probability_at(target),
                                                  user_id=caller.user_id)
            uow.emit(org, caller.actor, *(stage_removed_event(m, stage, target) for m in moved))
        await repo.remove_stage(org, stage)
        await repo.update(org, process_id, {}, user_id=caller.user_id)
        uow.emit(org, caller.actor, _stage_event("deleted", stage, stage_public(stage)))
        await uow.commit()
