"""Opportunity types, sources and loss reasons: the organization's own values for
classifying opportunities, kept in an order of its choosing.

Admins and managers (`sales_setup:write`) keep the lists; everyone who reads opportunities
reads them. Names are unique within a list whatever their case. Items stand at positions
1..n: placing one shifts the others, deleting one closes the gap, and every item whose
position changes that way is a changed item (new version, an `.updated` event). An item
that an opportunity uses cannot be deleted: deactivate it instead."""

from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import Conflict, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.sales.lists import ListItem, ListKind, check_full_order, moves, placed
from salescore.repositories.sales.lists import ListRepository
from salescore.repositories.unit_of_work import UnitOfWork

_NEW = 0  # stands for an item not yet stored when working out positions


def _public(item: ListItem) -> dict[str, Any]:
    return {"name": item.name, "position": item.position, "active": item.active}


def _shifted(kind: ListKind, moved: dict[int, tuple[int, int]],
             but: int) -> list[DomainEvent]:
    """`.updated` events for the items that moved to make room or close a gap."""
    return [DomainEvent(f"{kind.value}.updated", kind.value, item_id,
                        {"changes": {"position": {"from": old, "to": new}}})
            for item_id, (old, new) in moved.items() if item_id != but]


async def _shift(items: ListRepository, organization_id: int,
                 moved: dict[int, tuple[int, int]], but: int) -> None:
    await items.move(organization_id, {item_id: new for item_id, (_, new) in moved.items()
                                       if item_id != but})


async def _check_name_free(items: ListRepository, kind: ListKind, organization_id: int,
                           name: str, except_id: int | None = None) -> None:
    if await items.name_taken(organization_id, name, except_id):
        raise Conflict(f"a {kind.label} named {name!r} exists already")


async def create_item(uow: UnitOfWork, *, caller: Caller, kind: ListKind, name: str,
                      position: int | None = None, active: bool = True) -> ListItem:
    """A new item at `position` (default: after the last)."""
    require(caller, Scope.SALES_SETUP_WRITE)
    async with uow:
        item = await add_item(uow, caller=caller, kind=kind, name=name, position=position,
                              active=active)
        await uow.commit()
    return item


async def add_item(uow: UnitOfWork, *, caller: Caller, kind: ListKind, name: str,
                   position: int | None = None, active: bool = True) -> ListItem:
    """`create_item` inside a transaction the caller of this function holds and commits
    (a new organization's starter lists are made in the organization's own)."""
    org = caller.organization_id
    items = uow.lists(kind)
    await items.lock_list(org)
    await _check_name_free(items, kind, org, name)
    current = {i.id: i.position for i in await items.in_order(org)}
    order = placed(list(current), _NEW, position)
    moved = moves(current, order)
    await _shift(items, org, moved, but=_NEW)
    item = await items.add(org, {"name": name, "position": order.index(_NEW) + 1,
                                 "active": active})
    uow.emit(org, caller.actor,
             DomainEvent(f"{kind.value}.created", kind.value, item.id, _public(item)),
             *_shifted(kind, moved, but=_NEW))
    return item


async def get_item(uow: UnitOfWork, *, caller: Caller, kind: ListKind,
                   item_id: int) -> ListItem:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow.reading():
        item = await uow.lists(kind).get(caller.organization_id, item_id)
    if item is None:
        raise NotFound(kind.label)
    return item


async def list_items(uow: UnitOfWork, *, caller: Caller, kind: ListKind,
                     query: ListQuery) -> Page[ListItem]:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow:
        return await uow.lists(kind).list(caller.organization_id, query)


async def update_item(uow: UnitOfWork, *, caller: Caller, kind: ListKind, item_id: int,
                      values: dict[str, Any], if_match: int | None = None) -> ListItem:
    """Rename, (de)activate or move an item; moving it shifts the items in between."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    values = dict(values)
    async with uow:
        items = uow.lists(kind)
        await items.lock_list(org)
        await items.lock(org, item_id)
        before = await items.get(org, item_id)
        if before is None:
            raise NotFound(kind.label)
        check_version(before.version, if_match)
        if "name" in values:
            await _check_name_free(items, kind, org, values["name"], item_id)
        moved: dict[int, tuple[int, int]] = {}
        if "position" in values:
            current = {i.id: i.position for i in await items.in_order(org)}
            order = placed(list(current), item_id, values["position"])
            moved = moves(current, order)
            values["position"] = order.index(item_id) + 1
            await _shift(items, org, moved, but=item_id)
        after = await items.update(org, item_id, values)
        if unchanged(before, after):
            return before  # nothing to keep: leaving uncommitted rolls the version back
        uow.emit(org, caller.actor, DomainEvent(
            f"{kind.value}.updated", kind.value, item_id,
            {"changes": changes(_public(before), _public(after))}),
            *_shifted(kind, moved, but=item_id))
        await uow.commit()
    return after


async def delete_item(uow: UnitOfWork, *, caller: Caller, kind: ListKind, item_id: int,
                      if_match: int | None = None) -> None:
    """Remove an item no opportunity uses; the items after it move up."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    async with uow:
        items = uow.lists(kind)
        await items.lock_list(org)
        await items.lock(org, item_id)
        item = await items.get(org, item_id)
        if item is None:
            raise NotFound(kind.label)
        check_version(item.version, if_match)
        if await items.in_use(org, item_id):
            raise Conflict(f"opportunities use this {kind.label}; deactivate it instead "
                           "(PATCH active=false)")
        await items.delete(org, item_id)
        rest = {i.id: i.position for i in await items.in_order(org)}
        moved = moves(rest, list(rest))
        await _shift(items, org, moved, but=item_id)
        uow.emit(org, caller.actor,
                 DomainEvent(f"{kind.value}.deleted", kind.value, item_id, _public(item)),
                 *_shifted(kind, moved, but=item_id))
        await uow.commit()


async def reorder_items(uow: UnitOfWork, *, caller: Caller, kind: ListKind,
                        ids: list[int]) -> list[ListItem]:
    """Put the whole list in the order `ids` gives: every item exactly once."""
    require(caller, Scope.SALES_SETUP_WRITE)
    org = caller.organization_id
    async with uow:
        items = uow.lists(kind)
        await items.lock_list(org)
        current = {i.id: i.position for i in await items.in_order(org)}
        moved = moves(current, check_full_order(current, ids))
        await _shift(items, org, moved, but=_NEW)
        uow.emit(org, caller.actor, *_shifted(kind, moved, but=_NEW))
        result = await items.in_order(org)
        await uow.commit()
    return result
