"""Quotes: a frozen offer made from an opportunity's lines, sent to its customer.

- A draft copies the opportunity's current lines, its offer discount and the template's
  texts (`content`), and keeps them: later line changes do not touch it. Only a draft can
  be changed or deleted; changing its template takes the new template's texts.
- Sending numbers it (`Q-<year>-<nnnn>`, the year of the sending day in the organization's
  zone, from the organization's gapless counter), hashes its content, makes its public
  link (a token of 256 random bits, kept only as its SHA-256) and supersedes the
  opportunity's other sent, unanswered quotes. A quote with no lines cannot be sent.
- `link` makes a new token for a sent, unanswered quote; the old link then answers 404.
- Reads give the status a reader should see: a sent quote past its valid-until day (in the
  organization's zone) is expired before any job stores it.
- Writing quotes needs `quotes:write` and the right to change the opportunity (a seller:
  one they own or share in); reading needs `quotes:read`."""

import secrets
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from salescore.domain.access.organization import Organization
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.errors import InvalidInput, NotFound, check_version
from salescore.domain.events import DomainEvent, changes, unchanged
from salescore.domain.listing import ListQuery, Page
from salescore.domain.quotes.quotes import (
    QuoteStatus,
    checked_valid_until,
    ensure_answerable,
    ensure_editable,
    ensure_sendable,
    quote_number,
    token_hash,
)
from salescore.domain.quotes.records import Document, Quote, QuoteEmail
from salescore.domain.sales.opportunities import Opportunity, check_can_edit
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.quotes.content import content_hash, frozen_content
from salescore.services.quotes.mail import EmailOrder, queue_quote_email
from salescore.services.quotes.rendering import quote_pdf_bytes
from salescore.services.sales.opportunities import now_utc


def today_in(organization: Organization, now: datetime) -> date:
    return now.astimezone(ZoneInfo(organization.time_zone)).date()


def as_seen(quote: Quote, today: date) -> Quote:
    """The quote with the status a reader sees on `today`."""
    return replace(quote, status=quote.status_on(today))


def quote_fields(quote: Quote) -> dict[str, Any]:
    """What the event log says of a quote."""
    return {"number": quote.number, "opportunity_id": quote.opportunity_id,
            "status": quote.status.value, "currency": quote.currency,
            "total": str(quote.total), "valid_until": quote.valid_until.isoformat(),
            "template_id": quote.template_id, "contact_id": quote.contact_id,
            "note": quote.note}


async def _organization(uow: UnitOfWork, organization_id: int) -> Organization:
    organization = await uow.organizations.get(organization_id)
    assert organization is not None  # the caller's own
    return organization


async def _editable_opportunity(uow: UnitOfWork, caller: Caller,
                                opportunity_id: int) -> Opportunity:
    opportunity = await uow.opportunities.get(caller.organization_id, opportunity_id)
    if opportunity is None:
        raise NotFound("opportunity")
    check_can_edit(caller, opportunity)
    return opportunity


async def _locked_quote(uow: UnitOfWork, caller: Caller, quote_id: int,
                        if_match: int | None) -> tuple[Quote, Opportunity]:
    """The quote, locked, once the caller may change its opportunity."""
    quote = await uow.quotes.get(caller.organization_id, quote_id, for_update=True)
    if quote is None:
        raise NotFound("quote")
    check_version(quote.version, if_match)
    return quote, await _editable_opportunity(uow, caller, quote.opportunity_id)


async def _checked_contact(uow: UnitOfWork, organization_id: int, customer_id: int,
                           contact_id: int | None) -> None:
    if contact_id is None:
        return
    contact = await uow.contacts.get(organization_id, contact_id)
    if contact is None or contact.customer_id != customer_id:
        raise InvalidInput.of("contact_id", "is not a contact of the opportunity's customer")


