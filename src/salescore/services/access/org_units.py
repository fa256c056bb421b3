"""Departments, sales regions and sales groups: names an organization sorts its people by."""

from typing import Any

from salescore.domain.access.organization import OrgUnit, UnitKind
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.access.users import user_updated
from salescore.services.sales.processes import locked_process, process_updated, saved_process


def _label(kind: UnitKind) -> str:
    return kind.value.replace("_", " ")


def _public(unit: OrgUnit) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": unit.name}
    if unit.group_type is not None:
        shown["group_type"] = unit.group_type.value
    return shown


async def create_unit(uow: UnitOfWork, *, caller: Caller, kind: UnitKind,
                      values: dict[str, Any]) -> OrgUnit:
    require(caller, Scope.ORGANIZATION_WRITE)
    async with uow:
        units = uow.org_units(kind)
        if await units.name_taken(caller.organization_id, values["name"]):
            raise Conflict(f"a {_label(kind)} named {values['name']!r} exists already")
        unit = await units.add(caller.organization_id, values)
        uow.emit(caller.organization_id, caller.actor,
                 DomainEvent(f"{kind.value}.created", kind.value, unit.id, _public(unit)))
        await uow.commit()
    return unit


async def get_unit(uow: UnitOfWork, *, caller: Caller, kind: UnitKind, unit_id: int) -> OrgUnit:
    require(caller, Scope.ORGANIZATION_READ)
    async with uow.reading():
        unit = await uow.org_units(kind).get(caller.organization_id, unit_id)
    if unit is None:
        raise NotFound(_label(kind))
    return unit


async def list_units(uow: UnitOfWork, *, caller: Caller, kind: UnitKind,
                     query: ListQuery) -> Page[OrgUnit]:
    require(caller, Scope.ORGANIZATION_READ)
    async with uow:
        return await uow.org_units(kind).list(caller.organization_id, query)


async def update_unit(uow: UnitOfWork, *, caller: Caller, kind: UnitKind, unit_id: int,
                      values: dict[str, Any], if_match: int | None = None) -> OrgUnit:
    require(caller, Scope.ORGANIZATION_WRITE)
    async with uow:
        units = uow.org_units(kind)
        await units.lock(caller.organization_id, unit_id)
        before = await units.get(caller.organization_id, unit_id)
        if before is None:
            raise NotFound(_label(kind))
        check_version(before.version, if_match)
        if "name" in values and await units.name_taken(caller.organization_id,
                                                       values["name"], unit_id):
            raise Conflict(f"a {_label(kind)} named {values['name']!r} exists already")
        after = await units.update(caller.organization_id, unit_id, values)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(caller.organization_id, caller.actor, DomainEvent(
            f"{kind.value}.updated", kind.value, unit_id,
            {"changes": changes(_public(before), _public(after))}))
        await uow.commit()
    return after


async def delete_unit(uow: UnitOfWork, *, caller: Caller, kind: UnitKind, unit_id: int,
                      if_match: int | None = None) -> None:
    """Remove it. Its users keep working without it, and a sales process whose default-for
    named it no longer does; the database clears those references, and each user and
    process so changed gets a new version and its `.updated` event, as if edited."""
    require(caller, Scope.ORGANIZATION_WRITE)
    org = caller.organization_id
    async with uow:
        units = uow.org_units(kind)
        await units.lock(org, unit_id)
        unit = await units.get(org, unit_id)
        if unit is None:
            raise NotFound(_label(kind))
        check_version(unit.version, if_match)
        members = await uow.users.members_of(org, kind, unit_id)
        processes = [await locked_process(uow, caller, process_id, None)  # as edits do
                     for process_id in await uow.sales_processes.defaulting_to(org, kind,
                                                                               unit_id)]
        await units.delete(org, unit_id)
        events = [DomainEvent(f"{kind.value}.deleted", kind.value, unit_id, _public(unit))]
        if members:
            afters = await uow.users.touch(org, [user.id for user in members])
            events += [user_updated(before, after)
                       for before, after in zip(members, afters, strict=True)]
        for before in processes:
            await uow.sales_processes.update(org, before.id, {}, user_id=caller.user_id)
            events.append(process_updated(before, await saved_process(uow, caller, before.id)))
        uow.emit(org, caller.actor, *events)
        await uow.commit()

