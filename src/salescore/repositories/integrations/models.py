"""Typed table models of the e-signature providers and their callbacks (migration 0009),
of the outbound webhooks and the scheduled jobs (migration 0010), and of the imports
(migrations 0011 and 0012)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of, tenant_key


class EsignProviderRow(Base):
    __tablename__ = "esign_providers"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    active: Mapped[bool]
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    version: Mapped[int]


class EsignCallbackRow(Base):
    __tablename__ = "esign_callbacks"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    provider_id: Mapped[int]
    webhook_id: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    type: Mapped[str | None] = mapped_column(Text)
    quote_id: Mapped[int | None]
    verified: Mapped[bool]
    applied: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(Text)


class WebhookEndpointRow(Base):
    __tablename__ = "webhook_endpoints"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    active: Mapped[bool]
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    endpoint_id: Mapped[int]
    event_id: Mapped[int]
    event_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    attempt_count: Mapped[int]
    attempts_due: Mapped[int]
    next_attempt_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    succeeded_at: Mapped[datetime | None]


class WebhookAttemptRow(Base):
    __tablename__ = "webhook_attempts"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    delivery_id: Mapped[int]
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)


class ImportRow(Base):
    __tablename__ = "imports"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    resource: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    validate_only: Mapped[bool]
    status: Mapped[str] = mapped_column(Text)
    caller: Mapped[dict[str, Any]] = mapped_column(JSONB)
    default_owner_id: Mapped[int | None] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    delimiter: Mapped[str | None] = mapped_column(Text)  # migration 0012
    rows_total: Mapped[int | None] = mapped_column(BigInteger)
    rows_processed: Mapped[int] = mapped_column(BigInteger)
    rows_created: Mapped[int] = mapped_column(BigInteger)
    rows_updated: Mapped[int] = mapped_column(BigInteger)
    rows_unchanged: Mapped[int] = mapped_column(BigInteger)
    rows_failed: Mapped[int] = mapped_column(BigInteger)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    cancel_requested: Mapped[bool]
    leased_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ScheduledJobRow(Base):
    """Not a tenant table: one row per job of the worker's scheduler."""

    __tablename__ = "scheduled_jobs"
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    due_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


esign_providers = table_of(EsignProviderRow)
esign_callbacks = table_of(EsignCallbackRow)
webhook_endpoints = table_of(WebhookEndpointRow)
webhook_deliveries = table_of(WebhookDeliveryRow)
webhook_attempts = table_of(WebhookAttemptRow)
scheduled_jobs = table_of(ScheduledJobRow)
imports = table_of(ImportRow)
