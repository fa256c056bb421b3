"""A quote, its e-mails and the documents it leaves, as the use cases hold them."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from salescore.domain.quotes.quotes import QuoteStatus, effective_status


@dataclass(frozen=True, slots=True)
class Quote:
    """`status` is the stored one; `status_on(today)` the one a reader sees (a sent quote
    past its valid-until day is expired before any job stores it). `content` is the
    frozen copy, as `quotes.canonical_json` writes it."""

    id: int
    organization_id: int
    opportunity_id: int
    customer_id: int
    contact_id: int | None
    template_id: int
    number: str | None
    status: QuoteStatus
    currency: str
    content: dict[str, Any]
    discount_percent: Decimal
    lines_total: Decimal
    discount_amount: Decimal
    total: Decimal
    valid_until: date
    note: str | None
    content_sha256: str | None
    token_hash: str | None
    sent_at: datetime | None
    viewed_at: datetime | None
    responded_at: datetime | None
    response_comment: str | None
    signed_by_name: str | None
    signed_by_email: str | None
    signed_ip: str | None
    signed_user_agent: str | None
    signature_method: str | None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int

    def status_on(self, today: date) -> QuoteStatus:
        return effective_status(self.status, self.valid_until, today)


@dataclass(frozen=True, slots=True)
class QuoteEmail:
    id: int
    organization_id: int
    quote_id: int
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    status: str
    sent_at: datetime | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    organization_id: int
    opportunity_id: int
    quote_id: int | None
    kind: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
