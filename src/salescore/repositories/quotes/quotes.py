"""Quotes, the organization's quote numbers, their e-mails and the documents they leave.

The scheduled expiry and the e-mail queue are the two places quotes are found across
organizations (`expire_due`, `claim_email`), each row then handled within its own."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.listing import ListQuery, Page
from salescore.domain.quotes.emails import EmailStatus, OutgoingEmail
from salescore.domain.quotes.quotes import QuoteStatus
from salescore.domain.quotes.records import Document, Quote, QuoteEmail
from salescore.repositories.access.models import organizations
from salescore.repositories.listing import fetch_page
from salescore.repositories.quotes.models import documents, quote_counters, quote_emails, quotes
from salescore.repositories.sales.models import opportunity_sellers

_DOCUMENT_COLUMNS = [c for c in documents.c if c.name != "content"]


def quote_to_domain(row: Any) -> Quote:
    values = {name: getattr(row, name) for name in Quote.__slots__}
    return Quote(**{**values, "status": QuoteStatus(row.status)})


def _email(row: Any) -> QuoteEmail:
    return QuoteEmail(id=row.id, organization_id=row.organization_id, quote_id=row.quote_id,
                      to=tuple(row.to), cc=tuple(row.cc), subject=row.subject,
                      status=row.status, sent_at=row.sent_at, error=row.error,
                      created_at=row.created_at)


def _document(row: Any) -> Document:
    values = {name: getattr(row, name) for name in Document.__slots__}
    return Document(**values)


def effective_status(today: date) -> ColumnElement[Any]:
    """The status a reader sees on `today`, as SQL (see `Quote.status_on`)."""
    return case((and_(quotes.c.status == QuoteStatus.SENT.value, quotes.c.valid_until < today),
                 literal(QuoteStatus.EXPIRED.value)), else_=quotes.c.status)


class QuoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _mine(organization_id: int) -> ColumnElement[bool]:
        return quotes.c.organization_id == organization_id

    async def add(self, organization_id: int, values: dict[str, Any]) -> Quote:
        stmt = (insert(quotes).values(organization_id=organization_id, **values)
                .returning(*quotes.c))
        return quote_to_domain((await self._session.execute(stmt)).one())

    async def get(self, organization_id: int, quote_id: int, *,
                  for_update: bool = False) -> Quote | None:
        stmt = select(quotes).where(self._mine(organization_id), quotes.c.id == quote_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else quote_to_domain(row)

    async def by_token(self, token_hash: str, *, for_update: bool = False) -> Quote | None:
        """The quote whose public link has this token, in whichever organization: the
        token is the link's only credential."""
        stmt = select(quotes).where(quotes.c.token_hash == token_hash)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else quote_to_domain(row)

    async def update(self, organization_id: int, quote_id: int,
                     values: dict[str, Any]) -> Quote:
        stmt = (update(quotes).where(self._mine(organization_id), quotes.c.id == quote_id)
                .values(**values, version=quotes.c.version + 1, updated_at=func.now())
                .returning(*quotes.c))
        return quote_to_domain((await self._session.execute(stmt)).one())

    async def delete(self, organization_id: int, quote_id: int) -> None:
        await self._session.execute(delete(quotes).where(self._mine(organization_id),
                                                         quotes.c.id == quote_id))

    async def next_number(self, organization_id: int) -> int:
        """The organization's next quote number. The counter's row stays locked until the
        transaction ends, so concurrent sends take numbers one after another, and a send
        that rolls back gives its number back: no gaps, no duplicates."""
        stmt = (insert(quote_counters).values(organization_id=organization_id, last_number=1)
                .on_conflict_do_update(index_elements=[quote_counters.c.organization_id],
                                       set_={"last_number": quote_counters.c.last_number + 1})
                .returning(quote_counters.c.last_number))
        return int((await self._session.execute(stmt)).scalar_one())

    async def supersede_others(self, organization_id: int, opportunity_id: int,
                               quote_id: int, today: date) -> list[int]:
        """Mark the opportunity's other sent, unanswered, unexpired quotes superseded; their
        ids."""
        stmt = (update(quotes)
                .where(self._mine(organization_id), quotes.c.opportunity_id == opportunity_id,
                       quotes.c.id != quote_id, quotes.c.status == QuoteStatus.SENT.value,
                       quotes.c.valid_until >= today)
                .values(status=QuoteStatus.SUPERSEDED.value, version=quotes.c.version + 1,
                        updated_at=func.now())
                .returning(quotes.c.id))
        return list((await self._session.execute(stmt)).scalars())

    async def add_email(self, organization_id: int, values: dict[str, Any]) -> QuoteEmail:
        stmt = (insert(quote_emails).values(organization_id=organization_id, **values)
                .returning(*quote_emails.c))
        return _email((await self._session.execute(stmt)).one())

    async def emails(self, organization_id: int, quote_id: int) -> list[QuoteEmail]:
        stmt = (select(quote_emails).where(quote_emails.c.organization_id == organization_id,
                                           quote_emails.c.quote_id == quote_id)
                .order_by(quote_emails.c.id))
        return [_email(row) for row in await self._session.execute(stmt)]

    async def add_document(self, organization_id: int, values: dict[str, Any]) -> Document:
        stmt = (insert(documents).values(organization_id=organization_id, **values)
                .returning(*_DOCUMENT_COLUMNS))
        return _document((await self._session.execute(stmt)).one())

    async def documents_of(self, organization_id: int, opportunity_id: int) -> list[Document]:
        stmt = (select(*_DOCUMENT_COLUMNS)
                .where(documents.c.organization_id == organization_id,
                       documents.c.opportunity_id == opportunity_id)
                .order_by(documents.c.id))
        return [_document(row) for row in await self._session.execute(stmt)]

    async def document_content(self, organization_id: int,
                               document_id: int) -> tuple[Document, bytes] | None:
        stmt = select(*_DOCUMENT_COLUMNS, documents.c.content).where(
            documents.c.organization_id == organization_id, documents.c.id == document_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else (_document(row), bytes(row.content))

    async def expire_due(self, now: datetime, limit: int) -> list[tuple[Quote, list[int]]]:
        """Store `expired` on up to `limit` sent quotes, of any organization, whose
        valid-until day has ended in their organization's zone at `now`, skipping those
        another transaction holds (an answer being applied); each with the user ids of its
        opportunity's sellers, in the order they were added."""
        o, s = organizations, opportunity_sellers
        today = cast(func.timezone(o.c.time_zone, literal(now)), Date)
        due = (select(quotes.c.organization_id, quotes.c.id)
               .join(o, o.c.id == quotes.c.organization_id)
               .where(quotes.c.status == QuoteStatus.SENT.value,
                      # no zone is more than a day ahead of UTC: this holds too, and is indexable
                      quotes.c.valid_until <= now.astimezone(UTC).date(),
                      quotes.c.valid_until < today)
               .order_by(quotes.c.organization_id, quotes.c.id).limit(limit)
               .with_for_update(of=quotes, skip_locked=True).cte("due"))
        sellers = (select(func.coalesce(func.array_agg(aggregate_order_by(
                       s.c.user_id, s.c.added_seq)), []))
                   .where(s.c.organization_id == quotes.c.organization_id,
                          s.c.opportunity_id == quotes.c.opportunity_id)
                   .correlate(quotes).scalar_subquery().label("seller_ids"))
        stmt = (update(quotes)
                .where(quotes.c.organization_id == due.c.organization_id,
                       quotes.c.id == due.c.id)
                .values(status=QuoteStatus.EXPIRED.value, version=quotes.c.version + 1,
                        updated_at=func.now())
                .returning(*quotes.c, sellers))
        rows = (await self._session.execute(stmt)).all()
        return sorted(((quote_to_domain(row), list(row.seller_ids)) for row in rows),
                      key=lambda found: (found[0].organization_id, found[0].id))

    async def claim_email(self, now: datetime, lease_until: datetime) -> OutgoingEmail | None:
        """Take the queued e-mail, of any organization, that has been due longest (at
        `now`) and that no other worker holds: its attempt is counted, and it is not due
        again before `lease_until` (when a worker that died with it lets it go)."""
        e = quote_emails
        due = (select(e.c.organization_id, e.c.id)
               .where(e.c.status == EmailStatus.QUEUED.value, e.c.next_attempt_at <= now)
               .order_by(e.c.next_attempt_at).limit(1)
               .with_for_update(skip_locked=True).cte("due"))
        stmt = (update(e).where(e.c.organization_id == due.c.organization_id,
                                e.c.id == due.c.id)
                .values(attempts=e.c.attempts + 1, next_attempt_at=lease_until)
                .returning(e.c.organization_id, e.c.id, e.c.quote_id, e.c.to, e.c.cc,
                           e.c.message, e.c.attempts))
        row = (await self._session.execute(stmt)).one_or_none()
        if row is None:
            return None
        return OutgoingEmail(organization_id=row.organization_id, id=row.id,
                             quote_id=row.quote_id, to=tuple(row.to), cc=tuple(row.cc),
                             message=bytes(row.message), attempts=row.attempts)

    async def finish_email(self, email: OutgoingEmail, values: dict[str, Any]) -> bool:
        """Record how the attempt went, while the message is still queued and this
        attempt is still its last (no other worker took it meanwhile); whether it was."""
        e = quote_emails
        stmt = (update(e).where(e.c.organization_id == email.organization_id,
                                e.c.id == email.id, e.c.status == EmailStatus.QUEUED.value,
                                e.c.attempts == email.attempts)
                .values(**values).returning(e.c.id))
        return (await self._session.execute(stmt)).first() is not None

    # Last: below it, `list` in an annotation would name this method.
    async def list(self, organization_id: int, query: ListQuery, today: date,
                   opportunity_id: int | None = None) -> Page[Quote]:
        columns = {"id": quotes.c.id, "opportunity_id": quotes.c.opportunity_id,
                   "customer_id": quotes.c.customer_id, "status": effective_status(today),
                   "valid_until": quotes.c.valid_until, "created_at": quotes.c.created_at,
                   "updated_at": quotes.c.updated_at, "number": quotes.c.number}
        stmt = select(quotes).where(self._mine(organization_id))
        if opportunity_id is not None:
            stmt = stmt.where(quotes.c.opportunity_id == opportunity_id)
        return await fetch_page(self._session, stmt, query, columns, quotes.c.id,
                                quote_to_domain)
