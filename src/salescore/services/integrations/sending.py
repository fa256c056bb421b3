"""Sending webhook messages, and what the workers do with each delivery they claim.

A message is signed per Standard Webhooks (the `standardwebhooks` package): `webhook-id`
(a delivery's: its event's id, the same on every attempt), `webhook-timestamp` (the
attempt's second) and `webhook-signature`, with the endpoint's current secret and, while a
rotated-out one has not expired, that one too (space-separated). A delivery's body is its
event exactly as `GET /v1/events` gives it (`id`, `type`, `aggregate_type`,
`aggregate_id`, `occurred_at`, `actor`, `data`).

An attempt is one POST through the SSRF guard (guard.py), with redirects not followed
and 15 seconds for all of it; no transaction is open meanwhile. HTTPS connections are not
kept for another request: pooled by address, one could otherwise carry a request for
another name on a connection whose certificate was checked for the first. Only while
every address of the host is public is the start of the answer (1 kB) kept."""

import asyncio
import logging
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pydantic_core
from standardwebhooks import Webhook

from salescore import __version__
from salescore.domain.access.permissions import Caller, Scope, require
from salescore.domain.activities.notifications import NewNotification
from salescore.domain.errors import Contended, NotFound
from salescore.domain.events import DomainEvent
from salescore.domain.integrations.delivery import (
    DISABLED_NOTIFICATION,
    EXCERPT_BYTES,
    NO_SUCCESS,
    AttemptResult,
    NextStep,
    after_attempt,
    disabled_text,
    excerpt,
    failing_too_long,
    jitter_factor,
    signing_secrets,
)
from salescore.domain.integrations.webhooks import DeliveryStatus
from salescore.repositories.integrations.deliveries import ClaimedDelivery, EndpointTarget
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.integrations.guard import (
    Refused,
    Resolver,
    Unresolved,
    pin,
    system_resolver,
)
from salescore.services.integrations.queues import DELIVERY_OUTCOMES
from salescore.services.integrations.secrets import SecretUnreadable, decrypt_secret

log = logging.getLogger("salescore.webhooks")
USER_AGENT = f"salescore-webhooks/{__version__}"
TIMEOUT = timedelta(seconds=15)
Clock = Callable[[], datetime]
EVENT_GONE = "the event is no longer in the log"
DELIVERY_ACTOR: dict[str, Any] = {"type": "system", "id": "webhook_delivery"}
# An answer's body up to this size is read whole, and its connection kept for the next.
DRAINED_BYTES = 65_536


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Message:
    """What is sent: its `webhook-id`, the body as signed, the secrets that sign it."""

    id: str
    body: bytes
    secrets: tuple[str, ...]


def event_body(event: dict[str, Any]) -> bytes:
    """The event as JSON, as the change feed serializes it (times as RFC 3339 UTC)."""
    return pydantic_core.to_json(event)


def test_body(endpoint_id: int, now: datetime) -> bytes:
    return pydantic_core.to_json({"type": "webhook.test", "timestamp": now,
                                  "data": {"endpoint_id": endpoint_id}})


