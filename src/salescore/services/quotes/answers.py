"""A customer's answer to a sent quote — signed, a change asked for, or rejected — through
its public link or an e-signature provider's callback (DOMAIN.md §6).

One answer per quote: the quote's row is locked first, so of concurrent answers one is
applied and the others find it answered (409). A signature through the link has its signed
PDF rendered before that lock is taken (from the frozen copy, which no longer changes once
sent, with the signer, the time and the address of the request), so that no lock is held
while it is made; what cannot be answered is refused before anything is rendered. In the
same transaction as the answer and its event:
- signed: an open opportunity moves forward to its process's "quote signed" stage, with
  that stage's probability (`signed_stage`); the signed PDF (the provider's, or ours with
  the signer, time and content hash on it) is stored as the opportunity's document;
- every seller of the opportunity is notified, with the comment if there is one.
Who answered is recorded: name and e-mail (`signed_by_*`, for a signature), the address
and user agent of the request, and how (`link` or `provider:<kind>`)."""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from salescore.domain.access.organization import Organization, check_email
from salescore.domain.access.permissions import Caller, Role
from salescore.domain.errors import Gone, NotFound
from salescore.domain.events import DomainEvent
from salescore.domain.quotes.quotes import (
    Answer,
    QuoteStatus,
    ensure_answerable,
    is_token_shaped,
    signed_stage,
    token_hash,
)
from salescore.domain.quotes.records import Quote
from salescore.domain.sales.opportunities import Opportunity, move
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.quotes.quotes import as_seen, today_in
from salescore.services.quotes.rendering import Signature, quote_pdf_bytes
from salescore.services.sales.opportunities import load_process, locked_for_change, store_change

GONE = frozenset({QuoteStatus.EXPIRED, QuoteStatus.SUPERSEDED})


@dataclass(frozen=True, slots=True)
class Answerer:
    name: str | None
    email: str | None
    ip: str | None
    user_agent: str | None
    method: str  # "link", or "provider:<kind>"
    signed_at: datetime | None = None  # when a provider says the signer answered


def answered_at(answerer: Answerer, now: datetime) -> datetime:
    """When the quote was answered: the provider's time, never later than now; else now."""
    return min(answerer.signed_at, now) if answerer.signed_at else now


def outsider(quote: Quote, method: str) -> Caller:
    """Whom the event log names for an answer: the link's holder, or the provider."""
    kind = "quote_link" if method == "link" else "esign_provider"
    return Caller(organization_id=quote.organization_id, role=Role.INTEGRATION,
                  scopes=frozenset(), outsider=(kind, quote.id))


async def _quote_of_token(uow: UnitOfWork, token: str, *,
                          for_update: bool) -> tuple[Quote, Organization]:
    if not is_token_shaped(token):
        raise NotFound("quote")
    quote = await uow.quotes.by_token(token_hash(token), for_update=for_update)
    if quote is None:
        raise NotFound("quote")
    organization = await uow.organizations.get(quote.organization_id)
    assert organization is not None
    return quote, organization


async def open_public_quote(uow: UnitOfWork, *, token: str,
                            now: datetime) -> tuple[Quote, Organization]:
    """The quote a link shows, as its customer sees it; the first open of a sent quote
    sets `viewed_at`. An expired or superseded quote is gone (410)."""
    async with uow:
        quote, organization = await _quote_of_token(uow, token, for_update=False)
        today = today_in(organization, now)
        seen = quote.status_on(today)
        if seen in GONE:
            raise Gone(f"the quote is {seen.value}")
        if seen is QuoteStatus.SENT and quote.viewed_at is None:
            quote = await uow.quotes.update(organization.id, quote.id, {"viewed_at": now})
            uow.emit(organization.id, outsider(quote, "link").actor, DomainEvent(
                "quote.viewed", "quote", quote.id, {"number": quote.number,
                                                    "opportunity_id": quote.opportunity_id}))
            await uow.commit()
    return as_seen(quote, today), organization


