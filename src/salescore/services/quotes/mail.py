"""The quote e-mail: queued in the send (or link) transaction as the finished message, the
link in its text and the PDF attached, for the worker to deliver; logged as a note on the
opportunity. Its subject and text default to the template's, with `{link}`, `{number}`,
`{customer}`, `{seller}` (the sending user, or the opportunity's owner when an API key
sends) and `{valid_until}` filled in.

The worker then takes one queued message at a time (`claim_email`), hands it over and
records how it went (`email_sent`, `email_failed`; the rules are in domain/quotes/emails.py):
the message is held by no transaction while it is being sent."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from salescore.domain.access.organization import Organization
from salescore.domain.access.permissions import Caller
from salescore.domain.activities.activities import Activity, ActivityKind, Origin, change_event
from salescore.domain.errors import NotFound
from salescore.domain.quotes.emails import EmailStatus, OutgoingEmail, retry_at
from salescore.domain.quotes.records import Quote
from salescore.domain.quotes.templates import fill_email_text
from salescore.domain.sales.opportunities import Opportunity
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.quotes.rendering import quote_pdf_bytes


@dataclass(frozen=True, slots=True)
class EmailOrder:
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str | None
    message: str | None
    sender: str


async def queue_quote_email(uow: UnitOfWork, caller: Caller, organization: Organization,
                            opportunity: Opportunity, quote: Quote, order: EmailOrder,
                            link: str) -> None:
    org = organization.id
    template = await uow.quote_templates.get(org, quote.template_id)
    if template is None:
        raise NotFound("quote template", field="template_id")
    seller = await uow.users.get(org, caller.user_id or opportunity.owner_id)
    values = {"link": link, "number": quote.number or "", "valid_until":
              quote.valid_until.isoformat(), "customer": quote.content["customer_name"],
              "seller": seller.name if seller is not None else organization.name}
    subject = " ".join(fill_email_text(order.subject or template.email_subject or "",
                                       values).split())  # one line: names may hold breaks
    text = fill_email_text(order.message or template.email_message or "", values)
    if link not in text:
        text = f"{text}\n\n{link}\n"
    message = EmailMessage()
    message["From"] = order.sender
    message["To"] = ", ".join(order.to)
    if order.cc:
        message["Cc"] = ", ".join(order.cc)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=order.sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_attachment(quote_pdf_bytes(quote), maintype="application", subtype="pdf",
                           filename=f"{quote.number}.pdf")
    await uow.quotes.add_email(org, {"quote_id": quote.id, "to": list(order.to),
                                     "cc": list(order.cc), "subject": subject,
                                     "message": message.as_bytes(),
                                     "created_by": caller.user_id})
    await _log_note(uow, caller, opportunity, quote, order, subject)


async def _log_note(uow: UnitOfWork, caller: Caller, opportunity: Opportunity, quote: Quote,
                    order: EmailOrder, subject: str) -> None:
    now = datetime.now(UTC)
    recipients = "To: " + ", ".join(order.to)
    if order.cc:
        recipients += "\nCc: " + ", ".join(order.cc)
    draft = Activity(
        id=0, organization_id=opportunity.organization_id, kind=ActivityKind.NOTE,
        subject=f"Quote {quote.number} e-mailed: {subject}"[:200],
        text=recipients, due_at=None, starts_at=None, ends_at=None, done=False,
        done_at=None, assignee_id=caller.user_id,
        customer_id=opportunity.customer_id, contact_id=quote.contact_id,
        opportunity_id=opportunity.id, origin=Origin.QUOTE_EMAIL, created_at=now,
        created_by=caller.user_id, updated_at=now, version=1)
    [new_id] = await uow.activities.add([draft])
    event = change_event(None, replace(draft, id=new_id))
    if event is not None:
        uow.emit(opportunity.organization_id, caller.actor, event)


async def claim_email(uow: UnitOfWork, *, now: datetime,
                      lease: timedelta) -> OutgoingEmail | None:
    """The queued message due longest, taken for an attempt for `lease` at most."""
    async with uow:
        email = await uow.quotes.claim_email(now, now + lease)
        await uow.commit()
    return email


async def email_sent(uow: UnitOfWork, email: OutgoingEmail, *, now: datetime,
                     note: str | None = None) -> None:
    """Handed over: `sent`, its body dropped; `note` says which recipients, if any, the
    server refused while taking it for the others."""
    async with uow:
        await uow.quotes.finish_email(email, {"status": EmailStatus.SENT.value,
                                              "sent_at": now, "message": None,
                                              "error": note})
        await uow.commit()


async def email_failed(uow: UnitOfWork, email: OutgoingEmail, *, error: str, now: datetime,
                       schedule: Sequence[int]) -> datetime | None:
    """The attempt failed: tried again by the schedule (when, returned), else `failed` and
    its body dropped (None). The error is kept either way."""
    again = retry_at(email.attempts, schedule, now)
    values: dict[str, object] = {"error": error[:2000]}
    if again is None:
        values |= {"status": EmailStatus.FAILED.value, "message": None}
    else:
        values["next_attempt_at"] = again
    async with uow:
        await uow.quotes.finish_email(email, values)
        await uow.commit()
    return again


async def release_email(uow: UnitOfWork, email: OutgoingEmail, *, now: datetime) -> None:
    """Give back a message taken for an attempt that was not made (the worker stopping):
    the attempt uncounted, due again at once."""
    async with uow:
        await uow.quotes.finish_email(email, {"attempts": email.attempts - 1,
                                              "next_attempt_at": now})
        await uow.commit()
