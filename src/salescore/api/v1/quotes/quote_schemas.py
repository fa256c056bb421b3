"""Request and response bodies of quotes, their e-mails and documents."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1.schemas import DateIn, Decimal2, Email, Id, NoNul, Patch, Strict, Text
from salescore.domain.quotes.quotes import QuoteStatus
from salescore.domain.quotes.records import Document, Quote, QuoteEmail

Subject = Annotated[str, StringConstraints(min_length=1, max_length=300), NoNul]
Recipients = Annotated[list[Email], Field(max_length=20)]


class QuoteCreate(Strict):
    template_id: Id
    valid_until: DateIn = Field(description="Today or later, in the organization's zone.")
    note: Text | None = None
    contact_id: Id | None = Field(default=None, description="A contact of the customer; "
                                                            "defaults to the opportunity's.")


class QuoteUpdate(Patch):
    """A draft's fields; the lines stay as they were frozen when the draft was made."""

    NULLABLE = frozenset({"note", "contact_id"})
    template_id: Id | None = None
    valid_until: DateIn | None = None
    note: Text | None = None
    contact_id: Id | None = None


class EmailRequest(Strict):
    to: Recipients = Field(min_length=1)
    cc: Recipients = Field(default_factory=list)
    subject: Subject | None = Field(default=None, description="Defaults to the template's.")
    message: Text | None = Field(default=None, description="Defaults to the template's "
                                                           "standard text.")


class SendRequest(Strict):
    email: EmailRequest | None = Field(
        default=None, description="Also e-mail the link and the PDF to the customer.")


class FrozenLineRead(BaseModel):
    name: str
    description: str | None
    quantity: str
    unit_price: Decimal2
    discount_percent: Decimal2
    line_total: Decimal2


class QuoteRead(BaseModel):
    id: int
    number: str | None
    opportunity_id: int
    customer_id: int
    contact_id: int | None
    template_id: int
    status: QuoteStatus
    currency: str
    lines: list[FrozenLineRead]
    discount_percent: Decimal2
    lines_total: Decimal2
    discount_amount: Decimal2
    total: Decimal2
    valid_until: date
    note: str | None
    content_sha256: str | None
    sent_at: datetime | None
    viewed_at: datetime | None
    responded_at: datetime | None
    response_comment: str | None
    signed_by_name: str | None
    signed_by_email: str | None
    signed_ip: str | None
    signature_method: str | None
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, quote: Quote) -> "QuoteRead":
        """`quote.status` as a reader sees it (services give quotes so)."""
        values: dict[str, Any] = {name: getattr(quote, name) for name in QuoteRead.model_fields
                                  if name != "lines"}
        return cls(**values, lines=[
            FrozenLineRead(**line) for line in quote.content["lines"]])


class SentQuoteRead(QuoteRead):
    public_url: str = Field(description="The customer's link. Only this answer carries it: "
                                        "the token is kept as a hash.")


class QuoteEmailRead(BaseModel):
    id: int
    to: list[str]
    cc: list[str]
    subject: str
    status: str
    sent_at: datetime | None
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, email: QuoteEmail) -> "QuoteEmailRead":
        return cls(id=email.id, to=list(email.to), cc=list(email.cc), subject=email.subject,
                   status=email.status, sent_at=email.sent_at, error=email.error,
                   created_at=email.created_at)


class DocumentRead(BaseModel):
    id: int
    kind: str
    quote_id: int | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, document: Document) -> "DocumentRead":
        return cls(id=document.id, kind=document.kind, quote_id=document.quote_id,
                   file_name=document.file_name, content_type=document.content_type,
                   size=document.size, sha256=document.sha256, created_at=document.created_at)

