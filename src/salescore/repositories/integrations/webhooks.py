"""Webhook endpoints and their delivery log, per organization: every statement is scoped
by `organization_id`. (The queue as the workers see it is deliveries.py.)

Locks on an endpoint's row are chosen so that writing events never waits for them: each
event's outbox row checks its endpoint's key (`FOR KEY SHARE`), which only `FOR UPDATE`
(taken to delete) blocks. An edit takes `FOR NO KEY UPDATE`; queueing again takes
`FOR SHARE`, so that the endpoint cannot be disabled meanwhile."""

from dataclasses import fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, DateTime, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from salescore.domain.integrations.webhooks import Attempt, Delivery, DeliveryStatus, Endpoint
from salescore.domain.listing import ListQuery, Page
from salescore.repositories.feed.events import DELIVERIES_CHANNEL
from salescore.repositories.feed.models import events
from salescore.repositories.integrations.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from salescore.repositories.listing import fetch_page

e = webhook_endpoints
d = webhook_deliveries
a = webhook_attempts
_ENDPOINT = [e.c[f.name] for f in fields(Endpoint)]
_DELIVERY = [d.c[f.name] for f in fields(Delivery)]
_ATTEMPT = [a.c[f.name] for f in fields(Attempt)]
ENDPOINT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": e.c.id, "active": e.c.active, "created_at": e.c.created_at}
DELIVERY_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": d.c.id, "status": d.c.status, "event_id": d.c.event_id,
    "event_type": d.c.event_type, "created_at": d.c.created_at,
    "next_attempt_at": d.c.next_attempt_at}
ATTEMPT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "id": a.c.id, "attempted_at": a.c.attempted_at, "status_code": a.c.status_code}


class Lock(StrEnum):
    EDIT = "edit"  # FOR NO KEY UPDATE
    DELETE = "delete"  # FOR UPDATE
    KEEP = "keep"  # FOR SHARE: not disabled, edited or deleted meanwhile


def _endpoint(row: Any) -> Endpoint:
    values = {f.name: getattr(row, f.name) for f in fields(Endpoint)}
    return Endpoint(**values | {"event_types": tuple(row.event_types)})


def _delivery(row: Any) -> Delivery:
    values = {f.name: getattr(row, f.name) for f in fields(Delivery)}
    return Delivery(**values | {"status": DeliveryStatus(row.status)})


def _attempt(row: Any) -> Attempt:
    return Attempt(**{f.name: getattr(row, f.name) for f in fields(Attempt)})


