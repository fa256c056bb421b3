"""A sent quote left unanswered past its valid-until day (DOMAIN.md §6).

Readers see such a quote `expired` at once (`quotes.effective_status`); the scheduled job
then stores that status, once per quote, with a `quote.expired` event, and tells every
seller of its opportunity (`quote_expired`)."""

from collections.abc import Sequence
from typing import Any

from salescore.domain.activities.notifications import NewNotification
from salescore.domain.events import DomainEvent

NOTIFICATION = "quote_expired"
# Whom the event log names for what the scheduled job does of its own accord.
ACTOR: dict[str, Any] = {"type": "system", "id": "expire_quotes"}


def expired_event(quote_id: int, number: str | None, opportunity_id: int,
                  valid_until: str, seller_ids: Sequence[int]) -> DomainEvent:
    """The event of a quote stored as expired (its opportunity's sellers named, as the
    events of an answer name them)."""
    return DomainEvent("quote.expired", "quote", quote_id, {
        "number": number, "opportunity_id": opportunity_id, "status": "expired",
        "valid_until": valid_until, "seller_ids": list(seller_ids)})


def expired_notifications(quote_id: int, number: str | None, opportunity_id: int,
                          seller_ids: Sequence[int]) -> list[NewNotification]:
    """Every seller of the quote's opportunity is told that it expired unanswered."""
    text = f"The quote {number} expired without an answer"
    return [NewNotification(user_id, NOTIFICATION, text, opportunity_id=opportunity_id,
                            quote_id=quote_id) for user_id in dict.fromkeys(seller_ids)]
