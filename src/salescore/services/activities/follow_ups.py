"""Wiring the follow-up rules (domain/activities/activities.py) into every path that creates or
changes an opportunity: the tasks are stored, with their events, in the same transaction."""

from dataclasses import replace
from datetime import datetime

from salescore.domain.access.organization import Organization
from salescore.domain.access.permissions import Caller
from salescore.domain.activities.activities import FollowUpSettings, change_event, follow_ups
from salescore.domain.sales.opportunities import Opportunity
from salescore.repositories.unit_of_work import UnitOfWork


def settings_of(organization: Organization) -> FollowUpSettings:
    return FollowUpSettings(time_zone=organization.time_zone,
                            reminder_enabled=organization.reminder_task_enabled,
                            reminder_days=organization.reminder_task_days)


async def schedule_follow_ups(uow: UnitOfWork, caller: Caller, before: Opportunity | None,
                              after: Opportunity, now: datetime,
                              organization: Organization | None = None) -> None:
    """Store the tasks a new or changed opportunity calls for."""
    if before is not None and after.follow_up_date in (None, before.follow_up_date):
        return
    if organization is None:
        organization = await uow.organizations.get(caller.organization_id)
        assert organization is not None
    tasks = follow_ups(before, after, settings_of(organization), now=now,
                       actor_id=caller.user_id)
    ids = await uow.activities.add(tasks)
    events = [change_event(None, replace(task, id=new_id))
              for task, new_id in zip(tasks, ids, strict=True)]
    uow.emit(caller.organization_id, caller.actor, *(e for e in events if e is not None))