def _queued_again(now: datetime) -> dict[str, Any]:
    """What queueing a delivery again sets: due now, from the first step of the retry
    schedule, free for any worker; its attempt count and last error are kept."""
    return {"status": DeliveryStatus.PENDING.value, "attempts_due": 0,
            "next_attempt_at": now, "leased_until": None, "succeeded_at": None}


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _endpoint_is(organization_id: int, endpoint_id: int) -> list[ColumnElement[bool]]:
        return [e.c.organization_id == organization_id, e.c.id == endpoint_id]

    async def add(self, organization_id: int, values: dict[str, Any]) -> Endpoint:
        stmt = insert(e).values(organization_id=organization_id, **values).returning(*_ENDPOINT)
        return _endpoint((await self._session.execute(stmt)).one())

    async def get(self, organization_id: int, endpoint_id: int, *,
                  lock: Lock | None = None) -> Endpoint | None:
        stmt = select(*_ENDPOINT).where(*self._endpoint_is(organization_id, endpoint_id))
        if lock is Lock.EDIT:
            stmt = stmt.with_for_update(key_share=True)
        elif lock is Lock.DELETE:
            stmt = stmt.with_for_update()
        elif lock is Lock.KEEP:
            stmt = stmt.with_for_update(read=True)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _endpoint(row)

    async def list(self, organization_id: int, query: ListQuery) -> Page[Endpoint]:
        stmt = select(*_ENDPOINT).where(e.c.organization_id == organization_id)
        return await fetch_page(self._session, stmt, query, ENDPOINT_COLUMNS, e.c.id,
                                _endpoint)

    async def update(self, organization_id: int, endpoint_id: int, values: dict[str, Any],
                     *, now: datetime, new_version: bool = True) -> Endpoint:
        """Write `values`; `new_version` False when the write that made this version is
        in the same transaction already (a disabling)."""
        if new_version:
            values = values | {"version": e.c.version + 1, "updated_at": now}
        stmt = (update(e).where(*self._endpoint_is(organization_id, endpoint_id))
                .values(**values).returning(*_ENDPOINT))
        return _endpoint((await self._session.execute(stmt)).one())

    async def rotate(self, organization_id: int, endpoint_id: int, new_secret: str, *,
                     previous_until: datetime, now: datetime,
                     updated_by: int | None) -> Endpoint:
        """The new secret in place; the one it replaces still signs until `previous_until`."""
        return await self.update(organization_id, endpoint_id, {
            "previous_secret_encrypted": e.c.secret_encrypted,
            "previous_secret_expires_at": previous_until, "secret_encrypted": new_secret,
            "updated_by": updated_by}, now=now)

    async def delete(self, organization_id: int, endpoint_id: int) -> None:
        """The endpoint, and with it its deliveries and their attempts."""
        await self._session.execute(
            delete(e).where(*self._endpoint_is(organization_id, endpoint_id)))

    async def deliveries(self, organization_id: int, endpoint_id: int,
                         query: ListQuery) -> Page[Delivery]:
        stmt = select(*_DELIVERY).where(d.c.organization_id == organization_id,
                                        d.c.endpoint_id == endpoint_id)
        return await fetch_page(self._session, stmt, query, DELIVERY_COLUMNS, d.c.id,
                                _delivery)

    async def delivery(self, organization_id: int, delivery_id: int) -> Delivery | None:
        stmt = select(*_DELIVERY).where(d.c.organization_id == organization_id,
                                        d.c.id == delivery_id)
        row = (await self._session.execute(stmt)).one_or_none()
        return None if row is None else _delivery(row)

    async def attempts(self, organization_id: int, delivery_id: int,
                       query: ListQuery) -> Page[Attempt]:
        stmt = select(*_ATTEMPT).where(a.c.organization_id == organization_id,
                                       a.c.delivery_id == delivery_id)
        return await fetch_page(self._session, stmt, query, ATTEMPT_COLUMNS, a.c.id,
                                _attempt)

    async def redeliver(self, organization_id: int, delivery_id: int, *,
                        now: datetime) -> Delivery:
        """The delivery queued again, whatever its status."""
        stmt = (update(d).where(d.c.organization_id == organization_id, d.c.id == delivery_id)
                .values(**_queued_again(now)).returning(*_DELIVERY))
        return _delivery((await self._session.execute(stmt)).one())

    async def recover(self, endpoint: Endpoint, *, since: datetime, now: datetime) -> int:
        """Queue for `endpoint` every event of its organization that occurred at `since`
        or later, of a type it takes, with no successful delivery to it: a failed delivery
        is queued again, an event never queued for it gets its delivery; one that is
        pending already stays as it is. Returns how many were queued."""
        org = endpoint.organization_id
        found = select(events.c.organization_id, literal(endpoint.id, BigInteger), events.c.id,
                       events.c.type, literal(now, DateTime(timezone=True))).where(
            events.c.organization_id == org, events.c.occurred_at >= since)
        if endpoint.event_types:
            found = found.where(events.c.type.in_(endpoint.event_types))
        stmt = insert(d).from_select(
            [d.c.organization_id, d.c.endpoint_id, d.c.event_id, d.c.event_type,
             d.c.next_attempt_at], found)
        stmt = stmt.on_conflict_do_update(
            index_elements=[d.c.organization_id, d.c.endpoint_id, d.c.event_id],
            set_=_queued_again(now), where=d.c.status == DeliveryStatus.FAILED.value)
        queued = stmt.returning(d.c.id).cte("queued")
        count: int = (await self._session.execute(
            select(func.count()).select_from(queued))).scalar_one()
        return count

    async def wake_workers(self) -> None:
        """Tell the workers, once this transaction commits, that deliveries are due."""
        await self._session.execute(select(func.pg_notify(DELIVERIES_CHANNEL, "")))