async def answer_by_link(uow: UnitOfWork, *, token: str, answer: Answer, answerer: Answerer,
                         comment: str | None, now: datetime) -> Quote:
    """The customer's answer through the quote's link; an e-mail given must be one."""
    if answerer.email is not None:
        check_email(answerer.email)
    signed_pdf, organization = None, None
    if answer is Answer.SIGNED:
        async with uow.reading():
            quote, organization = await _quote_of_token(uow, token, for_update=False)
        ensure_answerable(quote.status_on(today_in(organization, now)))
        signature = Signature(name=answerer.name or "", email=answerer.email or "",
                              signed_at=now, ip=answerer.ip)
        signed_pdf = _signed_copy(quote, signature)
    async with uow:
        if organization is None:
            quote, organization = await _quote_of_token(uow, token, for_update=True)
        else:  # the organization was read with the quote before its signed copy was made
            locked = await uow.quotes.by_token(token_hash(token), for_update=True)
            if locked is None:
                raise NotFound("quote")
            quote = locked
        answered = await apply_answer(uow, quote, organization, answer, answerer, comment,
                                      now, signed_pdf)
        await uow.commit()
    return answered


def _signed_copy(quote: Quote, signature: Signature) -> bytes:
    """Our PDF of `quote` with `signature` on it."""
    return quote_pdf_bytes(replace(quote, status=QuoteStatus.SIGNED), signature)


async def apply_answer(uow: UnitOfWork, quote: Quote, organization: Organization,
                       answer: Answer, answerer: Answerer, comment: str | None,
                       now: datetime, signed_pdf: bytes | None = None) -> Quote:
    """The answer and its effects, on a quote the caller has locked; raises, changing
    nothing, when the quote cannot take it (answered: 409, expired or superseded: 410)."""
    today = today_in(organization, now)
    ensure_answerable(quote.status_on(today))
    caller = outsider(quote, answerer.method)
    signed = answer is Answer.SIGNED
    answered = await uow.quotes.update(organization.id, quote.id, {
        "status": answer.status.value, "responded_at": answered_at(answerer, now),
        "response_comment": comment,
        "signed_by_name": answerer.name if signed else None,
        "signed_by_email": answerer.email if signed else None,
        "signed_ip": answerer.ip, "signed_user_agent": answerer.user_agent,
        "signature_method": answerer.method})
    opportunity = await locked_for_change(uow, caller, quote.opportunity_id, None,
                                          placing=signed)
    if signed:
        await _move_to_signed_stage(uow, caller, opportunity, now)
        await _store_signed_document(uow, answered, signed_pdf, now)
    uow.emit(organization.id, caller.actor, DomainEvent(answer.event_type, "quote", quote.id, {
        "number": quote.number, "opportunity_id": quote.opportunity_id,
        "answered_by": answerer.name, "email": answerer.email, "comment": comment,
        "method": answerer.method, "seller_ids": [s.user_id for s in opportunity.sellers]}))
    return answered


async def _move_to_signed_stage(uow: UnitOfWork, caller: Caller, opportunity: Opportunity,
                                now: datetime) -> None:
    process = await load_process(uow, opportunity.organization_id,
                                 opportunity.sales_process_id)
    target = signed_stage(process.stages, opportunity.stage_id, opportunity.status)
    if target is not None:
        await store_change(uow, caller, opportunity,
                           move(opportunity, process, target, now=now), now)


async def _store_signed_document(uow: UnitOfWork, quote: Quote, signed_pdf: bytes | None,
                                 now: datetime) -> None:
    pdf = signed_pdf if signed_pdf is not None else _signed_copy(quote, Signature(
        name=quote.signed_by_name or "", email=quote.signed_by_email or "",
        signed_at=quote.responded_at or now, ip=quote.signed_ip))
    await uow.quotes.add_document(quote.organization_id, {
        "opportunity_id": quote.opportunity_id, "quote_id": quote.id, "kind": "signed_quote",
        "file_name": f"{quote.number}-signed.pdf", "content_type": "application/pdf",
        "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest(), "content": pdf})
