"""The webhook delivery loop.

It claims due deliveries (a lease of LEASE, longer than an attempt's 15 s), as many as it
has free of `worker_concurrency` slots, commits the claim, and makes each attempt in a task
of its own, with no transaction open while the request is out; each task then records its
attempt in one short transaction, if the lease is still its own. It looks for work when a
`NOTIFY salescore_deliveries` says some was committed (one connection LISTENing), when an
attempt ends (a slot is free), when the soonest retry falls due, and every
`worker_poll_seconds` whatever happens (a notification lost while the listener was down).

Once `stopping` is set it claims nothing more and waits for the attempts in flight. When
the worker cancels it (after `shutdown_grace_seconds`), the attempts still in flight are
cancelled, unrecorded, and their leases given back (`leased_until` NULL): another worker
sends them at once rather than once the lease has run out."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from salescore.repositories.integrations.deliveries import (
    ClaimedDelivery,
    listen_for_deliveries,
)
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.guard import Resolver, system_resolver
from salescore.services.integrations.sending import (
    Sender,
    attempt_delivery,
    claim_deliveries,
    release_claims,
    soonest_due,
)
from salescore.workers.context import Loop, WorkerContext, first_of

log = logging.getLogger("salescore.webhooks")
LEASE = timedelta(seconds=60)
# Nothing claimed though something seemed due (another worker's claim held it): a pause,
# so as not to spin.
IDLE = 0.05
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def delivery_loop(*, resolver: Resolver = system_resolver, clock: Clock = _now) -> Loop:
    """The loop, with the name resolver of its SSRF guard and its clock (for tests)."""

    async def deliver_webhooks(context: WorkerContext, stopping: asyncio.Event) -> None:
        await _Deliverer(context, resolver, clock).run(stopping)

    return deliver_webhooks


deliver_webhooks = delivery_loop()


class _Deliverer:
    def __init__(self, context: WorkerContext, resolver: Resolver, clock: Clock) -> None:
        settings = context.settings
        self._context = context
        self._clock = clock
        self._concurrency = settings.worker_concurrency
        self._sender = Sender(allow_private=settings.webhook_allow_private_networks,
                              resolver=resolver, concurrency=self._concurrency, clock=clock)
        self._key = settings.secrets_encryption_key()
        self._schedule = settings.retry_schedule()
        self._wake = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], ClaimedDelivery] = {}
        self._unrecorded: list[ClaimedDelivery] = []

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._context.sessions)

    async def run(self, stopping: asyncio.Event) -> None:
        listener = asyncio.create_task(listen_for_deliveries(self._context.engine,
                                                             self._wake.set))
        try:
            while not stopping.is_set():
                wait = await self._round()
                await first_of(self._wake, stopping, seconds=wait)
            if self._in_flight:
                await asyncio.wait(list(self._in_flight))
        except asyncio.CancelledError:
            for task in self._in_flight:
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            raise
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await self._give_back()
            await self._sender.aclose()

    async def _round(self) -> float:
        """Claim what there is room for; how long to wait before the next round (unless
        woken before)."""
        poll = self._context.settings.worker_poll_seconds
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return poll
        self._wake.clear()
        try:
            claims = await claim_deliveries(self._uow(), limit=free, lease=LEASE)
            if len(claims) == free:
                soonest = None
            else:
                soonest = await soonest_due(self._uow())
        except Exception:  # the database is away: look again at the next poll
            log.exception("webhook deliveries could not be claimed")
            return poll
        for claim in claims:
            task = asyncio.create_task(self._attempt(claim))
            self._in_flight[task] = claim
            task.add_done_callback(self._ended)
        if soonest is None:
            return poll
        wait = (soonest - self._clock()).total_seconds()
        return min(poll, max(wait, IDLE))

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._wake.set()

    async def _attempt(self, claim: ClaimedDelivery) -> None:
        try:
            await attempt_delivery(self._uow(), self._sender, claim, key=self._key,
                                   schedule=self._schedule, clock=self._clock)
        except asyncio.CancelledError:
            self._unrecorded.append(claim)
            raise
        except Exception:  # recorded nowhere: given back, to be tried again at once
            log.exception("webhook delivery %s of organization %s failed",
                          claim.id, claim.organization_id)
            await self._give_back([claim])

    async def _give_back(self, claims: list[ClaimedDelivery] | None = None) -> None:
        """Release the leases of `claims`, else of every attempt cancelled."""
        unrecorded = claims
        if unrecorded is None:
            unrecorded, self._unrecorded = self._unrecorded, []
        if unrecorded:
            try:
                await release_claims(self._uow(), unrecorded)
            except Exception:  # their leases run out on their own
                log.exception("leases of %d webhook deliveries not given back",
                              len(unrecorded))


