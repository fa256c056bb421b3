"""Typed table models of the product catalogue (migration 0008), quote templates, quotes,
their documents and e-mails (migration 0009)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, LargeBinary, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from salescore.repositories.models import Base, identity_key, table_of, tenant_key

Money = Numeric(18, 2)


class ProductRow(Base):
    __tablename__ = "products"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    sku: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(Text)
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)
    active: Mapped[bool]
    external_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class QuoteTemplateRow(Base):
    __tablename__ = "quote_templates"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    name: Mapped[str] = mapped_column(Text)
    header_text: Mapped[str | None] = mapped_column(Text)
    footer_text: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    accent_color: Mapped[str | None] = mapped_column(Text)
    email_subject: Mapped[str | None] = mapped_column(Text)
    email_message: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class QuoteCounterRow(Base):
    __tablename__ = "quote_counters"
    organization_id: Mapped[int] = tenant_key()
    last_number: Mapped[int]


class QuoteRow(Base):
    __tablename__ = "quotes"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    opportunity_id: Mapped[int]
    customer_id: Mapped[int]
    contact_id: Mapped[int | None]
    template_id: Mapped[int]
    number: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    lines_total: Mapped[Decimal] = mapped_column(Money)
    discount_amount: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    valid_until: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    viewed_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    response_comment: Mapped[str | None] = mapped_column(Text)
    signed_by_name: Mapped[str | None] = mapped_column(Text)
    signed_by_email: Mapped[str | None] = mapped_column(Text)
    signed_ip: Mapped[str | None] = mapped_column(Text)
    signed_user_agent: Mapped[str | None] = mapped_column(Text)
    signature_method: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None]
    version: Mapped[int]


class DocumentRow(Base):
    __tablename__ = "documents"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    opportunity_id: Mapped[int]
    quote_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class QuoteEmailRow(Base):
    __tablename__ = "quote_emails"
    organization_id: Mapped[int] = tenant_key()
    id: Mapped[int] = identity_key()
    quote_id: Mapped[int]
    to: Mapped[list[str]] = mapped_column(ARRAY(Text))
    cc: Mapped[list[str]] = mapped_column(ARRAY(Text))
    subject: Mapped[str] = mapped_column(Text)
    message: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None]


products = table_of(ProductRow)
quote_templates = table_of(QuoteTemplateRow)
quote_counters = table_of(QuoteCounterRow)
quotes = table_of(QuoteRow)
documents = table_of(DocumentRow)
quote_emails = table_of(QuoteEmailRow)
