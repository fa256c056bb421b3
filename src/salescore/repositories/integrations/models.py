"""Typed table models of the e-signature providers and their callbacks (migration 0009)."""

from datetime import datetime

from sqlalchemy import Text
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


esign_providers = table_of(EsignProviderRow)
esign_callbacks = table_of(EsignCallbackRow)
