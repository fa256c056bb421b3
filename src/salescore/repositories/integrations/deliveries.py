"""The delivery queue as the workers see it (claimed across organizations), and what ends
an endpoint's deliveries.

A worker leases what it sends: `claim` sets `leased_until` on due deliveries of active
endpoints in one statement (`FOR UPDATE SKIP LOCKED`, so two workers never take the same
one) and returns what sending needs; the attempt is then recorded only while that lease is
still the worker's (`leased_until` unchanged), so a worker that lost it (it was too slow,
an admin redelivered, the endpoint was disabled) records nothing. A killed worker's
leases simply run out."""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Select, func, insert, literal_column, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.selectable import NamedFromClause

from salescore.domain.integrations.delivery import AttemptResult, NextStep
from salescore.domain.integrations.webhooks import ENDPOINT_DISABLED, DeliveryStatus
from salescore.repositories.access.models import users
from salescore.repositories.feed.events import DELIVERIES_CHANNEL
from salescore.repositories.feed.models import events
from salescore.repositories.integrations.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)

log = logging.getLogger("salescore.webhooks")
d = webhook_deliveries
e = webhook_endpoints
PENDING = DeliveryStatus.PENDING.value
# Written into the statement, not bound: a generic plan then still matches the partial
# index of pending deliveries (`WHERE status = 'pending'`).
_PENDING_LITERAL: ColumnClause[str] = literal_column(f"'{PENDING}'")
LISTENER_NAME = "salescore-deliveries-listener"
_SQLALCHEMY_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func",
                    "async_creator_fn")
_EVENT_FIELDS = ("id", "type", "aggregate_type", "aggregate_id", "occurred_at", "actor", "data")


