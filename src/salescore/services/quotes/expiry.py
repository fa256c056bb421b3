"""Storing the expiry of quotes (the scheduled job `expire_quotes`).

A sent quote whose valid-until day has ended in its organization's zone already reads
`expired` everywhere (reads, the status filter, superseding, the public link's 410); this
stores that status, so that the change feed and the sellers hear of it: per quote, once, a
`quote.expired` event and a `quote_expired` notification to each seller of its
opportunity, in the transaction that stores the status. A quote an answer holds locked at
that moment is left to the next run (the answer, for its part, finds it expired and is
refused). Quotes go in batches of `batch`, one transaction each, every organization's
together."""

from datetime import datetime

from salescore.domain.quotes.expiry import ACTOR, expired_event, expired_notifications
from salescore.repositories.unit_of_work import UnitOfWork

BATCH = 200


async def expire_quotes(uow: UnitOfWork, *, now: datetime, batch: int = BATCH) -> int:
    """Store as expired every sent, unanswered quote past its valid-until day at `now`;
    returns how many were."""
    total = 0
    while True:
        async with uow:
            expired = await uow.quotes.expire_due(now, batch)
            for quote, seller_ids in expired:
                uow.emit(quote.organization_id, ACTOR, expired_event(
                    quote.id, quote.number, quote.opportunity_id,
                    quote.valid_until.isoformat(), seller_ids))
            await uow.inbox.add([
                (quote.organization_id, notification)
                for quote, seller_ids in expired
                for notification in expired_notifications(quote.id, quote.number,
                                                           quote.opportunity_id, seller_ids)])
            await uow.commit()
        total += len(expired)
        if len(expired) < batch:
            return total