async def create_quote(uow: UnitOfWork, *, caller: Caller, opportunity_id: int,
                       template_id: int, valid_until: date, note: str | None = None,
                       contact_id: int | None = None) -> Quote:
    """A draft of the opportunity's current lines, on the template's texts."""
    require(caller, Scope.QUOTES_WRITE)
    org = caller.organization_id
    now = now_utc()
    async with uow:
        organization = await _organization(uow, org)
        today = today_in(organization, now)
        checked_valid_until(valid_until, today)
        opportunity = await _editable_opportunity(uow, caller, opportunity_id)
        contact_id = contact_id if contact_id is not None else opportunity.contact_id
        await _checked_contact(uow, org, opportunity.customer_id, contact_id)
        content = await frozen_content(uow, organization, opportunity, template_id,
                                       valid_until, note)
        quote = await uow.quotes.add(org, {
            "opportunity_id": opportunity.id, "customer_id": opportunity.customer_id,
            "contact_id": contact_id, "valid_until": valid_until, "note": note,
            "created_by": caller.user_id, "updated_by": caller.user_id, **content})
        uow.emit(org, caller.actor,
                 DomainEvent("quote.created", "quote", quote.id, quote_fields(quote)))
        await uow.commit()
    return quote


async def get_quote(uow: UnitOfWork, *, caller: Caller, quote_id: int) -> Quote:
    require(caller, Scope.QUOTES_READ)
    async with uow:
        organization = await _organization(uow, caller.organization_id)
        quote = await uow.quotes.get(caller.organization_id, quote_id)
    if quote is None:
        raise NotFound("quote")
    return as_seen(quote, today_in(organization, now_utc()))


async def list_quotes(uow: UnitOfWork, *, caller: Caller, query: ListQuery,
                      opportunity_id: int | None = None) -> Page[Quote]:
    require(caller, Scope.QUOTES_READ)
    org = caller.organization_id
    async with uow:
        organization = await _organization(uow, org)
        today = today_in(organization, now_utc())
        if opportunity_id is not None and await uow.opportunities.get(
                org, opportunity_id) is None:
            raise NotFound("opportunity")
        page = await uow.quotes.list(org, query, today, opportunity_id)
    return Page([as_seen(q, today) for q in page.items], page.next)


async def update_quote(uow: UnitOfWork, *, caller: Caller, quote_id: int,
                       values: dict[str, Any], if_match: int | None = None) -> Quote:
    """Change a draft's template, valid-until day, note or contact."""
    require(caller, Scope.QUOTES_WRITE)
    org = caller.organization_id
    now = now_utc()
    async with uow:
        organization = await _organization(uow, org)
        today = today_in(organization, now)
        before, opportunity = await _locked_quote(uow, caller, quote_id, if_match)
        ensure_editable(before.status_on(today))
        if "valid_until" in values:
            checked_valid_until(values["valid_until"], today)
        if "contact_id" in values:
            await _checked_contact(uow, org, before.customer_id, values["contact_id"])
        stored = dict(values)
        if {"template_id", "valid_until", "note"} & values.keys():
            merged: dict[str, Any] = {"template_id": before.template_id,
                                      "valid_until": before.valid_until,
                                      "note": before.note} | values
            stored |= await frozen_content(uow, organization, opportunity,
                                           merged["template_id"], merged["valid_until"],
                                           merged["note"], lines_of=before)
        after = await uow.quotes.update(org, quote_id, {**stored, "updated_by": caller.user_id})
        if unchanged(before, after):
            return as_seen(before, today)  # left uncommitted: the version rolls back
        uow.emit(org, caller.actor, DomainEvent("quote.updated", "quote", quote_id, {
            "changes": changes(quote_fields(before), quote_fields(after))}))
        await uow.commit()
    return after


async def delete_quote(uow: UnitOfWork, *, caller: Caller, quote_id: int,
                       if_match: int | None = None) -> None:
    require(caller, Scope.QUOTES_WRITE)
    org = caller.organization_id
    async with uow:
        organization = await _organization(uow, org)
        quote, _ = await _locked_quote(uow, caller, quote_id, if_match)
        ensure_editable(quote.status_on(today_in(organization, now_utc())))
        await uow.quotes.delete(org, quote_id)
        uow.emit(org, caller.actor,
                 DomainEvent("quote.deleted", "quote", quote_id, quote_fields(quote)))
        await uow.commit()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