@dataclass(frozen=True, slots=True)
class EndpointTarget:
    """Where an endpoint's messages go and the secrets (encrypted) they are signed with."""

    url: str
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to this worker until `lease`; `event` as the change feed gives
    it (None when it is no longer in the log)."""

    organization_id: int
    id: int
    endpoint_id: int
    event_id: int
    attempts_due: int
    lease: datetime
    target: EndpointTarget
    event: dict[str, Any] | None


def _target(row: Any) -> EndpointTarget:
    return EndpointTarget(row.url, row.secret_encrypted, row.previous_secret_encrypted,
                          row.previous_secret_expires_at)


def _claimable() -> tuple[Select[Any], NamedFromClause]:
    """The due times of pending deliveries of active endpoints that no lease holds, the
    soonest first, and the alias of the deliveries they are read from."""
    due = d.alias("due")
    stmt = (select(due.c.next_attempt_at)
            .join(e, (e.c.organization_id == due.c.organization_id)
                  & (e.c.id == due.c.endpoint_id))
            .where(due.c.status == _PENDING_LITERAL, e.c.active,
                   or_(due.c.leased_until.is_(None), due.c.leased_until < func.now()))
            .order_by(due.c.next_attempt_at))
    return stmt, due


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, *, limit: int, lease: timedelta) -> list[ClaimedDelivery]:
        """Lease up to `limit` due deliveries, the longest due first, for `lease`."""
        claimable, due = _claimable()
        chosen = (claimable.with_only_columns(due.c.organization_id, due.c.id)
                  .where(due.c.next_attempt_at <= func.now())
                  .limit(limit).with_for_update(of=due, skip_locked=True))
        claimed = (update(d).where(tuple_(d.c.organization_id, d.c.id).in_(chosen))
                   .values(leased_until=func.now() + lease)
                   .returning(d.c.organization_id, d.c.id, d.c.endpoint_id, d.c.event_id,
                              d.c.attempts_due, d.c.leased_until).cte("claimed"))
        ev = events
        stmt = (select(claimed, e.c.url, e.c.secret_encrypted, e.c.previous_secret_encrypted,
                       e.c.previous_secret_expires_at,
                       ev.c.id.label("found"),
                       *(ev.c[name].label(f"event_{name}") for name in _EVENT_FIELDS[1:]))
                .join(e, (e.c.organization_id == claimed.c.organization_id)
                      & (e.c.id == claimed.c.endpoint_id))
                .outerjoin(ev, (ev.c.organization_id == claimed.c.organization_id)
                           & (ev.c.id == claimed.c.event_id)))
        return [ClaimedDelivery(
            organization_id=row.organization_id, id=row.id, endpoint_id=row.endpoint_id,
            event_id=row.event_id, attempts_due=row.attempts_due, lease=row.leased_until,
            target=_target(row),
            event=None if row.found is None else {"id": row.found, **{
                name: getattr(row, f"event_{name}") for name in _EVENT_FIELDS[1:]}})
            for row in (await self._session.execute(stmt)).all()]

    async def soonest_due(self) -> datetime | None:
        """When the next delivery that is not leased now falls due."""
        soonest, _ = _claimable()
        found = (await self._session.execute(soonest.limit(1))).first()
        return None if found is None else found[0]

    async def finish(self, claim: ClaimedDelivery, step: NextStep,
                     result: AttemptResult) -> bool:
        """Record the attempt on the delivery, and its log row, while the lease is still
        the one of `claim`; False (nothing written) when it is not."""
        values: dict[str, Any] = {
            "status": step.status.value, "attempt_count": d.c.attempt_count + 1,
            "attempts_due": d.c.attempts_due + 1, "last_status_code": result.status_code,
            "last_error": result.error, "leased_until": None}
        if step.next_attempt_at is not None:
            values["next_attempt_at"] = step.next_attempt_at
        if step.status is DeliveryStatus.SUCCEEDED:
            values["succeeded_at"] = result.attempted_at
        held = (await self._session.execute(
            update(d).where(d.c.organization_id == claim.organization_id, d.c.id == claim.id,
                            d.c.status == PENDING, d.c.leased_until == claim.lease)
            .values(values).returning(d.c.id))).first()
        if held is None:
            return False
        await self._session.execute(insert(webhook_attempts).values(
            organization_id=claim.organization_id, delivery_id=claim.id,
            attempted_at=result.attempted_at, status_code=result.status_code,
            duration_ms=result.duration_ms, error=result.error,
            response_excerpt=result.response_excerpt))
        return True

    async def endpoint_succeeded(self, organization_id: int, endpoint_id: int) -> None:
        """The endpoint is no longer failing (written only when it was)."""
        await self._session.execute(
            update(e).where(e.c.organization_id == organization_id, e.c.id == endpoint_id,
                            e.c.failing_since.is_not(None)).values(failing_since=None))

    async def endpoint_failed(self, organization_id: int, endpoint_id: int,
                              now: datetime) -> datetime | None:
        """Mark the endpoint failing since `now` unless it already was; since when it has
        been failing (None when it is gone or not active)."""
        marked = (update(e).where(e.c.organization_id == organization_id,
                                  e.c.id == endpoint_id, e.c.failing_since.is_(None))
                  .values(failing_since=now).returning(e.c.failing_since).cte("marked"))
        stmt = select(func.coalesce(select(marked.c.failing_since).scalar_subquery(),
                                    e.c.failing_since)).where(
            e.c.organization_id == organization_id, e.c.id == endpoint_id, e.c.active)
        since: datetime | None = (await self._session.execute(stmt)).scalar()
        return since

    async def failing_endpoints(self, failing_before: datetime) -> list[tuple[int, int]]:
        """(organization id, endpoint id) of every active webhook endpoint, of any
        organization, failing since `failing_before` or earlier."""
        stmt = (select(e.c.organization_id, e.c.id)
                .where(e.c.active, e.c.failing_since <= failing_before)
                .order_by(e.c.organization_id, e.c.id))
        return [(row.organization_id, row.id) for row in await self._session.execute(stmt)]

    async def lock_failing_endpoint(self, organization_id: int, endpoint_id: int,
                                    failing_before: datetime) -> str | None:
        """Lock the endpoint while it is still active and failing since `failing_before`
        (a delivery that succeeded meanwhile clears that); its URL, else None."""
        stmt = (select(e.c.url)
                .where(e.c.organization_id == organization_id, e.c.id == endpoint_id,
                       e.c.active, e.c.failing_since <= failing_before)
                .with_for_update())
        url: str | None = (await self._session.execute(stmt)).scalar()
        return url

    async def disable_endpoint(self, organization_id: int, endpoint_id: int, *, reason: str,
                               now: datetime) -> bool:
        """Make the endpoint inactive (`disabled_at` now, `disabled_reason`), and end its
        pending deliveries `failed` with the reason `endpoint disabled`; False when it was
        not active (nothing changes then)."""
        disabled = (await self._session.execute(
            update(e).where(e.c.organization_id == organization_id, e.c.id == endpoint_id,
                            e.c.active)
            .values(active=False, disabled_at=now, disabled_reason=reason, updated_at=now,
                    version=e.c.version + 1)
            .returning(e.c.id))).first()
        if disabled is None:
            return False
        await self._session.execute(
            update(d).where(d.c.organization_id == organization_id,
                            d.c.endpoint_id == endpoint_id,
                            d.c.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.FAILED.value, last_error=ENDPOINT_DISABLED,
                    leased_until=None))
        return True

    async def release(self, claims: Sequence[ClaimedDelivery]) -> None:
        """Give back the leases of `claims` that are still theirs, due at once to others."""
        if claims:
            await self._session.execute(
                update(d).where(tuple_(d.c.organization_id, d.c.id, d.c.leased_until).in_(
                    [(c.organization_id, c.id, c.lease) for c in claims]))
                .values(leased_until=None))

    async def target(self, organization_id: int, endpoint_id: int) -> EndpointTarget | None:
        row = (await self._session.execute(
            select(e.c.url, e.c.secret_encrypted, e.c.previous_secret_encrypted,
                   e.c.previous_secret_expires_at)
            .where(e.c.organization_id == organization_id, e.c.id == endpoint_id))).first()
        return None if row is None else _target(row)

    async def active_admins(self, organization_id: int) -> list[int]:
        stmt = select(users.c.id).where(users.c.organization_id == organization_id,
                                        users.c.role == "admin", users.c.active)
        return list((await self._session.execute(stmt.order_by(users.c.id))).scalars())


async def listen_for_deliveries(engine: AsyncEngine, wake: Callable[[], None], *,
                                max_backoff: float = 10.0,
                                channel: str = DELIVERIES_CHANNEL) -> None:
    """Call `wake()` on each `NOTIFY salescore_deliveries` (new deliveries committed; or
    on `channel`, such as the imports'), on one dedicated connection, until cancelled;
    remade with backoff when lost (meanwhile the workers' polling finds the work).
    `wake()` is called on every (re)connection too: what was notified while not
    listening is then looked for."""
    backoff = 0.1
    while True:
        try:
            await _listen(engine, wake, channel)
            backoff = 0.1
        except Exception as error:  # whatever broke it, listen again after a pause
            log.warning("deliveries listener: %r; polling meanwhile", error)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)


async def _listen(engine: AsyncEngine, wake: Callable[[], None], channel: str) -> None:
    """Listen until the connection is lost or stops answering (checked every 5 s)."""
    args, options = engine.dialect.create_connect_args(engine.url)
    for option in _SQLALCHEMY_ONLY:
        options.pop(option, None)
    connection = await asyncpg.connect(*args, **options,
                                       server_settings={"application_name": LISTENER_NAME})
    try:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(channel, lambda *_: wake())
        wake()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), 5.0)
                break
            await connection.fetchval("SELECT 1", timeout=5.0)
    finally:
        if not connection.is_closed():
            connection.terminate()
