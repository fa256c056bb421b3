"""Typed table models of activities and notifications (migration 0003)."""

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of, tenant_key


class ActivityRow(Base):
    __tablename__ = "activities"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    kind: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    done: Mapped[bool]
    done_at: Mapped[datetime | None]
    assignee_id: Mapped[int | None]
    customer_id: Mapped[int | None]
    contact_id: Mapped[int | None]
    opportunity_id: Mapped[int | None]
    origin: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class NotificationRow(Base):
    __tablename__ = "notifications"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    user_id: Mapped[int]
    type: Mapped[str] = mapped_column(Text)
    opportunity_id: Mapped[int | None]
    activity_id: Mapped[int | None]
    quote_id: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


activities = table_of(ActivityRow)
notifications = table_of(NotificationRow)
