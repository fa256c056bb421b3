"""Activities and the follow-up rules that create them (DOMAIN.md §5)."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from salescore.domain.errors import InvalidInput
from salescore.domain.events import DomainEvent, changes
from salescore.domain.sales.opportunities import Opportunity


class ActivityKind(StrEnum):
    TASK = "task"
    APPOINTMENT = "appointment"
    CALL = "call"
    NOTE = "note"


class Origin(StrEnum):
    MANUAL = "manual"
    FOLLOW_UP = "follow_up"
    OPPORTUNITY_CREATED = "opportunity_created"
    QUOTE_EMAIL = "quote_email"


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    organization_id: int
    kind: ActivityKind
    subject: str
    text: str | None
    due_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    done: bool
    done_at: datetime | None
    assignee_id: int | None
    customer_id: int | None
    contact_id: int | None
    opportunity_id: int | None
    origin: Origin
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class FollowUpSettings:
    """The organization's settings the follow-up rules read."""

    time_zone: str = "Europe/Oslo"
    reminder_enabled: bool = True
    reminder_days: int = 1


def check_period(kind: ActivityKind, starts_at: datetime | None,
                 ends_at: datetime | None) -> None:
    """An appointment has a start and an end; any activity with both starts before it
    ends."""
    if kind is ActivityKind.APPOINTMENT:
        if starts_at is None:
            raise InvalidInput.of("starts_at", "is required for an appointment")
        if ends_at is None:
            raise InvalidInput.of("ends_at", "is required for an appointment")
    if starts_at is not None and ends_at is not None and not starts_at < ends_at:
        raise InvalidInput.of("ends_at", "must be after starts_at")


def mark_done(activity: Activity, done: bool, now: datetime) -> Activity:
    """Done sets `done_at` (kept if it was done already); undoing clears it."""
    if done:
        return replace(activity, done=True, done_at=activity.done_at or now)
    return replace(activity, done=False, done_at=None)


def start_of_day(day: date, time_zone: str) -> datetime:
    """A follow-up date as a moment: the start of that day in the organization's zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone))


def _task(opportunity: Opportunity, *, subject: str, due_at: datetime, origin: Origin,
          now: datetime, actor_id: int | None) -> Activity:
    return Activity(
        id=0, organization_id=opportunity.organization_id, kind=ActivityKind.TASK,
        subject=subject, text=opportunity.description, due_at=due_at, starts_at=None,
        ends_at=None, done=False, done_at=None, assignee_id=opportunity.owner_id,
        customer_id=opportunity.customer_id, contact_id=opportunity.contact_id,
        opportunity_id=opportunity.id, origin=origin, created_at=now, created_by=actor_id,
        updated_at=now, version=1)


def follow_ups(before: Opportunity | None, after: Opportunity, settings: FollowUpSettings,
               *, now: datetime, actor_id: int | None) -> list[Activity]:
    """The tasks a new or changed opportunity calls for (DOMAIN.md §5):
    - a follow-up date set on create, or changed to another date, gives a task due at the
      start of that day in the organization's time zone, with the opportunity's
      description as text, for its owner, on its customer, contact and itself; the same
      date again, or a cleared date, gives nothing;
    - a new opportunity gives, when the organization has it on, a reminder task for the
      owner due `reminder_days` after creation."""
    tasks = []
    new_date = after.follow_up_date
    if new_date is not None and (before is None or before.follow_up_date != new_date):
        tasks.append(_task(after, subject=f"Follow up: {after.name}",
                           due_at=start_of_day(new_date, settings.time_zone),
                           origin=Origin.FOLLOW_UP, now=now, actor_id=actor_id))
    if before is None and settings.reminder_enabled:
        tasks.append(_task(after, subject=f"Follow up the new opportunity: {after.name}",
                           due_at=now + timedelta(days=settings.reminder_days),
                           origin=Origin.OPPORTUNITY_CREATED, now=now, actor_id=actor_id))
    return tasks


_RECORDED = ("kind", "subject", "text", "due_at", "starts_at", "ends_at", "done", "done_at",
             "assignee_id", "customer_id", "contact_id", "opportunity_id", "origin")


def snapshot(activity: Activity) -> dict[str, Any]:
    """The recorded fields of an activity as JSON values."""
    def text(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {field: text(getattr(activity, field)) for field in _RECORDED}


def change_event(before: Activity | None, after: Activity) -> DomainEvent | None:
    """created; completed when it became done; else updated (none when nothing changed).
    The data names the activity (kind, subject, opportunity) beside the changed fields."""
    diff = changes(snapshot(before) if before else {}, snapshot(after))
    if before is None:
        kind = "activity.created"
    elif not diff:
        return None
    elif after.done and not before.done:
        kind = "activity.completed"
    else:
        kind = "activity.updated"
    return DomainEvent(kind, "activity", after.id, {
        "changes": diff, "kind": after.kind.value, "subject": after.subject,
        "opportunity_id": after.opportunity_id})
