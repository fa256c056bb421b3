"""Request and response bodies of activities, notifications and the stagnant report."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from salescore.api.v1 import examples
from salescore.api.v1.schemas import (
    NOT_BLANK,
    Flag,
    Id,
    NoNul,
    Patch,
    Strict,
    Text,
    TimeIn,
    Trimmed,
)
from salescore.domain.activities.activities import Activity, ActivityKind, Origin
from salescore.domain.activities.notifications import Notification
from salescore.repositories.reports.stagnant import StagnantRow

Subject = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK),
                    Trimmed, NoNul]


class ActivityCreate(Strict):
    model_config = examples.shown("ActivityCreate")

    kind: ActivityKind
    subject: Subject
    text: Text | None = None
    due_at: TimeIn | None = None
    starts_at: TimeIn | None = None
    ends_at: TimeIn | None = None
    done: Flag = False
    assignee_id: Id | None = None
    customer_id: Id | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None


class ActivityUpdate(Patch):
    NULLABLE = frozenset({"text", "due_at", "starts_at", "ends_at", "assignee_id",
                          "customer_id", "contact_id", "opportunity_id"})

    kind: ActivityKind | None = None
    subject: Subject | None = None
    text: Text | None = None
    due_at: TimeIn | None = None
    starts_at: TimeIn | None = None
    ends_at: TimeIn | None = None
    done: Flag | None = None
    assignee_id: Id | None = None
    customer_id: Id | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None


class ActivityRead(BaseModel):
    model_config = examples.shown("ActivityRead")

    id: int
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

    @classmethod
    def of(cls, activity: Activity) -> "ActivityRead":
        return cls(**{name: getattr(activity, name) for name in cls.model_fields})


class NotificationRead(BaseModel):
    id: int
    type: str
    opportunity_id: int | None
    activity_id: int | None
    quote_id: int | None
    text: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification) -> "NotificationRead":
        return cls(**{name: getattr(notification, name) for name in cls.model_fields})


class StagnantRead(BaseModel):
    opportunity_id: int
    name: str
    owner_id: int
    follow_up_date: date | None
    last_activity_at: datetime
    follow_up_overdue: bool
    inactive: bool

    @classmethod
    def of(cls, row: StagnantRow) -> "StagnantRead":
        return cls(**{name: getattr(row, name) for name in cls.model_fields})


class StagnantReport(BaseModel):
    days: int
    data: list[StagnantRead]
    next_cursor: str | None
