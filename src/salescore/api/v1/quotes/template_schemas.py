"""Request and response bodies of quote templates."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from salescore.api.v1.schemas import NOT_BLANK, Flag, Name, NoNul, Patch, Strict, Text, Trimmed
from salescore.domain.quotes.templates import (
    DEFAULT_EMAIL_MESSAGE,
    DEFAULT_EMAIL_SUBJECT,
    PLACEHOLDERS,
    QuoteTemplate,
)

_FILLED = ", ".join(f"`{{{name}}}`" for name in PLACEHOLDERS)
TemplateName = Annotated[Name, Field(description="Unique in the organization, whatever its "
                                                 "case.", examples=["Standard offer"])]
AccentColor = Annotated[str, StringConstraints(max_length=50), NoNul, Field(
    description="`#RRGGBB`; kept in capitals.", examples=["#1F6FEB"])]
EmailSubject = Annotated[str, StringConstraints(min_length=1, max_length=500,
                                                pattern=NOT_BLANK), Trimmed, NoNul, Field(
    description=f"One line; {_FILLED} are filled in when the quote is sent. "
                f"Default: {DEFAULT_EMAIL_SUBJECT!r}.")]
EmailMessage = Annotated[str, StringConstraints(min_length=1, max_length=10_000,
                                                pattern=NOT_BLANK), NoNul, Field(
    description=f"The standard text of the quote e-mail; {_FILLED} are filled in when the "
                "quote is sent, and any other `{word}` is refused. Default: a short "
                "greeting with the link and the valid-until day.")]


class QuoteTemplateCreate(Strict):
    name: TemplateName
    header_text: Text | None = None
    footer_text: Text | None = None
    terms: Text | None = None
    accent_color: AccentColor | None = None
    email_subject: EmailSubject | None = Field(default=None, description="Default: the "
                                                                         "standard subject.")
    email_message: EmailMessage | None = Field(default=None, description="Default: the "
                                                                         "standard text.")
    active: Flag = True


class QuoteTemplateUpdate(Patch):
    """`null` clears the texts and the colour, and gives the e-mail texts back their
    standard wording."""

    NULLABLE = frozenset({"header_text", "footer_text", "terms", "accent_color",
                          "email_subject", "email_message"})

    name: TemplateName | None = None
    header_text: Text | None = None
    footer_text: Text | None = None
    terms: Text | None = None
    accent_color: AccentColor | None = None
    email_subject: EmailSubject | None = None
    email_message: EmailMessage | None = None
    active: Flag | None = None


class QuoteTemplateRead(BaseModel):
    id: int
    name: str
    header_text: str | None
    footer_text: str | None
    terms: str | None
    accent_color: str | None
    email_subject: str = Field(examples=[DEFAULT_EMAIL_SUBJECT])
    email_message: str = Field(examples=[DEFAULT_EMAIL_MESSAGE])
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, template: QuoteTemplate) -> "QuoteTemplateRead":
        return cls(id=template.id, name=template.name, header_text=template.header_text,
                   footer_text=template.footer_text, terms=template.terms,
                   accent_color=template.accent_color, email_subject=template.email_subject,
                   email_message=template.email_message, active=template.active,
                   created_at=template.created_at, updated_at=template.updated_at,
                   version=template.version)
