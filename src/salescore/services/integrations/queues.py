"""What the worker's queues hold, and what its deliveries came to (for `GET /metrics`)."""

from dataclasses import dataclass

from prometheus_client import Counter

from salescore.repositories.unit_of_work import UnitOfWork

# Incremented by the delivery worker: one per attempt recorded, by what it came to
# (succeeded, retried, failed).
DELIVERY_OUTCOMES = Counter("salescore_webhook_attempts_total",
                            "Webhook delivery attempts, by outcome", ["outcome"])


@dataclass(frozen=True, slots=True)
class QueueDepths:
    deliveries_pending: int
    oldest_due_seconds: float
    emails_queued: int


async def queue_depths(uow: UnitOfWork) -> QueueDepths:
    async with uow.reading():
        pending, oldest_due, emails, now = await uow.queues.depths()
    waited = 0.0 if oldest_due is None else max(0.0, (now - oldest_due).total_seconds())
    return QueueDepths(pending, waited, emails)
