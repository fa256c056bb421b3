"""Quote templates: the texts and colour a quote is laid out with, and the standard subject
and text of the e-mail that sends it.

The e-mail texts may hold the placeholders `{link}`, `{number}`, `{customer}`, `{seller}`
and `{valid_until}`, filled in when the quote is sent. Any other `{word}` is refused when
the template is written (most likely a misspelt placeholder, which would reach the customer
as it stands); braces around anything that is not a word (`{ }`, `{1}`, a lone `{`) are
plain text. A template without its own e-mail texts has the standard ones."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from salescore.domain.errors import FieldError, InvalidInput
from salescore.domain.events import DomainEvent, changes

PLACEHOLDERS = ("link", "number", "customer", "seller", "valid_until")
DEFAULT_EMAIL_SUBJECT = "Quote {number} from {seller}"
DEFAULT_EMAIL_MESSAGE = (
    "Hello,\n\n"
    "Thank you for your interest. Our quote {number} is ready for you: you can read it, "
    "sign it or ask for a change here:\n\n{link}\n\n"
    "The quote is valid until {valid_until}. Do not hesitate to get in touch if you have "
    "any questions.\n\n"
    "Kind regards,\n{seller}\n")
EMAIL_TEXTS = {"email_subject": DEFAULT_EMAIL_SUBJECT, "email_message": DEFAULT_EMAIL_MESSAGE}
_WORD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KNOWN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_KNOWN_LIST = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


@dataclass(frozen=True, slots=True)
class QuoteTemplate:
    id: int
    organization_id: int
    name: str
    header_text: str | None
    footer_text: str | None
    terms: str | None
    accent_color: str | None
    email_subject: str
    email_message: str
    active: bool
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int


def fill_email_text(text: str, values: Mapping[str, str]) -> str:
    """`text` with each of the five placeholders replaced by its value in `values`, in one
    pass (a value that itself reads `{number}` stays as it is). Every other brace, and a
    placeholder `values` has no value for, is left exactly as written."""
    return _KNOWN.sub(lambda found: values.get(found[1], found[0]), text)


def unknown_placeholders(text: str) -> list[str]:
    """The `{word}`s of `text` that are not placeholders, each once, in order."""
    words = [found[1] for found in _WORD.finditer(text) if found[1] not in PLACEHOLDERS]
    return list(dict.fromkeys(words))


def _email_text_errors(field: str, text: str) -> list[FieldError]:
    errors = []
    if field == "email_subject" and ("\n" in text or "\r" in text):
        errors.append(FieldError(field, "must be one line (an e-mail subject)"))
    unknown = unknown_placeholders(text)
    if unknown:
        named = ", ".join(f"{{{word}}}" for word in unknown)
        errors.append(FieldError(field, f"has unknown placeholders {named}; "
                                        f"the known ones are {_KNOWN_LIST}"))
    return errors


def check_template_values(values: dict[str, Any]) -> dict[str, Any]:
    """The fields of a template write, checked and made ready to store: an accent colour is
    `#RRGGBB` (kept in capitals), an e-mail subject is one line, and the e-mail texts hold
    no placeholder but the five known ones. An e-mail text left out of a new template, or
    cleared with null, is the standard one."""
    values = dict(values)
    errors: list[FieldError] = []
    color = values.get("accent_color")
    if color is not None:
        if _COLOR.fullmatch(color):
            values["accent_color"] = color.upper()
        else:
            errors.append(FieldError("accent_color", "must be a colour as #RRGGBB, "
                                                     "e.g. #1F6FEB"))
    for field, standard in EMAIL_TEXTS.items():
        if field in values and values[field] is None:
            values[field] = standard
        if field in values:
            errors += _email_text_errors(field, values[field])
    if errors:
        raise InvalidInput(*errors)
    return values


def template_fields(template: QuoteTemplate) -> dict[str, Any]:
    """What a template says about itself, as its events record it."""
    return {"name": template.name, "header_text": template.header_text,
            "footer_text": template.footer_text, "terms": template.terms,
            "accent_color": template.accent_color, "email_subject": template.email_subject,
            "email_message": template.email_message, "active": template.active}


def created_event(template: QuoteTemplate) -> DomainEvent:
    return DomainEvent("quote_template.created", "quote_template", template.id,
                       template_fields(template))


def updated_event(before: QuoteTemplate, after: QuoteTemplate) -> DomainEvent:
    """`quote_template.updated`, with every changed field as {"from", "to"}."""
    return DomainEvent("quote_template.updated", "quote_template", after.id, {
        "changes": changes(template_fields(before), template_fields(after))})


def deleted_event(template: QuoteTemplate) -> DomainEvent:
    """`quote_template.deleted`: a tombstone with what the template was."""
    return DomainEvent("quote_template.deleted", "quote_template", template.id,
                       template_fields(template))