async def send_quote(uow: UnitOfWork, *, caller: Caller, quote_id: int, public_base: str,
                     email: EmailOrder | None = None,
                     if_match: int | None = None) -> tuple[Quote, str]:
    """Send a draft: its number, content hash and public link (returned, never stored),
    the opportunity's other open quotes superseded, and the e-mail queued when asked."""
    require(caller, Scope.QUOTES_WRITE)
    org = caller.organization_id
    now = now_utc()
    async with uow:
        organization = await _organization(uow, org)
        today = today_in(organization, now)
        before, opportunity = await _locked_quote(uow, caller, quote_id, if_match)
        ensure_sendable(before.status_on(today), len(before.content["lines"]))
        checked_valid_until(before.valid_until, today)
        token = _new_token()
        number = quote_number(today.year, await uow.quotes.next_number(org))
        quote = await uow.quotes.update(org, quote_id, {
            "status": QuoteStatus.SENT.value, "number": number, "sent_at": now,
            "content_sha256": content_hash(before.content), "token_hash": token_hash(token),
            "updated_by": caller.user_id})
        superseded = await uow.quotes.supersede_others(org, quote.opportunity_id, quote.id,
                                                       today)
        url = f"{public_base}/q/{token}"
        uow.emit(org, caller.actor,
                 DomainEvent("quote.sent", "quote", quote.id,
                             quote_fields(quote) | {"content_sha256": quote.content_sha256}),
                 *(DomainEvent("quote.superseded", "quote", other,
                               {"opportunity_id": quote.opportunity_id,
                                "superseded_by": quote.id}) for other in superseded))
        if email is not None:
            await queue_quote_email(uow, caller, organization, opportunity, quote, email, url)
        await uow.commit()
    return quote, url


async def renew_link(uow: UnitOfWork, *, caller: Caller, quote_id: int, public_base: str,
                     email: EmailOrder | None = None) -> tuple[Quote, str]:
    """A new public link for a sent, unanswered quote; the old one stops working."""
    require(caller, Scope.QUOTES_WRITE)
    org = caller.organization_id
    now = now_utc()
    async with uow:
        organization = await _organization(uow, org)
        before, opportunity = await _locked_quote(uow, caller, quote_id, None)
        ensure_answerable(before.status_on(today_in(organization, now)))
        token = _new_token()
        quote = await uow.quotes.update(org, quote_id, {"token_hash": token_hash(token),
                                                        "updated_by": caller.user_id})
        url = f"{public_base}/q/{token}"
        uow.emit(org, caller.actor, DomainEvent("quote.link_renewed", "quote", quote.id,
                                                {"number": quote.number}))
        if email is not None:
            await queue_quote_email(uow, caller, organization, opportunity, quote, email, url)
        await uow.commit()
    return quote, url


async def quote_pdf(uow: UnitOfWork, *, caller: Caller, quote_id: int) -> tuple[Quote, bytes]:
    """The quote as a PDF, from its frozen copy (a draft's is marked DRAFT)."""
    quote = await get_quote(uow, caller=caller, quote_id=quote_id)
    return quote, quote_pdf_bytes(quote)


async def quote_emails(uow: UnitOfWork, *, caller: Caller, quote_id: int) -> list[QuoteEmail]:
    require(caller, Scope.QUOTES_READ)
    async with uow:
        if await uow.quotes.get(caller.organization_id, quote_id) is None:
            raise NotFound("quote")
        return await uow.quotes.emails(caller.organization_id, quote_id)


async def opportunity_documents(uow: UnitOfWork, *, caller: Caller,
                                opportunity_id: int) -> list[Document]:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow:
        if await uow.opportunities.get(caller.organization_id, opportunity_id) is None:
            raise NotFound("opportunity")
        return await uow.quotes.documents_of(caller.organization_id, opportunity_id)


async def document_content(uow: UnitOfWork, *, caller: Caller,
                           document_id: int) -> tuple[Document, bytes]:
    require(caller, Scope.OPPORTUNITIES_READ)
    async with uow:
        found = await uow.quotes.document_content(caller.organization_id, document_id)
    if found is None:
        raise NotFound("document")
    return found
