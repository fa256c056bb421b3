"""Activities: tasks, appointments, calls and notes (DOMAIN.md §5).

Rules chosen where the specs are silent: a user's new activity is assigned to them unless
it names an assignee; an activity on an opportunity takes the opportunity's customer when
it names none, whether made on it or linked to it later; anyone holding `activities:write`
may change or delete any activity of the organization (activities are team work);
deleting an opportunity keeps its activities, unlinked, as customer history."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.activities.activities import (
    Activity,
    ActivityKind,
    Origin,
    change_event,
    check_period,
    mark_done,
)
from salescore.domain.errors import NotFound, check_version
from salescore.domain.events import DomainEvent
from salescore.domain.listing import Condition, ListQuery, Op, Page
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.references import check_references

FIELDS = ("kind", "subject", "text", "due_at", "starts_at", "ends_at", "assignee_id",
          "customer_id", "contact_id", "opportunity_id")


async def _with_customer_of_opportunity(uow: UnitOfWork, organization_id: int,
                                        values: dict[str, Any]) -> dict[str, Any]:
    if values.get("opportunity_id") is None or values.get("customer_id") is not None:
        return values
    opportunity = await uow.opportunities.get(organization_id, values["opportunity_id"])
    if opportunity is None:
        raise NotFound("opportunity", field="opportunity_id")
    return {**values, "customer_id": opportunity.customer_id}


async def create_activity(uow: UnitOfWork, *, caller: Caller,
                          values: dict[str, Any]) -> Activity:
    require(caller, Scope.ACTIVITIES_WRITE)
    now = datetime.now(UTC)
    kind = ActivityKind(values["kind"])
    check_period(kind, values.get("starts_at"), values.get("ends_at"))
    values = {"assignee_id": caller.user_id, **values}
    async with uow:
        org = caller.organization_id
        values = await _with_customer_of_opportunity(uow, org, values)
        await check_references(uow, org, values)
        given: dict[str, Any] = {field: values.get(field) for field in FIELDS
                                 if field != "kind"}
        draft = Activity(
            id=0, organization_id=org, done=False, done_at=None, origin=Origin.MANUAL,
            created_at=now, created_by=caller.user_id, updated_at=now, version=1, **given,
            kind=kind)
        draft = mark_done(draft, bool(values.get("done")), now)
        [new_id] = await uow.activities.add([draft])
        activity = replace(draft, id=new_id)
        _emit(uow, caller, change_event(None, activity))
        await uow.commit()
    return activity


def _emit(uow: UnitOfWork, caller: Caller, event: DomainEvent | None) -> None:
    if event is not None:
        uow.emit(caller.organization_id, caller.actor, event)


async def get_activity(uow: UnitOfWork, *, caller: Caller, activity_id: int) -> Activity:
    require(caller, Scope.ACTIVITIES_READ)
    async with uow.reading():
        activity = await uow.activities.get(caller.organization_id, activity_id)
    if activity is None:
        raise NotFound("activity")
    return activity


async def list_activities(uow: UnitOfWork, *, caller: Caller, query: ListQuery,
                          opportunity_id: int | None = None) -> Page[Activity]:
    """The organization's activities, or one opportunity's (404 if it has none such)."""
    require(caller, Scope.ACTIVITIES_READ)
    async with uow.reading():
        if opportunity_id is None:
            return await uow.activities.list(caller.organization_id, query)
        page = await uow.activities.list(caller.organization_id, replace(query, conditions=(
            *query.conditions, Condition("opportunity_id", Op.EQ, opportunity_id))))
        # after the list, so that both run on the session's connection (UnitOfWork.reading)
        if await uow.opportunities.get(caller.organization_id, opportunity_id) is None:
            raise NotFound("opportunity")
        return page


async def _locked(uow: UnitOfWork, caller: Caller, activity_id: int,
                  if_match: int | None) -> Activity:
    activity = await uow.activities.get(caller.organization_id, activity_id, for_update=True)
    if activity is None:
        raise NotFound("activity")
    check_version(activity.version, if_match)
    return activity


async def update_activity(uow: UnitOfWork, *, caller: Caller, activity_id: int,
                          values: dict[str, Any], if_match: int | None = None) -> Activity:
    """Change the fields given; `done` true sets `done_at`, false clears it. Linked to
    another opportunity without naming a customer, the activity takes the opportunity's
    customer, as one made on it does."""
    require(caller, Scope.ACTIVITIES_WRITE)
    now = datetime.now(UTC)
    async with uow:
        org = caller.organization_id
        before = await _locked(uow, caller, activity_id, if_match)
        if values.get("opportunity_id") not in (None, before.opportunity_id):
            values = await _with_customer_of_opportunity(uow, org, values)
        references = {k: v for k, v in values.items() if k.endswith("_id") and v is not None}
        if "contact_id" in references:
            references["customer_id"] = values.get("customer_id", before.customer_id)
        await check_references(uow, org, references)
        after = replace(before, **{f: values[f] for f in FIELDS if f in values})
        if "kind" in values:
            after = replace(after, kind=ActivityKind(values["kind"]))
        check_period(after.kind, after.starts_at, after.ends_at)
        if "done" in values:
            after = mark_done(after, values["done"], now)
        event = change_event(before, after)
        if event is None:
            return before
        after = replace(after, updated_at=now, version=before.version + 1)
        await uow.activities.save(before, after)
        _emit(uow, caller, event)
        await uow.commit()
    return after


async def delete_activity(uow: UnitOfWork, *, caller: Caller, activity_id: int,
                          if_match: int | None = None) -> None:
    require(caller, Scope.ACTIVITIES_WRITE)
    async with uow:
        activity = await _locked(uow, caller, activity_id, if_match)
        await uow.activities.delete(caller.organization_id, activity_id)
        _emit(uow, caller, DomainEvent("activity.deleted", "activity", activity_id, {
            "kind": activity.kind.value, "subject": activity.subject,
            "opportunity_id": activity.opportunity_id}))
        await uow.commit()
