"""Typed table models of the event log, its retention mark and idempotency keys
(migration 0001)."""

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of


class EventRow(Base):
    """The append-only event log. `xact_id` is the writing transaction (`xid8`), kept so the
    change feed can hold back events of transactions that may still commit below it."""

    __tablename__ = "events"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[int] = identity_key()
    xact_id: Mapped[str] = mapped_column(Text, server_default="pg_current_xact_id()")
    aggregate_type: Mapped[str] = mapped_column(Text)
    aggregate_id: Mapped[int]
    type: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    actor: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]


class EventRetentionRow(Base):
    __tablename__ = "event_retention"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    pruned_through_xact: Mapped[str] = mapped_column(Text)
    pruned_through_id: Mapped[int]


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    organization_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    status_code: Mapped[int | None]
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    locked_until: Mapped[datetime]


events = table_of(EventRow)
event_retention = table_of(EventRetentionRow)
idempotency_keys = table_of(IdempotencyKeyRow)
