"""A quote's lifecycle, its number, its public link and the stage a signature moves an
opportunity to (DOMAIN.md §6). The frozen copy and its hash live in `frozen`, re-exported here.

Rules chosen where the spec is silent:
- A quote is `expired` on the day after its valid-until day (in the organization's zone);
  until a job stores that, readers compute it (`effective_status`).
- An unsent draft is invisible to the customer: answering it is "not found"; an expired or
  superseded quote is "gone"; one already answered is a conflict.
"""

import hashlib
import re
from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from salescore.domain.errors import Conflict, Gone, InvalidInput, NotFound
from salescore.domain.quotes.frozen import (
    FrozenLine,
    OfferLine,
    QuoteContent,
    canonical_json,
    content_document,
    content_of,
    content_sha256,
    freeze,
)
from salescore.domain.sales.opportunities import Status
from salescore.domain.sales.processes import Stage

__all__ = [
    "ANSWERED", "Answer", "FrozenLine", "OfferLine", "QuoteContent", "QuoteStatus",
    "canonical_json", "checked_valid_until", "content_document", "content_of",
    "content_sha256", "effective_status", "ensure_answerable", "ensure_editable",
    "ensure_sendable", "freeze", "is_token_shaped", "quote_number", "signed_stage",
    "token_hash",
]

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    SIGNED = "signed"
    CHANGE_REQUESTED = "change_requested"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


ANSWERED = frozenset({QuoteStatus.SIGNED, QuoteStatus.CHANGE_REQUESTED, QuoteStatus.REJECTED})


class Answer(StrEnum):
    """The customer's answer to a sent quote; each is given once and is an event."""

    SIGNED = "signed"
    CHANGE_REQUESTED = "change_requested"
    REJECTED = "rejected"

    @property
    def status(self) -> QuoteStatus:
        """The status the answer leaves the quote in."""
        return QuoteStatus(self.value)

    @property
    def event_type(self) -> str:
        return f"quote.{self.value}"


def effective_status(stored: QuoteStatus, valid_until: date, today: date) -> QuoteStatus:
    """A sent quote whose valid-until day has ended (`today`, in the organization's zone, is
    after it) reads `expired`; any other quote reads as stored."""
    if stored == QuoteStatus.SENT and today > valid_until:
        return QuoteStatus.EXPIRED
    return stored


def ensure_editable(status: QuoteStatus) -> None:
    """Only a draft can be changed or deleted."""
    if status != QuoteStatus.DRAFT:
        raise Conflict("only a draft quote can be changed")


def ensure_sendable(status: QuoteStatus, line_count: int) -> None:
    """Only a draft can be sent, and only with at least one line."""
    if status != QuoteStatus.DRAFT:
        raise Conflict("only a draft quote can be sent")
    if line_count < 1:
        raise InvalidInput.of("lines", "a quote needs at least one line to be sent")


def ensure_answerable(status: QuoteStatus) -> None:
    """A customer answers a sent quote once. `status` is the effective one: an answered
    quote is a conflict, an expired or superseded one is gone, a draft was never sent so
    the customer cannot know of it."""
    if status == QuoteStatus.SENT:
        return
    if status in ANSWERED:
        raise Conflict("the quote has been answered")
    if status == QuoteStatus.EXPIRED:
        raise Gone("the quote has expired")
    if status == QuoteStatus.SUPERSEDED:
        raise Gone("the quote has been replaced by a newer one")
    raise NotFound("quote")


def checked_valid_until(valid_until: date, today: date, field: str = "valid_until") -> date:
    """A quote is valid until today or a later day (`today` in the organization's zone)."""
    if valid_until < today:
        raise InvalidInput.of(field, "must be today or later")
    return valid_until


def quote_number(year: int, n: int) -> str:
    """`Q-<year>-<n>`, n zero-padded to at least four digits: Q-2026-0001, Q-2026-12345."""
    if n < 1:
        raise ValueError(f"quote numbers start at 1, not {n}")
    return f"Q-{year}-{n:04d}"


def token_hash(token: str) -> str:
    """What is stored of a public link's token: the SHA-256 (hex) of its UTF-8."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_token_shaped(token: str) -> bool:
    """Whether `token` could be a link token at all (43 characters of the URL-safe base64
    alphabet); anything else is answered without looking it up."""
    return TOKEN_SHAPE.fullmatch(token) is not None


def signed_stage(stages: Sequence[Stage], current_stage_id: int,
                 status: Status) -> int | None:
    """Where a signed quote moves its opportunity: an open opportunity goes to the stage of
    its process marked "quote signed", if there is one, and only forward; an opportunity
    that is closed, or already on or past that stage (by position), stays (None)."""
    if status != Status.OPEN:
        return None
    target = next((s for s in stages if s.marks_quote_signed), None)
    current = next((s for s in stages if s.id == current_stage_id), None)
    if target is None or current is None or current.position >= target.position:
        return None
    return target.id