def signed_headers(message: Message, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of `message` sent at `now`, and the others."""
    seconds = math.floor(now.timestamp())
    stamp = datetime.fromtimestamp(seconds, UTC)
    signatures = " ".join(Webhook(secret).sign(message.id, stamp, message.body)
                          for secret in message.secrets)
    return {"webhook-id": message.id, "webhook-timestamp": str(seconds),
            "webhook-signature": signatures, "content-type": "application/json",
            "user-agent": USER_AGENT}


class Sender:
    """Makes attempts, `concurrency` at most at once, each through an HTTP client of its
    own slot: one connection a client, kept alive for the slot's next attempt. (One client
    with a pool of 32 connections costs httpx about three times the CPU a request, as its
    pool looks over every connection each time: 2.4 ms against 0.7 ms here.) The clients
    ignore proxy settings of the environment (a proxy would connect to the name, not to
    the checked address)."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver,
                 concurrency: int = 32, clock: Clock = _now,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        """`transport`: another than the network's, for tests."""
        self._allow_private = allow_private
        self._resolver = resolver
        self._clock = clock
        self._free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        tls = httpx.create_ssl_context()  # one for all: each costs some 15 ms to make
        self._clients = [httpx.AsyncClient(
            timeout=TIMEOUT.total_seconds(), follow_redirects=False, trust_env=False,
            verify=tls, transport=transport,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
            for _ in range(concurrency)]
        for client in self._clients:
            self._free.put_nowait(client)

    async def __aenter__(self) -> "Sender":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def send(self, url: str, message: Message) -> AttemptResult:
        """One attempt to POST `message` to `url`; what came of it, never raising for
        what the endpoint or the network did."""
        client = await self._free.get()
        try:
            return await self._attempt(client, url, message)
        finally:
            self._free.put_nowait(client)

    async def _attempt(self, client: httpx.AsyncClient, url: str,
                       message: Message) -> AttemptResult:
        attempted_at = self._clock()
        started = time.monotonic()
        outcome: dict[str, Any]
        try:
            async with asyncio.timeout(TIMEOUT.total_seconds()):
                outcome = await self._post(client, url, message, attempted_at)
        except Refused as refused:
            outcome = {"error": f"refused: {refused.reason}"}
        except Unresolved as unresolved:
            outcome = {"error": str(unresolved)[:500]}
        except (TimeoutError, httpx.TimeoutException):
            outcome = {"error": f"no answer within {TIMEOUT.total_seconds():.0f} s"}
        except httpx.HTTPError as error:
            outcome = {"error": f"{type(error).__name__}: {error}"[:500]}
        except Exception as error:  # a failed attempt all the same, retried as one
            log.exception("a webhook message to %s could not be sent", url)
            outcome = {"error": f"{type(error).__name__}: {error}"[:500]}
        duration = round((time.monotonic() - started) * 1000)
        return AttemptResult(attempted_at=attempted_at, duration_ms=duration, **outcome)

    async def _post(self, client: httpx.AsyncClient, url: str, message: Message,
                    now: datetime) -> dict[str, Any]:
        target = await pin(url, resolver=self._resolver, allow_private=self._allow_private)
        headers = signed_headers(message, now) | {"host": target.host_header}
        if target.url.scheme == "https":
            headers["connection"] = "close"
        request = client.build_request("POST", target.url, content=message.body,
                                       headers=headers, extensions=target.extensions)
        response = await client.send(request, stream=True)
        try:
            head = await _head(response)
        finally:
            await response.aclose()
        return {"status_code": response.status_code,
                "response_excerpt": excerpt(head) if target.public else None,
                "retry_after": response.headers.get("retry-after")}


async def _head(response: httpx.Response) -> bytes:
    """The start of the body, one byte past the excerpt (so that a cut is known). A short
    body is read to its end, so that the connection can be kept; a longer one is not."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) > DRAINED_BYTES:
            break
    return head[:EXCERPT_BYTES + 1]


@dataclass(frozen=True, slots=True)
class SentTestMessage:
    webhook_id: str
    result: AttemptResult


def _secrets(target: EndpointTarget, key: bytes, now: datetime) -> tuple[str, ...]:
    previous = target.previous_secret_encrypted
    return signing_secrets(decrypt_secret(target.secret_encrypted, key),
                           None if previous is None else decrypt_secret(previous, key),
                           target.previous_secret_expires_at, now)


async def claim_deliveries(uow: UnitOfWork, *, limit: int,
                           lease: timedelta) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries (committed before anything is sent)."""
    async with uow:
        claims = await uow.deliveries.claim(limit=limit, lease=lease)
        await uow.commit()
    return claims


async def soonest_due(uow: UnitOfWork) -> datetime | None:
    async with uow.reading():
        return await uow.deliveries.soonest_due()


async def release_claims(uow: UnitOfWork, claims: list[ClaimedDelivery]) -> None:
    """Give back leases whose attempts were not made or not recorded."""
    async with uow:
        await uow.deliveries.release(claims)
        await uow.commit()


async def attempt_delivery(uow: UnitOfWork, sender: Sender, claim: ClaimedDelivery, *,
                           key: bytes, schedule: tuple[int, ...], clock: Clock = _now,
                           jitter: Callable[[], float] = random.random) -> bool:
    """Send the claimed delivery once and record how it went; False when the lease was
    lost meanwhile (nothing recorded). An event gone from the log (pruned) or a secret
    that does not decrypt is a failed attempt with no request made."""
    if claim.event is None:
        result = AttemptResult(clock(), 0, error=EVENT_GONE)
    else:
        try:
            message = Message(str(claim.event_id), event_body(claim.event),
                              _secrets(claim.target, key, clock()))
        except SecretUnreadable:
            result = AttemptResult(clock(), 0, error="the endpoint's secret does not decrypt")
        else:
            result = await sender.send(claim.target.url, message)
    return await record_attempt(uow, claim=claim, result=result, schedule=schedule,
                                now=clock(), jitter=jitter_factor(jitter()))


async def record_attempt(uow: UnitOfWork, *, claim: ClaimedDelivery, result: AttemptResult,
                         schedule: tuple[int, ...], now: datetime, jitter: float) -> bool:
    """In one transaction, while the lease is still the claim's: the attempt, the
    delivery's next step, the endpoint failing or not, disabled on a 410 or after five
    days without a success (its admins told, and a `webhook_endpoint.updated` event).
    Tried again when the database broke a deadlock with a worker disabling the same
    endpoint."""
    step = after_attempt(result, attempts_due=claim.attempts_due, schedule=schedule,
                         now=now, jitter=jitter)
    if claim.event is None:
        step = NextStep(DeliveryStatus.FAILED)
    for tries_left in reversed(range(3)):
        try:
            return await _record(uow, claim, step, result, now)
        except Contended:
            if not tries_left:
                raise
    return False


async def _record(uow: UnitOfWork, claim: ClaimedDelivery, step: NextStep,
                  result: AttemptResult, now: datetime) -> bool:
    org, endpoint_id = claim.organization_id, claim.endpoint_id
    async with uow:
        if not await uow.deliveries.finish(claim, step, result):
            return False
        reason = step.disable_reason
        if result.succeeded:
            await uow.deliveries.endpoint_succeeded(org, endpoint_id)
        else:
            since = await uow.deliveries.endpoint_failed(org, endpoint_id, now)
            if reason is None and failing_too_long(since, now):
                reason = NO_SUCCESS
        if reason is not None:
            await disable_and_tell(uow, organization_id=org, endpoint_id=endpoint_id,
                                   url=claim.target.url, reason=reason, now=now,
                                   actor=DELIVERY_ACTOR)
        await uow.commit()
    DELIVERY_OUTCOMES.labels("succeeded" if result.succeeded else step.status.value
                             if step.status is DeliveryStatus.FAILED else "retried").inc()
    return True


async def disable_and_tell(uow: UnitOfWork, *, organization_id: int, endpoint_id: int,
                           url: str, reason: str, now: datetime,
                           actor: dict[str, Any]) -> bool:
    """In the unit of work's open transaction: the endpoint disabled for `reason` (its
    pending deliveries failed), every active admin of its organization told, and a
    `webhook_endpoint.updated` event; False, changing nothing, when it was not active.
    Whatever disables one (a 410, five days of failures, the scheduler's sweep) says so
    the same way."""
    if not await uow.deliveries.disable_endpoint(organization_id, endpoint_id, reason=reason,
                                                 now=now):
        return False
    text = disabled_text(url, reason)
    await uow.inbox.add([(organization_id, NewNotification(user_id, DISABLED_NOTIFICATION, text))
                         for user_id in await uow.deliveries.active_admins(organization_id)])
    uow.emit(organization_id, actor, DomainEvent(
        "webhook_endpoint.updated", "webhook_endpoint", endpoint_id, {"changes": {
            "active": {"from": True, "to": False},
            "disabled_reason": {"from": None, "to": reason}}}))
    return True


async def send_test(uow: UnitOfWork, sender: Sender, *, caller: Caller, endpoint_id: int,
                    key: bytes, now: datetime) -> SentTestMessage:
    """A `webhook.test` message sent to the endpoint at once (whether active or not),
    with a fresh `webhook-id`, signed and guarded as deliveries are; not logged."""
    require(caller, Scope.WEBHOOKS_WRITE)
    async with uow.reading():
        target = await uow.deliveries.target(caller.organization_id, endpoint_id)
    if target is None:
        raise NotFound("webhook endpoint")
    webhook_id = "msg_" + secrets.token_urlsafe(18)
    message = Message(webhook_id, test_body(endpoint_id, now), _secrets(target, key, now))
    return SentTestMessage(webhook_id, await sender.send(target.url, message))
